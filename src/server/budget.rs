//! The file-descriptor budget: every open connection is a descriptor, so the connection cap must fit under the
//! process's open-file limit with room for everything else. Past the limit `accept` fails (EMFILE) and the server
//! stops answering anyone, health checks included; under it, a connection over the cap gets a fast 503 instead.

use std::fmt;

/// Descriptors kept for everything that is not a client connection: standard streams, the listener, the SQLite
/// files and their journals, DNS lookups, the runtime's own (epoll, eventfd, timers), with room to spare.
pub const RESERVED_DESCRIPTORS: u64 = 64;

/// Over-cap connections being answered 503 at once; beyond this they are closed without an answer.
pub const REFUSALS_IN_FLIGHT: usize = 32;

/// The cap when none is configured, if the open-file limit allows it.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The fewest connections worth serving: a limit that leaves less refuses to start rather than serve badly.
const MIN_CONNECTIONS: usize = 16;

/// How the open-file limit divides up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Client connections served at once.
    pub max_connections: usize,
    /// The open-file limit (soft) after raising it as far as needed and allowed.
    pub open_file_limit: u64,
    /// Descriptors the budget needs: connections, refusals, database connections and the reserve.
    pub needed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error(
        "MAX_CONNECTIONS={requested} needs {needed} open files (connections + {REFUSALS_IN_FLIGHT} refusals + \
         {database} database connections + {RESERVED_DESCRIPTORS} reserved), but the open-file limit is {limit}: \
         raise it (`ulimit -n`, or `ulimits` in the ECS task definition) or lower MAX_CONNECTIONS"
    )]
    CapOverLimit {
        requested: usize,
        needed: u64,
        database: u64,
        limit: u64,
    },
    #[error(
        "the open-file limit is {limit}, which leaves room for fewer than {MIN_CONNECTIONS} client connections \
         after {database} database connections and {reserved} reserved: raise it (`ulimit -n`)",
        reserved = RESERVED_DESCRIPTORS + REFUSALS_IN_FLIGHT as u64
    )]
    LimitTooLow { limit: u64, database: u64 },
    #[error("cannot read the open-file limit: {0}")]
    Unreadable(#[source] std::io::Error),
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connections ({} of {} open files)",
            self.max_connections, self.needed, self.open_file_limit
        )
    }
}

/// Fits the connection cap under the open-file limit, raising the soft limit toward the hard one first. An explicit
/// `requested` cap that does not fit refuses to start; with none, the default is lowered to what fits.
pub fn fit(requested: Option<usize>, database_connections: u64) -> Result<Budget, BudgetError> {
    let overhead = REFUSALS_IN_FLIGHT as u64 + database_connections + RESERVED_DESCRIPTORS;
    let wanted = requested.unwrap_or(DEFAULT_MAX_CONNECTIONS) as u64 + overhead;
    let limit = rlimit::increase_nofile_limit(wanted).map_err(BudgetError::Unreadable)?;
    fit_under(requested, database_connections, limit)
}

fn fit_under(requested: Option<usize>, database: u64, limit: u64) -> Result<Budget, BudgetError> {
    let overhead = REFUSALS_IN_FLIGHT as u64 + database + RESERVED_DESCRIPTORS;
    let room = usize::try_from(limit.saturating_sub(overhead)).unwrap_or(usize::MAX);
    let max_connections = match requested {
        Some(requested) if requested > room => {
            return Err(BudgetError::CapOverLimit {
                requested,
                needed: requested as u64 + overhead,
                database,
                limit,
            });
        }
        Some(requested) => requested,
        None if room < MIN_CONNECTIONS => return Err(BudgetError::LimitTooLow { limit, database }),
        None => room.min(DEFAULT_MAX_CONNECTIONS),
    };
    Ok(Budget {
        max_connections,
        open_file_limit: limit,
        needed: max_connections as u64 + overhead,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_shrinks_to_fit_a_low_limit() {
        let budget = fit_under(None, 10, 256).unwrap();
        assert_eq!(budget.max_connections, 256 - 32 - 10 - 64);
        assert_eq!(budget.needed, 256);
    }

    #[test]
    fn the_default_cap_is_kept_under_a_generous_limit() {
        let budget = fit_under(None, 20, 1 << 20).unwrap();
        assert_eq!(budget.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(budget.needed, DEFAULT_MAX_CONNECTIONS as u64 + 32 + 20 + 64);
    }

    #[test]
    fn an_explicit_cap_over_the_limit_refuses_to_start_naming_the_numbers() {
        let error = fit_under(Some(500), 10, 256).unwrap_err().to_string();
        assert!(error.contains("MAX_CONNECTIONS=500 needs 606 open files"), "{error}");
        assert!(error.contains("the open-file limit is 256"), "{error}");
    }

    #[test]
    fn a_limit_with_no_room_refuses_to_start() {
        let error = fit_under(None, 10, 100).unwrap_err().to_string();
        assert!(error.contains("the open-file limit is 100"), "{error}");
    }
}
