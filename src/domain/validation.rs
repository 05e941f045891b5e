//! Business rules for a beer, beyond what its JSON shape already enforces. Every violation is collected (not just
//! the first) so a client fixes its payload in one round trip.

use serde::Serialize;
use serde_json::Number;
use utoipa::ToSchema;

use super::beer::{BeerFields, Quantity, YearMonth};

pub const NAME_MAX: usize = 200;
const SHORT_TEXT_MAX: usize = 300;
const LONG_TEXT_MAX: usize = 5_000;
const URL_MAX: usize = 2_048;
const LIST_MAX: usize = 50;

/// One broken rule, named by the JSON path of the field.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `ingredients.hops[2].name`.
    pub field: String,
    pub message: String,
    /// Range violations are the only kind `import` may accept, as warnings, from a trusted dataset: the real Punk
    /// API data has one (beer 317, pH 79). Everything else would store malformed data.
    #[serde(skip)]
    pub kind: ViolationKind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum ViolationKind {
    #[default]
    Invalid,
    OutOfRange,
}

#[derive(Default)]
struct Violations(Vec<FieldError>);

impl Violations {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.push_kind(field, message, ViolationKind::Invalid);
    }

    fn push_kind(&mut self, field: impl Into<String>, message: impl Into<String>, kind: ViolationKind) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
            kind,
        });
    }

    fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.push(field, format!("must be at most {max} characters"));
        }
    }

    fn list_len(&mut self, field: &str, len: usize) {
        if len > LIST_MAX {
            self.push(field, format!("must hold at most {LIST_MAX} items"));
        }
    }

    /// `min..=max` check on an optional measurement; `None` (unknown) is always allowed.
    fn range(&mut self, field: &str, value: Option<&Number>, min: f64, max: Option<f64>) {
        let Some(value) = value.and_then(Number::as_f64) else {
            return;
        };
        let in_range = value >= min && max.is_none_or(|max| value <= max);
        if !in_range {
            let message = match max {
                Some(max) => format!("must be between {min} and {max} (got {value})"),
                None => format!("must be at least {min} (got {value})"),
            };
            self.push_kind(field, message, ViolationKind::OutOfRange);
        }
    }

    fn quantity(&mut self, field: &str, quantity: Option<&Quantity>) {
        if let Some(quantity) = quantity {
            self.text(&format!("{field}.unit"), &quantity.unit, 50);
        }
    }
}

