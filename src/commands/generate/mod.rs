//! `beer-catalog generate N`: a synthetic catalog of N beers in the import format (a JSON array, one beer a line),
//! streamed to standard output or a file, the same bytes for the same seed. Ingredient names and the spread of
//! every measurement come from the Punk dataset's own distributions ([`vocabulary`]); names, styles, pairings and
//! the prose fields are composed from small word lists of our own. Nulls appear at the dataset's rates, and so do
//! its odd values (year-only `first_brewed`, adjuncts listed as hops, mixed-case hop additions, no food pairing),
//! plus text that exercises the filters' edge cases (non-ASCII letters, `%` and `_` in names).

use std::io::Write;

use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Number;

use crate::domain::PunkBeer;
use crate::domain::beer::{BeerFields, Fermentation, Hop, Ingredients, Malt, MashStep, Method, Quantity};

pub mod vocabulary;
use vocabulary as v;

/// Name parts: an adjective-like word and a noun-like word, with the odd non-ASCII letter and wildcard character
/// a real catalog holds (so fuzzy and substring matching are exercised on them).
const NAME_FIRST: &[&str] = &[
    "Punk", "Dead", "Hazy", "Black", "Golden", "Wild", "Lost", "Electric", "Quiet", "Bitter", "Velvet", "Iron",
    "Crimson", "Midnight", "Northern", "Salty", "Smoky", "Hoppy", "Old", "Lazy", "Broken", "Cosmic", "Rusty", "Silent",
    "Frozen", "Burnt", "Sunny", "Little", "Big", "Double", "Triple", "Imperial", "Session", "Crooked", "Dark", "Pale",
    "Bright", "Twisted", "Brave", "Café", "Über", "Ærø", "Señor", "Half_Way", "100%",
];
const NAME_SECOND: &[&str] = &[
    "Pony",
    "Dog",
    "Fox",
    "Raven",
    "Harbour",
    "Lighthouse",
    "Tide",
    "Storm",
    "Anchor",
    "Orchard",
    "Summit",
    "Hollow",
    "Engine",
    "Rocket",
    "Garden",
    "Lantern",
    "Mariner",
    "Monk",
    "Ghost",
    "Badger",
    "Comet",
    "Meadow",
    "Furnace",
    "Island",
    "Canyon",
    "Tundra",
    "Parade",
    "Riot",
    "Echo",
    "Compass",
    "Bandit",
    "Drifter",
    "Crown",
    "Fjord",
    "Kraken",
    "Nomad",
    "Pilot",
    "Signal",
    "Thunder",
    "Wolf",
    "Bière",
    "Straße",
];
const STYLES: &[(&str, u32)] = &[
    ("IPA", 30),
    ("American Pale Ale", 14),
    ("Imperial IPA", 12),
    ("Stout", 10),
    ("Imperial Stout", 8),
    ("Porter", 6),
    ("Pilsner", 8),
    ("Lager", 8),
    ("Helles", 3),
    ("Saison", 5),
    ("Witbier", 3),
    ("Hefeweizen", 4),
    ("Belgian Tripel", 3),
    ("Belgian Dubbel", 2),
    ("Barley Wine", 3),
    ("Sour", 5),
    ("Gose", 2),
    ("Berliner Weisse", 2),
    ("Red Ale", 4),
    ("Amber Ale", 4),
    ("Brown Ale", 3),
    ("Scotch Ale", 2),
    ("Black IPA", 3),
    ("Session IPA", 4),
    ("New England IPA", 6),
    ("Wheat Beer", 3),
    ("Kölsch", 2),
    ("Märzen", 2),
    ("Bock", 2),
    ("Rauchbier", 1),
    ("Alcohol-free", 2),
];
const FOOD_PREPARATION: &[&str] = &[
    "Spicy",
    "Grilled",
    "Smoked",
    "Roast",
    "Fried",
    "Aged",
    "Creamy",
    "Sticky",
    "Slow-cooked",
    "Barbecued",
    "Fresh",
    "Salted",
    "Sweet",
    "Tangy",
    "Crispy",
    "Blue",
    "Pan-seared",
    "Braised",
];
const FOOD_MAIN: &[&str] = &[
    "chicken",
    "cheese",
    "cheddar",
    "pork belly",
    "beef brisket",
    "lamb",
    "salmon",
    "mussels",
    "oysters",
    "tacos",
    "burger",
    "chocolate cake",
    "lemon tart",
    "curry",
    "noodles",
    "pizza",
    "sausages",
    "halloumi",
    "goat cheese",
    "duck",
    "ribs",
    "tofu",
    "mushrooms",
    "shrimp",
    "crab cakes",
    "brownies",
    "cheesecake",
    "venison",
    "chilli",
    "fish and chips",
    "gouda",
    "pad thai",
    "apple pie",
    "nachos",
    "steak",
];
const FOOD_SIDE: &[&str] = &[
    "lime",
    "coriander",
    "chipotle mayo",
    "pickled onions",
    "garlic butter",
    "roasted peppers",
    "mango salsa",
    "blue cheese dip",
    "sesame",
    "fresh herbs",
    "caramel sauce",
    "black pepper",
];
const FLAVOURS: &[&str] = &[
    "citrus",
    "pine",
    "resin",
    "tropical fruit",
    "caramel",
    "toffee",
    "roasted coffee",
    "dark chocolate",
    "biscuit",
    "bread crust",
    "stone fruit",
    "grapefruit",
    "spice",
    "clove",
    "banana",
    "berries",
    "smoke",
    "vanilla",
    "honey",
];
const BODIES: &[&str] = &[
    "light", "crisp", "smooth", "full", "silky", "dry", "rich", "juicy", "bold",
];

