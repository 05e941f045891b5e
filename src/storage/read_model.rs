//! The in-process read model: a compact, column-wise index of every beer's filterable fields, answering "which
//! ids, in id order, on this page, and how many" without the database; the page's documents are then fetched by
//! id. Why it exists (measured in docs/performance.md): the Punk text filters match a needle's characters in order
//! (`pnk` finds `Punk IPA`), which no B-tree or trigram index answers, so in SQL a fuzzy filter that matches
//! nothing, a deep page (OFFSET walks the rows) and the native API's exact total (`COUNT(*)`) each read every row.
//! Here they read a few compact arrays: ingredient, yeast, style and food texts are interned, so a text filter is
//! matched once per distinct text, not once per beer, and names carry a character-set mask that rejects most
//! non-matching names with one AND.
//!
//! [`CatalogIndex::matches`] is the one place that evaluates a [`BeerFilter`] here; it implements exactly what the
//! SQL in [`super::sql`] implements (strict comparisons, a missing value never matches, fuzzy = the characters in
//! order, food and style = substring, any hop or malt may match), over the same lower-cased search texts.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use crate::domain::{BeerFilter, SortField, SortKey};

/// Sorted pages ending at most this far in are kept in a heap while scanning (see
/// [`CatalogIndex::shallow_sorted_page`]); deeper ones collect every match and select.
const SHALLOW_PAGES: u64 = 1024;

mod evaluator;
mod layer;
mod patch;
mod rendered_row_cache;
pub use layer::{ReadModel, RefreshCounts, patch_limit};
pub use patch::IndexChanges;

/// Marks "no value" in an interned column (no yeast, no style).
const NONE: u32 = u32::MAX;
/// Marks "no value" for `first_brewed`: compared explicitly, never numerically.
const NO_MONTH: i32 = i32::MIN;

/// Distinct texts, each stored once, referred to by position.
#[derive(Default, Clone)]
struct Vocabulary {
    texts: Vec<String>,
    positions: HashMap<String, u32>,
}

impl Vocabulary {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(position) = self.positions.get(text) {
            return *position;
        }
        let position = u32::try_from(self.texts.len()).expect("fewer than 4 billion distinct texts");
        self.texts.push(text.to_owned());
        self.positions.insert(text.to_owned(), position);
        position
    }

    /// Which texts satisfy `test`, by position: evaluated once per distinct text.
    fn matching(&self, test: impl Fn(&str) -> bool) -> Vec<bool> {
        self.texts.iter().map(|text| test(text)).collect()
    }

    /// Builds are done: the lookup table is only needed while interning.
    fn seal(&mut self) {
        self.positions = HashMap::new();
        self.texts.shrink_to_fit();
    }
}

/// A list of interned terms per beer (its hops, say), stored flat: beer `row`'s terms are
/// `terms[offsets[row]..offsets[row + 1]]`.
struct TermLists {
    vocabulary: Vocabulary,
    offsets: Vec<u32>,
    terms: Vec<u32>,
    /// Per beer, bit `term % 64` of each of its terms: a beer whose bits miss every matching term's bit has no
    /// matching term, found with one AND instead of a walk through its list (exact while the vocabulary has at
    /// most 64 texts).
    signatures: Vec<u64>,
}

