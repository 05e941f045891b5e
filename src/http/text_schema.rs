//! The OpenAPI side of the control-character rule (`domain::validation::is_forbidden_control`): every string a
//! client sends in a beer or a text filter gets a `pattern` excluding them, so the document says what the service
//! accepts (and schema-driven clients and fuzzers do not send what it refuses). Done once over the document, not
//! per field, so a text field added later is covered without anyone remembering to.

use utoipa::Modify;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{ArrayItems, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

/// The characters refused in text: C0 controls but tab, line feed and carriage return; DEL; C1 controls.
const CONTROLS: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";

/// Request-side schemas: the beer as written and its parts. (Responses are left alone: `Beer` and `PunkBeer`
/// inline their own copy, and error bodies echo whatever was sent.)
const REQUEST_SCHEMAS: [&str; 9] = [
    "BeerFields",
    "Quantity",
    "Method",
    "MashStep",
    "Fermentation",
    "Ingredients",
    "Malt",
    "Hop",
    "ShortText",
];

pub struct NoControlCharacters;

impl Modify for NoControlCharacters {
    fn modify(&self, openapi: &mut OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            for name in REQUEST_SCHEMAS {
                if let Some(schema) = components.schemas.get_mut(name) {
                    forbid_controls(schema);
                }
            }
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let query = operation.parameters.iter_mut().flatten();
                for parameter in query.filter(|p| p.parameter_in == ParameterIn::Query) {
                    if let Some(schema) = parameter.schema.as_mut() {
                        forbid_controls(schema);
                    }
                }
            }
        }
    }
}

fn is_string(schema_type: &SchemaType) -> bool {
    match schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    }
}

/// Adds the rule to every string schema within (references are patched where they are defined).
fn forbid_controls(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(object) => {
            if is_string(&object.schema_type) {
                object.pattern = Some(combined_pattern(object.pattern.as_deref()));
            }
            object.properties.values_mut().for_each(forbid_controls);
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                forbid_controls(items);
            }
        }
        Schema::OneOf(one_of) => one_of.items.iter_mut().for_each(forbid_controls),
        Schema::AllOf(all_of) => all_of.items.iter_mut().for_each(forbid_controls),
        Schema::AnyOf(any_of) => any_of.items.iter_mut().for_each(forbid_controls),
        _ => {}
    }
}

/// The pattern for a string, given the one it had: `\S` alone ("not blank") becomes "no control characters, and
/// something that is not whitespace"; an anchored pattern (dates, ids, URLs, sort keys) keeps its shape, with any
/// `\S` in it (a URL's path) narrowed to exclude controls too.
fn combined_pattern(existing: Option<&str>) -> String {
    let visible = format!(r"[^\s{CONTROLS}]");
    match existing {
        None => format!("^[^{CONTROLS}]*$"),
        Some(r"\S") => format!("^[^{CONTROLS}]*{visible}[^{CONTROLS}]*$"),
        Some(anchored) => anchored.replace(r"\S", &visible),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_combine_with_the_existing_rule() {
        assert_eq!(
            combined_pattern(None),
            r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
        );
        assert!(combined_pattern(Some(r"\S")).contains(r"[^\s\u0000"));
        assert_eq!(combined_pattern(Some("^[0-9]+$")), "^[0-9]+$");
        assert_eq!(
            combined_pattern(Some(r"^https?://x(/\S*)?$")),
            r"^https?://x(/[^\s\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*)?$"
        );
    }
}
