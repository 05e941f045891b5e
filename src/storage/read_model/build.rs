//! Building the index: the interned texts and term lists it stores, the row the load query reads, and the
//! builder that appends rows in id order.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};

use super::CatalogIndex;
use super::postings::Postings;
use super::text::{char_mask, signature_bit};
use super::warmup::BuildProgress;

/// Marks "no value" in an interned column (no yeast, no style).
pub(super) const NONE: u32 = u32::MAX;
/// Marks "no value" for `first_brewed`: compared explicitly, never numerically.
pub(super) const NO_MONTH: i32 = i32::MIN;

/// Distinct texts, each stored once, referred to by position.
#[derive(Default, Clone)]
pub(super) struct Vocabulary {
    pub(super) texts: Vec<String>,
    pub(super) positions: HashMap<String, u32>,
}

impl Vocabulary {
    pub(super) fn intern(&mut self, text: &str) -> u32 {
        if let Some(position) = self.positions.get(text) {
            return *position;
        }
        let position = u32::try_from(self.texts.len()).expect("fewer than 4 billion distinct texts");
        self.texts.push(text.to_owned());
        self.positions.insert(text.to_owned(), position);
        position
    }

    /// Which texts satisfy `test`, by position: evaluated once per distinct text.
    pub(super) fn matching(&self, test: impl Fn(&str) -> bool) -> Vec<bool> {
        self.texts.iter().map(|text| test(text)).collect()
    }

    /// Builds are done: the lookup table is only needed while interning.
    pub(super) fn seal(&mut self) {
        self.positions = HashMap::new();
        self.texts.shrink_to_fit();
    }
}

/// A list of interned terms per beer (its hops, say), stored flat: beer `row`'s terms are
/// `terms[offsets[row]..offsets[row + 1]]`.
pub(super) struct TermLists {
    pub(super) vocabulary: Vocabulary,
    pub(super) offsets: Vec<u32>,
    pub(super) terms: Vec<u32>,
    /// Per beer, bit `term % 64` of each of its terms: a beer whose bits miss every matching term's bit has no
    /// matching term, found with one AND instead of a walk through its list (exact while the vocabulary has at
    /// most 64 texts).
    pub(super) signatures: Vec<u64>,
    /// The beers using each term, made on first use ([`Postings`]).
    pub(super) postings: OnceLock<Postings>,
}

impl Default for TermLists {
    fn default() -> Self {
        Self {
            vocabulary: Vocabulary::default(),
            offsets: vec![0],
            terms: Vec::new(),
            signatures: Vec::new(),
            postings: OnceLock::new(),
        }
    }
}

impl TermLists {
    /// Appends the next beer's terms, given as the load query aggregates them (joined by [`TERM_SEPARATOR`]). An
    /// empty term is left out: no filter matches it (an empty needle is no filter).
    fn push_row(&mut self, joined: &str) {
        let mut signature = 0;
        for text in joined.split(TERM_SEPARATOR).filter(|text| !text.is_empty()) {
            let term = self.vocabulary.intern(text);
            self.terms.push(term);
            signature |= signature_bit(term);
        }
        self.signatures.push(signature);
        self.offsets
            .push(u32::try_from(self.terms.len()).expect("fewer than 4 billion terms"));
    }

    pub(super) fn finish(&mut self) {
        self.vocabulary.seal();
        self.offsets.shrink_to_fit();
        self.terms.shrink_to_fit();
        self.signatures.shrink_to_fit();
    }

    pub(super) fn postings(&self) -> &Postings {
        self.postings.get_or_init(|| Postings::of(self))
    }

    pub(super) fn of(&self, row: usize) -> &[u32] {
        &self.terms[self.offsets[row] as usize..self.offsets[row + 1] as usize]
    }

    /// Whether beer `row` has a term of `matching` (its signature: the OR of the matching terms' bits).
    #[inline]
    pub(super) fn any_matches(&self, row: usize, matching: &[bool], signature: u64) -> bool {
        self.signatures[row] & signature != 0 && self.of(row).iter().any(|term| matching[*term as usize])
    }
}

/// Texts stored end to end in one string.
#[derive(Default)]
pub(super) struct Texts {
    pub(super) bytes: String,
    pub(super) ends: Vec<u32>,
}

impl Texts {
    fn push(&mut self, text: &str) {
        self.bytes.push_str(text);
        self.ends
            .push(u32::try_from(self.bytes.len()).expect("under 4 GiB of names"));
    }

