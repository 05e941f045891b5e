//! BeerJSON 1.0 (beerjson.github.io): a document `{"beerjson": {"version": 1, "recipes": [...]}}`. Written with
//! the schema's required fields (see `docs/recipe-formats.md` for the ones the catalog has no value for); read
//! leniently (unknown fields ignored, any unit the schema allows converted).

use serde::{Deserialize, Deserializer, Serialize};

use super::recipe::{BOIL_MINUTES, Fermentable, HopAddition, HopUse, MashRest, Recipe, estimated_abv, tidy};
use super::{FormatError, placeholder};

#[derive(Debug, Serialize, Deserialize)]
pub struct Document {
    pub beerjson: Root,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Root {
    pub version: f64,
    #[serde(default)]
    pub recipes: Vec<RecipeJson>,
}

/// A value with its unit, as every BeerJSON measurement is written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measure {
    pub unit: String,
    pub value: f64,
}

/// A time: BeerJSON wants a whole number.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Time {
    pub unit: String,
    #[serde(deserialize_with = "whole_number")]
    pub value: i64,
}

fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Ok(f64::deserialize(deserializer)?.round() as i64)
}

fn measure(value: f64, unit: &str) -> Measure {
    Measure {
        unit: unit.into(),
        value: tidy(value),
    }
}

