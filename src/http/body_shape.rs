//! Every way a JSON body fails to have a type's shape, field by field. serde stops at the first problem (`{"name": 5,
//! "abv": "x"}` would name only `name`); a client fixing its body one answer at a time deserves the whole list, as
//! the rule violations give it.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::domain::{BeerFields, FieldError, ViolationKind, json_kind};

/// A type whose shape problems can be listed: `minimal` is the smallest valid body (its keys are the required
/// fields), so each field of a body can be tried on its own beside valid values of the others.
pub trait Shaped: DeserializeOwned {
    fn minimal() -> Map<String, Value>;
}

impl Shaped for BeerFields {
    /// `name` and `abv`: the fields without a default.
    fn minimal() -> Map<String, Value> {
        let mut minimal = Map::new();
        minimal.insert("name".to_owned(), Value::from("x"));
        minimal.insert("abv".to_owned(), Value::from(0));
        minimal
    }
}

/// The problems of `body` as a `T`, each field once: missing required fields, then each present field that is
/// unknown or of the wrong type, with the JSON path of the innermost wrong value. Empty when `body` is a `T`.
pub fn shape_problems<T: Shaped>(body: &Value) -> Vec<FieldError> {
    let Value::Object(fields) = body else {
        return match T::deserialize(body) {
            Ok(_) => Vec::new(),
            // `.`: the body itself (serde_path_to_error's name for the root).
            Err(_) => vec![problem(
                ".".to_owned(),
                format!("must be a JSON object, got {}", json_kind(body)),
            )],
        };
    };
    let minimal = T::minimal();
    let mut problems: Vec<FieldError> = minimal
        .keys()
        .filter(|key| !fields.contains_key(*key))
        .map(|key| problem(key.clone(), "is required".to_owned()))
        .collect();
    for (key, value) in fields {
        let mut alone = minimal.clone();
        alone.insert(key.clone(), value.clone());
        if let Err(error) = serde_path_to_error::deserialize::<_, T>(Value::Object(alone)) {
            // An unknown field fails before its key is on the path.
            let path = match error.path().to_string() {
                path if path == "." => key.clone(),
                path => path,
            };
            problems.push(problem(path, error.into_inner().to_string()));
        }
    }
    if problems.is_empty()
        && let Err(error) = serde_path_to_error::deserialize::<_, T>(body.clone())
    {
        // Not a problem of any one field (none is known): serde's own words, so nothing passes unreported.
        problems.push(problem(error.path().to_string(), error.into_inner().to_string()));
    }
    problems
}

fn problem(field: String, message: String) -> FieldError {
    FieldError {
        field,
        message,
        kind: ViolationKind::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::shape_problems;
    use crate::domain::BeerFields;

    fn problems(body: serde_json::Value) -> Vec<(String, String)> {
        shape_problems::<BeerFields>(&body)
            .into_iter()
            .map(|p| (p.field, p.message))
            .collect()
    }

    #[test]
    fn every_wrong_field_is_named_in_one_answer() {
        assert_eq!(
            problems(json!({"name": 5, "abv": "x"})),
            [
                (
                    "abv".to_owned(),
                    "invalid type: string \"x\", expected a JSON number".to_owned()
                ),
                (
                    "name".to_owned(),
                    "invalid type: integer `5`, expected a string".to_owned()
                ),
            ]
        );
        let fields: Vec<String> = problems(json!({})).into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["abv", "name"]);
        let found = problems(json!({
            "name": "Typo", "abv": 5, "ibus": 40, "ingredients": {"malt": [{"name": 1}]}, "volume": "20 l"
        }));
        let fields: Vec<&str> = found.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["ibus", "ingredients.malt[0].name", "volume"], "{found:?}");
        assert!(found[0].1.starts_with("unknown field `ibus`"), "{found:?}");
    }

    #[test]
    fn a_valid_body_has_no_problems_and_a_non_object_one() {
        assert!(problems(json!({"name": "Fine", "abv": 4.5})).is_empty());
        assert!(problems(serde_json::Value::Object(<BeerFields as super::Shaped>::minimal())).is_empty());
        assert_eq!(
            problems(json!([1])),
            [(".".to_owned(), "must be a JSON object, got an array".to_owned())]
        );
    }
}
