//! Patching: the index at a newer catalog version made from the one at an older version and the beers changed in
//! between, so a write costs an update proportional to what it changed instead of a full rebuild (which reads every
//! beer: seconds at a million). The changed beers are read as a small index of their own, by the same
//! [`IndexBuilder`](super::IndexBuilder) and queries a full build uses (only with the change log's ids), and merged
//! by id with the old index: the runs of unchanged rows between changed ids are copied column by column as slices,
//! the old version of a changed row is dropped, its new version (if it still exists) is copied in from the small
//! index. Vocabularies are the old ones with new texts appended, so the old rows' interned positions stay valid and
//! only the changed rows' positions are translated.
//!
//! What a patch must equal is a full build at the same version: [`CatalogIndex`]'s `PartialEq` compares exactly
//! what a query can observe (the rows, their values and texts), not where a text happens to sit in a vocabulary.

use std::ops::Range;

use super::{CatalogIndex, TermLists, Texts, Vocabulary};

/// What changed in a catalog between an index's version and [`IndexChanges::version`]: every beer the change log
/// names (written, created or deleted), and the current fields of those that still exist.
pub struct IndexChanges {
    /// The version the changes lead to.
    pub version: i64,
    /// Every changed beer's id, ascending, each once; a deleted beer's among them.
    pub ids: Vec<i64>,
    /// The changed beers that exist at `version`, built like a full index (their ids a subset of `ids`).
    pub current: CatalogIndex,
}

/// Where the texts of one index's vocabulary sit in another's: `positions[old] = new`.
struct Translation {
    yeasts: Vec<u32>,
    styles: Vec<u32>,
    hops: Vec<u32>,
    malts: Vec<u32>,
    foods: Vec<u32>,
}

impl Vocabulary {
    /// Makes a sealed vocabulary internable again.
    fn reopen(&mut self) {
        self.positions = self
            .texts
            .iter()
            .enumerate()
            .map(|(position, text)| (text.clone(), position as u32))
            .collect();
    }

    /// Interns every text of `other` here, returning where each went.
    fn absorb(&mut self, other: &Vocabulary) -> Vec<u32> {
        other.texts.iter().map(|text| self.intern(text)).collect()
    }
}

/// Copies interned positions, translated when they come from another vocabulary.
fn extend_interned(into: &mut Vec<u32>, from: &[u32], translation: Option<&[u32]>) {
    match translation {
        None => into.extend_from_slice(from),
        Some(positions) => into.extend(
            from.iter()
                .map(|&p| if p == super::NONE { p } else { positions[p as usize] }),
        ),
    }
}

impl Texts {
    fn start(&self, row: usize) -> usize {
        if row == 0 { 0 } else { self.ends[row - 1] as usize }
    }

    /// Appends the texts of `from`'s rows `rows`.
    fn extend_rows(&mut self, from: &Texts, rows: Range<usize>) {
        if rows.is_empty() {
            return;
        }
        let (start, end) = (from.start(rows.start), from.ends[rows.end - 1] as usize);
        let base = self.bytes.len();
        self.bytes.push_str(&from.bytes[start..end]);
        self.ends.extend(
            from.ends[rows]
                .iter()
                .map(|&e| u32::try_from(e as usize - start + base).expect("under 4 GiB of names")),
        );
    }
}

impl TermLists {
    /// Appends the term lists of `from`'s rows `rows` (`from` finished). A row's signature depends on its terms'
    /// positions, so translated rows get theirs recomputed.
    fn extend_rows(&mut self, from: &TermLists, rows: Range<usize>, translation: Option<&[u32]>) {
        if rows.is_empty() {
            return;
        }
        // `offsets` holds each row's end after a leading 0: the copied ends, rebased onto this list's terms.
        let (start, end) = (from.offsets[rows.start] as usize, from.offsets[rows.end] as usize);
        let base = self.terms.len();
        self.offsets.extend(
            from.offsets[rows.start + 1..=rows.end]
                .iter()
                .map(|&o| u32::try_from(o as usize - start + base).expect("fewer than 4 billion terms")),
        );
        extend_interned(&mut self.terms, &from.terms[start..end], translation);
        match translation {
            None => self.signatures.extend_from_slice(&from.signatures[rows]),
            Some(_) => {
                let first = self.signatures.len();
                for row in first..first + rows.len() {
                    let signature = self
                        .of(row)
                        .iter()
                        .fold(0, |bits, &term| bits | super::signature_bit(term));
                    self.signatures.push(signature);
                }
            }
        }
    }
}