/// Streams `count` beers with ids `first_id..` to `out` as a JSON array, one beer a line. The same `seed` writes
/// the same bytes.
pub fn write_catalog(out: &mut impl Write, count: u64, first_id: i64, seed: u64) -> std::io::Result<()> {
    let mut generator = Generator::new(seed);
    out.write_all(b"[")?;
    for n in 0..count {
        out.write_all(if n == 0 { b"\n" } else { b",\n" })?;
        let id = first_id + i64::try_from(n).expect("a beer count fits in i64");
        let beer = PunkBeer {
            id,
            fields: generator.beer(),
        };
        serde_json::to_writer(&mut *out, &beer)?;
    }
    out.write_all(b"\n]\n")?;
    out.flush()
}

/// Draws beers from the vocabularies, deterministically for its seed.
pub struct Generator {
    rng: ChaCha8Rng,
    hops: Weighted<&'static str>,
    malts: Weighted<&'static str>,
    yeasts: Weighted<&'static str>,
    hop_additions: Weighted<&'static str>,
    hop_attributes: Weighted<&'static str>,
    hops_per_recipe: Weighted<usize>,
    malts_per_recipe: Weighted<usize>,
    pairings_per_recipe: Weighted<usize>,
    styles: Weighted<&'static str>,
    years: Weighted<i64>,
}

/// Items with their weights, drawn in proportion.
struct Weighted<T> {
    items: Vec<T>,
    index: WeightedIndex<u32>,
}

