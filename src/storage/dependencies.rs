//! What an answer was read from: the read model records, for each catalog read a request makes, which part of the
//! catalog the result depends on (one beer, the beers a filter matches, anything), so that a cache of the answer
//! can be kept across writes that cannot change it ([`super::change_feed`] tells which can).
//!
//! A task-local, like [`super::read_preference`]: the HTTP cache wraps a request it may store in [`recording`], and
//! the read model calls [`record`] on every read, without a parameter on every call. Outside a recording scope,
//! recording does nothing.

use std::cell::RefCell;
use std::future::Future;

use crate::domain::BeerFilter;

/// One part of the catalog an answer was read from.
#[derive(Clone, Debug, PartialEq)]
pub enum Dependency {
    /// One beer's fields, or its absence (an answer about it, or its row on a page).
    Beer(i64),
    /// How many beers match the filter (a total).
    Count(BeerFilter),
    /// A page of the beers matching `filter`. In id order (`in_id_order`), `span` is the smallest and largest id
    /// the page holds (`None`: it holds none): such a page can change only when the filter's matches change or one
    /// of its own beers does. In any other order any change to a matching beer may move it onto or off the page.
    Page {
        filter: BeerFilter,
        in_id_order: bool,
        span: Option<(i64, i64)>,
    },
    /// Anything in the catalog (a random pick, an image, which any beer's write may remove).
    Catalog,
}

/// What one request read, as recorded while it ran.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dependencies {
    pub read: Vec<Dependency>,
    /// A page or a total was answered by the database (the read model's index was not current): its version is not
    /// known, so the change log cannot vouch for the answer after the version it was read at.
    pub unversioned: bool,
}

tokio::task_local! {
    static RECORDING: RefCell<Dependencies>;
}

/// Runs `work`, returning its output and the dependencies its catalog reads recorded.
pub async fn recording<F: Future>(work: F) -> (F::Output, Dependencies) {
    RECORDING
        .scope(RefCell::new(Dependencies::default()), async move {
            let output = work.await;
            (output, RECORDING.with(RefCell::take))
        })
        .await
}

/// Records that the answer being computed depends on `dependency` (nothing outside [`recording`]).
pub fn record(dependency: Dependency) {
    let _ = RECORDING.try_with(|recorded| recorded.borrow_mut().read.push(dependency));
}

/// Records one dependency per beer id.
pub fn record_beers(ids: &[i64]) {
    let _ = RECORDING.try_with(|recorded| {
        recorded
            .borrow_mut()
            .read
            .extend(ids.iter().map(|&id| Dependency::Beer(id)))
    });
}

/// Records that a page or total was read from the database at an unknown version (see
/// [`Dependencies::unversioned`]).
pub fn record_unversioned() {
    let _ = RECORDING.try_with(|recorded| recorded.borrow_mut().unversioned = true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_inside_a_recording_are_recorded_and_others_are_not() {
        record(Dependency::Catalog);
        let ((), recorded) = recording(async {
            record(Dependency::Beer(3));
            tokio::task::yield_now().await;
            record_beers(&[4, 5]);
            record_unversioned();
        })
        .await;
        assert_eq!(
            recorded.read,
            [Dependency::Beer(3), Dependency::Beer(4), Dependency::Beer(5)]
        );
        assert!(recorded.unversioned);
        let ((), nothing) = recording(async {}).await;
        assert_eq!(nothing, Dependencies::default());
    }
}
