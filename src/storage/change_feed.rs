//! The change feed: which beers each catalog version step changed, and how they were before and after, as the read
//! model learns it from the database's change log (`catalog_changes`, written by triggers whoever writes: another
//! instance, an `import` process, psql). The response cache asks it whether an answer read at an earlier version,
//! from the parts of the catalog it recorded ([`Dependency`]), is still what the catalog gives now, so a write
//! drops only the answers it can change instead of every one.
//!
//! The read model publishes a step each time it patches its index (the changed beers' rows before, from the old
//! index, and after, from the log's read), under the same lock that installs the patched index, so the feed's
//! position is the installed index's version. A full rebuild (the first build, after a bulk import, when the log
//! no longer covers the index) starts a new generation: nothing read before it can be vouched for.
//!
//! Rules (what [`Step::affects`] decides, for a step that changed the beers `ids`):
//! - `Beer(id)`: changed when `id` is among them;
//! - `Count(filter)`: when one of them matched the filter before and not after, or the other way round;
//! - `Page` in id order: as `Count`, or when one that matched both before and after is on the page (between its
//!   smallest and largest id): otherwise the page holds the same beers, unchanged;
//! - `Page` in another order: when one of them matched the filter before or after (its sort key may have moved);
//! - `Catalog`: when any beer changed.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::dependencies::Dependency;
use super::read_model::CatalogIndex;
use crate::domain::BeerFilter;

/// Steps kept: answers checked last before the oldest kept step are no longer vouched for (they are read again).
const MAX_STEPS: usize = 4_096;
/// Changed beers' rows kept over all steps (before and after): bounds the memory a burst of large patches holds.
const MAX_ROWS: usize = 100_000;

/// Where the feed is: the read model's index generation (a new one at every full build) and version.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub generation: u64,
    pub version: i64,
}

/// The beers one version step changed (`from` to `to`, every version between included): their ids, and the rows
/// of those that existed before and of those that exist after.
pub struct Step {
    from: i64,
    to: i64,
    ids: Vec<i64>,
    before: CatalogIndex,
    after: CatalogIndex,
}

impl Step {
    /// `ids` ascending; `before` the changed beers at `from` (from the old index), `after` those at `to`.
    pub fn new(from: i64, to: i64, ids: Vec<i64>, before: CatalogIndex, after: CatalogIndex) -> Self {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascend");
        Self {
            from,
            to,
            ids,
            before,
            after,
        }
    }

    /// The changed beers' ids, ascending.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    fn rows(&self) -> usize {
        self.before.len() + self.after.len()
    }

    /// The changed beers matching `filter` before and after, each by ascending id (evaluated by the index, exactly
    /// as every list is).
    fn matches(&self, filter: &BeerFilter) -> (Vec<i64>, Vec<i64>) {
        let matching = |index: &CatalogIndex| index.page(filter, &[], 0, u64::MAX, false).ids;
        (matching(&self.before), matching(&self.after))
    }

    /// Whether an answer read from `dependency` before this step may differ after it (see the module
    /// documentation).
    pub fn affects(&self, dependency: &Dependency) -> bool {
        if self.ids.is_empty() {
            return false;
        }
        match dependency {
            Dependency::Beer(id) => self.ids.binary_search(id).is_ok(),
            Dependency::Catalog => true,
            Dependency::Count(filter) => {
                let (before, after) = self.matches(filter);
                before != after
            }
            Dependency::Page {
                filter,
                in_id_order: true,
                span,
            } => {
                let (before, after) = self.matches(filter);
                // Equal: every changed beer matches both times or neither, so the matching set is the same.
                before != after || span.is_some_and(|(low, high)| before.iter().any(|id| (low..=high).contains(id)))
            }
            Dependency::Page { filter, .. } => {
                let (before, after) = self.matches(filter);
                !before.is_empty() || !after.is_empty()
            }
        }
    }
}

#[derive(Default)]
struct History {
    /// 0 until the first build.
    generation: u64,
    /// The version of the generation's build, or of the oldest kept step's start.
    first: i64,
    version: i64,
    /// Consecutive: each starts where the one before ended, the first at `first`, the last ends at `version`.
    steps: VecDeque<Arc<Step>>,
    rows: usize,
}

/// See the module documentation.
pub struct ChangeFeed {
    history: RwLock<History>,
    position: tokio::sync::watch::Sender<Option<Position>>,
}