fn minutes(value: i64) -> Time {
    Time {
        unit: "min".into(),
        value,
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RecipeJson {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub author: String,
    pub batch_size: Measure,
    pub efficiency: Efficiency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<Style>,
    pub ingredients: IngredientsJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mash: Option<Mash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_gravity: Option<Measure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_gravity: Option<Measure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alcohol_by_volume: Option<Measure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ibu_estimate: Option<IbuEstimate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_estimate: Option<Measure>,
    #[serde(rename = "beer_pH", default, skip_serializing_if = "Option::is_none")]
    pub beer_ph: Option<Measure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apparent_attenuation: Option<Measure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fermentation: Option<FermentationJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boil: Option<Boil>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Efficiency {
    pub brewhouse: Measure,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Style {
    pub name: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub style_guide: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct IbuEstimate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Measure>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct IngredientsJson {
    #[serde(default)]
    pub fermentable_additions: Vec<FermentableAddition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hop_additions: Vec<HopAdditionJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub culture_additions: Vec<CultureAddition>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FermentableAddition {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(rename = "yield", default)]
    pub yield_: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<Measure>,
    pub amount: Measure,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HopAdditionJson {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha_acid: Option<Measure>,
    pub amount: Measure,
    #[serde(default)]
    pub timing: Timing,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Timing {
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Time>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CultureAddition {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub form: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attenuation: Option<Measure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Measure>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Mash {
    pub name: String,
    pub grain_temperature: Measure,
    #[serde(default)]
    pub mash_steps: Vec<MashStepJson>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MashStepJson {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub step_temperature: Measure,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_time: Option<Time>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FermentationJson {
    pub name: String,
    #[serde(default)]
    pub fermentation_steps: Vec<FermentationStep>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FermentationStep {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_temperature: Option<Measure>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Boil {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_boil_size: Option<Measure>,
    pub boil_time: Time,
}

/// One recipe as BeerJSON.
pub fn write_recipe(recipe: &Recipe) -> RecipeJson {
    RecipeJson {
        name: recipe.name.clone(),
        kind: "all grain".into(),
        author: recipe.author.clone(),
        batch_size: measure(recipe.batch_litres.unwrap_or(0.0), "l"),
        efficiency: Efficiency {
            brewhouse: measure(placeholder::EFFICIENCY_PERCENT, "%"),
        },
        style: recipe.style.as_ref().map(|name| Style {
            name: name.clone(),
            category: name.clone(),
            style_guide: String::new(),
            kind: "beer".into(),
        }),
        ingredients: IngredientsJson {
            fermentable_additions: recipe.malts.iter().map(write_fermentable).collect(),
            hop_additions: recipe.hops.iter().map(write_hop).collect(),
            culture_additions: recipe
                .yeast
                .iter()
                .map(|name| CultureAddition {
                    name: name.clone(),
                    kind: placeholder::culture_type(name).into(),
                    form: placeholder::culture_form(name).into(),
                    attenuation: recipe.attenuation.map(|a| measure(a, "%")),
                    amount: Some(measure(1.0, "pkg")),
                })
                .collect(),
        },
        mash: (!recipe.mash_steps.is_empty()).then(|| Mash {
            name: "Mash".into(),
            grain_temperature: measure(placeholder::GRAIN_CELSIUS, "C"),
            mash_steps: recipe
                .mash_steps
                .iter()
                .enumerate()
                .map(|(i, step)| MashStepJson {
                    name: format!("Mash step {}", i + 1),
                    kind: "temperature".into(),
                    step_temperature: measure(step.celsius, "C"),
                    // Required: a step without a duration is written as 0 min (the notes say it has none).
                    step_time: Some(minutes(step.minutes.unwrap_or(0))),
                })
                .collect(),
        }),
        notes: Some(recipe.notes.clone()),
        original_gravity: recipe.og.map(|sg| measure(sg, "sg")),
        final_gravity: recipe.fg.map(|sg| measure(sg, "sg")),
        alcohol_by_volume: Some(measure(recipe.abv, "%")),
        ibu_estimate: recipe.ibu.map(|ibu| IbuEstimate {
            value: Some(measure(ibu, "IBUs")),
        }),
        color_estimate: recipe.ebc.map(|ebc| measure(ebc, "EBC")),
        beer_ph: recipe.ph.map(|ph| measure(ph, "pH")),
        apparent_attenuation: recipe.attenuation.map(|a| measure(a, "%")),
        fermentation: recipe.fermentation_celsius.map(|celsius| FermentationJson {
            name: "Fermentation".into(),
            fermentation_steps: vec![FermentationStep {
                name: "Primary".into(),
                start_temperature: Some(measure(celsius, "C")),
            }],
        }),
        boil: Some(Boil {
            pre_boil_size: recipe.boil_litres.map(|l| measure(l, "l")),
            boil_time: minutes(BOIL_MINUTES),
        }),
    }
}

fn write_fermentable(malt: &Fermentable) -> FermentableAddition {
    FermentableAddition {
        name: malt.name.clone(),
        kind: "grain".into(),
        yield_: serde_json::json!({"fine_grind": {"unit": "%", "value": placeholder::YIELD_PERCENT}}),
        color: Some(measure(placeholder::MALT_COLOR_LOVIBOND, "Lovi")),
        amount: measure(malt.kilograms, "kg"),
    }
}

fn write_hop(hop: &HopAddition) -> HopAdditionJson {
    let use_ = match hop.use_ {
        HopUse::Mash => "add_to_mash",
        HopUse::FirstWort | HopUse::Boil | HopUse::Aroma => "add_to_boil",
        HopUse::DryHop => "add_to_fermentation",
    };
    HopAdditionJson {
        name: hop.name.clone(),
        form: Some("pellet".into()),
        alpha_acid: Some(measure(placeholder::ALPHA_ACID_PERCENT, "%")),
        amount: measure(hop.kilograms * 1000.0, "g"),
        timing: Timing {
            use_: Some(use_.into()),
            duration: hop.minutes.map(minutes),
        },
    }
}

/// The recipes of a BeerJSON document.
pub fn read(text: &str) -> Result<Vec<Recipe>, FormatError> {
    let document: Document = serde_json::from_str(text).map_err(|e| FormatError::new(format!("not BeerJSON: {e}")))?;
    document
        .beerjson
        .recipes
        .into_iter()
        .enumerate()
        .map(|(i, recipe)| read_recipe(recipe).map_err(|e| e.at(i + 1)))
        .collect()
}

fn read_recipe(recipe: RecipeJson) -> Result<Recipe, FormatError> {
    let units = super::units::Units;
    let hops = recipe
        .ingredients
        .hop_additions
        .iter()
        .map(|hop| {
            let duration = hop
                .timing
                .duration
                .as_ref()
                .map(|t| units.minutes(&t.unit, t.value))
                .transpose()?;
            let use_ = match hop.timing.use_.as_deref() {
                Some("add_to_mash") => HopUse::Mash,
                Some("add_to_fermentation") | Some("add_to_package") => HopUse::DryHop,
                _ if duration == Some(0) => HopUse::Aroma,
                _ => HopUse::Boil,
            };
            Ok(HopAddition {
                name: hop.name.clone(),
                kilograms: units.kilograms(&hop.amount.unit, hop.amount.value)?,
                use_,
                minutes: duration,
                purpose: None,
            })
        })
        .collect::<Result<_, FormatError>>()?;
    let malts = recipe
        .ingredients
        .fermentable_additions
        .iter()
        .map(|malt| {
            Ok(Fermentable {
                name: malt.name.clone(),
                kilograms: units.kilograms(&malt.amount.unit, malt.amount.value)?,
            })
        })
        .collect::<Result<_, FormatError>>()?;
    let mash_steps = match &recipe.mash {
        Some(mash) => mash
            .mash_steps
            .iter()
            .map(|step| {
                Ok(MashRest {
                    celsius: units.celsius(&step.step_temperature.unit, step.step_temperature.value)?,
                    minutes: step
                        .step_time
                        .as_ref()
                        .map(|t| units.minutes(&t.unit, t.value))
                        .transpose()?,
                })
            })
            .collect::<Result<_, FormatError>>()?,
        None => Vec::new(),
    };
    let culture = recipe.ingredients.culture_additions.first();
    let gravity = |m: &Option<Measure>| m.as_ref().map(|m| units.specific_gravity(&m.unit, m.value)).transpose();
    let (og, fg) = (gravity(&recipe.original_gravity)?, gravity(&recipe.final_gravity)?);
    let fermentation_celsius = recipe
        .fermentation
        .as_ref()
        .and_then(|f| f.fermentation_steps.first())
        .and_then(|step| step.start_temperature.as_ref())
        .map(|t| units.celsius(&t.unit, t.value))
        .transpose()?;
    Ok(Recipe {
        name: recipe.name,
        author: recipe.author,
        style: recipe.style.map(|s| s.name),
        batch_litres: Some(units.litres(&recipe.batch_size.unit, recipe.batch_size.value)?),
        boil_litres: match recipe.boil.as_ref().and_then(|b| b.pre_boil_size.as_ref()) {
            Some(size) => Some(units.litres(&size.unit, size.value)?),
            None => None,
        },
        og,
        fg,
        abv: recipe
            .alcohol_by_volume
            .map(|a| a.value)
            .unwrap_or_else(|| estimated_abv(og, fg)),
        ibu: recipe.ibu_estimate.and_then(|e| e.value).map(|v| v.value),
        ebc: recipe.color_estimate.map(|c| units.ebc(&c.unit, c.value)).transpose()?,
        srm: None,
        attenuation: recipe
            .apparent_attenuation
            .map(|a| a.value)
            .or_else(|| culture.and_then(|c| c.attenuation.as_ref()).map(|a| a.value)),
        ph: recipe.beer_ph.map(|p| p.value),
        malts,
        hops,
        yeast: culture.map(|c| c.name.clone()),
        mash_steps,
        fermentation_celsius,
        notes: recipe.notes.unwrap_or_default(),
    })
}

/// A BeerJSON document of these recipes.
pub fn write(recipes: &[Recipe]) -> String {
    let document = Document {
        beerjson: Root {
            version: 1.0,
            recipes: recipes.iter().map(write_recipe).collect(),
        },
    };
    serde_json::to_string_pretty(&document).expect("BeerJSON serialises")
}