    pub(super) fn get(&self, row: usize) -> &str {
        let start = if row == 0 { 0 } else { self.ends[row - 1] as usize };
        &self.bytes[start..self.ends[row] as usize]
    }
}

/// Joins a beer's terms of one kind in [`IndexRow`] (the load query's `string_agg`/`group_concat` separator): a
/// control character, which no stored text holds (writes refuse them).
pub const TERM_SEPARATOR: char = '\u{1f}';

/// One beer's filterable and sortable fields, as the load query reads them (search texts already lower-cased, as
/// stored), borrowed from the database row so that building allocates per distinct text, not per beer or term.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow<'a> {
    pub id: i64,
    pub name_search: &'a str,
    pub yeast_search: Option<&'a str>,
    pub style_search: Option<&'a str>,
    pub abv: f64,
    pub ibu: Option<f64>,
    pub ebc: Option<f64>,
    pub ph: Option<f64>,
    pub first_brewed_month: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The hop names, malt names and food pairings (`beer_terms` of each kind), joined by [`TERM_SEPARATOR`];
    /// empty when there are none.
    pub hops: &'a str,
    pub malts: &'a str,
    pub foods: &'a str,
}

/// How many beers a build reads between two progress reports (one atomic add each: nothing at a million beers).
const PROGRESS_EVERY: usize = 4096;

/// Builds an index from rows read in one snapshot, in ascending id order.
pub struct IndexBuilder {
    index: CatalogIndex,
    /// Where a full build reports the beers read so far (the warm-up's progress in `/ready`).
    progress: Option<Arc<BuildProgress>>,
}

impl IndexBuilder {
    pub fn new(version: i64) -> Self {
        Self {
            index: CatalogIndex {
                version,
                ..CatalogIndex::default()
            },
            progress: None,
        }
    }

    /// Reports the beers read to `progress` as they are pushed.
    pub fn reporting_to(mut self, progress: Arc<BuildProgress>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Adds a beer; ids must ascend.
    pub fn push_beer(&mut self, row: &IndexRow<'_>) {
        let index = &mut self.index;
        debug_assert!(index.ids.last().is_none_or(|last| *last < row.id), "ids ascend");
        index.ids.push(row.id);
        index.name_masks.push(char_mask(row.name_search));
        index.names.push(row.name_search);
        index
            .yeasts
            .push(row.yeast_search.map_or(NONE, |y| index.yeast_vocabulary.intern(y)));
        index
            .styles
            .push(row.style_search.map_or(NONE, |s| index.style_vocabulary.intern(s)));
        index.abv.push(row.abv);
        // NaN: every comparison with it is false, which is exactly "a missing value never matches".
        index.ibu.push(row.ibu.unwrap_or(f64::NAN));
        index.ebc.push(row.ebc.unwrap_or(f64::NAN));
        index.ph.push(row.ph.unwrap_or(f64::NAN));
        index.brewed.push(
            row.first_brewed_month
                .and_then(|m| i32::try_from(m).ok())
                .unwrap_or(NO_MONTH),
        );
        index.created.push(nanos(row.created_at));
        index.updated.push(nanos(row.updated_at));
        index.hops.push_row(row.hops);
        index.malts.push_row(row.malts);
        index.foods.push_row(row.foods);
        if let Some(progress) = &self.progress
            && index.ids.len().is_multiple_of(PROGRESS_EVERY)
        {
            progress.add(PROGRESS_EVERY as u64);
        }
    }

    pub fn finish(self) -> CatalogIndex {
        let version = self.index.version;
        self.finish_at(version)
    }

    /// [`IndexBuilder::finish`], at `version` (known only once the rows are read).
    pub fn finish_at(mut self, version: i64) -> CatalogIndex {
        let index = &mut self.index;
        index.version = version;
        for lists in [&mut index.hops, &mut index.malts, &mut index.foods] {
            lists.finish();
        }
        index.yeast_vocabulary.seal();
        index.style_vocabulary.seal();
        index.ids.shrink_to_fit();
        index.names.bytes.shrink_to_fit();
        index.all_name_chars = index.name_masks.iter().fold(0, |all, mask| all | mask);
        index.name_ranks();
        self.index
    }
}

/// A timestamp as nanoseconds since 1970, which orders as the database orders the column (PostgreSQL keeps
/// microseconds, SQLite the text sqlx wrote, with up to nanoseconds). Beyond 1677-2262 it saturates.
pub(crate) fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt()
        .unwrap_or(if at.timestamp() < 0 { i64::MIN } else { i64::MAX })
}
