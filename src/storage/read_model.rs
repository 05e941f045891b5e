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

use std::collections::HashMap;

use crate::domain::BeerFilter;

mod patch;
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
#[derive(Default)]
struct TermLists {
    vocabulary: Vocabulary,
    offsets: Vec<u32>,
    terms: Vec<u32>,
}

impl TermLists {
    /// Appends a term of beer `row`; terms arrive in row order.
    fn push(&mut self, row: usize, text: &str) {
        self.close_rows_before(row);
        let term = self.vocabulary.intern(text);
        self.terms.push(term);
    }

    fn close_rows_before(&mut self, row: usize) {
        let end = u32::try_from(self.terms.len()).expect("fewer than 4 billion terms");
        while self.offsets.len() <= row {
            self.offsets.push(end);
        }
    }

    fn finish(&mut self, rows: usize) {
        self.close_rows_before(rows);
        self.vocabulary.seal();
        self.offsets.shrink_to_fit();
        self.terms.shrink_to_fit();
    }

    fn of(&self, row: usize) -> &[u32] {
        &self.terms[self.offsets[row] as usize..self.offsets[row + 1] as usize]
    }
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

/// One beer's filterable fields, as a store reads them (search texts already lower-cased, as stored).
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    pub id: i64,
    pub name_search: String,
    pub yeast_search: Option<String>,
    pub style_search: Option<String>,
    pub abv: f64,
    pub ibu: Option<f64>,
    pub ebc: Option<f64>,
    pub first_brewed_month: Option<i64>,
}

/// The kind of a searchable term row (`beer_terms.kind`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TermKind {
    Hop,
    Malt,
    Food,
}

impl TermKind {
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "hop" => Some(Self::Hop),
            "malt" => Some(Self::Malt),
            "food" => Some(Self::Food),
            _ => None,
        }
    }
}

/// Builds an index from rows read in one snapshot: every beer in ascending id order first, then every term in
/// ascending beer id order.
pub struct IndexBuilder {
    index: CatalogIndex,
    /// Where the term cursor is: terms arrive sorted by beer id, so finding a term's row never searches back.
    term_row: usize,
}

impl IndexBuilder {
    pub fn new(version: i64) -> Self {
        Self {
            index: CatalogIndex {
                version,
                ..CatalogIndex::default()
            },
            term_row: 0,
        }
    }

    /// Adds a beer; ids must ascend.
    pub fn push_beer(&mut self, row: IndexRow) {
        let index = &mut self.index;
        debug_assert!(index.ids.last().is_none_or(|last| *last < row.id), "ids ascend");
        index.ids.push(row.id);
        index.name_masks.push(char_mask(&row.name_search));
        index.names.push(&row.name_search);
        index.yeasts.push(
            row.yeast_search
                .as_deref()
                .map_or(NONE, |y| index.yeast_vocabulary.intern(y)),
        );
        index.styles.push(
            row.style_search
                .as_deref()
                .map_or(NONE, |s| index.style_vocabulary.intern(s)),
        );
        index.abv.push(row.abv);
        // NaN: every comparison with it is false, which is exactly "a missing value never matches".
        index.ibu.push(row.ibu.unwrap_or(f64::NAN));
        index.ebc.push(row.ebc.unwrap_or(f64::NAN));
        index.brewed.push(
            row.first_brewed_month
                .and_then(|m| i32::try_from(m).ok())
                .unwrap_or(NO_MONTH),
        );
    }

    /// Adds a hop, malt or food term of beer `beer_id`; terms must come in ascending beer id order, after every
    /// beer. A term of a beer not pushed (written after the snapshot's beers were read) is ignored.
    pub fn push_term(&mut self, beer_id: i64, kind: TermKind, term: &str) {
        let ids = &self.index.ids;
        while self.term_row < ids.len() && ids[self.term_row] < beer_id {
            self.term_row += 1;
        }
        if self.term_row == ids.len() || ids[self.term_row] != beer_id {
            return;
        }
        let lists = match kind {
            TermKind::Hop => &mut self.index.hops,
            TermKind::Malt => &mut self.index.malts,
            TermKind::Food => &mut self.index.foods,
        };
        lists.push(self.term_row, term);
    }

    pub fn finish(mut self) -> CatalogIndex {
        let index = &mut self.index;
        let rows = index.ids.len();
        for lists in [&mut index.hops, &mut index.malts, &mut index.foods] {
            lists.finish(rows);
        }
        index.yeast_vocabulary.seal();
        index.style_vocabulary.seal();
        index.ids.shrink_to_fit();
        index.names.bytes.shrink_to_fit();
        self.index
    }
}

