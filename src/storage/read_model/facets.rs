//! Ingredient facets from the index: for one kind (hops, malts, yeasts, food pairings), how many of the beers
//! matching a filter use each name, spelling variants merged ([`crate::domain::ingredient_names`]).
//!
//! The texts are interned, so the merge is worked out once per distinct text (and kept with the index, which
//! never changes); a query then walks the matching rows once, adding one to a counter per term, and a beer that
//! lists two spellings of one name counts once for it.

use std::sync::OnceLock;

use crate::domain::BeerFilter;
use crate::domain::ingredient_names::{self, IngredientKind, IngredientName, Spelling};

use super::CatalogIndex;
use super::build::{NONE, Vocabulary};

/// Which name each distinct text of one kind belongs to.
#[derive(Default)]
pub(super) struct NameGroups {
    /// By term (position in the kind's vocabulary): its name's position in `keys`.
    group_of: Vec<u32>,
    keys: Vec<String>,
    /// The display name the known variants give, by name.
    known: Vec<Option<&'static str>>,
}

impl NameGroups {
    fn of(kind: IngredientKind, vocabulary: &Vocabulary) -> Self {
        let mut groups = NameGroups::default();
        let mut positions = std::collections::HashMap::new();
        for text in &vocabulary.texts {
            let (key, known) = ingredient_names::name_of(kind, text);
            let next = groups.keys.len() as u32;
            let group = *positions.entry(key.clone()).or_insert_with(|| {
                groups.keys.push(key);
                groups.known.push(known);
                next
            });
            groups.group_of.push(group);
        }
        groups
    }
}

/// One [`NameGroups`] per kind, worked out on first use (an index is never changed, so they stay right).
pub(super) type KindGroups = [OnceLock<NameGroups>; 4];

fn slot(kind: IngredientKind) -> usize {
    match kind {
        IngredientKind::Hop => 0,
        IngredientKind::Malt => 1,
        IngredientKind::Yeast => 2,
        IngredientKind::Food => 3,
    }
}

impl CatalogIndex {
    fn vocabulary_of(&self, kind: IngredientKind) -> &Vocabulary {
        match kind {
            IngredientKind::Hop => &self.hops.vocabulary,
            IngredientKind::Malt => &self.malts.vocabulary,
            IngredientKind::Yeast => &self.yeast_vocabulary,
            IngredientKind::Food => &self.foods.vocabulary,
        }
    }

    /// Every name of `kind` used by at least one beer matching `filter`, with its beers and spellings, in no
    /// particular order ([`ingredient_names::sort_names`] orders them).
    pub fn ingredient_names(&self, kind: IngredientKind, filter: &BeerFilter) -> Vec<IngredientName> {
        let vocabulary = self.vocabulary_of(kind);
        let groups = self.name_groups[slot(kind)].get_or_init(|| NameGroups::of(kind, vocabulary));
        let mut term_beers = vec![0u64; vocabulary.texts.len()];
        let mut name_beers = vec![0u64; groups.keys.len()];
        // The last row counted for each text and each name: a beer listing two spellings of one name counts once.
        let mut counted_term_row = vec![u32::MAX; vocabulary.texts.len()];
        let mut counted_row = vec![u32::MAX; groups.keys.len()];
        let mut count = |row: u32, term: u32| {
            if counted_term_row[term as usize] != row {
                counted_term_row[term as usize] = row;
                term_beers[term as usize] += 1;
            }
            let group = groups.group_of[term as usize] as usize;
            if counted_row[group] != row {
                counted_row[group] = row;
                name_beers[group] += 1;
            }
        };
        match kind {
            IngredientKind::Yeast => self.each_match(filter, |row| {
                let term = self.yeasts[row as usize];
                if term != NONE {
                    count(row, term);
                }
            }),
            _ => {
                let lists = match kind {
                    IngredientKind::Hop => &self.hops,
                    IngredientKind::Malt => &self.malts,
                    _ => &self.foods,
                };
                self.each_match(filter, |row| {
                    lists.of(row as usize).iter().for_each(|term| count(row, *term));
                });
            }
        }

        let mut spellings: Vec<Vec<Spelling>> = vec![Vec::new(); groups.keys.len()];
        for (term, beers) in term_beers.iter().enumerate().filter(|(_, beers)| **beers > 0) {
            spellings[groups.group_of[term] as usize].push(Spelling {
                text: vocabulary.texts[term].clone(),
                beers: *beers,
            });
        }
        spellings
            .into_iter()
            .enumerate()
            .filter(|(_, spellings)| !spellings.is_empty())
            .map(|(group, mut spellings)| {
                spellings.sort_by(|a, b| b.beers.cmp(&a.beers).then_with(|| a.text.cmp(&b.text)));
                let name = groups.known[group].map_or_else(
                    || ingredient_names::display_from_spelling(kind, &spellings[0].text),
                    str::to_owned,
                );
                IngredientName {
                    name,
                    key: groups.keys[group].clone(),
                    beers: name_beers[group],
                    spellings,
                }
            })
            .collect()
    }
}
