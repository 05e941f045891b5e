//! The in-process read model: a compact, column-wise index of every beer's filterable fields, answering "which
//! ids, in id order, on this page, and how many" without the database; the page's documents are then fetched by
//! id. Why it exists (measured in docs/performance.md): the Punk text filters match a needle's characters in order
//! (`pnk` finds `Punk IPA`), which no B-tree or trigram index answers, so in SQL a fuzzy filter that matches
//! nothing, a deep page (OFFSET walks the rows) and the native API's exact total (`COUNT(*)`) each read every row.
//! Here they read a few compact arrays: ingredient, yeast, style and food texts are interned, so a text filter is
//! matched once per distinct text, not once per beer, and names carry a character-set mask that rejects most
//! non-matching names with one AND.
//!
//! [`CatalogIndex::matches`] is the one place that evaluates a [`BeerFilter`](crate::domain::BeerFilter) here; it
//! implements exactly what the SQL in [`super::sql`] implements (strict comparisons, a missing value never matches,
//! fuzzy = the characters in order, food and style = substring, any hop or malt may match), over the same
//! lower-cased search texts.

use std::sync::OnceLock;

mod build;
mod evaluator;
mod facets;
mod layer;
mod patch;
mod postings;
mod query;
mod rendered_row_cache;
mod subset;
#[cfg(test)]
mod tests;
mod text;
mod warmup;

pub(crate) use build::nanos;
pub use build::{IndexBuilder, IndexRow, TERM_SEPARATOR};
pub use layer::{ReadModel, RefreshCounts, patch_limit};
pub use patch::IndexChanges;
pub use query::IdPage;
pub use text::fuzzy_match;
pub use warmup::{BuildProgress, GaveUp, Warmth, WarmupHold, WarmupSettings};

use build::{TermLists, Texts, Vocabulary};
// `patch` names these as `super::NONE` and `super::signature_bit`.
use build::NONE;
use text::signature_bit;

/// Every beer's filterable and sortable fields, column by column, in ascending id order, as of one catalog version.
/// A column per field: adding one means a line here, in [`IndexBuilder::push_beer`], and wherever columns are
/// copied.
#[derive(Default)]
pub struct CatalogIndex {
    version: i64,
    ids: Vec<i64>,
    names: Texts,
    name_masks: Vec<u64>,
    /// Every name's mask OR-ed: a needle with a character no name has matches nothing, without a scan.
    all_name_chars: u64,
    yeasts: Vec<u32>,
    yeast_vocabulary: Vocabulary,
    styles: Vec<u32>,
    style_vocabulary: Vocabulary,
    abv: Vec<f64>,
    ibu: Vec<f64>,
    ebc: Vec<f64>,
    ph: Vec<f64>,
    brewed: Vec<i32>,
    /// Each beer's name's position among the distinct names in byte order, for `sort=name`: computed on the
    /// first use (an index is never changed, so it stays right), or by [`IndexBuilder::finish`].
    name_ranks: OnceLock<Vec<u32>>,
    /// `created_at` and `updated_at` in nanoseconds, only for sorting.
    created: Vec<i64>,
    updated: Vec<i64>,
    hops: TermLists,
    malts: TermLists,
    foods: TermLists,
    /// Which name each hop, malt, yeast and food text belongs to, for the facets: worked out on first use.
    name_groups: facets::KindGroups,
}
