//! What a catalog beer has that BeerXML and BeerJSON have no field for (tagline, description, food pairings, the
//! Punk wording of hop additions, units other than the formats' own...). It goes into the recipe's notes twice:
//! as text a brewer reads in their software, and as one JSON line, [`MARKER`], that an import reads back so a
//! round trip (export, import, export) loses nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::domain::BeerFields;

/// The start of the notes line holding the extras as JSON.
pub const MARKER: &str = "beer-catalog-extras: ";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Extras {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tagline: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub first_brewed: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub food_pairing: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub brewers_tips: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twist: Option<String>,
    /// Both colours: each format has one (BeerXML SRM, BeerJSON EBC), the catalog keeps both as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ebc: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub srm: Option<Number>,
    /// BeerXML has no beer pH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ph: Option<Number>,
    /// A gravity that is not one (neither 1044 nor 1.044), kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_og: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_fg: Option<Number>,
    /// Each hop's Punk `add` and `attribute`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<HopLabel>,
    /// Units other than the catalog's usual ones, by place (`hops.3`, `volume`...): the formats have one unit.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub units: BTreeMap<String, String>,
    /// Fields the catalog has no value for that a format requires (written there as zero or empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HopLabel {
    pub add: String,
    pub attribute: String,
}

impl Extras {
    /// The fields of `beer` no format has a home for (units and placeholders are added as the recipe is built).
    pub fn unmapped_of(beer: &BeerFields) -> Self {
        Extras {
            tagline: beer.tagline.clone(),
            first_brewed: beer.first_brewed.clone(),
            description: beer.description.clone(),
            image_url: beer.image_url.clone(),
            food_pairing: beer.food_pairing.clone(),
            brewers_tips: beer.brewers_tips.clone(),
            twist: beer.method.twist.clone(),
            ebc: beer.ebc.clone(),
            srm: beer.srm.clone(),
            ph: beer.ph.clone(),
            hops: beer
                .ingredients
                .hops
                .iter()
                .map(|hop| HopLabel {
                    add: hop.add.clone(),
                    attribute: hop.attribute.clone(),
                })
                .collect(),
            ..Extras::default()
        }
    }

    /// The notes: readable text first, then the JSON line.
    pub fn into_notes(self, beer: &BeerFields) -> String {
        let mut text = String::new();
        if !beer.description.is_empty() {
            text.push_str(&beer.description);
            text.push_str("\n\n");
        }
        let mut line = |label: &str, value: &str| {
            if !value.is_empty() {
                text.push_str(&format!("{label}: {value}\n"));
            }
        };
        line("Tagline", &beer.tagline);
        line("First brewed", &beer.first_brewed);
        line("Food pairing", &beer.food_pairing.join("; "));
        line("Brewer's tips", &beer.brewers_tips);
        line("Twist", beer.method.twist.as_deref().unwrap_or_default());
        let hops: Vec<String> = beer
            .ingredients
            .hops
            .iter()
            .map(|hop| format!("{} ({}, {})", hop.name, hop.add, hop.attribute))
            .collect();
        line("Hop additions as written", &hops.join("; "));
        let json = serde_json::to_string(&self).expect("extras serialise");
        format!("{text}\n{MARKER}{json}")
    }

    /// The extras of notes written by [`Extras::into_notes`]; `None` for notes from elsewhere.
    pub fn from_notes(notes: &str) -> Option<Self> {
        let line = notes
            .lines()
            .rev()
            .find_map(|line| line.trim().strip_prefix(MARKER.trim_end()))?;
        serde_json::from_str(line.trim()).ok()
    }

    /// `fields` (read from a format) completed with what only the notes kept.
    pub fn restore(self, fields: BeerFields) -> BeerFields {
        let mut fields = fields;
        fields.tagline = self.tagline;
        fields.first_brewed = self.first_brewed;
        fields.description = self.description;
        fields.image_url = self.image_url;
        fields.food_pairing = self.food_pairing;
        fields.brewers_tips = self.brewers_tips;
        fields.method.twist = self.twist;
        fields.ebc = as_written(fields.ebc, self.ebc);
        fields.srm = as_written(fields.srm, self.srm);
        fields.ph = as_written(fields.ph, self.ph);
        fields
    }
}

/// The value read from the format (edited in brewing software, perhaps), in the form the notes kept when it is the
/// same number (`4.0` stays `4.0`, which the notes themselves repeat).
fn as_written(read: Option<Number>, written: Option<Number>) -> Option<Number> {
    match (read, written) {
        (Some(read), Some(written)) if read.as_f64() == written.as_f64() => Some(written),
        (Some(read), _) => Some(read),
        (None, written) => written,
    }
}