/// Control characters other than tab, line feed and carriage return. A NUL cannot be stored by PostgreSQL at all
/// (SQLite would keep it, so the backends would disagree), and the others are invisible garbage in a catalog that
/// renders text in web pages and terminals.
pub fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether a beer's JSON text may hold a forbidden control character: a cheap test on one flat string (the walk
/// that names the field builds the beer's whole value tree, a large part of an import's time), run first. JSON
/// text escapes every C0 control, as `\t`, `\n`, `\r` (allowed) or `\b`, `\f`, `\u00XX`; DEL and the C1
/// controls appear as they are. A literal backslash followed by such letters only costs the full walk.
fn may_hold_forbidden_controls(json: &str) -> bool {
    json.contains("\\u00")
        || json.contains("\\b")
        || json.contains("\\f")
        || json.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Every string in the beer, found by walking its JSON form so that a text field added later is covered too.
fn control_characters(v: &mut Violations, value: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            if let Some((at, c)) = text.chars().enumerate().find(|(_, c)| is_forbidden_control(*c)) {
                v.push(
                    path,
                    format!(
                        "must not contain control characters (found U+{:04X} at character {}; only tab, line feed \
                         and carriage return are allowed)",
                        u32::from(c),
                        at + 1
                    ),
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                control_characters(v, item, &format!("{path}[{i}]"));
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                let path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                control_characters(v, item, &path);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Checks a beer against the catalog's rules; `Ok` or every violation found.
pub fn validate(beer: &BeerFields) -> Result<(), Vec<FieldError>> {
    let mut v = Violations::default();

    if beer.name.trim().is_empty() {
        v.push("name", "is required and must not be blank");
    }
    v.text("name", &beer.name, NAME_MAX);
    v.text("tagline", &beer.tagline, SHORT_TEXT_MAX);
    v.text("description", &beer.description, LONG_TEXT_MAX);
    v.text("brewers_tips", &beer.brewers_tips, LONG_TEXT_MAX);
    v.text("contributed_by", &beer.contributed_by, SHORT_TEXT_MAX);
    if let Some(style) = &beer.style {
        v.text("style", style, 100);
    }

    if !beer.first_brewed.is_empty() && YearMonth::parse_first_brewed(&beer.first_brewed).is_none() {
        v.push("first_brewed", "must be MM/YYYY (e.g. 04/2007) or YYYY");
    }

    if let Some(image_url) = &beer.image_url {
        let is_web_url = url::Url::parse(image_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !is_web_url {
            v.push("image_url", "must be an absolute http(s) URL");
        } else if image_url.len() > URL_MAX {
            v.push("image_url", format!("must be at most {URL_MAX} characters"));
        }
    }

    v.range("abv", Some(&beer.abv), 0.0, Some(100.0));
    v.range("ibu", beer.ibu.as_ref(), 0.0, None);
    v.range("ebc", beer.ebc.as_ref(), 0.0, None);
    v.range("srm", beer.srm.as_ref(), 0.0, None);
    v.range("ph", beer.ph.as_ref(), 0.0, Some(14.0));
    v.range("target_fg", beer.target_fg.as_ref(), 0.0, None);
    v.range("target_og", beer.target_og.as_ref(), 0.0, None);
    v.range("attenuation_level", beer.attenuation_level.as_ref(), 0.0, None);

    v.quantity("volume", beer.volume.as_ref());
    v.quantity("boil_volume", beer.boil_volume.as_ref());

    let method = &beer.method;
    v.list_len("method.mash_temp", method.mash_temp.len());
    for (i, step) in method.mash_temp.iter().enumerate() {
        v.quantity(&format!("method.mash_temp[{i}].temp"), Some(&step.temp));
        v.range(
            &format!("method.mash_temp[{i}].duration"),
            step.duration.as_ref(),
            0.0,
            None,
        );
    }
    v.quantity("method.fermentation.temp", method.fermentation.temp.as_ref());
    if let Some(twist) = &method.twist {
        v.text("method.twist", twist, LONG_TEXT_MAX);
    }

    let ingredients = &beer.ingredients;
    v.list_len("ingredients.malt", ingredients.malt.len());
    for (i, malt) in ingredients.malt.iter().enumerate() {
        ingredient_name(&mut v, &format!("ingredients.malt[{i}].name"), &malt.name);
        v.quantity(&format!("ingredients.malt[{i}].amount"), Some(&malt.amount));
    }
    v.list_len("ingredients.hops", ingredients.hops.len());
    for (i, hop) in ingredients.hops.iter().enumerate() {
        ingredient_name(&mut v, &format!("ingredients.hops[{i}].name"), &hop.name);
        v.quantity(&format!("ingredients.hops[{i}].amount"), Some(&hop.amount));
        v.text(&format!("ingredients.hops[{i}].add"), &hop.add, 50);
        v.text(&format!("ingredients.hops[{i}].attribute"), &hop.attribute, 50);
    }
    if let Some(yeast) = &ingredients.yeast {
        v.text("ingredients.yeast", yeast, SHORT_TEXT_MAX);
    }

    v.list_len("food_pairing", beer.food_pairing.len());
    for (i, food) in beer.food_pairing.iter().enumerate() {
        v.text(&format!("food_pairing[{i}]"), food, SHORT_TEXT_MAX);
    }
    if may_hold_forbidden_controls(&serde_json::to_string(beer).expect("a beer always serialises to JSON")) {
        control_characters(
            &mut v,
            &serde_json::to_value(beer).expect("a beer always serialises to JSON"),
            "",
        );
    }

    if v.0.is_empty() { Ok(()) } else { Err(v.0) }
}

fn ingredient_name(v: &mut Violations, field: &str, name: &str) {
    if name.trim().is_empty() {
        v.push(field, "must not be blank");
    }
    v.text(field, name, SHORT_TEXT_MAX);
}

/// What a JSON value is, in words for an error message ("must be a JSON object, got an array").
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beer(json: serde_json::Value) -> BeerFields {
        serde_json::from_value(json).unwrap()
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_minimal_beer_is_valid() {
        assert_eq!(
            validate(&beer(serde_json::json!({"name": "Punk IPA", "abv": 5.6}))),
            Ok(())
        );
    }

    #[test]
    fn every_violation_is_reported_at_once() {
        let errors = validate(&beer(serde_json::json!({
            "name": " ", "abv": 120, "ph": 15, "ibu": -1, "first_brewed": "2007-04",
            "image_url": "ftp://x", "food_pairing": ["a".repeat(400)],
            "ingredients": {"hops": [{"name": "", "amount": {"value": 1, "unit": "g"}}]}
        })))
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "name",
                "first_brewed",
                "image_url",
                "abv",
                "ibu",
                "ph",
                "ingredients.hops[0].name",
                "food_pairing[0]"
            ]
        );
        let kinds: Vec<_> = errors
            .iter()
            .filter(|e| e.kind == ViolationKind::OutOfRange)
            .map(|e| &e.field)
            .collect();
        assert_eq!(kinds, ["abv", "ibu", "ph"]);
    }

    #[test]
    fn control_characters_are_refused_wherever_they_are() {
        let errors = validate(&beer(serde_json::json!({
            "name": "Nul\u{0}Beer", "abv": 5, "description": "Line one\r\n\tLine two",
            "food_pairing": ["ok", "bell\u{7}"],
            "ingredients": {"hops": [{"name": "Citra", "amount": {"value": 1, "unit": "g\u{1b}"}}]},
            "method": {"twist": "del\u{7f}"}
        })))
        .unwrap_err();
        let mut named = fields(&errors);
        named.sort_unstable();
        assert_eq!(
            named,
            [
                "food_pairing[1]",
                "ingredients.hops[0].amount.unit",
                "method.twist",
                "name"
            ]
        );
        let name = errors.iter().find(|e| e.field == "name").unwrap();
        assert!(name.message.contains("U+0000 at character 4"), "{}", name.message);
    }

    #[test]
    fn the_quick_test_misses_no_control_character() {
        for c in (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| is_forbidden_control(*c))
        {
            let json = serde_json::to_string(&format!("a{c}b")).unwrap();
            assert!(may_hold_forbidden_controls(&json), "U+{:04X}", c as u32);
        }
        let allowed = serde_json::to_string("tab\tline\nreturn\r back\\slash ü € \u{a0}").unwrap();
        assert!(!may_hold_forbidden_controls(&allowed), "{allowed}");
    }

    #[test]
    fn name_length_is_bounded() {
        let errors = validate(&beer(serde_json::json!({"name": "x".repeat(NAME_MAX + 1), "abv": 1}))).unwrap_err();
        assert_eq!(fields(&errors), ["name"]);
        assert!(errors[0].message.contains("at most 200"));
    }
}