impl CatalogIndex {
    /// Appends `from`'s rows `rows`, column by column; `translation` maps `from`'s vocabulary positions to this
    /// index's (`None`: they are the same vocabulary). Every column is copied here: a new column is one more line.
    fn extend_rows(&mut self, from: &CatalogIndex, rows: Range<usize>, translation: Option<&Translation>) {
        let r = || rows.clone();
        self.ids.extend_from_slice(&from.ids[r()]);
        self.names.extend_rows(&from.names, r());
        self.name_masks.extend_from_slice(&from.name_masks[r()]);
        extend_interned(&mut self.yeasts, &from.yeasts[r()], translation.map(|t| &t.yeasts[..]));
        extend_interned(&mut self.styles, &from.styles[r()], translation.map(|t| &t.styles[..]));
        self.abv.extend_from_slice(&from.abv[r()]);
        self.ibu.extend_from_slice(&from.ibu[r()]);
        self.ebc.extend_from_slice(&from.ebc[r()]);
        self.ph.extend_from_slice(&from.ph[r()]);
        self.brewed.extend_from_slice(&from.brewed[r()]);
        self.created.extend_from_slice(&from.created[r()]);
        self.updated.extend_from_slice(&from.updated[r()]);
        self.hops.extend_rows(&from.hops, r(), translation.map(|t| &t.hops[..]));
        self.malts
            .extend_rows(&from.malts, r(), translation.map(|t| &t.malts[..]));
        self.foods
            .extend_rows(&from.foods, r(), translation.map(|t| &t.foods[..]));
    }

    /// This index with `changes` applied: what a full build at `changes.version` gives, in time proportional to
    /// the catalog's size for the copying (memory bandwidth: tens of milliseconds at a million beers) and to the
    /// changes for everything else.
    pub fn patched(&self, changes: &IndexChanges) -> CatalogIndex {
        let current = &changes.current;
        debug_assert!(
            current.ids.iter().all(|id| changes.ids.binary_search(id).is_ok()),
            "every current row is a changed one"
        );
        let mut out = CatalogIndex {
            version: changes.version,
            yeast_vocabulary: self.yeast_vocabulary.clone(),
            style_vocabulary: self.style_vocabulary.clone(),
            hops: TermLists {
                vocabulary: self.hops.vocabulary.clone(),
                ..TermLists::default()
            },
            malts: TermLists {
                vocabulary: self.malts.vocabulary.clone(),
                ..TermLists::default()
            },
            foods: TermLists {
                vocabulary: self.foods.vocabulary.clone(),
                ..TermLists::default()
            },
            ..CatalogIndex::default()
        };
        out.reserve_like(self, current.len());
        let translation = (!current.is_empty()).then(|| {
            let absorb = |into: &mut Vocabulary, from: &Vocabulary| {
                into.reopen();
                into.absorb(from)
            };
            Translation {
                yeasts: absorb(&mut out.yeast_vocabulary, &current.yeast_vocabulary),
                styles: absorb(&mut out.style_vocabulary, &current.style_vocabulary),
                hops: absorb(&mut out.hops.vocabulary, &current.hops.vocabulary),
                malts: absorb(&mut out.malts.vocabulary, &current.malts.vocabulary),
                foods: absorb(&mut out.foods.vocabulary, &current.foods.vocabulary),
            }
        });

        // `copied`: the old rows before it are in `out` or dropped; `next`: the next row of `current`.
        let (mut copied, mut next) = (0, 0);
        for &id in &changes.ids {
            let at = copied + self.ids[copied..].partition_point(|&old| old < id);
            out.extend_rows(self, copied..at, None);
            copied = if self.ids.get(at) == Some(&id) { at + 1 } else { at };
            if current.ids.get(next) == Some(&id) {
                out.extend_rows(current, next..next + 1, translation.as_ref());
                next += 1;
            }
        }
        out.extend_rows(self, copied..self.ids.len(), None);

        for lists in [&mut out.hops, &mut out.malts, &mut out.foods] {
            lists.finish();
        }
        out.yeast_vocabulary.seal();
        out.style_vocabulary.seal();
        out.all_name_chars = out.name_masks.iter().fold(0, |all, mask| all | mask);
        // `name_ranks` is left to be computed by the first sort by name: sorting a million names would make every
        // patch as slow as a sort.
        out
    }