impl<T: Copy> Weighted<T> {
    fn new(table: &[(T, u32)]) -> Self {
        Self {
            items: table.iter().map(|(item, _)| *item).collect(),
            index: WeightedIndex::new(table.iter().map(|(_, weight)| *weight)).expect("a non-empty weight table"),
        }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> T {
        self.items[self.index.sample(rng)]
    }

    /// `count` distinct items (fewer if the table is smaller), by weight.
    fn draw_distinct(&self, rng: &mut ChaCha8Rng, count: usize) -> Vec<T>
    where
        T: PartialEq,
    {
        let mut chosen = Vec::with_capacity(count);
        let mut attempts = 0;
        while chosen.len() < count.min(self.items.len()) && attempts < count * 20 {
            let item = self.draw(rng);
            if !chosen.contains(&item) {
                chosen.push(item);
            }
            attempts += 1;
        }
        chosen
    }
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            hops: Weighted::new(v::HOPS),
            malts: Weighted::new(v::MALTS),
            yeasts: Weighted::new(v::YEASTS),
            hop_additions: Weighted::new(v::HOP_ADDITIONS),
            hop_attributes: Weighted::new(v::HOP_ATTRIBUTES),
            hops_per_recipe: Weighted::new(v::HOPS_PER_RECIPE),
            malts_per_recipe: Weighted::new(v::MALTS_PER_RECIPE),
            pairings_per_recipe: Weighted::new(v::PAIRINGS_PER_RECIPE),
            styles: Weighted::new(STYLES),
            years: Weighted::new(v::FIRST_BREWED_YEARS),
        }
    }

    /// True `count` times in `out_of`: the dataset's rate of a null or an odd value.
    fn one_in(&mut self, count: u32, out_of: u32) -> bool {
        self.rng.gen_ratio(count, out_of)
    }

    /// A value between the quantiles of a measurement, with the dataset's spread: 5% below the 5th percentile, 20%
    /// up to the quartile, and so on.
    fn measurement(&mut self, quantiles: [f64; 7]) -> f64 {
        const BANDS: [f64; 6] = [0.05, 0.20, 0.25, 0.25, 0.20, 0.05];
        let mut u: f64 = self.rng.r#gen();
        for (band, width) in BANDS.iter().enumerate() {
            if u < *width || band == BANDS.len() - 1 {
                let (low, high) = (quantiles[band], quantiles[band + 1]);
                return low + (high - low) * (u / width).min(1.0);
            }
            u -= width;
        }
        unreachable!("the bands cover [0, 1)")
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words.choose(&mut self.rng).copied().expect("a non-empty word list")
    }

    pub fn beer(&mut self) -> BeerFields {
        let style = self.styles.draw(&mut self.rng);
        let name = self.name(style);
        let abv = tenths(self.measurement(v::ABV));
        let ibu = (!self.one_in(v::NULL_IBU, v::RECIPES)).then(|| whole(self.measurement(v::IBU)));
        let ebc = (!self.one_in(v::NULL_EBC, v::RECIPES)).then(|| whole(self.measurement(v::EBC)));
        let srm = (!self.one_in(v::NULL_SRM, v::RECIPES)).then(|| tenths(self.measurement(v::SRM)));
        let ph = (!self.one_in(v::NULL_PH, v::RECIPES)).then(|| tenths(self.measurement(v::PH)));
        let og = self.measurement(v::TARGET_OG).round();
        // The final gravity stays below the original, as fermentation only takes sugar away.
        let fg = self.measurement(v::TARGET_FG).round().min(og);
        let attenuation = tenths(self.measurement(v::ATTENUATION));
        let year = self.years.draw(&mut self.rng);
        let first_brewed = if self.one_in(v::YEAR_ONLY_FIRST_BREWED, v::RECIPES) {
            year.to_string()
        } else {
            format!("{:02}/{year}", self.rng.gen_range(1..=12))
        };
        let image_url = (!self.one_in(v::NULL_IMAGE_URL, v::RECIPES))
            .then(|| format!("https://images.example.com/labels/{}.png", self.rng.gen_range(1..=500)));
        let ingredients = self.ingredients();
        let flavour = self.pick(FLAVOURS);
        let body = self.pick(BODIES);
        let twist = self
            .one_in(v::WITH_TWIST, v::RECIPES)
            .then(|| format!("{} added at the end of the boil", self.pick(FLAVOURS)));
        BeerFields {
            tagline: format!("A {body} {} with {flavour}.", style.to_lowercase()),
            description: format!(
                "{name} is a {body} {style} brewed with {}. Expect {flavour} on the nose and a {} finish.",
                ingredients.hops.first().map_or("no hops at all", |h| h.name.as_str()),
                self.pick(BODIES),
            ),
            first_brewed,
            image_url,
            abv,
            ibu,
            target_fg: Some(whole(fg)),
            target_og: Some(whole(og)),
            ebc,
            srm,
            ph,
            attenuation_level: Some(attenuation),
            volume: Some(quantity(20.0, "litres")),
            boil_volume: Some(quantity(25.0, "litres")),
            method: Method {
                mash_temp: vec![MashStep {
                    temp: quantity(f64::from(self.rng.gen_range(62..=70)), "celsius"),
                    duration: (!self.one_in(1, 6)).then(|| whole(f64::from(self.rng.gen_range(4..=9) * 15))),
                }],
                fermentation: Fermentation {
                    temp: Some(quantity(f64::from(self.rng.gen_range(9..=23)), "celsius")),
                },
                twist,
            },
            food_pairing: self.pairings(),
            brewers_tips: format!("Keep the fermentation cool to keep the {flavour} clean."),
            contributed_by: "beer-catalog generator <generate>".to_owned(),
            style: (!self.one_in(1, 20)).then(|| style.to_owned()),
            name,
            ingredients,
        }
    }

    fn name(&mut self, style: &str) -> String {
        let mut name = format!("{} {}", self.pick(NAME_FIRST), self.pick(NAME_SECOND));
        match self.rng.gen_range(0..10) {
            0..=3 => {
                name.push(' ');
                name.push_str(style);
            }
            4 => name.push_str(&format!(" #{}", self.rng.gen_range(1..=99))),
            5 => name.push_str(&format!(" {} - Current", self.years.draw(&mut self.rng))),
            _ => {}
        }
        name
    }

    fn ingredients(&mut self) -> Ingredients {
        let malt_count = self.malts_per_recipe.draw(&mut self.rng);
        let malt = self
            .malts
            .draw_distinct(&mut self.rng, malt_count)
            .into_iter()
            .map(|name| Malt {
                name: name.to_owned(),
                amount: quantity(self.rng.gen_range(0.1..6.0), "kilograms"),
            })
            .collect();
        let hop_count = self.hops_per_recipe.draw(&mut self.rng);
        let mut hops = Vec::new();
        for name in self.hops.draw_distinct(&mut self.rng, hop_count) {
            // A hop is often added more than once (bittering, aroma, dry hop): one entry per addition.
            for _ in 0..self.rng.gen_range(1..=2) {
                hops.push(Hop {
                    name: name.to_owned(),
                    amount: quantity(self.rng.gen_range(5.0..100.0), "grams"),
                    add: self.hop_additions.draw(&mut self.rng).to_owned(),
                    attribute: self.hop_attributes.draw(&mut self.rng).to_owned(),
                });
            }
        }
        let yeast = (!self.one_in(1, v::RECIPES)).then(|| self.yeasts.draw(&mut self.rng).to_owned());
        Ingredients { malt, hops, yeast }
    }

    fn pairings(&mut self) -> Vec<String> {
        let count = self.pairings_per_recipe.draw(&mut self.rng);
        (0..count)
            .map(|_| {
                let dish = format!("{} {}", self.pick(FOOD_PREPARATION), self.pick(FOOD_MAIN));
                if self.rng.gen_bool(0.4) {
                    format!("{dish} with {}", self.pick(FOOD_SIDE))
                } else {
                    dish
                }
            })
            .collect()
    }
}