impl ChangeFeed {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            history: RwLock::default(),
            position: tokio::sync::watch::Sender::new(None),
        })
    }

    /// The feed's position; `None` before the read model's first build.
    pub fn position(&self) -> Option<Position> {
        *self.position.borrow()
    }

    /// The position once the feed has reached `version`, waiting at most `within` (a patch after a write takes
    /// milliseconds); the position it is at when it does not in time.
    pub async fn reached(&self, version: i64, within: Duration) -> Option<Position> {
        let mut position = self.position.subscribe();
        let reached = |p: &Option<Position>| p.is_some_and(|p| p.version >= version);
        match tokio::time::timeout(within, position.wait_for(reached)).await {
            Ok(Ok(position)) => *position,
            _ => self.position(),
        }
    }

    /// Whether an answer read from `dependencies` at `since` (or later) is still the catalog's answer at the
    /// feed's position: that position when no step since affects it; `None` when one does, or when the feed cannot
    /// tell (another generation, or steps since `since` no longer kept).
    pub fn unaffected_since(&self, since: Position, dependencies: &[Dependency]) -> Option<Position> {
        let history = self.history.read().expect("the feed lock is never poisoned");
        if history.generation == 0 || since.generation != history.generation || since.version < history.first {
            return None;
        }
        let first_after = history.steps.partition_point(|step| step.to <= since.version);
        let affected = history
            .steps
            .range(first_after..)
            .any(|step| dependencies.iter().any(|dependency| step.affects(dependency)));
        (!affected).then_some(Position {
            generation: history.generation,
            version: history.version.max(since.version),
        })
    }

    /// The read model built its index in full at `version`: a new generation.
    pub fn rebuilt(&self, version: i64) {
        let mut history = self.history.write().expect("the feed lock is never poisoned");
        *history = History {
            generation: history.generation + 1,
            first: version,
            version,
            steps: VecDeque::new(),
            rows: 0,
        };
        self.publish(&history);
    }

    /// The read model patched its index by `step`.
    pub fn patched(&self, step: Step) {
        let mut history = self.history.write().expect("the feed lock is never poisoned");
        if history.generation == 0 || step.from != history.version {
            // Not a continuation of what the feed knows: nothing before it can be vouched for.
            drop(history);
            return self.rebuilt(step.to);
        }
        history.version = step.to;
        history.rows += step.rows();
        history.steps.push_back(Arc::new(step));
        while history.steps.len() > MAX_STEPS || (history.rows > MAX_ROWS && history.steps.len() > 1) {
            let oldest = history.steps.pop_front().expect("more than one step");
            history.rows -= oldest.rows();
            history.first = oldest.to;
        }
        self.publish(&history);
    }

    fn publish(&self, history: &History) {
        self.position.send_replace(Some(Position {
            generation: history.generation,
            version: history.version,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::read_model::{IndexBuilder, IndexRow};

    /// An index of beers given as (id, name, abv).
    fn index(version: i64, beers: &[(i64, &str, f64)]) -> CatalogIndex {
        let mut builder = IndexBuilder::new(version);
        for &(id, name, abv) in beers {
            builder.push_beer(&IndexRow {
                id,
                name_search: name,
                yeast_search: None,
                style_search: None,
                abv,
                ibu: None,
                ebc: None,
                ph: None,
                first_brewed_month: None,
                created_at: chrono::DateTime::UNIX_EPOCH,
                updated_at: chrono::DateTime::UNIX_EPOCH,
                hops: "",
                malts: "",
                foods: "",
            });
        }
        builder.finish()
    }

    fn strong() -> BeerFilter {
        BeerFilter {
            abv_gt: Some(6.0),
            ..BeerFilter::default()
        }
    }

    fn page(filter: BeerFilter, span: Option<(i64, i64)>) -> Dependency {
        Dependency::Page {
            filter,
            in_id_order: true,
            span,
        }
    }

    #[test]
    fn a_step_affects_only_what_its_beers_were_or_became_part_of() {
        // Beer 30 goes from 5% to 7%; beer 40 is renamed at 8%.
        let step = Step::new(
            1,
            3,
            vec![30, 40],
            index(1, &[(30, "weak", 5.0), (40, "old", 8.0)]),
            index(3, &[(30, "weak", 7.0), (40, "new", 8.0)]),
        );
        assert!(step.affects(&Dependency::Beer(30)) && step.affects(&Dependency::Beer(40)));
        assert!(!step.affects(&Dependency::Beer(1)));
        assert!(step.affects(&Dependency::Catalog));
        // Every beer matches no filter: 30 and 40 matched before and after; only pages holding them change.
        assert!(!step.affects(&Dependency::Count(BeerFilter::default())));
        assert!(!step.affects(&page(BeerFilter::default(), Some((1, 25)))));
        assert!(step.affects(&page(BeerFilter::default(), Some((26, 50)))));
        assert!(!step.affects(&page(BeerFilter::default(), None)));
        // Beer 30 enters `abv > 6`: its total and every page of it change.
        assert!(step.affects(&Dependency::Count(strong())));
        assert!(step.affects(&page(strong(), Some((1, 5)))));
        // A name filter neither beer matches, before or after.
        let name = BeerFilter {
            beer_name: Some("zzz".into()),
            ..BeerFilter::default()
        };
        assert!(!step.affects(&page(name.clone(), Some((1, 100)))));
        let sorted = |filter| Dependency::Page {
            filter,
            in_id_order: false,
            span: None,
        };
        assert!(!step.affects(&sorted(name)));
        assert!(
            step.affects(&sorted(BeerFilter::default())),
            "a sort key may have moved"
        );
        // Created (not before) and deleted (not after) beers change the matching set.
        let created = Step::new(3, 4, vec![50], index(3, &[]), index(4, &[(50, "new", 1.0)]));
        assert!(created.affects(&Dependency::Count(BeerFilter::default())));
        assert!(!created.affects(&Dependency::Count(strong())));
        let nothing = Step::new(4, 5, vec![], index(4, &[]), index(5, &[]));
        assert!(!nothing.affects(&Dependency::Catalog));
    }

    #[test]
    fn the_feed_vouches_across_steps_that_do_not_affect_an_answer_and_only_within_its_generation() {
        let feed = ChangeFeed::new();
        assert_eq!(feed.position(), None);
        assert_eq!(
            feed.unaffected_since(
                Position {
                    generation: 0,
                    version: 0
                },
                &[]
            ),
            None
        );
        feed.rebuilt(10);
        let built = feed.position().unwrap();
        assert_eq!(built.version, 10);
        let beer = |id| [Dependency::Beer(id)];
        assert_eq!(feed.unaffected_since(built, &beer(1)), Some(built));
        feed.patched(Step::new(10, 12, vec![2], index(10, &[(2, "a", 1.0)]), index(12, &[])));
        let now = feed.position().unwrap();
        assert_eq!(now.version, 12);
        assert_eq!(feed.unaffected_since(built, &beer(1)), Some(now));
        assert_eq!(feed.unaffected_since(built, &beer(2)), None);
        assert_eq!(
            feed.unaffected_since(now, &beer(2)),
            Some(now),
            "checked after the step"
        );
        // A step that does not continue from the feed's version, and a rebuild: a new generation.
        feed.patched(Step::new(20, 21, vec![], index(20, &[]), index(21, &[])));
        assert_ne!(feed.position().unwrap().generation, now.generation);
        assert_eq!(feed.unaffected_since(now, &beer(1)), None);
    }

    #[test]
    fn old_steps_are_dropped_and_answers_checked_before_them_are_not_vouched_for() {
        let feed = ChangeFeed::new();
        feed.rebuilt(0);
        let start = feed.position().unwrap();
        for version in 0..MAX_STEPS as i64 + 1 {
            feed.patched(Step::new(
                version,
                version + 1,
                vec![],
                index(version, &[]),
                index(version + 1, &[]),
            ));
        }
        assert_eq!(feed.unaffected_since(start, &[Dependency::Catalog]), None);
        let recent = Position { version: 10, ..start };
        assert!(feed.unaffected_since(recent, &[Dependency::Catalog]).is_some());
    }

    #[tokio::test]
    async fn waiting_for_a_version_ends_when_the_feed_reaches_it_or_in_time() {
        let feed = ChangeFeed::new();
        assert_eq!(feed.reached(1, Duration::from_millis(10)).await, None);
        feed.rebuilt(1);
        let waiting = {
            let feed = feed.clone();
            tokio::spawn(async move { feed.reached(2, Duration::from_secs(5)).await })
        };
        tokio::task::yield_now().await;
        feed.patched(Step::new(1, 2, vec![], index(1, &[]), index(2, &[])));
        assert_eq!(waiting.await.unwrap().map(|p| p.version), Some(2));
    }
}
