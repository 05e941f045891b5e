//! Ingredient names as a filter menu shows them: spelling variants of one hop, malt, yeast or food pairing merged
//! under one display name, every spelling kept beside it (the facets, `GET /hops` and its siblings).
//!
//! Two spellings are one name when they differ only in case, spacing, punctuation, accents or trademark signs
//! ([`name_key`]: `Wyeast 1056 - American Ale™` and `wyeast 1056 american ale`), or when the data file of known
//! variants (`ingredient_variants.json`, beside this file) lists one as a variant of the other (`Wilamette` is
//! `Willamette`). Misspellings are data, not code: a new one is a line in that file. Nothing here changes a stored
//! document or what `/v2` answers; the merge exists only in the facets' answers.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use utoipa::ToSchema;

/// The kinds of ingredient the catalog has facets for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IngredientKind {
    Hop,
    Malt,
    Yeast,
    Food,
}

impl IngredientKind {
    pub const ALL: [IngredientKind; 4] = [Self::Hop, Self::Malt, Self::Yeast, Self::Food];

    /// The key of this kind in the data file of known variants.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hop => "hop",
            Self::Malt => "malt",
            Self::Yeast => "yeast",
            Self::Food => "food",
        }
    }
}

/// One name of a facet: the beers matching the query that use it under any spelling (each beer once), and each
/// spelling with the beers using it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct IngredientName {
    /// The display name: the known name when the variants file lists one, otherwise the most used spelling with
    /// its words capitalised (hops, malts, yeasts) or its first letter (food pairings).
    #[schema(example = "Willamette")]
    pub name: String,
    /// What every spelling of the name reduces to (lower case, letters and digits only, accents dropped, known
    /// variants resolved): stable across catalog versions, for a client to remember a choice by.
    #[schema(example = "willamette")]
    pub key: String,
    /// Beers using the name under any spelling.
    pub beers: u64,
    /// Every spelling in the catalog, as the filters match it (lower case: `?hops=wilamette`), most used first.
    pub spellings: Vec<Spelling>,
}

/// One spelling of a name, and the beers matching the query that use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Spelling {
    #[schema(example = "wilamette")]
    pub text: String,
    pub beers: u64,
}

/// What a spelling reduces to, before known variants: NFKD with the combining marks dropped (`früh` -> `fruh`),
/// trademark signs dropped, lower case, letters and digits only (`Mt.Hood` -> `mthood`).
pub fn name_key(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '™' | '®' | '©' | '℠'))
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The known variants, from `ingredient_variants.json`: by kind, a variant's [`name_key`] -> the display name (each
/// display name maps from its own key too).
#[derive(Debug)]
struct KnownVariants {
    names: HashMap<(IngredientKind, String), &'static str>,
}

#[derive(Deserialize)]
struct VariantsFile {
    hop: HashMap<String, Vec<String>>,
    malt: HashMap<String, Vec<String>>,
    yeast: HashMap<String, Vec<String>>,
    food: HashMap<String, Vec<String>>,
}

const VARIANTS_FILE: &str = include_str!("ingredient_variants.json");

impl KnownVariants {
    fn parse(text: &str) -> Result<Self, String> {
        let file: VariantsFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut names = HashMap::new();
        for (kind, entries) in [
            (IngredientKind::Hop, file.hop),
            (IngredientKind::Malt, file.malt),
            (IngredientKind::Yeast, file.yeast),
            (IngredientKind::Food, file.food),
        ] {
            for (display, variants) in entries {
                let display: &'static str = Box::leak(display.into_boxed_str());
                for spelling in std::iter::once(display).chain(variants.iter().map(String::as_str)) {
                    let key = name_key(spelling);
                    if key.is_empty() {
                        return Err(format!("{}: {spelling:?} has no letter or digit", kind.as_str()));
                    }
                    if let Some(other) = names.insert((kind, key), display)
                        && other != display
                    {
                        return Err(format!(
                            "{}: {spelling:?} is listed under both {other:?} and {display:?}",
                            kind.as_str()
                        ));
                    }
                }
            }
        }
        Ok(Self { names })
    }