/// Every beer's filterable fields, column by column, in ascending id order, as of one catalog version.
#[derive(Default)]
pub struct CatalogIndex {
    version: i64,
    ids: Vec<i64>,
    names: Texts,
    name_masks: Vec<u64>,
    yeasts: Vec<u32>,
    yeast_vocabulary: Vocabulary,
    styles: Vec<u32>,
    style_vocabulary: Vocabulary,
    abv: Vec<f64>,
    ibu: Vec<f64>,
    ebc: Vec<f64>,
    brewed: Vec<i32>,
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

/// A filter prepared against one index: text filters already evaluated over the distinct texts.
struct Prepared<'a> {
    filter: &'a BeerFilter,
    name: Option<(&'a str, u64)>,
    yeast: Option<Vec<bool>>,
    style: Option<Vec<bool>>,
    hops: Option<Vec<bool>>,
    malts: Option<Vec<bool>>,
    foods: Option<Vec<bool>>,
    before: Option<i32>,
    after: Option<i32>,
    /// Whether each measurement column is compared at all.
    abv: bool,
    ibu: bool,
    ebc: bool,
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

    /// Any beer's id, each as likely as any other; `None` when the catalog is empty.
    pub fn random_id(&self, rng: &mut impl rand::Rng) -> Option<i64> {
        (!self.ids.is_empty()).then(|| self.ids[rng.gen_range(0..self.ids.len())])
    }

    /// The ids of the beers matching `filter`, in ascending order, skipping `offset` and taking at most `limit`;
    /// with `count`, also how many match over all pages (which reads to the end; without it the walk stops at the
    /// page's last beer).
    pub fn page(&self, filter: &BeerFilter, offset: u64, limit: u64, count: bool) -> IdPage {
        if *filter == BeerFilter::default() {
            // Every beer matches: a page is a slice by position, the total the length.
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.ids.len());
            let end = start
                .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
                .min(self.ids.len());
            return IdPage {
                ids: self.ids[start..end].to_vec(),
                total: count.then_some(self.ids.len() as u64),
            };
        }
        let prepared = self.prepare(filter);
        let mut ids = Vec::new();
        let mut seen: u64 = 0;
        let mut visit = |row: usize| -> bool {
            if self.matches(&prepared, row) {
                if seen >= offset && (ids.len() as u64) < limit {
                    ids.push(self.ids[row]);
                }
                seen += 1;
            }
            // Keep walking while the page is not full, or to the end when counting.
            count || (ids.len() as u64) < limit
        };
        match &filter.ids {
            // A handful of ids: look each up instead of walking the catalog.
            Some(wanted) => {
                let mut rows: Vec<usize> = wanted.iter().filter_map(|id| self.ids.binary_search(id).ok()).collect();
                rows.sort_unstable();
                rows.dedup();
                for row in rows {
                    if !visit(row) {
                        break;
                    }
                }
            }
            None => {
                for row in 0..self.ids.len() {
                    if !visit(row) {
                        break;
                    }
                }
            }
        }
        IdPage {
            ids,
            total: count.then_some(seen),
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
        // A month outside i32 cannot be stored, so a bound beyond it is "every dated beer" or "none".
        let month = |m: i64| i32::try_from(m).unwrap_or(if m < 0 { i32::MIN + 1 } else { i32::MAX });
        Prepared {
            filter,
            name: filter.beer_name.as_deref().map(|needle| (needle, char_mask(needle))),
            yeast: fuzzy_in(&self.yeast_vocabulary, &filter.yeast),
            style: substring_in(&self.style_vocabulary, &filter.style),
            hops: fuzzy_in(&self.hops.vocabulary, &filter.hops),
            malts: fuzzy_in(&self.malts.vocabulary, &filter.malt),
            foods: substring_in(&self.foods.vocabulary, &filter.food),
            before: filter.brewed_before.map(|m| month(m.0)),
            after: filter.brewed_after.map(|m| month(m.0)),
            abv: filter.abv_gt.is_some() || filter.abv_lt.is_some(),
            ibu: filter.ibu_gt.is_some() || filter.ibu_lt.is_some(),
            ebc: filter.ebc_gt.is_some() || filter.ebc_lt.is_some(),
        }
    }

    /// Whether beer `row` satisfies every part of the filter. Only the columns a filter uses are read (a full
    /// scan touches as little memory as it can), and the name's character mask, the most selective cheap test, is
    /// read first.
    fn matches(&self, p: &Prepared<'_>, row: usize) -> bool {
        if let Some((_, mask)) = p.name
            && self.name_masks[row] & mask != mask
        {
            return false;
        }
        let f = p.filter;
        let within =
            |value: f64, gt: Option<f64>, lt: Option<f64>| gt.is_none_or(|b| value > b) && lt.is_none_or(|b| value < b);
        if p.abv && !within(self.abv[row], f.abv_gt, f.abv_lt) {
            return false;
        }
        if p.ibu && !within(self.ibu[row], f.ibu_gt, f.ibu_lt) {
            return false;
        }
        if p.ebc && !within(self.ebc[row], f.ebc_gt, f.ebc_lt) {
            return false;
        }
        if p.before.is_some() || p.after.is_some() {
            let brewed = self.brewed[row];
            if brewed == NO_MONTH || p.before.is_some_and(|b| brewed >= b) || p.after.is_some_and(|a| brewed <= a) {
                return false;
            }
        }
        let interned = |column: &[u32], matching: &Option<Vec<bool>>| match matching {
            None => true,
            Some(matching) => column[row] != NONE && matching[column[row] as usize],
        };
        if !interned(&self.yeasts, &p.yeast) || !interned(&self.styles, &p.style) {
            return false;
        }
        let any_term = |lists: &TermLists, matching: &Option<Vec<bool>>| match matching {
            None => true,
            Some(matching) => lists.of(row).iter().any(|term| matching[*term as usize]),
        };
        if !any_term(&self.hops, &p.hops) || !any_term(&self.malts, &p.malts) || !any_term(&self.foods, &p.foods) {
            return false;
        }
        if let Some((needle, _)) = p.name
            && !fuzzy_match(self.names.get(row), needle)
        {
            return false;
        }
        true
    }
}

/// The Punk fuzzy match: the needle's characters appear in the haystack in this order (SQL `LIKE '%p%n%k%'`).
pub fn fuzzy_match(haystack: &str, needle: &str) -> bool {
    let mut rest = haystack.chars();
    needle.chars().all(|wanted| rest.any(|c| c == wanted))
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

    fn row(id: i64, name: &str, abv: f64, ibu: Option<f64>, month: Option<i64>) -> IndexRow {
        IndexRow {
            id,
            name_search: name.to_owned(),
            yeast_search: (id % 2 == 0).then(|| "wyeast 1056 - american ale".to_owned()),
            style_search: Some(if id % 3 == 0 { "stout" } else { "ipa" }.to_owned()),
            abv,
            ibu,
            ebc: None,
            first_brewed_month: month,
        }
    }

    fn index() -> CatalogIndex {
        let mut builder = IndexBuilder::new(7);
        builder.push_beer(row(
            1,
            "punk ipa",
            5.6,
            Some(40.0),
            YearMonth::new(2007, 4).map(|m| m.0),
        ));
        builder.push_beer(row(2, "dead pony club", 3.8, None, None));
        builder.push_beer(row(
            5,
            "café über",
            9.0,
            Some(80.0),
            YearMonth::new(2015, 1).map(|m| m.0),
        ));
        builder.push_beer(row(
            9,
            "100% pure",
            12.0,
            Some(5.0),
            YearMonth::new(2010, 6).map(|m| m.0),
        ));
        builder.push_term(1, TermKind::Hop, "simcoe");
        builder.push_term(1, TermKind::Food, "spicy chicken");
        builder.push_term(3, TermKind::Hop, "a beer that is not in the snapshot");
        builder.push_term(5, TermKind::Hop, "citra");
        builder.push_term(5, TermKind::Hop, "simcoe");
        builder.push_term(9, TermKind::Malt, "munich");
        builder.finish()
    }

    fn ids(filter: BeerFilter) -> Vec<i64> {
        index().page(&filter, 0, 80, false).ids
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
    fn pages_and_totals() {
        let index = index();
        let all = BeerFilter::default();
        assert_eq!(
            index.page(&all, 1, 2, true),
            IdPage {
                ids: vec![2, 5],
                total: Some(4)
            }
        );
        assert_eq!(
            index.page(&all, 1, 2, false),
            IdPage {
                ids: vec![2, 5],
                total: None
            }
        );
        assert_eq!(
            index.page(&all, 10, 2, true),
            IdPage {
                ids: vec![],
                total: Some(4)
            }
        );
        assert_eq!(index.version(), 7);
        assert_eq!(index.len(), 4);
    }
}