impl Default for TermLists {
    fn default() -> Self {
        Self {
            vocabulary: Vocabulary::default(),
            offsets: vec![0],
            terms: Vec::new(),
            signatures: Vec::new(),
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

    fn finish(&mut self) {
        self.vocabulary.seal();
        self.offsets.shrink_to_fit();
        self.terms.shrink_to_fit();
        self.signatures.shrink_to_fit();
    }

    fn of(&self, row: usize) -> &[u32] {
        &self.terms[self.offsets[row] as usize..self.offsets[row + 1] as usize]
    }

    /// Whether beer `row` has a term of `matching` (its signature: the OR of the matching terms' bits).
    #[inline]
    fn any_matches(&self, row: usize, matching: &[bool], signature: u64) -> bool {
        self.signatures[row] & signature != 0 && self.of(row).iter().any(|term| matching[*term as usize])
    }
}

fn signature_bit(term: u32) -> u64 {
    1 << (term % 64)
}

/// The signature bits of every term that `matching` marks.
fn signature_of(matching: &[bool]) -> u64 {
    (0..matching.len() as u32)
        .filter(|term| matching[*term as usize])
        .fold(0, |bits, term| bits | signature_bit(term))
}

/// Texts stored end to end in one string.
#[derive(Default)]
struct Texts {
    bytes: String,
    ends: Vec<u32>,
}

impl Texts {
    fn push(&mut self, text: &str) {
        self.bytes.push_str(text);
        self.ends
            .push(u32::try_from(self.bytes.len()).expect("under 4 GiB of names"));
    }

    fn get(&self, row: usize) -> &str {
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

/// Builds an index from rows read in one snapshot, in ascending id order.
pub struct IndexBuilder {
    index: CatalogIndex,
}

impl IndexBuilder {
    pub fn new(version: i64) -> Self {
        Self {
            index: CatalogIndex {
                version,
                ..CatalogIndex::default()
            },
        }
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
}

/// One page of matching ids, and the total over all pages when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPage {
    pub ids: Vec<i64>,
    pub total: Option<u64>,
}

/// A filter prepared against one index: text filters already evaluated over the distinct texts, the bounds of
/// each measurement as an open interval (a missing bound is infinite; NaN, a missing value, is never inside).
struct Prepared<'a> {
    name: Option<(&'a str, u64)>,
    yeast: Option<Vec<bool>>,
    style: Option<Vec<bool>>,
    hops: Option<Vec<bool>>,
    malts: Option<Vec<bool>>,
    foods: Option<Vec<bool>>,
    /// `(after, before)`, exclusive; `None` when the date is not filtered.
    brewed: Option<(i32, i32)>,
    abv: Option<(f64, f64)>,
    ibu: Option<(f64, f64)>,
    ebc: Option<(f64, f64)>,
    ph: Option<(f64, f64)>,
    /// Whether some test can never pass (a text that matches no distinct text, a character no name holds), so
    /// nothing matches without looking at a row.
    impossible: bool,
}

impl CatalogIndex {
    /// The catalog version (see `catalog_version` in the migrations) this index was read at.
    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// When beer `id` was last written, in nanoseconds since 1970 (see [`nanos`]); `None` when there is no such
    /// beer at this version. Every write of a beer sets `updated_at`, so this also tells whether a copy of its
    /// rendering is the one this version holds.
    pub fn updated_of(&self, id: i64) -> Option<i64> {
        self.ids.binary_search(&id).ok().map(|row| self.updated[row])
    }

    /// Any beer's id, each as likely as any other; `None` when the catalog is empty.
    pub fn random_id(&self, rng: &mut impl rand::Rng) -> Option<i64> {
        (!self.ids.is_empty()).then(|| self.ids[rng.gen_range(0..self.ids.len())])
    }

    /// See `name_ranks`: sorted by the first 8 bytes as a number, then in full among equal prefixes.
    fn name_ranks(&self) -> &[u32] {
        self.name_ranks.get_or_init(|| {
            let prefix = |row: u32| {
                let mut prefix = [0u8; 8];
                let name = self.names.get(row as usize).as_bytes();
                let n = name.len().min(8);
                prefix[..n].copy_from_slice(&name[..n]);
                u64::from_be_bytes(prefix)
            };
            let mut rows: Vec<(u64, u32)> = (0..self.ids.len() as u32).map(|row| (prefix(row), row)).collect();
            rows.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| self.names.get(a.1 as usize).cmp(self.names.get(b.1 as usize)))
            });
            let mut ranks = vec![0; self.ids.len()];
            let mut rank = 0;
            for (n, (_, row)) in rows.iter().enumerate() {
                if n > 0 && self.names.get(*row as usize) != self.names.get(rows[n - 1].1 as usize) {
                    rank += 1;
                }
                ranks[*row as usize] = rank;
            }
            ranks
        })
    }

    /// The ids of the beers matching `filter` in the order of `sort` (as the SQL orders: each key's missing values
    /// last whichever the direction, ties by ascending id; empty = by id), skipping `offset` and taking at most
    /// `limit`; with `count`, also how many match over all pages. In id order the walk stops at the page's last
    /// beer unless counting; any other order looks at every match, and sorts only as much as the page needs.
    pub fn page(&self, filter: &BeerFilter, sort: &[SortKey], offset: u64, limit: u64, count: bool) -> IdPage {
        let by_id = match sort.first() {
            None => Some(false),
            // Ids are unique: the first key decides every comparison.
            Some(key) if key.field == SortField::Id => Some(key.descending),
            Some(_) => None,
        };
        if *filter == BeerFilter::default()
            && let Some(descending) = by_id
        {
            // Every beer matches: a page is a slice by position, the total the length.
            let len = self.ids.len();
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
            let end = start
                .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
                .min(len);
            let ids = if descending {
                self.ids[len - end..len - start].iter().rev().copied().collect()
            } else {
                self.ids[start..end].to_vec()
            };
            return IdPage {
                ids,
                total: count.then_some(len as u64),
            };
        }
        let prepared = self.prepare(filter);
        if prepared.impossible {
            return IdPage {
                ids: Vec::new(),
                total: count.then_some(0),
            };
        }
        // The rows to test: a handful of ids are looked up instead of walking the catalog.
        let candidates: Option<Vec<u32>> = filter.ids.as_ref().map(|wanted| {
            let mut rows: Vec<u32> = wanted
                .iter()
                .filter_map(|id| self.ids.binary_search(id).ok())
                .map(|row| row as u32)
                .collect();
            rows.sort_unstable();
            rows.dedup();
            rows
        });
        match by_id {
            Some(descending) => self.page_in_id_order(&prepared, candidates, descending, offset, limit, count),
            None => {
                let end = offset.saturating_add(limit);
                if sort.len() <= 2 && end <= SHALLOW_PAGES {
                    return self.shallow_sorted_page(&prepared, candidates.as_deref(), sort, offset, end, count);
                }
                let mut rows = Vec::new();
                self.scan(&prepared, candidates.as_deref(), false, |row| {
                    rows.push(row);
                    true
                });
                let total = rows.len() as u64;
                IdPage {
                    ids: self.sorted_page(sort, rows, offset, limit),
                    total: count.then_some(total),
                }
            }
        }
    }

    fn page_in_id_order(
        &self,
        prepared: &Prepared<'_>,
        candidates: Option<Vec<u32>>,
        descending: bool,
        offset: u64,
        limit: u64,
        count: bool,
    ) -> IdPage {
        let mut ids = Vec::new();
        let mut seen: u64 = 0;
        self.scan(prepared, candidates.as_deref(), descending, |row| {
            if seen >= offset && (ids.len() as u64) < limit {
                ids.push(self.ids[row as usize]);
            }
            seen += 1;
            // Keep walking while the page is not full, or to the end when counting.
            count || (ids.len() as u64) < limit
        });
        IdPage {
            ids,
            total: count.then_some(seen),
        }
    }

    /// Calls `visit` with each matching row, in ascending row (= id) order or descending, until it returns false.
    /// The rows are tested a block at a time, one test (column) at a time over the block's survivors, so each
    /// test is a tight loop over one array.
    fn scan(&self, p: &Prepared<'_>, candidates: Option<&[u32]>, descending: bool, mut visit: impl FnMut(u32) -> bool) {
        const BLOCK: usize = 4096;
        let mut block: Vec<u32> = Vec::with_capacity(BLOCK);
        let len = self.ids.len();
        let blocks = len.div_ceil(BLOCK);
        for n in 0..blocks {
            block.clear();
            let at = if descending { blocks - 1 - n } else { n };
            let (start, end) = (at * BLOCK, ((at + 1) * BLOCK).min(len));
            match candidates {
                Some(rows) => {
                    let from = rows.partition_point(|r| (*r as usize) < start);
                    let to = rows.partition_point(|r| (*r as usize) < end);
                    block.extend_from_slice(&rows[from..to]);
                }
                None => self.first_test(p, start, end, &mut block),
            }
            if block.is_empty() {
                continue;
            }
            self.narrow(p, &mut block);
            if descending {
                block.reverse();
            }
            for &row in &block {
                if !visit(row) {
                    return;
                }
            }
        }
    }

    /// The rows of `start..end` passing the filter's cheapest selective test (or every row when nothing applies
    /// before [`Self::narrow`]).
    fn first_test(&self, p: &Prepared<'_>, start: usize, end: usize, out: &mut Vec<u32>) {
        let keep = |out: &mut Vec<u32>, test: &dyn Fn(usize) -> bool| {
            out.extend((start..end).filter(|row| test(*row)).map(|row| row as u32));
        };
        if let Some((_, mask)) = p.name {
            let masks = &self.name_masks[start..end];
            out.extend(
                masks
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| *m & mask == mask)
                    .map(|(i, _)| (start + i) as u32),
            );
        } else if let Some((after, before)) = p.brewed {
            let brewed = &self.brewed[start..end];
            // NO_MONTH is i32::MIN, below any `after` (at least i32::MIN + 1 as prepared).
            out.extend(
                brewed
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| **m > after && **m < before)
                    .map(|(i, _)| (start + i) as u32),
            );
        } else if let Some(bounds) = p.abv {
            keep(out, &|row| inside(self.abv[row], bounds));
        } else if let Some(bounds) = p.ibu {
            keep(out, &|row| inside(self.ibu[row], bounds));
        } else if let Some(bounds) = p.ebc {
            keep(out, &|row| inside(self.ebc[row], bounds));
        } else if let Some(bounds) = p.ph {
            keep(out, &|row| inside(self.ph[row], bounds));
        } else {
            out.extend((start..end).map(|row| row as u32));
        }
    }

    /// Keeps the rows of `rows` passing every test (those [`Self::first_test`] applied pass again, cheaply):
    /// cheap comparisons first, then interned texts, term lists, and the fuzzy name match last.
    fn narrow(&self, p: &Prepared<'_>, rows: &mut Vec<u32>) {
        if let Some((_, mask)) = p.name {
            rows.retain(|row| self.name_masks[*row as usize] & mask == mask);
        }
        if let Some((after, before)) = p.brewed {
            rows.retain(|row| {
                let m = self.brewed[*row as usize];
                m > after && m < before
            });
        }
        for (column, bounds) in [
            (&self.abv, p.abv),
            (&self.ibu, p.ibu),
            (&self.ebc, p.ebc),
            (&self.ph, p.ph),
        ] {
            if let Some(bounds) = bounds {
                rows.retain(|row| inside(column[*row as usize], bounds));
            }
        }
        for (column, matching) in [(&self.yeasts, &p.yeast), (&self.styles, &p.style)] {
            if let Some(matching) = matching {
                rows.retain(|row| {
                    let term = column[*row as usize];
                    term != NONE && matching[term as usize]
                });
            }
        }
        for (lists, matching) in [(&self.hops, &p.hops), (&self.malts, &p.malts), (&self.foods, &p.foods)] {
            if let Some(matching) = matching {
                let signature = signature_of(matching);
                rows.retain(|row| lists.any_matches(*row as usize, matching, signature));
            }
        }
        if let Some((needle, _)) = p.name {
            rows.retain(|row| fuzzy_match(self.names.get(*row as usize), needle));
        }
    }

    fn prepare<'a>(&self, filter: &'a BeerFilter) -> Prepared<'a> {
        let fuzzy_in = |vocabulary: &Vocabulary, needle: &Option<String>| {
            needle
                .as_deref()
                .map(|needle| vocabulary.matching(|text| fuzzy_match(text, needle)))
        };
        let substring_in = |vocabulary: &Vocabulary, needle: &Option<String>| {
            needle
                .as_deref()
                .map(|needle| vocabulary.matching(|text| text.contains(needle)))
        };
        // A month outside i32 cannot be stored, so a bound beyond it is "every dated beer" or "none". Without
        // `brewed_after` the lower bound is NO_MONTH itself: an undated beer is not above it, so never passes.
        let month = |m: i64| i32::try_from(m).unwrap_or(if m < 0 { i32::MIN + 1 } else { i32::MAX });
        let brewed = (filter.brewed_before.is_some() || filter.brewed_after.is_some()).then(|| {
            (
                filter.brewed_after.map_or(NO_MONTH, |m| month(m.0)),
                filter.brewed_before.map_or(i32::MAX, |m| month(m.0)),
            )
        });
        let bounds = |gt: Option<f64>, lt: Option<f64>| {
            (gt.is_some() || lt.is_some()).then(|| (gt.unwrap_or(f64::NEG_INFINITY), lt.unwrap_or(f64::INFINITY)))
        };
        let name = filter.beer_name.as_deref().map(|needle| (needle, char_mask(needle)));
        let mut prepared = Prepared {
            name,
            yeast: fuzzy_in(&self.yeast_vocabulary, &filter.yeast),
            style: substring_in(&self.style_vocabulary, &filter.style),
            hops: fuzzy_in(&self.hops.vocabulary, &filter.hops),
            malts: fuzzy_in(&self.malts.vocabulary, &filter.malt),
            foods: substring_in(&self.foods.vocabulary, &filter.food),
            brewed,
            abv: bounds(filter.abv_gt, filter.abv_lt),
            ibu: bounds(filter.ibu_gt, filter.ibu_lt),
            ebc: bounds(filter.ebc_gt, filter.ebc_lt),
            ph: bounds(filter.ph_gt, filter.ph_lt),
            impossible: false,
        };
        let never = |matching: &Option<Vec<bool>>| matching.as_ref().is_some_and(|m| !m.contains(&true));
        prepared.impossible = [
            &prepared.yeast,
            &prepared.style,
            &prepared.hops,
            &prepared.malts,
            &prepared.foods,
        ]
        .into_iter()
        .any(never)
            || name.is_some_and(|(_, mask)| self.all_name_chars & mask != mask)
            || prepared.brewed.is_some_and(|(after, before)| after >= before);
        prepared
    }

    /// The page `offset..offset + limit` of `rows` in the order of `sort`: the rows before the page are only
    /// partitioned off, the page alone is sorted.
    /// A page near the start of a sort by at most two keys (which [`Self::two_keys`] orders exactly): the best
    /// `end` matches are kept in a heap while scanning, so most rows cost one comparison with its worst.
    fn shallow_sorted_page(
        &self,
        prepared: &Prepared<'_>,
        candidates: Option<&[u32]>,
        sort: &[SortKey],
        offset: u64,
        end: u64,
        count: bool,
    ) -> IdPage {
        let end = end as usize;
        let mut best: BinaryHeap<(u128, u32)> = BinaryHeap::with_capacity(end + 1);
        let mut total: u64 = 0;
        self.scan(prepared, candidates, false, |row| {
            total += 1;
            // Rows come in ascending order: a later row with an equal key sorts after, so `<` is right.
            let entry = (self.two_keys(sort, row as usize), row);
            if best.len() < end {
                best.push(entry);
            } else if best.peek().is_some_and(|worst| entry < *worst) {
                best.pop();
                best.push(entry);
            }
            // The whole scan is needed anyway: any later row may sort first.
            true
        });
        let sorted = best.into_sorted_vec();
        IdPage {
            ids: sorted
                .iter()
                .skip(offset as usize)
                .map(|(_, row)| self.ids[*row as usize])
                .collect(),
            total: count.then_some(total),
        }
    }

    /// The first two keys of `sort` as one number in their order (the second 0 when there is one).
    fn two_keys(&self, sort: &[SortKey], row: usize) -> u128 {
        let second = sort.get(1).map_or(0, |key| self.sort_key(*key, row));
        (u128::from(self.sort_key(sort[0], row)) << 64) | u128::from(second)
    }

    fn sorted_page(&self, sort: &[SortKey], rows: Vec<u32>, offset: u64, limit: u64) -> Vec<i64> {
        let len = rows.len();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
        let end = start
            .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
            .min(len);
        if start == end {
            return Vec::new();
        }
        // The first two keys as a number in their order, so most comparisons are one integer compare.
        let mut keyed: Vec<(u128, u32)> = rows
            .into_iter()
            .map(|row| (self.two_keys(sort, row as usize), row))
            .collect();
        let order = |a: &(u128, u32), b: &(u128, u32)| {
            a.0.cmp(&b.0).then_with(|| {
                let (a, b) = (a.1 as usize, b.1 as usize);
                sort.iter()
                    .skip(2)
                    .fold(Ordering::Equal, |o, key| o.then_with(|| self.compare_by(*key, a, b)))
                    .then(a.cmp(&b))
            })
        };
        if end < len {
            keyed.select_nth_unstable_by(end, order);
            keyed.truncate(end);
        }
        if start > 0 {
            keyed.select_nth_unstable_by(start, order);
        }
        let page = &mut keyed[start..];
        page.sort_unstable_by(order);
        page.iter().map(|(_, row)| self.ids[*row as usize]).collect()
    }

    fn compare_by(&self, key: SortKey, a: usize, b: usize) -> Ordering {
        self.sort_key(key, a).cmp(&self.sort_key(key, b))
    }

    /// Row `row`'s value of `key` as an integer in the key's order: ascending or descending, a missing value
    /// greater than any (last either way), equal values equal.
    fn sort_key(&self, key: SortKey, row: usize) -> u64 {
        const MISSING: u64 = u64::MAX;
        let number = |value: f64| {
            if value.is_nan() {
                return None;
            }
            // + 0.0 turns -0.0 into 0.0, which SQL holds equal; then the IEEE bits, flipped to order as numbers.
            let bits = (value + 0.0).to_bits();
            Some(if bits >> 63 == 1 { !bits } else { bits | 1 << 63 })
        };
        let ascending = match key.field {
            SortField::Id => Some(row as u64),
            SortField::Name => Some(u64::from(self.name_ranks()[row])),
            SortField::Abv => number(self.abv[row]),
            SortField::Ibu => number(self.ibu[row]),
            SortField::Ebc => number(self.ebc[row]),
            SortField::Ph => number(self.ph[row]),
            SortField::FirstBrewed => {
                let month = self.brewed[row];
                (month != NO_MONTH).then(|| (i64::from(month) - i64::from(i32::MIN)) as u64)
            }
            SortField::CreatedAt => Some((self.created[row] as u64) ^ (1 << 63)),
            SortField::UpdatedAt => Some((self.updated[row] as u64) ^ (1 << 63)),
        };
        match ascending {
            None => MISSING,
            Some(key_value) if key.descending => !key_value,
            Some(key_value) => key_value,
        }
    }
}

