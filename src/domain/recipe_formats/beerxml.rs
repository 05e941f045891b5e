//! BeerXML 1.0 (beerxml.com): `<RECIPES><RECIPE>...</RECIPE></RECIPES>`, metric units throughout (kilograms,
//! litres, Celsius, minutes, specific gravity), written and read with quick-xml's serde support. Every value is
//! read as text and parsed here, so an empty or malformed element is reported by name instead of failing the
//! whole document.

use serde::{Deserialize, Serialize};

use super::recipe::{
    BOIL_MINUTES, Fermentable, HopAddition, HopPurpose, HopUse, MashRest, Recipe, estimated_abv, tidy,
};
use super::{FormatError, placeholder};

/// A typical liquid yeast pack, 35 ml: BeerXML requires a yeast amount, the catalog names only the yeast.
const YEAST_LITRES: f64 = 0.035;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename = "RECIPES")]
pub struct Recipes {
    #[serde(rename = "RECIPE", default)]
    pub recipe: Vec<RecipeXml>,
}

type Text = Option<String>;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub struct RecipeXml {
    pub name: Text,
    pub version: Text,
    #[serde(rename = "TYPE")]
    pub kind: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<StyleXml>,
    pub brewer: Text,
    pub batch_size: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boil_size: Text,
    pub boil_time: Text,
    pub efficiency: Text,
    pub hops: HopsXml,
    pub fermentables: FermentablesXml,
    pub miscs: Text,
    pub yeasts: YeastsXml,
    pub waters: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mash: Option<MashXml>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub og: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fg: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fermentation_stages: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_temp: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub est_color: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ibu: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abv: Text,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub struct StyleXml {
    pub name: Text,
    pub version: Text,
    pub category: Text,
    pub style_guide: Text,
    #[serde(rename = "TYPE")]
    pub kind: Text,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct HopsXml {
    #[serde(rename = "HOP", default)]
    pub hop: Vec<HopXml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub struct HopXml {
    pub name: Text,
    pub version: Text,
    pub alpha: Text,
    pub amount: Text,
    #[serde(rename = "USE")]
    pub use_: Text,
    pub time: Text,
    #[serde(rename = "TYPE", skip_serializing_if = "Option::is_none")]
    pub kind: Text,
    pub form: Text,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FermentablesXml {
    #[serde(rename = "FERMENTABLE", default)]
    pub fermentable: Vec<FermentableXml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub struct FermentableXml {
    pub name: Text,
    pub version: Text,
    #[serde(rename = "TYPE")]
    pub kind: Text,
    pub amount: Text,
    #[serde(rename = "YIELD")]
    pub yield_: Text,
    pub color: Text,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct YeastsXml {
    #[serde(rename = "YEAST", default)]
    pub yeast: Vec<YeastXml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub struct YeastXml {
    pub name: Text,
    pub version: Text,
    #[serde(rename = "TYPE")]
    pub kind: Text,
    pub form: Text,
    pub amount: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attenuation: Text,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub struct MashXml {
    pub name: Text,
    pub version: Text,
    pub grain_temp: Text,
    pub mash_steps: MashStepsXml,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MashStepsXml {
    #[serde(rename = "MASH_STEP", default)]
    pub mash_step: Vec<MashStepXml>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", default)]
pub struct MashStepXml {
    pub name: Text,
    pub version: Text,
    #[serde(rename = "TYPE")]
    pub kind: Text,
    pub step_temp: Text,
    pub step_time: Text,
}

fn num(value: f64) -> Text {
    Some(format!("{}", tidy(value)))
}

fn text(value: &str) -> Text {
    Some(value.to_owned())
}

/// One recipe as BeerXML.
pub fn write_recipe(recipe: &Recipe) -> RecipeXml {
    let one = text("1");
    RecipeXml {
        name: text(&recipe.name),
        version: one.clone(),
        kind: text("All Grain"),
        style: recipe.style.as_ref().map(|name| StyleXml {
            name: text(name),
            version: one.clone(),
            category: text(name),
            style_guide: text(""),
            kind: text("Ale"),
        }),
        brewer: text(&recipe.author),
        batch_size: num(recipe.batch_litres.unwrap_or(0.0)),
        boil_size: recipe.boil_litres.and_then(num),
        boil_time: num(BOIL_MINUTES as f64),
        efficiency: num(placeholder::EFFICIENCY_PERCENT),
        hops: HopsXml {
            hop: recipe.hops.iter().map(write_hop).collect(),
        },
        fermentables: FermentablesXml {
            fermentable: recipe.malts.iter().map(write_fermentable).collect(),
        },
        miscs: text(""),
        yeasts: YeastsXml {
            yeast: recipe
                .yeast
                .iter()
                .map(|name| YeastXml {
                    name: text(name),
                    version: one.clone(),
                    kind: text(&capitalised(placeholder::culture_type(name))),
                    form: text(&capitalised(placeholder::culture_form(name))),
                    amount: num(YEAST_LITRES),
                    attenuation: recipe.attenuation.and_then(num),
                })
                .collect(),
        },
        waters: text(""),
        mash: (!recipe.mash_steps.is_empty()).then(|| MashXml {
            name: text("Mash"),
            version: one.clone(),
            grain_temp: num(placeholder::GRAIN_CELSIUS),
            mash_steps: MashStepsXml {
                mash_step: recipe
                    .mash_steps
                    .iter()
                    .enumerate()
                    .map(|(i, step)| MashStepXml {
                        name: Some(format!("Mash step {}", i + 1)),
                        version: one.clone(),
                        kind: text("Temperature"),
                        step_temp: num(step.celsius),
                        step_time: num(step.minutes.unwrap_or(0) as f64),
                    })
                    .collect(),
            },
        }),
        notes: text(&recipe.notes),
        og: recipe.og.and_then(num),
        fg: recipe.fg.and_then(num),
        fermentation_stages: recipe.fermentation_celsius.map(|_| "1".into()),
        primary_temp: recipe.fermentation_celsius.and_then(num),
        est_color: recipe.srm.and_then(num),
        ibu: recipe.ibu.and_then(num),
        abv: num(recipe.abv),
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn write_hop(hop: &HopAddition) -> HopXml {
    let use_ = match hop.use_ {
        HopUse::Mash => "Mash",
        HopUse::FirstWort => "First Wort",
        HopUse::Boil => "Boil",
        HopUse::Aroma => "Aroma",
        HopUse::DryHop => "Dry Hop",
    };
    HopXml {
        name: text(&hop.name),
        version: text("1"),
        alpha: num(placeholder::ALPHA_ACID_PERCENT),
        amount: num(hop.kilograms),
        use_: text(use_),
        time: num(hop.minutes.unwrap_or(0) as f64),
        kind: hop.purpose.map(|purpose| {
            match purpose {
                HopPurpose::Bittering => "Bittering",
                HopPurpose::Aroma => "Aroma",
                HopPurpose::Both => "Both",
            }
            .into()
        }),
        form: text("Pellet"),
    }
}

fn write_fermentable(malt: &Fermentable) -> FermentableXml {
    FermentableXml {
        name: text(&malt.name),
        version: text("1"),
        kind: text("Grain"),
        amount: num(malt.kilograms),
        yield_: num(placeholder::YIELD_PERCENT),
        color: num(placeholder::MALT_COLOR_LOVIBOND),
    }
}

/// A BeerXML document of these recipes.
pub fn write(recipes: &[Recipe]) -> String {
    let document = Recipes {
        recipe: recipes.iter().map(write_recipe).collect(),
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut serializer = quick_xml::se::Serializer::new(&mut out);
    serializer.indent(' ', 2);
    document.serialize(serializer).expect("BeerXML serialises");
    out.push('\n');
    out
}

/// A number element: absent or empty is `None`, anything else must be a number.
fn number(element: &str, value: &Text) -> Result<Option<f64>, FormatError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| FormatError::new(format!("{element} must be a number, got `{text}`"))),
    }
}

fn required(element: &str, value: &Text) -> Result<String, FormatError> {
    match value.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Ok(text.to_owned()),
        _ => Err(FormatError::new(format!("{element} is required"))),
    }
}

/// The recipes of a BeerXML document.
pub fn read(text: &str) -> Result<Vec<Recipe>, FormatError> {
    let document: Recipes = quick_xml::de::from_str(text).map_err(|e| FormatError::new(format!("not BeerXML: {e}")))?;
    document
        .recipe
        .into_iter()
        .enumerate()
        .map(|(i, recipe)| read_recipe(recipe).map_err(|e| e.at(i + 1)))
        .collect()
}

fn read_recipe(recipe: RecipeXml) -> Result<Recipe, FormatError> {
    let hops = recipe
        .hops
        .hop
        .iter()
        .map(|hop| {
            let time = number("HOP/TIME", &hop.time)?.map(|t| t.round() as i64);
            let use_ = match hop.use_.as_deref().map(|u| u.trim().to_ascii_lowercase()).as_deref() {
                Some("mash") => HopUse::Mash,
                Some("first wort") => HopUse::FirstWort,
                Some("aroma") => HopUse::Aroma,
                Some("dry hop") => HopUse::DryHop,
                _ => HopUse::Boil,
            };
            Ok(HopAddition {
                name: required("HOP/NAME", &hop.name)?,
                kilograms: number("HOP/AMOUNT", &hop.amount)?.unwrap_or(0.0),
                use_,
                minutes: if use_ == HopUse::DryHop {
                    time.filter(|t| *t > 0)
                } else {
                    time
                },
                purpose: match hop.kind.as_deref().map(str::trim) {
                    Some("Bittering") => Some(HopPurpose::Bittering),
                    Some("Aroma") => Some(HopPurpose::Aroma),
                    Some("Both") => Some(HopPurpose::Both),
                    _ => None,
                },
            })
        })
        .collect::<Result<_, FormatError>>()?;
    let malts = recipe
        .fermentables
        .fermentable
        .iter()
        .map(|malt| {
            Ok(Fermentable {
                name: required("FERMENTABLE/NAME", &malt.name)?,
                kilograms: number("FERMENTABLE/AMOUNT", &malt.amount)?.unwrap_or(0.0),
            })
        })
        .collect::<Result<_, FormatError>>()?;
    let mash_steps = match &recipe.mash {
        Some(mash) => mash
            .mash_steps
            .mash_step
            .iter()
            .map(|step| {
                Ok(MashRest {
                    celsius: number("MASH_STEP/STEP_TEMP", &step.step_temp)?.unwrap_or(0.0),
                    minutes: number("MASH_STEP/STEP_TIME", &step.step_time)?.map(|t| t.round() as i64),
                })
            })
            .collect::<Result<_, FormatError>>()?,
        None => Vec::new(),
    };
    let yeast = recipe.yeasts.yeast.first();
    Ok(Recipe {
        name: required("NAME", &recipe.name)?,
        author: recipe.brewer.clone().unwrap_or_default().trim().to_owned(),
        style: recipe.style.as_ref().and_then(|s| s.name.clone()),
        batch_litres: number("BATCH_SIZE", &recipe.batch_size)?,
        boil_litres: number("BOIL_SIZE", &recipe.boil_size)?,
        og: number("OG", &recipe.og)?,
        fg: number("FG", &recipe.fg)?,
        abv: match number("ABV", &recipe.abv)? {
            Some(abv) => abv,
            None => estimated_abv(number("OG", &recipe.og)?, number("FG", &recipe.fg)?),
        },
        ibu: number("IBU", &recipe.ibu)?,
        ebc: None,
        srm: number("EST_COLOR", &recipe.est_color)?,
        attenuation: match yeast {
            Some(yeast) => number("YEAST/ATTENUATION", &yeast.attenuation)?,
            None => None,
        },
        ph: None,
        malts,
        hops,
        yeast: yeast.and_then(|y| y.name.clone()),
        mash_steps,
        fermentation_celsius: number("PRIMARY_TEMP", &recipe.primary_temp)?,
        notes: recipe.notes.unwrap_or_default(),
    })
}
