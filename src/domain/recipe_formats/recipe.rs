//! The format-neutral recipe both brewing formats are written from and read into: a catalog beer in the units
//! brewing software works in (litres, kilograms, Celsius, specific gravity, minutes), with hop additions by use
//! and time. [`Recipe::from_fields`] and [`Recipe::into_fields`] are the only places that know the catalog's
//! units; `beerjson.rs` and `beerxml.rs` only rename and nest.

use serde_json::Number;

use super::extras::{Extras, HopLabel};
use crate::domain::BeerFields;
use crate::domain::beer::{Fermentation, Hop, Ingredients, Malt, MashStep, Method, Quantity};

/// The boil the Punk recipes assume: DIY Dog gives hop additions as start / middle / end of a 60-minute boil.
pub const BOIL_MINUTES: i64 = 60;

#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    pub name: String,
    /// `contributed_by`, the recipe's author.
    pub author: String,
    pub style: Option<String>,
    pub batch_litres: Option<f64>,
    pub boil_litres: Option<f64>,
    /// Specific gravity, e.g. 1.044 (the catalog stores 1044).
    pub og: Option<f64>,
    pub fg: Option<f64>,
    pub abv: f64,
    pub ibu: Option<f64>,
    pub ebc: Option<f64>,
    pub srm: Option<f64>,
    pub attenuation: Option<f64>,
    pub ph: Option<f64>,
    pub malts: Vec<Fermentable>,
    pub hops: Vec<HopAddition>,
    pub yeast: Option<String>,
    pub mash_steps: Vec<MashRest>,
    pub fermentation_celsius: Option<f64>,
    /// What has no home in the formats: readable text, then the [`Extras`] line that brings it back on import.
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fermentable {
    pub name: String,
    pub kilograms: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HopAddition {
    pub name: String,
    pub kilograms: f64,
    pub use_: HopUse,
    /// Minutes before the end of the boil (boil, first wort, mash); `None` when the recipe does not say.
    pub minutes: Option<i64>,
    pub purpose: Option<HopPurpose>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HopUse {
    Mash,
    FirstWort,
    Boil,
    /// At flame-out or in the whirlpool (BeerXML "Aroma").
    Aroma,
    DryHop,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HopPurpose {
    Bittering,
    Aroma,
    Both,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MashRest {
    pub celsius: f64,
    pub minutes: Option<i64>,
}

/// ABV from the gravities (the usual (OG - FG) x 131.25), for a recipe that gives none; 0 without them.
pub fn estimated_abv(og: Option<f64>, fg: Option<f64>) -> f64 {
    match (og, fg) {
        (Some(og), Some(fg)) if og > fg => (tidy((og - fg) * 131.25) * 10.0).round() / 10.0,
        _ => 0.0,
    }
}

/// Rounds away binary noise from unit conversions (1041.7 / 1000 must be 1.0417, not 1.0417000000000001).
pub fn tidy(value: f64) -> f64 {
    let scaled = (value * 1e9).round() / 1e9;
    if scaled == 0.0 { 0.0 } else { scaled }
}

fn number(value: f64) -> Number {
    let value = tidy(value);
    if value.fract() == 0.0 && value.abs() < 9e15 {
        Number::from(value as i64)
    } else {
        Number::from_f64(value).unwrap_or_else(|| Number::from(0))
    }
}

fn float(value: &Number) -> f64 {
    value.as_f64().unwrap_or(0.0)
}

/// A catalog gravity (1044, or 1.044 as some recipes write it) as specific gravity.
fn specific_gravity(value: &Number) -> Option<f64> {
    let value = float(value);
    match value {
        v if v >= 500.0 => Some(tidy(v / 1000.0)),
        v if (0.5..2.0).contains(&v) => Some(v),
        _ => None,
    }
}

/// A catalog weight in kilograms, when its unit is one.
fn kilograms(amount: &Quantity) -> Option<f64> {
    let value = float(amount.value.as_ref()?);
    let factor = match amount.unit.trim().to_ascii_lowercase().as_str() {
        "kilograms" | "kilogram" | "kg" => 1.0,
        "grams" | "gram" | "g" => 0.001,
        "milligrams" | "mg" => 0.000_001,
        "pounds" | "pound" | "lb" | "lbs" => 0.453_592_37,
        "ounces" | "ounce" | "oz" => 0.028_349_523_125,
        _ => return None,
    };
    Some(tidy(value * factor))
}

/// A weight in kilograms; a value in a unit that is not a weight (a hop amount of "total" or "ml" in the Punk
/// data) is taken as the ingredient's usual unit (`per_unit` kilograms), its own unit kept in the notes.
fn weight(amount: &Quantity, per_unit: f64) -> f64 {
    kilograms(amount).unwrap_or_else(|| tidy(amount.value.as_ref().map(float).unwrap_or(0.0) * per_unit))
}

fn litres(amount: &Quantity) -> Option<f64> {
    let value = float(amount.value.as_ref()?);
    let factor = match amount.unit.trim().to_ascii_lowercase().as_str() {
        "litres" | "liters" | "litre" | "liter" | "l" => 1.0,
        "millilitres" | "milliliters" | "ml" => 0.001,
        "gallons" | "gallon" | "gal" => 3.785_411_784,
        _ => return None,
    };
    Some(tidy(value * factor))
}

fn celsius(temp: &Quantity) -> Option<f64> {
    let value = float(temp.value.as_ref()?);
    match temp.unit.trim().to_ascii_lowercase().as_str() {
        "celsius" | "c" => Some(value),
        "fahrenheit" | "f" => Some(tidy((value - 32.0) * 5.0 / 9.0)),
        _ => None,
    }
}

/// A Punk hop addition (`start`, `middle`, `end`, `dry hop`, `whirlpool`, or a number of minutes) as a use and a
/// time.
pub fn hop_timing(add: &str) -> (HopUse, Option<i64>) {
    let add = add.trim().to_ascii_lowercase();
    if let Ok(minutes) = add.parse::<i64>() {
        return (HopUse::Boil, Some(minutes));
    }
    match add.as_str() {
        "start" => (HopUse::Boil, Some(BOIL_MINUTES)),
        "middle" => (HopUse::Boil, Some(BOIL_MINUTES / 2)),
        "end" | "flame out" | "flameout" | "whirlpool" => (HopUse::Aroma, Some(0)),
        "mash" => (HopUse::Mash, None),
        "first wort hops" | "first wort" => (HopUse::FirstWort, Some(BOIL_MINUTES)),
        a if a.contains("dry") || a.starts_with("fv") || a == "secondary" || a == "maturation" => {
            (HopUse::DryHop, None)
        }
        _ => (HopUse::Boil, None),
    }
}

/// The Punk wording of an addition read from brewing software (without the catalog's own notes).
fn hop_add(use_: HopUse, minutes: Option<i64>) -> String {
    match (use_, minutes) {
        (HopUse::DryHop, _) => "dry hop".into(),
        (HopUse::Mash, _) => "mash".into(),
        (HopUse::FirstWort, _) => "first wort hops".into(),
        (HopUse::Aroma, _) => "end".into(),
        (HopUse::Boil, Some(m)) if m >= 45 => "start".into(),
        (HopUse::Boil, Some(m)) if m >= 15 => "middle".into(),
        (HopUse::Boil, Some(_)) => "end".into(),
        (HopUse::Boil, None) => String::new(),
    }
}

pub fn hop_purpose(attribute: &str) -> Option<HopPurpose> {
    let attribute = attribute.trim().to_ascii_lowercase();
    if attribute.contains('/') {
        Some(HopPurpose::Both)
    } else if attribute.starts_with("bit") {
        Some(HopPurpose::Bittering)
    } else if attribute.starts_with("aroma") {
        Some(HopPurpose::Aroma)
    } else if attribute.starts_with("flav") {
        Some(HopPurpose::Both)
    } else {
        None
    }
}

fn hop_attribute(purpose: Option<HopPurpose>) -> String {
    match purpose {
        Some(HopPurpose::Bittering) => "bitter".into(),
        Some(HopPurpose::Aroma) => "aroma".into(),
        Some(HopPurpose::Both) => "flavour".into(),
        None => String::new(),
    }
}

fn quantity(value: f64, unit: &str) -> Quantity {
    Quantity {
        value: Some(number(value)),
        unit: unit.into(),
    }
}

impl Recipe {
    /// The recipe of a catalog beer; what has no home in the formats goes into `notes`.
    pub fn from_fields(beer: &BeerFields) -> Self {
        let mut extras = Extras::unmapped_of(beer);
        // Steps without a duration (BeerXML requires one, written as 0).
        let mut absent = Vec::new();
        let mut keep_unit = |path: String, quantity: &Quantity, canonical: &str| {
            if quantity.unit != canonical {
                extras.units.insert(path, quantity.unit.clone());
            }
        };
        let malts = beer
            .ingredients
            .malt
            .iter()
            .enumerate()
            .map(|(i, malt)| {
                keep_unit(format!("malt.{i}"), &malt.amount, "kilograms");
                Fermentable {
                    name: malt.name.clone(),
                    kilograms: weight(&malt.amount, 1.0),
                }
            })
            .collect();
        let hops = beer
            .ingredients
            .hops
            .iter()
            .enumerate()
            .map(|(i, hop)| {
                keep_unit(format!("hops.{i}"), &hop.amount, "grams");
                let (use_, minutes) = hop_timing(&hop.add);
                HopAddition {
                    name: hop.name.clone(),
                    kilograms: weight(&hop.amount, 0.001),
                    use_,
                    minutes,
                    purpose: hop_purpose(&hop.attribute),
                }
            })
            .collect();
        let mash_steps = beer
            .method
            .mash_temp
            .iter()
            .enumerate()
            .map(|(i, step)| {
                keep_unit(format!("mash.{i}"), &step.temp, "celsius");
                if step.duration.is_none() {
                    absent.push(format!("mash.{i}.duration"));
                }
                MashRest {
                    celsius: celsius(&step.temp).unwrap_or(0.0),
                    minutes: step.duration.as_ref().map(|d| float(d).round() as i64),
                }
            })
            .collect();
        if let Some(volume) = &beer.volume {
            keep_unit("volume".into(), volume, "litres");
        }
        if let Some(volume) = &beer.boil_volume {
            keep_unit("boil_volume".into(), volume, "litres");
        }
        let fermentation_celsius = beer.method.fermentation.temp.as_ref().and_then(|temp| {
            keep_unit("fermentation".into(), temp, "celsius");
            celsius(temp)
        });
        let og = beer.target_og.as_ref().and_then(specific_gravity);
        let fg = beer.target_fg.as_ref().and_then(specific_gravity);
        if og.is_none() {
            extras.target_og = beer.target_og.clone();
        }
        if fg.is_none() {
            extras.target_fg = beer.target_fg.clone();
        }
        let batch_litres = beer.volume.as_ref().and_then(litres);
        let boil_litres = beer.boil_volume.as_ref().and_then(litres);
        extras.absent.append(&mut absent);
        if beer.volume.is_none() {
            extras.absent.push("volume".into());
        }
        if beer.boil_volume.is_none() {
            extras.absent.push("boil_volume".into());
        }
        if beer.ingredients.yeast.is_none() {
            extras.absent.push("yeast".into());
        }
        Recipe {
            name: beer.name.clone(),
            author: beer.contributed_by.clone(),
            style: beer.style.clone(),
            batch_litres,
            boil_litres,
            og,
            fg,
            abv: float(&beer.abv),
            ibu: beer.ibu.as_ref().map(float),
            ebc: beer.ebc.as_ref().map(float),
            srm: beer.srm.as_ref().map(float),
            attenuation: beer.attenuation_level.as_ref().map(float),
            ph: beer.ph.as_ref().map(float),
            malts,
            hops,
            yeast: beer.ingredients.yeast.clone(),
            mash_steps,
            fermentation_celsius,
            notes: extras.into_notes(beer),
        }
    }

    /// The catalog beer a recipe describes. Recipes written by this service bring back what the formats have no
    /// home for from their notes; others get their notes as the description.
    pub fn into_fields(self) -> BeerFields {
        let extras = Extras::from_notes(&self.notes);
        let unit = |path: String, canonical: &str| match &extras {
            Some(extras) => extras.units.get(&path).cloned().unwrap_or_else(|| canonical.into()),
            None => canonical.into(),
        };
        let absent = |field: &str| extras.as_ref().is_some_and(|e| e.absent.iter().any(|a| a == field));
        let hop_labels: &[HopLabel] = extras.as_ref().map(|e| e.hops.as_slice()).unwrap_or_default();
        let same_hops = hop_labels.len() == self.hops.len();
        let hops = self
            .hops
            .iter()
            .enumerate()
            .map(|(i, hop)| {
                let (add, attribute) = match hop_labels.get(i) {
                    Some(label) if same_hops => (label.add.clone(), label.attribute.clone()),
                    _ => (hop_add(hop.use_, hop.minutes), hop_attribute(hop.purpose)),
                };
                let grams_unit = unit(format!("hops.{i}"), "grams");
                Hop {
                    name: hop.name.clone(),
                    amount: from_kilograms(hop.kilograms, &grams_unit, 0.001),
                    add,
                    attribute,
                }
            })
            .collect();
        let malt = self
            .malts
            .iter()
            .enumerate()
            .map(|(i, malt)| Malt {
                name: malt.name.clone(),
                amount: from_kilograms(malt.kilograms, &unit(format!("malt.{i}"), "kilograms"), 1.0),
            })
            .collect();
        let mash_temp = self
            .mash_steps
            .iter()
            .enumerate()
            .map(|(i, step)| MashStep {
                temp: from_celsius(step.celsius, &unit(format!("mash.{i}"), "celsius")),
                duration: step
                    .minutes
                    .filter(|_| !absent(&format!("mash.{i}.duration")))
                    .map(Number::from),
            })
            .collect();
        let volume = |litres: Option<f64>, field: &str| match litres {
            _ if absent(field) => None,
            Some(value) => Some(from_litres(value, &unit(field.into(), "litres"))),
            None => None,
        };
        let gravity = |sg: Option<f64>, kept: Option<&Number>| match (kept, sg) {
            (Some(kept), _) => Some(kept.clone()),
            (None, Some(sg)) => Some(number(sg * 1000.0)),
            (None, None) => None,
        };
        let extras_ref = extras.as_ref();
        let fields = BeerFields {
            name: self.name.clone(),
            abv: number(self.abv),
            ibu: self.ibu.map(number),
            target_og: gravity(self.og, extras_ref.and_then(|e| e.target_og.as_ref())),
            target_fg: gravity(self.fg, extras_ref.and_then(|e| e.target_fg.as_ref())),
            ebc: self.ebc.map(number),
            ph: self.ph.map(number),
            attenuation_level: self.attenuation.map(number),
            volume: volume(self.batch_litres, "volume"),
            boil_volume: volume(self.boil_litres, "boil_volume"),
            method: Method {
                mash_temp,
                fermentation: Fermentation {
                    temp: self
                        .fermentation_celsius
                        .map(|c| from_celsius(c, &unit("fermentation".into(), "celsius"))),
                },
                twist: None,
            },
            ingredients: Ingredients {
                malt,
                hops,
                yeast: if absent("yeast") { None } else { self.yeast.clone() },
            },
            style: self.style.clone(),
            contributed_by: self.author.clone(),
            tagline: String::new(),
            first_brewed: String::new(),
            description: String::new(),
            image_url: None,
            srm: self.srm.map(number),
            food_pairing: Vec::new(),
            brewers_tips: String::new(),
        };
        match extras {
            Some(extras) => extras.restore(fields),
            None => BeerFields {
                description: self.notes.trim().to_owned(),
                ..fields
            },
        }
    }
}

fn from_kilograms(kilograms: f64, unit: &str, usual: f64) -> Quantity {
    let per_unit = kilograms_of(unit).unwrap_or(usual);
    quantity(kilograms / per_unit, unit)
}

/// Kilograms in one `unit`, when it is a weight.
fn kilograms_of(unit: &str) -> Option<f64> {
    kilograms(&quantity(1.0, unit))
}

fn from_litres(litres: f64, unit: &str) -> Quantity {
    let per_unit = litres_of(unit).unwrap_or(1.0);
    quantity(litres / per_unit, unit)
}

fn litres_of(unit: &str) -> Option<f64> {
    litres(&quantity(1.0, unit))
}

fn from_celsius(value: f64, unit: &str) -> Quantity {
    match unit.trim().to_ascii_lowercase().as_str() {
        "fahrenheit" | "f" => quantity(value * 9.0 / 5.0 + 32.0, unit),
        _ => quantity(value, unit),
    }
}