/// Whether `value` lies strictly between the bounds; NaN (no value) never does.
#[inline]
fn inside(value: f64, (above, below): (f64, f64)) -> bool {
    value > above && value < below
}

/// The Punk fuzzy match: the needle's characters appear in the haystack in this order (SQL `LIKE '%p%n%k%'`).
/// `str::find` looks for a character with memchr; UTF-8 never matches a character's bytes inside another's.
pub fn fuzzy_match(haystack: &str, needle: &str) -> bool {
    let mut rest = haystack;
    for wanted in needle.chars() {
        match rest.find(wanted) {
            Some(at) => rest = &rest[at + wanted.len_utf8()..],
            None => return false,
        }
    }
    true
}

/// Which characters a text holds, folded into 64 bits: a text can only contain a needle's characters in order if
/// its mask covers the needle's mask.
fn char_mask(text: &str) -> u64 {
    text.chars().fold(0, |mask, c| {
        let bit = match c {
            'a'..='z' => c as u32 - 'a' as u32,
            '0'..='9' => 26 + (c as u32 - '0' as u32),
            ' ' => 36,
            other => 37 + (other as u32 % 27),
        };
        mask | (1 << bit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::YearMonth;

    #[derive(Clone)]
    struct Beer {
        id: i64,
        name: &'static str,
        abv: f64,
        ibu: Option<f64>,
        ph: Option<f64>,
        month: Option<i64>,
        hops: &'static str,
        malts: &'static str,
        foods: &'static str,
    }

    fn beer(id: i64, name: &'static str, abv: f64, ibu: Option<f64>, month: Option<YearMonth>) -> Beer {
        Beer {
            id,
            name,
            abv,
            ibu,
            ph: None,
            month: month.map(|m| m.0),
            hops: "",
            malts: "",
            foods: "",
        }
    }

    fn build(beers: &[Beer]) -> CatalogIndex {
        let mut builder = IndexBuilder::new(7);
        for b in beers {
            let at = DateTime::from_timestamp(1_700_000_000 - b.id * 1000, 0).unwrap();
            builder.push_beer(&IndexRow {
                id: b.id,
                name_search: b.name,
                yeast_search: (b.id % 2 == 0).then_some("wyeast 1056 - american ale"),
                style_search: Some(if b.id % 3 == 0 { "stout" } else { "ipa" }),
                abv: b.abv,
                ibu: b.ibu,
                ebc: None,
                ph: b.ph,
                first_brewed_month: b.month,
                created_at: at,
                updated_at: at,
                hops: b.hops,
                malts: b.malts,
                foods: b.foods,
            });
        }
        builder.finish()
    }

    fn index() -> CatalogIndex {
        build(&[
            Beer {
                hops: "simcoe",
                foods: "spicy chicken",
                ph: Some(4.4),
                ..beer(1, "punk ipa", 5.6, Some(40.0), YearMonth::new(2007, 4))
            },
            beer(2, "dead pony club", 3.8, None, None),
            Beer {
                hops: "citra\u{1f}simcoe",
                ph: Some(3.9),
                ..beer(5, "café über", 9.0, Some(80.0), YearMonth::new(2015, 1))
            },
            Beer {
                malts: "munich",
                ph: Some(4.4),
                ..beer(9, "100% pure", 12.0, Some(5.0), YearMonth::new(2010, 6))
            },
        ])
    }

    fn ids(filter: BeerFilter) -> Vec<i64> {
        index().page(&filter, &[], 0, 80, false).ids
    }

    #[test]
    fn fuzzy_means_the_characters_in_order() {
        assert!(fuzzy_match("punk ipa", "pnk"));
        assert!(fuzzy_match("punk ipa", "punk ipa"));
        assert!(!fuzzy_match("punk ipa", "knup"));
        assert!(fuzzy_match("café über", "éü"));
        assert!(fuzzy_match("anything", ""));
    }

    #[test]
    fn each_filter_selects_what_it_defines() {
        let f = BeerFilter::default;
        assert_eq!(ids(f()), [1, 2, 5, 9]);
        assert_eq!(
            ids(BeerFilter {
                abv_gt: Some(5.6),
                ..f()
            }),
            [5, 9]
        );
        assert_eq!(
            ids(BeerFilter {
                abv_lt: Some(5.6),
                ..f()
            }),
            [2]
        );
        // A missing IBU matches neither direction.
        assert_eq!(
            ids(BeerFilter {
                ibu_lt: Some(1000.0),
                ..f()
            }),
            [1, 5, 9]
        );
        assert_eq!(
            ids(BeerFilter {
                ibu_gt: Some(-1.0),
                ..f()
            }),
            [1, 5, 9]
        );
        assert_eq!(
            ids(BeerFilter {
                brewed_before: YearMonth::new(2010, 6),
                ..f()
            }),
            [1]
        );
        assert_eq!(
            ids(BeerFilter {
                brewed_after: YearMonth::new(2010, 6),
                ..f()
            }),
            [5]
        );
        assert_eq!(
            ids(BeerFilter {
                beer_name: Some("pny".into()),
                ..f()
            }),
            [2]
        );
        assert_eq!(
            ids(BeerFilter {
                beer_name: Some("zzzz".into()),
                ..f()
            }),
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(BeerFilter {
                beer_name: Some("% p".into()),
                ..f()
            }),
            [9]
        );
        assert_eq!(
            ids(BeerFilter {
                beer_name: Some("cü".into()),
                ..f()
            }),
            [5]
        );
        assert_eq!(
            ids(BeerFilter {
                yeast: Some("wyeast 1056".into()),
                ..f()
            }),
            [2]
        );
        assert_eq!(
            ids(BeerFilter {
                style: Some("tou".into()),
                ..f()
            }),
            [9]
        );
        assert_eq!(
            ids(BeerFilter {
                hops: Some("smc".into()),
                ..f()
            }),
            [1, 5]
        );
        assert_eq!(
            ids(BeerFilter {
                malt: Some("munich".into()),
                ..f()
            }),
            [9]
        );
        assert_eq!(
            ids(BeerFilter {
                food: Some("spicy chicken".into()),
                ..f()
            }),
            [1]
        );
        assert_eq!(
            ids(BeerFilter {
                food: Some("spc".into()),
                ..f()
            }),
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(BeerFilter {
                ids: Some(vec![9, 2, 4, 2]),
                ..f()
            }),
            [2, 9]
        );
        let combined = BeerFilter {
            abv_gt: Some(5.0),
            hops: Some("simcoe".into()),
            ..f()
        };
        assert_eq!(ids(combined), [1, 5]);
    }

    #[test]
    fn ph_filters_and_impossible_texts() {
        let f = BeerFilter::default;
        assert_eq!(
            ids(BeerFilter {
                ph_gt: Some(4.0),
                ..f()
            }),
            [1, 9]
        );
        assert_eq!(
            ids(BeerFilter {
                ph_lt: Some(4.4),
                ..f()
            }),
            [5]
        );
        assert_eq!(
            ids(BeerFilter {
                ph_gt: Some(3.0),
                ph_lt: Some(4.5),
                ..f()
            }),
            [1, 5, 9]
        );
        // No name holds a `q`, no hop matches `zzz`: nothing, whatever else the filter says.
        assert_eq!(
            ids(BeerFilter {
                beer_name: Some("q".into()),
                ..f()
            }),
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(BeerFilter {
                hops: Some("zzz".into()),
                abv_gt: Some(1.0),
                ..f()
            }),
            Vec::<i64>::new()
        );
        assert_eq!(
            index()
                .page(
                    &BeerFilter {
                        hops: Some("zzz".into()),
                        ..f()
                    },
                    &[],
                    0,
                    5,
                    true
                )
                .total,
            Some(0)
        );
    }

    /// A reference order written apart from the index's keys: values as options, missing last either way, ties
    /// by id.
    fn reference_order(beers: &[Beer], sort: &[SortKey]) -> Vec<i64> {
        let mut sorted: Vec<&Beer> = beers.iter().collect();
        sorted.sort_by(|a, b| {
            let mut order = Ordering::Equal;
            for key in sort {
                let values = |beer: &Beer| -> Option<Result<f64, &str>> {
                    match key.field {
                        SortField::Id => Some(Ok(beer.id as f64)),
                        SortField::Name => Some(Err(beer.name)),
                        SortField::Abv => Some(Ok(beer.abv)),
                        SortField::Ibu => beer.ibu.map(Ok),
                        SortField::Ph => beer.ph.map(Ok),
                        SortField::FirstBrewed => beer.month.map(|m| Ok(m as f64)),
                        // `build` dates beers backwards from their id.
                        SortField::CreatedAt | SortField::UpdatedAt => Some(Ok(-beer.id as f64)),
                        SortField::Ebc => None,
                    }
                };
                let next = match (values(a), values(b)) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(x), Some(y)) => {
                        let o = match (x, y) {
                            (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap(),
                            (Err(x), Err(y)) => x.as_bytes().cmp(y.as_bytes()),
                            _ => unreachable!(),
                        };
                        if key.descending { o.reverse() } else { o }
                    }
                };
                order = order.then(next);
            }
            order.then(a.id.cmp(&b.id))
        });
        sorted.into_iter().map(|b| b.id).collect()
    }

    #[test]
    fn sorted_pages_follow_the_sql_order() {
        // Few distinct values (ties), missing values, -0.0 beside 0.0, names sharing their first 8 bytes.
        const NAMES: [&str; 6] = [
            "brewdog punk",
            "brewdog punk ipa",
            "brewdog",
            "äpfel",
            "a",
            "brewdog pale",
        ];
        let beers: Vec<Beer> = (1..=300)
            .map(|id| Beer {
                ph: (id % 7 != 0).then(|| [4.2, 3.9, 4.4][id as usize % 3]),
                ..beer(
                    id * 3,
                    NAMES[(id * 7 % 6) as usize],
                    [0.0, -0.0, 5.5, 12.0, 5.5][(id % 5) as usize],
                    (id % 4 != 0).then_some((id % 9) as f64),
                    (id % 11 != 0).then(|| YearMonth::new(2000 + id % 13, 1 + id % 12).unwrap()),
                )
            })
            .collect();
        let index = build(&beers);
        let key = |field, descending| SortKey { field, descending };
        let sorts = [
            vec![key(SortField::Abv, false)],
            vec![key(SortField::Abv, true)],
            vec![key(SortField::Ibu, true), key(SortField::Name, false)],
            vec![key(SortField::Name, true), key(SortField::Ph, false)],
            vec![key(SortField::Name, false)],
            vec![key(SortField::Ph, false), key(SortField::FirstBrewed, true)],
            vec![key(SortField::FirstBrewed, false)],
            vec![key(SortField::Ebc, true), key(SortField::Abv, false)],
            vec![key(SortField::CreatedAt, false)],
            vec![key(SortField::UpdatedAt, true)],
            vec![key(SortField::Id, true)],
            vec![key(SortField::Abv, false), key(SortField::Id, true)],
            vec![
                key(SortField::Ph, false),
                key(SortField::Abv, true),
                key(SortField::Name, false),
            ],
            vec![
                key(SortField::FirstBrewed, true),
                key(SortField::Ibu, false),
                key(SortField::Id, true),
            ],
        ];
        let filters = [
            BeerFilter::default(),
            BeerFilter {
                abv_gt: Some(-1.0),
                ph_lt: Some(4.3),
                ..BeerFilter::default()
            },
            BeerFilter {
                beer_name: Some("pnk".into()),
                ..BeerFilter::default()
            },
            BeerFilter {
                ids: Some(vec![3, 30, 33, 600, 601]),
                ..BeerFilter::default()
            },
        ];
        for filter in &filters {
            let expected_all = index.page(filter, &[], 0, 1000, true);
            for sort in &sorts {
                let matching: Vec<Beer> = beers
                    .iter()
                    .filter(|b| expected_all.ids.contains(&b.id))
                    .cloned()
                    .collect();
                let expected = reference_order(&matching, sort);
                // Shallow pages (a heap) and deep ones (select), by ending before or after SHALLOW_PAGES.
                for (offset, limit) in [
                    (0, 1000),
                    (0, 25),
                    (25, 25),
                    (100, 7),
                    (295, 80),
                    (400, 10),
                    (0, 2000),
                    (150, 5000),
                ] {
                    let page = index.page(filter, sort, offset, limit, true);
                    let want: Vec<i64> = expected
                        .iter()
                        .skip(offset as usize)
                        .take(limit as usize)
                        .copied()
                        .collect();
                    assert_eq!(page.ids, want, "{filter:?} {sort:?} {offset}+{limit}");
                    assert_eq!(page.total, expected_all.total);
                }
            }
        }
    }

    #[test]
    fn pages_and_totals() {
        let index = index();
        let all = BeerFilter::default();
        assert_eq!(
            index.page(&all, &[], 1, 2, true),
            IdPage {
                ids: vec![2, 5],
                total: Some(4)
            }
        );
        assert_eq!(
            index.page(&all, &[], 1, 2, false),
            IdPage {
                ids: vec![2, 5],
                total: None
            }
        );
        assert_eq!(
            index.page(&all, &[], 10, 2, true),
            IdPage {
                ids: vec![],
                total: Some(4)
            }
        );
        assert_eq!(index.version(), 7);
        assert_eq!(index.len(), 4);
    }
}