    fn reserve_like(&mut self, like: &CatalogIndex, extra: usize) {
        let rows = like.ids.len() + extra;
        self.ids.reserve(rows);
        self.names.bytes.reserve(like.names.bytes.len() + extra * 32);
        self.names.ends.reserve(rows);
        self.name_masks.reserve(rows);
        self.yeasts.reserve(rows);
        self.styles.reserve(rows);
        self.abv.reserve(rows);
        self.ibu.reserve(rows);
        self.ebc.reserve(rows);
        self.ph.reserve(rows);
        self.brewed.reserve(rows);
        self.created.reserve(rows);
        self.updated.reserve(rows);
        for (lists, like) in [
            (&mut self.hops, &like.hops),
            (&mut self.malts, &like.malts),
            (&mut self.foods, &like.foods),
        ] {
            lists.offsets.reserve(rows + 1);
            lists.terms.reserve(like.terms.len() + extra * 8);
            lists.signatures.reserve(rows);
        }
    }

    /// One row as a query sees it: every value, and texts instead of vocabulary positions (term lists sorted, as
    /// their order within a beer means nothing).
    fn observable(&self, row: usize) -> impl PartialEq + std::fmt::Debug + '_ {
        fn text(vocabulary: &Vocabulary, position: u32) -> Option<&str> {
            (position != super::NONE).then(|| vocabulary.texts[position as usize].as_str())
        }
        fn terms(lists: &TermLists, row: usize) -> Vec<&str> {
            let mut texts: Vec<&str> = lists
                .of(row)
                .iter()
                .map(|&t| lists.vocabulary.texts[t as usize].as_str())
                .collect();
            texts.sort_unstable();
            texts
        }
        (
            (self.ids[row], self.names.get(row), self.name_masks[row]),
            (
                text(&self.yeast_vocabulary, self.yeasts[row]),
                text(&self.style_vocabulary, self.styles[row]),
            ),
            // Bits: NaN (a missing value) equals itself.
            [self.abv[row], self.ibu[row], self.ebc[row], self.ph[row]].map(f64::to_bits),
            (self.brewed[row], self.created[row], self.updated[row]),
            [terms(&self.hops, row), terms(&self.malts, row), terms(&self.foods, row)],
        )
    }
}

/// Equal when a query cannot tell them apart: the same version and the same rows with the same values and texts
/// (vocabularies may hold their texts in other orders, and a patched one texts no row uses any more).
impl PartialEq for CatalogIndex {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
            && self.ids.len() == other.ids.len()
            && (0..self.ids.len()).all(|row| self.observable(row) == other.observable(row))
    }
}

impl CatalogIndex {
    /// The first observable difference from `other` (see `PartialEq`), described; `None` when they are equal. For
    /// tests and diagnostics: a million-row index is no assertion message.
    pub fn difference(&self, other: &CatalogIndex) -> Option<String> {
        if self.version != other.version {
            return Some(format!("version {} vs {}", self.version, other.version));
        }
        let rows = self.ids.len().max(other.ids.len());
        (0..rows).find_map(|row| {
            let (mine, theirs) = (
                (row < self.ids.len()).then(|| self.observable(row)),
                (row < other.ids.len()).then(|| other.observable(row)),
            );
            (mine != theirs).then(|| format!("row {row}: {mine:?} vs {theirs:?}"))
        })
    }
}