    fn get() -> &'static KnownVariants {
        static KNOWN: OnceLock<KnownVariants> = OnceLock::new();
        KNOWN.get_or_init(|| Self::parse(VARIANTS_FILE).expect("ingredient_variants.json is valid (tested)"))
    }
}

/// Which name a spelling belongs to: its group key, and the display name when the variants file knows it.
pub fn name_of(kind: IngredientKind, spelling: &str) -> (String, Option<&'static str>) {
    let key = name_key(spelling);
    match KnownVariants::get().names.get(&(kind, key.clone())) {
        Some(display) => (name_key(display), Some(*display)),
        None => (key, None),
    }
}

/// A display name made from a spelling (see [`IngredientName::name`]). Words holding a digit are product codes and
/// go upper case (`wlp099`, `us-05`).
pub fn display_from_spelling(kind: IngredientKind, spelling: &str) -> String {
    if kind == IngredientKind::Food {
        let mut chars = spelling.chars();
        return chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
    }
    spelling
        .split(' ')
        .map(|word| {
            if word.chars().any(|c| c.is_ascii_digit()) {
                return word.to_uppercase();
            }
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// Orders a facet's names as they are served: most beers first, then by display name, then by key.
pub fn sort_names(names: &mut [IngredientName]) {
    names.sort_by(|a, b| {
        b.beers
            .cmp(&a.beers)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.key.cmp(&b.key))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variants_file_is_valid() {
        let known = KnownVariants::parse(VARIANTS_FILE).unwrap();
        assert!(known.names.len() > 20);
        let clash = r#"{"hop": {"A": ["x"], "B": ["X"]}, "malt": {}, "yeast": {}, "food": {}}"#;
        assert!(KnownVariants::parse(clash).unwrap_err().contains("listed under both"));
    }

    #[test]
    fn case_spacing_punctuation_accents_and_trademarks_do_not_matter() {
        let key = name_key("Wyeast 1056 - American Ale™");
        assert_eq!(key, "wyeast1056americanale");
        assert_eq!(name_key("wyeast 1056 american ale"), key);
        assert_eq!(name_key("Hallertauer Mittelfrüh"), name_key("HALLERTAUER  MITTELFRUH"));
        assert_eq!(name_key("Mt.Hood"), name_key("mt hood"));
        assert_ne!(name_key("Crystal 120"), name_key("Crystal 150"));
    }

    #[test]
    fn known_misspellings_come_from_the_data_file() {
        assert_eq!(
            name_of(IngredientKind::Hop, "wilamette"),
            ("willamette".to_owned(), Some("Willamette"))
        );
        assert_eq!(name_of(IngredientKind::Hop, "Willamette").0, "willamette");
        for spelling in [
            "WY1056",
            "wyeast 1056",
            "Wyeast 1056 - American Ale™",
            "1056 american ale",
        ] {
            let (key, display) = name_of(IngredientKind::Yeast, spelling);
            assert_eq!(key, "wyeast1056americanale", "{spelling}");
            assert_eq!(display, Some("Wyeast 1056 - American Ale™"));
        }
        // Variants are per kind: a yeast's variant is not a hop's.
        assert_eq!(name_of(IngredientKind::Hop, "wy1056"), ("wy1056".to_owned(), None));
        assert_eq!(name_of(IngredientKind::Hop, "amarillo"), ("amarillo".to_owned(), None));
    }

    #[test]
    fn display_names_from_spellings() {
        assert_eq!(
            display_from_spelling(IngredientKind::Hop, "nelson sauvin"),
            "Nelson Sauvin"
        );
        assert_eq!(
            display_from_spelling(IngredientKind::Yeast, "wlp099 - super high gravity ale"),
            "WLP099 - Super High Gravity Ale"
        );
        assert_eq!(
            display_from_spelling(IngredientKind::Yeast, "safale us-05"),
            "Safale US-05"
        );
        assert_eq!(
            display_from_spelling(IngredientKind::Food, "spicy chicken with rice"),
            "Spicy chicken with rice"
        );
        assert_eq!(display_from_spelling(IngredientKind::Malt, ""), "");
    }
}
