//! The read model's cache of beers' stored renderings ([`RenderedRow`]), so that a single beer or a list page
//! whose ids the index chose is assembled in memory instead of read from the database on every request.
//!
//! A cached row stands for its beer as the installed index has it. The index's refresh forgets the rows of the
//! beers the change log says changed (all of them after a full rebuild), so any writer's change counts, raw SQL
//! included, exactly as for the index itself ([`super::ReadModel`] orders that against rows being cached). And a
//! row is served only when its `updated_at` is the one the index holds for the beer, which every write of the
//! service sets: a second check that costs one comparison. Bounded in bytes (`READ_MODEL_DOCUMENT_BYTES`),
//! the least recently used out first (quick_cache's CLOCK-Pro).

use std::sync::Arc;

use super::nanos;
use crate::storage::RenderedRow;

/// A cached row's weight: its text and what the row holds around it.
#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<i64, Arc<RenderedRow>> for ByBytes {
    fn weight(&self, _id: &i64, row: &Arc<RenderedRow>) -> u64 {
        let image =
            row.image_sha256.as_ref().map_or(0, String::len) + row.image_content_type.as_ref().map_or(0, String::len);
        (std::mem::size_of::<RenderedRow>() + row.rendered.len() + image + 64) as u64
    }
}

pub struct RenderedRowCache {
    rows: Option<quick_cache::sync::Cache<i64, Arc<RenderedRow>, ByBytes>>,
}

impl RenderedRowCache {
    /// Keeps at most `max_bytes` of copies; 0 keeps none (every page is read from the database).
    pub fn new(max_bytes: u64) -> Self {
        let rows = (max_bytes > 0).then(|| {
            // A Punk recipe renders to 2-4 KB.
            let estimated_items = usize::try_from(max_bytes / 3072).unwrap_or(usize::MAX).max(64);
            quick_cache::sync::Cache::with_weighter(estimated_items, max_bytes, ByBytes)
        });
        Self { rows }
    }

    pub fn enabled(&self) -> bool {
        self.rows.is_some()
    }

    /// The copy of beer `id` written at `updated` (nanoseconds, as the index holds it), if one is kept.
    pub fn get(&self, id: i64, updated: i64) -> Option<Arc<RenderedRow>> {
        let row = self.rows.as_ref()?.get(&id)?;
        (nanos(row.updated_at) == updated).then_some(row)
    }

    /// Keeps a copy of `row` (replacing an older one of the same beer).
    pub fn keep(&self, row: Arc<RenderedRow>) {
        if let Some(rows) = &self.rows {
            rows.insert(row.id, row);
        }
    }

    /// Drops the copies of these beers (changed since they were read).
    pub fn forget(&self, ids: &[i64]) {
        if let Some(rows) = &self.rows {
            ids.iter().for_each(|id| drop(rows.remove(id)));
        }
    }

    pub fn forget_all(&self) {
        if let Some(rows) = &self.rows {
            rows.clear();
        }
    }

    /// Copies kept and their weight in bytes (for tests and diagnostics).
    pub fn held(&self) -> (usize, u64) {
        self.rows.as_ref().map_or((0, 0), |c| (c.len(), c.weight()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, at: &str, text: &str) -> RenderedRow {
        let at = chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc();
        RenderedRow {
            id,
            rendered: text.to_owned(),
            created_at: at,
            updated_at: at,
            image_sha256: None,
            image_content_type: None,
        }
    }

    #[test]
    fn a_copy_is_served_only_for_the_write_the_index_holds() {
        let cache = RenderedRowCache::new(1 << 20);
        let old = Arc::new(row(7, "2026-11-30T12:00:00.000001Z", r#"{"name":"old"}"#));
        cache.keep(old.clone());
        let at = nanos(old.updated_at);
        assert_eq!(cache.get(7, at).unwrap().rendered, r#"{"name":"old"}"#);
        // The index moved on to a newer write of the beer: the copy no longer counts.
        assert!(cache.get(7, at + 1_000).is_none());
        assert!(cache.get(8, at).is_none());
        let new = Arc::new(row(7, "2026-11-30T12:00:00.000002Z", r#"{"name":"new"}"#));
        cache.keep(new.clone());
        assert_eq!(
            cache.get(7, nanos(new.updated_at)).unwrap().rendered,
            r#"{"name":"new"}"#
        );
        assert!(
            cache.get(7, at).is_none(),
            "one copy a beer: the newer replaced the older"
        );
        assert_eq!(cache.held().0, 1);
        // Forgotten when the change log names the beer, whatever its updated_at.
        cache.keep(Arc::new(row(9, "2026-11-30T12:00:00Z", "{}")));
        cache.forget(&[7]);
        assert!(cache.get(7, nanos(new.updated_at)).is_none());
        assert_eq!(cache.held().0, 1);
        cache.forget_all();
        assert_eq!(cache.held().0, 0);
    }

    #[test]
    fn copies_stay_within_their_bytes_and_none_are_kept_at_zero() {
        let cache = RenderedRowCache::new(64 * 1024);
        let text = format!(r#"{{"description":"{}"}}"#, "x".repeat(3000));
        for id in 0..1000 {
            cache.keep(Arc::new(row(id, "2026-11-30T12:00:00Z", &text)));
        }
        let (copies, bytes) = cache.held();
        assert!(bytes <= 64 * 1024, "{bytes} bytes held");
        assert!(copies > 0 && copies < 1000, "{copies} copies held");

        let none = RenderedRowCache::new(0);
        assert!(!none.enabled());
        let kept = Arc::new(row(1, "2026-11-30T12:00:00Z", "{}"));
        none.keep(kept.clone());
        assert!(none.get(1, nanos(kept.updated_at)).is_none());
    }
}
