//! Answering from the index: a filter prepared against its texts, scanned a block at a time, and pages in id
//! order or sorted.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::domain::{BeerFilter, SortField, SortKey};

use super::CatalogIndex;
use super::build::{NO_MONTH, NONE, Vocabulary};
use super::text::{char_mask, fuzzy_match, signature_of};

/// Sorted pages ending at most this far in are kept in a heap while scanning (see
/// [`CatalogIndex::shallow_sorted_page`]); deeper ones collect every match and select.
const SHALLOW_PAGES: u64 = 1024;

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
    /// The first row with an id above `id_gt` (0 without it): rows before it are never looked at.
    from_row: usize,
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

    /// When beer `id` was last written, in nanoseconds since 1970 (see [`nanos`](super::build::nanos)); `None` when
    /// there is no such beer at this version. Every write of a beer sets `updated_at`, so this also tells whether a
    /// copy of its rendering is the one this version holds.
    pub fn updated_of(&self, id: i64) -> Option<i64> {
        self.ids.binary_search(&id).ok().map(|row| self.updated[row])
    }

    /// Any beer's id, each as likely as any other; `None` when the catalog is empty.
    pub fn random_id(&self, rng: &mut impl rand::Rng) -> Option<i64> {
        (!self.ids.is_empty()).then(|| self.ids[rng.gen_range(0..self.ids.len())])
    }

    /// See `name_ranks`: sorted by the first 8 bytes as a number, then in full among equal prefixes.
    pub(super) fn name_ranks(&self) -> &[u32] {
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
        let candidates = self.candidate_rows(filter, &prepared);
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

    /// Calls `visit` with every row matching `filter`, in id order (what the facets count over).
    pub(super) fn each_match(&self, filter: &BeerFilter, mut visit: impl FnMut(u32)) {
        let prepared = self.prepare(filter);
        if prepared.impossible {
            return;
        }
        let candidates = self.candidate_rows(filter, &prepared);
        self.scan(&prepared, candidates.as_deref(), false, |row| {
            visit(row);
            true
        });
    }

    /// The rows to test instead of walking the catalog, when something narrows them cheaply: the ids a filter
    /// names (a handful are looked up), or, with no cheaper first test, the beers using a matching hop, malt or food
    /// pairing ([`super::postings`]) when those are under half the catalog (the filter with the fewest).
    fn candidate_rows(&self, filter: &BeerFilter, p: &Prepared<'_>) -> Option<Vec<u32>> {
        if let Some(wanted) = filter.ids.as_ref() {
            let mut rows: Vec<u32> = wanted
                .iter()
                .filter_map(|id| self.ids.binary_search(id).ok())
                .map(|row| row as u32)
                .collect();
            rows.sort_unstable();
            rows.dedup();
            return Some(rows);
        }
        let cheaper_first_test =
            p.name.is_some() || p.brewed.is_some() || [p.abv, p.ibu, p.ebc, p.ph].iter().any(Option::is_some);
        if cheaper_first_test {
            return None;
        }
        let len = self.ids.len();
        [(&self.hops, &p.hops), (&self.malts, &p.malts), (&self.foods, &p.foods)]
            .into_iter()
            .filter_map(|(lists, matching)| Some((lists.postings(), matching.as_deref()?)))
            .map(|(postings, matching)| (postings.pairs(matching), postings, matching))
            .filter(|(pairs, _, _)| *pairs <= len / 2)
            .min_by_key(|(pairs, _, _)| *pairs)
            .map(|(_, postings, matching)| postings.rows(matching, p.from_row, len))
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
            let (start, end) = ((at * BLOCK).max(p.from_row), ((at + 1) * BLOCK).min(len));
            if start >= end {
                continue;
            }
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
            from_row: filter.id_gt.map_or(0, |id| self.ids.partition_point(|&x| x <= id)),
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