/// One decimal place, as the dataset writes most measurements (`5.0` keeps its `.0`).
fn tenths(value: f64) -> Number {
    Number::from_f64((value * 10.0).round() / 10.0).expect("a finite measurement")
}

fn whole(value: f64) -> Number {
    Number::from(value.round() as i64)
}

fn quantity(value: f64, unit: &str) -> Quantity {
    let value = if value.fract() == 0.0 {
        whole(value)
    } else {
        tenths(value)
    };
    Quantity {
        value: Some(value),
        unit: unit.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate;

    fn catalog(count: u64, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_catalog(&mut out, count, 1, seed).unwrap();
        out
    }

    #[test]
    fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
        assert_eq!(catalog(200, 7), catalog(200, 7));
        assert_ne!(catalog(200, 7), catalog(200, 8));
    }

    #[test]
    fn every_beer_is_valid_and_the_output_is_an_array_with_ids() {
        let beers: Vec<serde_json::Value> = serde_json::from_slice(&catalog(2_000, 1)).unwrap();
        assert_eq!(beers.len(), 2_000);
        for (n, beer) in beers.iter().enumerate() {
            assert_eq!(beer["id"].as_i64(), Some(n as i64 + 1));
            let mut fields = beer.clone();
            fields.as_object_mut().unwrap().remove("id");
            let fields: BeerFields = serde_json::from_value(fields).unwrap();
            assert_eq!(validate(&fields), Ok(()), "{beer}");
        }
        let empty: Vec<serde_json::Value> = serde_json::from_slice(&catalog(0, 1)).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn nulls_and_odd_values_appear_at_realistic_rates() {
        let beers: Vec<serde_json::Value> = serde_json::from_slice(&catalog(5_000, 3)).unwrap();
        let share = |test: &dyn Fn(&serde_json::Value) -> bool| beers.iter().filter(|b| test(b)).count();
        // The dataset: 5 of 325 beers without an IBU (1.5%), 91 with a bare year (28%), 61 without an image (19%).
        let no_ibu = share(&|b| b["ibu"].is_null());
        assert!((25..=130).contains(&no_ibu), "{no_ibu}");
        let bare_year = share(&|b| b["first_brewed"].as_str().unwrap().len() == 4);
        assert!((1_150..=1_650).contains(&bare_year), "{bare_year}");
        assert!(share(&|b| b["image_url"].is_null()) > 700);
        assert!(share(&|b| b["name"].as_str().unwrap().contains('%')) > 0);
        assert!(share(&|b| !b["name"].as_str().unwrap().is_ascii()) > 0);
        // Cascade is used by 44 of 325 recipes (13.5%).
        let cascade = share(&|b| {
            b["ingredients"]["hops"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["name"] == "Cascade")
        });
        assert!((450..=900).contains(&cascade), "{cascade}");
    }
}
