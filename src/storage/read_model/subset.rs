//! A few rows of an index as an index of their own: how the beers a patch changed were before it, for the change
//! feed ([`crate::storage::change_feed`]), which evaluates filters on them exactly as on the whole catalog.

use chrono::DateTime;

use super::build::{NO_MONTH, NONE, TermLists, Vocabulary};
use super::{CatalogIndex, IndexBuilder, IndexRow, TERM_SEPARATOR};

impl CatalogIndex {
    /// The rows of `ids` (ascending) that this index holds, at this index's version, built from their texts (a
    /// small index has a small vocabulary of its own).
    pub fn subset(&self, ids: &[i64]) -> CatalogIndex {
        fn text(vocabulary: &Vocabulary, position: u32) -> Option<&str> {
            (position != NONE).then(|| vocabulary.texts[position as usize].as_str())
        }
        fn joined(lists: &TermLists, row: usize) -> String {
            let texts: Vec<&str> = lists
                .of(row)
                .iter()
                .map(|&term| lists.vocabulary.texts[term as usize].as_str())
                .collect();
            texts.join(&TERM_SEPARATOR.to_string())
        }
        let known = |value: f64| (!value.is_nan()).then_some(value);
        let mut builder = IndexBuilder::new(self.version);
        for &id in ids {
            let Ok(row) = self.ids.binary_search(&id) else {
                continue;
            };
            let (hops, malts, foods) = (
                joined(&self.hops, row),
                joined(&self.malts, row),
                joined(&self.foods, row),
            );
            builder.push_beer(&IndexRow {
                id,
                name_search: self.names.get(row),
                yeast_search: text(&self.yeast_vocabulary, self.yeasts[row]),
                style_search: text(&self.style_vocabulary, self.styles[row]),
                abv: self.abv[row],
                ibu: known(self.ibu[row]),
                ebc: known(self.ebc[row]),
                ph: known(self.ph[row]),
                first_brewed_month: (self.brewed[row] != NO_MONTH).then(|| i64::from(self.brewed[row])),
                created_at: DateTime::from_timestamp_nanos(self.created[row]),
                updated_at: DateTime::from_timestamp_nanos(self.updated[row]),
                hops: &hops,
                malts: &malts,
                foods: &foods,
            });
        }
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(id: i64, name: &'a str, yeast: Option<&'a str>, hops: &'a str) -> IndexRow<'a> {
        let at = DateTime::from_timestamp(1_700_000_000 + id, 7).unwrap();
        IndexRow {
            id,
            name_search: name,
            yeast_search: yeast,
            style_search: Some("ipa"),
            abv: id as f64,
            ibu: (id % 2 == 0).then_some(40.0),
            ebc: None,
            ph: Some(4.2),
            first_brewed_month: (id % 3 != 0).then_some(24_100 + id),
            created_at: at,
            updated_at: at,
            hops,
            malts: "",
            foods: "cheese\u{1f}cake",
        }
    }

    #[test]
    fn a_subset_equals_a_build_of_those_rows() {
        let rows = [
            row(1, "punk", Some("us-05"), "citra\u{1f}simcoe"),
            row(2, "dead pony", None, ""),
            row(3, "hazy", Some("saison"), "cascade"),
            row(5, "café", Some("us-05"), "citra"),
        ];
        let build = |keep: &[i64]| {
            let mut builder = IndexBuilder::new(9);
            rows.iter()
                .filter(|r| keep.contains(&r.id))
                .for_each(|r| builder.push_beer(r));
            builder.finish()
        };
        let whole = build(&[1, 2, 3, 5]);
        // 4 is not held (deleted before), and is left out.
        let subset = whole.subset(&[2, 4, 5]);
        assert_eq!(subset.difference(&build(&[2, 5])), None);
        assert_eq!(whole.subset(&[]).len(), 0);
    }
}