/// The version and size; [`CatalogIndex::difference`] tells two apart.
impl std::fmt::Debug for CatalogIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogIndex")
            .field("version", &self.version)
            .field("beers", &self.ids.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::domain::{BeerFilter, SortField, SortKey};
    use crate::storage::read_model::{IndexBuilder, IndexRow, TERM_SEPARATOR};

    /// A beer as the database holds it: its row's values and its terms.
    #[derive(Clone)]
    struct Beer {
        id: i64,
        name: String,
        yeast: Option<String>,
        style: Option<String>,
        abv: f64,
        ibu: Option<f64>,
        ebc: Option<f64>,
        ph: Option<f64>,
        month: Option<i64>,
        created: chrono::DateTime<chrono::Utc>,
        updated: chrono::DateTime<chrono::Utc>,
        hops: Vec<String>,
        malts: Vec<String>,
        foods: Vec<String>,
    }

    /// A few texts per column, so that vocabularies share texts between beers, lose and gain them.
    fn random_beer(rng: &mut StdRng, id: i64) -> Beer {
        let pick = |rng: &mut StdRng, texts: &[&str]| texts.choose(rng).map(|t| (*t).to_owned());
        let maybe = |rng: &mut StdRng, texts: &[&str]| if rng.gen_bool(0.2) { None } else { pick(rng, texts) };
        let (yeast, style) = (
            format!("yeast {}", rng.gen_range(0..30)),
            format!("style {}", rng.gen_range(0..30)),
        );
        let terms = |rng: &mut StdRng, texts: &[&str]| -> Vec<String> {
            (0..rng.gen_range(0..4))
                .map(|_| {
                    if rng.gen_bool(0.1) {
                        format!("rare {}", rng.gen_range(0..1000))
                    } else {
                        pick(rng, texts).unwrap()
                    }
                })
                .collect()
        };
        let created = chrono::DateTime::from_timestamp(1_700_000_000 + rng.gen_range(0..1000), 0).unwrap();
        Beer {
            id,
            name: format!(
                "{} {}",
                pick(rng, &["punk", "dead pony", "café", "hazy"]).unwrap(),
                rng.gen_range(0..50)
            ),
            yeast: maybe(rng, &["wyeast 1056", "us-05", "saison", &yeast]),
            style: maybe(rng, &["ipa", "stout", "lager", &style]),
            abv: f64::from(rng.gen_range(0..150)) / 10.0,
            ibu: rng.gen_bool(0.8).then(|| f64::from(rng.gen_range(0..120))),
            ebc: rng.gen_bool(0.7).then(|| f64::from(rng.gen_range(0..100))),
            ph: rng.gen_bool(0.7).then(|| f64::from(rng.gen_range(30..60)) / 10.0),
            month: rng.gen_bool(0.9).then(|| rng.gen_range(24_000..24_300)),
            created,
            updated: created + chrono::Duration::seconds(rng.gen_range(0..100)),
            hops: terms(rng, &["simcoe", "citra", "cascade", "nelson sauvin"]),
            malts: terms(rng, &["munich", "extra pale", "crystal"]),
            foods: terms(rng, &["spicy chicken", "cheese", "chocolate cake"]),
        }
    }

    /// A full build of the beers whose ids `keep` accepts, as `load_index` reads them.
    fn build(catalog: &BTreeMap<i64, Beer>, version: i64, keep: impl Fn(i64) -> bool) -> CatalogIndex {
        let mut builder = IndexBuilder::new(version);
        let separator = TERM_SEPARATOR.to_string();
        for beer in catalog.values().filter(|beer| keep(beer.id)) {
            let (hops, malts, foods) = (
                beer.hops.join(&separator),
                beer.malts.join(&separator),
                beer.foods.join(&separator),
            );
            builder.push_beer(&IndexRow {
                id: beer.id,
                name_search: &beer.name,
                yeast_search: beer.yeast.as_deref(),
                style_search: beer.style.as_deref(),
                abv: beer.abv,
                ibu: beer.ibu,
                ebc: beer.ebc,
                ph: beer.ph,
                first_brewed_month: beer.month,
                created_at: beer.created,
                updated_at: beer.updated,
                hops: &hops,
                malts: &malts,
                foods: &foods,
            });
        }
        builder.finish()
    }

    /// Orders a page may be asked in: id order, and the in-memory sorts (a name sort after a patch computes the
    /// patched index's ranks).
    fn sorts() -> Vec<Vec<SortKey>> {
        let key = |field, descending| SortKey { field, descending };
        vec![
            vec![],
            vec![key(SortField::Name, false)],
            vec![key(SortField::Abv, true), key(SortField::Id, false)],
            vec![key(SortField::Ph, false)],
        ]
    }

    fn filters() -> Vec<BeerFilter> {
        let f = BeerFilter::default;
        vec![
            f(),
            BeerFilter {
                beer_name: Some("pny".into()),
                ..f()
            },
            BeerFilter {
                yeast: Some("yeast 1".into()),
                ..f()
            },
            BeerFilter {
                style: Some("tyle 2".into()),
                ..f()
            },
            BeerFilter {
                hops: Some("rare".into()),
                ..f()
            },
            BeerFilter {
                malt: Some("munich".into()),
                ibu_gt: Some(40.0),
                ..f()
            },
            BeerFilter {
                food: Some("chee".into()),
                abv_lt: Some(8.0),
                ..f()
            },
            BeerFilter {
                ph_gt: Some(4.0),
                ..f()
            },
            BeerFilter {
                ebc_lt: Some(30.0),
                brewed_after: Some(crate::domain::YearMonth(24_100)),
                ..f()
            },
        ]
    }

    /// Random creates (ids past the end and in the gaps), updates and deletes, in rounds; after each round the
    /// patched index must equal a fresh build at the same version, and answer every filter the same way. Each
    /// round patches the previous round's patched index, so vocabularies keep growing and being reopened.
    #[test]
    fn a_patched_index_equals_a_fresh_build_after_random_changes() {
        for seed in 0..20 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut catalog: BTreeMap<i64, Beer> = BTreeMap::new();
            for id in (1..=rng.gen_range(0..60)).map(|i| i * 3) {
                catalog.insert(id, random_beer(&mut rng, id));
            }
            let mut version = 1;
            let mut index = build(&catalog, version, |_| true);
            for _ in 0..15 {
                let mut changed = Vec::new();
                for _ in 0..rng.gen_range(0..12) {
                    let existing: Vec<i64> = catalog.keys().copied().collect();
                    let id = match rng.gen_range(0..4) {
                        // Past the end, as a POST does.
                        0 => existing.last().map_or(1, |last| last + 1),
                        // Anywhere, as an import with explicit ids does: often into a gap.
                        1 => rng.gen_range(0..200),
                        _ if existing.is_empty() => continue,
                        _ => *existing.choose(&mut rng).unwrap(),
                    };
                    if catalog.contains_key(&id) && rng.gen_bool(0.4) {
                        catalog.remove(&id);
                    } else {
                        catalog.insert(id, random_beer(&mut rng, id));
                    }
                    changed.push(id);
                    version += 1;
                }
                // Deleted and never existing ids among them; the log may name an id twice.
                changed.push(rng.gen_range(500..600));
                changed.sort_unstable();
                changed.dedup();
                let changes = IndexChanges {
                    version,
                    current: build(&catalog, version, |id| changed.binary_search(&id).is_ok()),
                    ids: changed,
                };
                index = index.patched(&changes);
                let fresh = build(&catalog, version, |_| true);
                assert_eq!(index.difference(&fresh), None, "seed {seed}");
                assert_eq!(index, fresh, "seed {seed}");
                for filter in filters() {
                    for sort in sorts() {
                        for (offset, limit, count) in [(0, 1000, true), (2, 5, false)] {
                            assert_eq!(
                                index.page(&filter, &sort, offset, limit, count),
                                fresh.page(&filter, &sort, offset, limit, count),
                                "seed {seed}, {filter:?}, {sort:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn equality_sees_every_observable_difference_and_nothing_else() {
        let mut rng = StdRng::seed_from_u64(7);
        let catalog: BTreeMap<i64, Beer> = (1..20).map(|id| (id, random_beer(&mut rng, id))).collect();
        let index = build(&catalog, 3, |_| true);
        assert_eq!(index, build(&catalog, 3, |_| true));
        assert_ne!(index, build(&catalog, 4, |_| true), "another version");
        assert_ne!(index, build(&catalog, 3, |id| id != 5), "a beer fewer");
        let shorter = build(&catalog, 3, |id| id != 19);
        assert_eq!(
            index.difference(&shorter).map(|d| d.starts_with("row 18:")),
            Some(true),
            "the last beer fewer"
        );
        assert_eq!(index.difference(&index), None);
        let mut changed = catalog.clone();
        changed.get_mut(&5).unwrap().foods.push("one more".into());
        assert_ne!(index, build(&changed, 3, |_| true), "a term more");
        let mut changed = catalog.clone();
        changed.get_mut(&5).unwrap().ibu = None;
        changed.get_mut(&6).unwrap().ibu = None;
        assert_ne!(index, build(&changed, 3, |_| true), "a missing value");
        // The same beers with their terms in another order, and so other vocabulary positions: equal.
        let mut reordered = catalog.clone();
        for beer in reordered.values_mut() {
            beer.hops.reverse();
            beer.foods.reverse();
        }
        assert_eq!(index, build(&reordered, 3, |_| true));
    }
}
