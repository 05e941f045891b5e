//! When a stored answer may still be served: while the catalog version it was computed at is still the confirmed
//! one (the rule every answer has), or while the storage's change feed vouches that no step since has changed
//! what it was read from (its recorded [`Dependencies`]): a single beer's answer survives writes to other beers,
//! a page survives writes to beers that match its filter neither before nor after (see
//! [`crate::storage::change_feed`] for the rules). The feed follows the database's change log, so a write by any
//! instance or process counts, within the same freshness bound.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::storage::{ChangeFeed, Dependencies, Dependency, Position};

/// The catalog version now, as the cache knows it.
#[derive(Copy, Clone, Debug)]
pub(super) enum Now {
    /// Confirmed within the freshness bound.
    Confirmed(i64),
    /// The database is down: the last version read (stale-if-error).
    Down(i64),
}

/// When a stored answer was computed, and from what.
pub(super) struct Validity {
    /// The version confirmed when the answer was computed, when the answer was read at that version or later;
    /// `None` when the change feed was behind it: the confirmed version may come from the primary (read after
    /// this task's write) while reads are served by a replica that has not replayed it yet, so only the feed,
    /// which follows the side reads are served from, can vouch for the answer.
    signal: Option<i64>,
    /// What the change feed can check; `None` when it cannot vouch (no read model or no index yet, or a page or
    /// total answered by the database at a version the feed does not know).
    feed: Option<FeedCheck>,
}

struct FeedCheck {
    generation: u64,
    /// The feed version up to which the answer is known to be unchanged (it was read at this version or later, or
    /// checked up to it since): each step is checked once per answer.
    checked_to: AtomicI64,
    dependencies: Box<[Dependency]>,
}

impl Validity {
    /// An answer computed while `signal` was the confirmed version and the feed was at `position`, having read
    /// `read` (nothing recorded: it may depend on anything).
    pub(super) fn new(signal: i64, position: Option<Position>, mut read: Dependencies) -> Self {
        let feed = position.filter(|_| !read.unversioned).map(|position| {
            if read.read.is_empty() {
                read.read.push(Dependency::Catalog);
            }
            read.read.dedup();
            FeedCheck {
                generation: position.generation,
                checked_to: AtomicI64::new(position.version),
                dependencies: read.read.into_boxed_slice(),
            }
        });
        let signal = match position {
            Some(position) if position.version < signal => None,
            _ => Some(signal),
        };
        Self { signal, feed }
    }

    /// Whether the answer is still the catalog's at `now`: read at that very version, or unaffected by every step
    /// the feed knows since it was read and the feed knows every step up to `now`'s version (while the database
    /// is down: every step it knows).
    pub(super) fn serves(&self, now: Now, feed: Option<&ChangeFeed>) -> bool {
        let (Now::Confirmed(version) | Now::Down(version)) = now;
        if self.signal == Some(version) {
            return true;
        }
        let (Some(check), Some(feed)) = (&self.feed, feed) else {
            return false;
        };
        let since = Position {
            generation: check.generation,
            version: check.checked_to.load(Ordering::Acquire),
        };
        let Some(position) = feed.unaffected_since(since, &check.dependencies) else {
            return false;
        };
        check.checked_to.fetch_max(position.version, Ordering::AcqRel);
        match now {
            Now::Confirmed(version) => position.version >= version,
            Now::Down(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::change_feed::Step;
    use crate::storage::read_model::{CatalogIndex, IndexBuilder};

    fn empty(version: i64) -> CatalogIndex {
        IndexBuilder::new(version).finish()
    }

    fn read(dependencies: &[Dependency]) -> Dependencies {
        Dependencies {
            read: dependencies.to_vec(),
            unversioned: false,
        }
    }

    #[test]
    fn an_answer_serves_at_its_version_or_while_the_feed_vouches_for_it() {
        let feed = ChangeFeed::new();
        feed.rebuilt(5);
        let at_5 = feed.position();
        let beer_1 = Validity::new(5, at_5, read(&[Dependency::Beer(1)]));
        let anything = Validity::new(5, at_5, read(&[]));
        let by_sql = Validity::new(
            5,
            at_5,
            Dependencies {
                unversioned: true,
                ..read(&[Dependency::Beer(1)])
            },
        );
        let without_feed = Validity::new(5, None, read(&[Dependency::Beer(1)]));
        for validity in [&beer_1, &anything, &by_sql, &without_feed] {
            assert!(validity.serves(Now::Confirmed(5), Some(&feed)));
        }
        // Beer 2 changes at version 6: the signal says 6 before the feed knows it.
        assert!(!beer_1.serves(Now::Confirmed(6), Some(&feed)), "the feed is behind");
        // Computed then: the signal alone does not vouch for it (the version may be the primary's, ahead of
        // where it was read), the feed does once it knows the step.
        let while_behind = Validity::new(6, feed.position(), read(&[Dependency::Beer(2)]));
        assert!(!while_behind.serves(Now::Confirmed(6), Some(&feed)));
        feed.patched(Step::new(5, 6, vec![2], empty(5), empty(6)));
        assert!(beer_1.serves(Now::Confirmed(6), Some(&feed)));
        assert!(
            !while_behind.serves(Now::Confirmed(6), Some(&feed)),
            "beer 2 changed after it was read"
        );
        assert!(
            !anything.serves(Now::Confirmed(6), Some(&feed)),
            "nothing recorded: any change"
        );
        assert!(!by_sql.serves(Now::Confirmed(6), Some(&feed)));
        assert!(!without_feed.serves(Now::Confirmed(6), None));
        // Down: whatever the feed still vouches for, or what was read at the last version.
        assert!(beer_1.serves(Now::Down(6), Some(&feed)));
        assert!(without_feed.serves(Now::Down(5), None));
        feed.patched(Step::new(6, 7, vec![1], empty(6), empty(7)));
        assert!(!beer_1.serves(Now::Confirmed(7), Some(&feed)));
    }
}
