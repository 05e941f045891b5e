//! The beer model: every Punk API v2 field plus `style`, and the catalog's own `id` and timestamps.
//!
//! Measurements are `serde_json::Number` rather than `f64` so a value goes out exactly as it came in: the Punk
//! API served `"ibu": 40` and `"abv": 5.0`, and clients comparing responses byte for byte should see the same.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Number;
use utoipa::ToSchema;

use super::image::ImageRef;

/// What a client sends to create or replace a beer, and what the catalog stores for it.
/// Unknown fields are rejected so that a typo (`"ibus": 40`) is an error, not silently lost data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeerFields {
    /// Required, 1 to 200 characters, not blank.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub tagline: String,
    /// `MM/YYYY` or `YYYY`; empty when unknown.
    #[serde(default)]
    #[schema(example = "04/2007", pattern = r"^(((0?[1-9]|1[0-2])/)?[1-9][0-9]{3})?$")]
    pub first_brewed: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    /// An http(s) URL, or null.
    #[serde(default)]
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,4})?(/\S*)?$"
    )]
    pub image_url: Option<String>,
    /// Alcohol by volume in percent, 0 to 100.
    #[schema(value_type = f64, example = 5.6, minimum = 0.0, maximum = 100.0)]
    pub abv: Number,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0.0)]
    pub ibu: Option<Number>,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0.0)]
    pub target_fg: Option<Number>,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0.0)]
    pub target_og: Option<Number>,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0.0)]
    pub ebc: Option<Number>,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0.0)]
    pub srm: Option<Number>,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0.0, maximum = 14.0)]
    pub ph: Option<Number>,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0.0)]
    pub attenuation_level: Option<Number>,
    #[serde(default)]
    pub volume: Option<Quantity>,
    #[serde(default)]
    pub boil_volume: Option<Quantity>,
    #[serde(default)]
    pub method: Method,
    #[serde(default)]
    pub ingredients: Ingredients,
    /// At most 50 pairings of at most 300 characters each.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<ShortText>)]
    pub food_pairing: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub brewers_tips: String,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub contributed_by: String,
    /// Beer style (not in the Punk API); omitted from responses when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "IPA", max_length = 100)]
    pub style: Option<String>,
}

/// A string of at most 300 characters: the OpenAPI schema of each food pairing.
pub struct ShortText;

impl utoipa::PartialSchema for ShortText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(300))
            .into()
    }
}

impl ToSchema for ShortText {}

/// A value with its unit, e.g. `{"value": 20, "unit": "litres"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    #[schema(value_type = Option<f64>)]
    pub value: Option<Number>,
    #[schema(max_length = 50)]
    pub unit: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Method {
    #[serde(default)]
    #[schema(max_items = 50)]
    pub mash_temp: Vec<MashStep>,
    #[serde(default)]
    pub fermentation: Fermentation,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub twist: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MashStep {
    pub temp: Quantity,
    #[serde(default)]
    #[schema(value_type = Option<f64>, minimum = 0.0)]
    pub duration: Option<Number>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fermentation {
    #[serde(default)]
    pub temp: Option<Quantity>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ingredients {
    #[serde(default)]
    #[schema(max_items = 50)]
    pub malt: Vec<Malt>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub hops: Vec<Hop>,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub yeast: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Malt {
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub name: String,
    pub amount: Quantity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Hop {
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub name: String,
    pub amount: Quantity,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub add: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub attribute: String,
}

/// A stored beer, as the native API returns it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Beer {
    pub id: i64,
    // Inlined in the OpenAPI document: BeerFields forbids additional properties (unknown input fields are
    // rejected), which an `allOf` reference would wrongly apply to `id` and the timestamps.
    #[serde(flatten)]
    #[schema(inline)]
    pub fields: BeerFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The label image stored in the catalog, if any. Not serialised as such: [`Beer::link_image`] makes it the
    /// `image_url` clients see.
    #[serde(skip)]
    pub image: Option<ImageRef>,
}

impl Beer {
    /// Points `image_url` at the stored image, as an absolute URL under `public_base_url` (apps put `image_url`
    /// straight into `<img src>` on their own origin, so a relative URL would not load). A beer without a stored
    /// image keeps the `image_url` it was written with.
    pub fn link_image(mut self, public_base_url: &str) -> Self {
        if let Some(image) = &self.image {
            self.fields.image_url = Some(format!("{public_base_url}/images/{}", image.file_name()));
        }
        self
    }
}

/// A stored beer in the Punk API v2 shape: the same fields, without the catalog's timestamps.
#[derive(Serialize, ToSchema)]
pub struct PunkBeer {
    pub id: i64,
    #[serde(flatten)]
    #[schema(inline)]
    pub fields: BeerFields,
}

impl From<Beer> for PunkBeer {
    fn from(beer: Beer) -> Self {
        PunkBeer {
            id: beer.id,
            fields: beer.fields,
        }
    }
}

/// A month, for `first_brewed` comparisons: months since year 0, so ordering is plain integer ordering.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth(pub i64);

impl YearMonth {
    pub fn new(year: i64, month: i64) -> Option<Self> {
        ((1..=12).contains(&month) && (1000..=9999).contains(&year)).then_some(Self(year * 12 + month - 1))
    }

    /// Parses `first_brewed` as the Punk API wrote it: `MM/YYYY`, or `YYYY` (taken as January of that year).
    pub fn parse_first_brewed(text: &str) -> Option<Self> {
        Self::parse_with(text, '/')
    }

    /// Parses the `brewed_before` / `brewed_after` filter format, `MM-YYYY`.
    pub fn parse_filter(text: &str) -> Option<Self> {
        match text.split_once('-') {
            Some(_) => Self::parse_with(text, '-'),
            None => None,
        }
    }

    fn parse_with(text: &str, separator: char) -> Option<Self> {
        let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
            (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<i64>().ok())?
        };
        match text.split_once(separator) {
            Some((month, year)) => Self::new(digits(year, 4..=4)?, digits(month, 1..=2)?),
            None => Self::new(digits(text, 4..=4)?, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_brewed_accepts_month_year_and_year() {
        assert_eq!(YearMonth::parse_first_brewed("09/2007"), YearMonth::new(2007, 9));
        assert_eq!(YearMonth::parse_first_brewed("2016"), YearMonth::new(2016, 1));
        for bad in ["13/2007", "00/2007", "9/07", "2007/09", "", "abcd", "09-2007"] {
            assert_eq!(YearMonth::parse_first_brewed(bad), None, "{bad}");
        }
    }

    #[test]
    fn filter_dates_need_month_and_year() {
        assert_eq!(YearMonth::parse_filter("12-2010"), YearMonth::new(2010, 12));
        assert_eq!(YearMonth::parse_filter("2010"), None);
        assert_eq!(YearMonth::parse_filter("13-2020"), None);
        assert!(YearMonth::parse_filter("01-2011") > YearMonth::parse_filter("12-2010"));
    }

    #[test]
    fn numbers_keep_their_written_form() {
        let json = r#"{"name":"X","abv":5.0,"ibu":40}"#;
        let fields: BeerFields = serde_json::from_str(json).unwrap();
        let out = serde_json::to_value(&fields).unwrap();
        assert_eq!(out["abv"].to_string(), "5.0");
        assert_eq!(out["ibu"].to_string(), "40");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<BeerFields>(r#"{"name":"X","abv":5,"ibus":40}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `ibus`"), "{err}");
    }
}
