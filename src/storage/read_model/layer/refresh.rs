//! How the read model's index is brought up to date: a background task per refresh (a patch from the change log,
//! or a full build), the follower that starts one whenever [`Freshness`] confirms a new version, and the first
//! build's warm-up bookkeeping. A child of [`super`] (the read-model layer), whose state it updates.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::{ReadModel, Shared, patch_limit};
use crate::domain::BeerFilter;
use crate::storage::ReadDatabase;
use crate::storage::StoreResult;
use crate::storage::change_feed::Step;
use crate::storage::freshness::Freshness;
use crate::storage::read_model::{BuildProgress, CatalogIndex};

/// How a refresh brought the index up to date.
pub(super) enum Refresh {
    Patched { step: Box<Step> },
    Rebuilt,
}

impl ReadModel {
    /// The index at the database's current version: `previous` patched with what changed since, or a full build
    /// when that cannot be done; `None` when `previous` is already current.
    async fn refreshed(
        inner: &Arc<dyn ReadDatabase>,
        previous: Option<Arc<CatalogIndex>>,
        progress: &Arc<BuildProgress>,
    ) -> StoreResult<Option<(CatalogIndex, Refresh)>> {
        if let Some(previous) = previous {
            let changes = match inner
                .load_index_changes(previous.version(), patch_limit(previous.len()))
                .await
            {
                Ok(changes) => changes,
                // The full build below reports the error if the database is really unavailable.
                Err(error) => {
                    tracing::debug!(%error, "reading the change log failed; rebuilding the read model");
                    None
                }
            };
            if let Some(changes) = changes {
                if changes.version == previous.version() {
                    return Ok(None);
                }
                // Copying the columns takes tens of milliseconds at a million beers: off the async workers.
                // The changed beers as they were, for the change feed (a few rows, from the old index).
                let (index, step) = tokio::task::spawn_blocking(move || {
                    let index = previous.patched(&changes);
                    let before = previous.subset(&changes.ids);
                    let step = Step::new(
                        previous.version(),
                        changes.version,
                        changes.ids,
                        before,
                        changes.current,
                    );
                    (index, step)
                })
                .await
                .expect("patching the index does not panic");
                return Ok(Some((index, Refresh::Patched { step: Box::new(step) })));
            }
        }
        progress.restart();
        Ok(Some((
            inner.load_index_with_progress(progress).await?,
            Refresh::Rebuilt,
        )))
    }
}

/// Counts the beers beside the first build, once, for the warm-up's "N of M beers" (at a million beers a count
/// costs the database a fraction of the build's reading; it is only shown, so a failure just leaves it unknown).
fn count_beers(inner: &Arc<dyn ReadDatabase>, shared: &Arc<Shared>) {
    if shared.warmup.counting.swap(true, Ordering::AcqRel) {
        return;
    }
    let (inner, progress) = (inner.clone(), shared.warmup.progress.clone());
    tokio::spawn(async move {
        match inner.count(&BeerFilter::default()).await {
            Ok(total) => progress.set_total(total),
            Err(error) => tracing::debug!(%error, "counting the beers for the warm-up's progress failed"),
        }
    });
}

/// Brings the index to the database's current version in the background, unless a refresh is under way; when
/// a newer version was confirmed meanwhile (and this one made progress), at once again. The first build is the
/// warm-up readiness waits for.
pub(super) fn spawn_refresh(inner: Arc<dyn ReadDatabase>, shared: Arc<Shared>, freshness: Option<Arc<Freshness>>) {
    if shared.building.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async move {
        let mut behind = false;
        let previous = shared.index.read().expect("the index lock is never poisoned").clone();
        let first = previous.is_none();
        if first && !shared.warmup.is_warm() {
            count_beers(&inner, &shared);
            if let Some(hold) = &shared.warmup.hold {
                hold.released().await;
            }
        }
        let started = Instant::now();
        match ReadModel::refreshed(&inner, previous, &shared.warmup.progress).await {
            Ok(Some((index, how))) => {
                let elapsed_ms = started.elapsed().as_millis() as u64;
                let (beers, version) = (index.len(), index.version());
                match &how {
                    Refresh::Patched { step } => {
                        shared.metrics.patches.increment(1);
                        shared.metrics.patch_duration.record(started.elapsed().as_secs_f64());
                        tracing::debug!(
                            beers,
                            version,
                            changed = step.ids().len(),
                            elapsed_ms,
                            "read model patched"
                        );
                        shared.patched.fetch_add(1, Ordering::AcqRel);
                    }
                    Refresh::Rebuilt => {
                        shared.metrics.rebuilds.increment(1);
                        shared.metrics.rebuild_duration.record(started.elapsed().as_secs_f64());
                        tracing::info!(beers, version, elapsed_ms, "read model built");
                        shared.rebuilt.fetch_add(1, Ordering::AcqRel);
                    }
                }
                let mut installed = shared.index.write().expect("the index lock is never poisoned");
                match how {
                    Refresh::Patched { step } => {
                        shared.rendered_rows.forget(step.ids());
                        shared.feed.patched(*step);
                    }
                    Refresh::Rebuilt => {
                        shared.rendered_rows.forget_all();
                        shared.feed.rebuilt(version);
                    }
                }
                *installed = Some(Arc::new(index));
                drop(installed);
                shared.warmup.built();
                // Versions confirmed while this refresh read are not waited for until the next poll: caches
                // that follow the feed wait for it.
                behind = freshness
                    .as_ref()
                    .and_then(|freshness| freshness.current_version())
                    .is_some_and(|current| current > version);
            }
            Ok(None) => {}
            // Not fatal: queries keep going to the database, and the next one retries.
            Err(error) => {
                tracing::warn!(error = %error, "read model refresh failed; queries use the database");
                if first {
                    shared.warmup.build_failed();
                }
            }
        }
        shared.building.store(false, Ordering::Release);
        shared.attempts.send_modify(|attempts| *attempts += 1);
        if behind {
            spawn_refresh(inner, shared, freshness);
        }
    });
}

/// Refreshes the index as soon as [`Freshness`] confirms a new version (and checks every 100 ms), while the read
/// model exists.
pub(super) async fn follow(weak: Weak<ReadModel>, freshness: Arc<Freshness>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = freshness.version_moved() => {}
        }
        let Some(model) = weak.upgrade() else { return };
        let built = model.installed().map(|index| index.version());
        // Also when the index is ahead of the version: that costs one cheap read, and a catalog whose version went
        // back (a database restored under a running server) is rebuilt.
        if let Some(version) = freshness.current_version()
            && built != Some(version)
        {
            model.start_refresh();
        }
    }
}
