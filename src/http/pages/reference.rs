//! `/docs`: the API reference, rendered from the service's own OpenAPI document (the one `/openapi.json`
//! serves), so it lists exactly the operations the service has: parameters, bodies, responses, and a `curl`
//! example for each, for both the native API and the Punk API v2.

use std::sync::LazyLock;

use axum::http::{HeaderMap, header};
use maud::{Markup, html};
use serde_json::{Map, Value};

use super::{Nav, Page, layout};

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The document as JSON (walking plain JSON keeps this page independent of utoipa's Rust types).
static DOCUMENT: LazyLock<Value> =
    LazyLock::new(|| serde_json::to_value(crate::http::openapi::api_doc()).expect("the OpenAPI document serialises"));

/// Example values for query parameters in the `curl` examples (the first two an operation has are used).
const QUERY_EXAMPLES: &[(&str, &str)] = &[("beer_name", "punk"), ("abv_gt", "6"), ("per_page", "5")];

pub async fn docs_page(headers: HeaderMap) -> Page {
    let base = base_url(&headers);
    Page::ok(layout("API reference", Nav::Docs, reference_markup(&DOCUMENT, &base)))
}

/// The address the reader reached this service at, for copy-pasteable examples. Behind the load balancer the
/// scheme comes from `X-Forwarded-Proto`.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost:8080");
    let scheme = match headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// One operation of the document.
struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    spec: &'a Map<String, Value>,
}

impl Operation<'_> {
    fn anchor(&self) -> String {
        let slug: String = self
            .path
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("op-{}{}", self.method, slug.trim_end_matches('-'))
    }

    fn tag(&self) -> &str {
        self.spec
            .get("tags")
            .and_then(|t| t.get(0))
            .and_then(Value::as_str)
            .unwrap_or("other")
    }

    fn needs_key(&self) -> bool {
        self.spec
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty())
    }

    fn parameters(&self) -> Vec<&Value> {
        self.spec
            .get("parameters")
            .and_then(Value::as_array)
            .map(|p| p.iter().collect())
            .unwrap_or_default()
    }
}

fn operations(document: &Value) -> Vec<Operation<'_>> {
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |method| {
                let spec = item.get(*method)?.as_object()?;
                Some(Operation { method, path, spec })
            })
        })
        .collect()
}

/// Descriptions in the document use Markdown's `code` spans; shown as code, the rest as text (escaped).
fn prose(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

fn schema_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// A schema in a few words: `Beer`, `array of PunkBeer`, `number (> 0)`, `string, pattern ...`.
fn schema_summary(schema: &Value) -> Markup {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = schema_name(reference);
        return html! { a href={ "#schema-" (name) } { (name) } };
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ => "any".to_owned(),
    };
    let mut constraints = Vec::new();
    for (key, label) in [
        ("format", "format"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("pattern", "pattern"),
    ] {
        if let Some(value) = schema.get(key) {
            let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
            constraints.push(format!("{label} {text}"));
        }
    }
    html! {
        @if kind.contains("array") && schema.get("items").is_some() {
            "array of " (schema_summary(&schema["items"]))
        } @else {
            (kind)
        }
        @if !constraints.is_empty() { " " span.constraints { "(" (constraints.join(", ")) ")" } }
    }
}

/// A request body worth sending: the schema's `example`, or one built from its required and exemplified fields.
fn example_body(document: &Value, schema: &Value) -> Option<Value> {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => document.pointer(&format!("/components/schemas/{}", schema_name(reference)))?,
        None => schema,
    };
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    let properties = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut body = Map::new();
    for (name, property) in properties {
        let value = property
            .get("example")
            .cloned()
            .or_else(|| required.contains(&name.as_str()).then(|| placeholder(property)));
        if let Some(value) = value {
            body.insert(name.clone(), value);
        }
    }
    Some(Value::Object(body))
}

fn placeholder(schema: &Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("number" | "integer") => Value::from(1),
        Some("boolean") => Value::Bool(true),
        Some("array") => Value::Array(Vec::new()),
        _ => Value::from("Example"),
    }
}

/// A `curl` command that works as written (`tests/api/docs_examples.rs` runs each against a server): `{id}` is
/// beer 1 (the first sample beer), an upload sends `label.png` from the working directory, and an image's address
/// is beer 1's `image_url` (read with `jq`; a rendition's is made from it), so those need beer 1 to have a label.
fn curl_example(document: &Value, operation: &Operation, base: &str) -> String {
    let path = operation.path.replace("{id}", "1");
    let names: Vec<&str> = operation
        .parameters()
        .iter()
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect();
    let query: Vec<String> = QUERY_EXAMPLES
        .iter()
        .filter(|(name, _)| names.contains(name))
        .take(2)
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    // An image's name is a hash no example can know: ask beer 1 for its link.
    let url = if path.contains("{file}") {
        format!("\"$(curl -s '{base}/beers/1' | jq -r .image_url)\"")
    } else if path.contains("{sha256}") {
        // A rendition is named by its image's hash as well: beer 1's `image_url` without its extension, then a width.
        format!("\"$(curl -s '{base}/beers/1' | jq -r '.image_url | sub(\"\\\\.[a-z]+$\"; \"\")')/128.webp\"")
    } else if query.is_empty() {
        format!("'{base}{path}'")
    } else {
        format!("'{base}{path}?{}'", query.join("&"))
    };
    let content = operation
        .spec
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_object);
    let binary_body = content.is_some_and(|content| !content.contains_key("application/json"));
    let mut lines = vec![match operation.method {
        // `-X HEAD` would wait for a body that never comes: `-I` sends a HEAD and expects none.
        "head" => format!("curl -I {url}"),
        // Headers on the terminal, the image's bytes into a file.
        "get" if path.contains("{file}") => format!("curl -sS -D - -o label-copy.png {url}"),
        "get" if path.contains("{rendition}") => format!("curl -sS -D - -o label-128.webp {url}"),
        "get" => format!("curl -i {url}"),
        method => format!("curl -i -X {} {url}", method.to_uppercase()),
    }];
    if operation.needs_key() {
        lines.push("  -H \"Authorization: Bearer $API_KEY\"".to_owned());
    }
    let json_body = content.and_then(|content| content.get("application/json")?.get("schema"));
    if let Some(body) = json_body.and_then(|schema| example_body(document, schema)) {
        lines.push("  -H 'Content-Type: application/json'".to_owned());
        lines.push(format!("  -d '{body}'"));
    } else if binary_body {
        // The file's bytes as they are (`-d` would strip line breaks and read no file).
        lines.push("  --data-binary @label.png".to_owned());
    }
    lines.join(" \\\n")
}

fn reference_markup(document: &Value, base: &str) -> Markup {
    let operations = operations(document);
    let tags: Vec<(String, String)> = document
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .map(|t| {
                    let text = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                    (text("name"), text("description"))
                })
                .collect()
        })
        .unwrap_or_default();
    let info = |key: &str| {
        document
            .pointer(&format!("/info/{key}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let schemas = document.pointer("/components/schemas").and_then(Value::as_object);
    html! {
        h1 { "API reference" }
        p.lead { (prose(info("description"))) }
        p {
            "Generated from this service's OpenAPI " (document.get("openapi").and_then(Value::as_str).unwrap_or_default())
            " document, " a href="/openapi.json" { "/openapi.json" } " (version " (info("version")) "). "
            "Operations marked " strong { "API key" } " need " code { "Authorization: Bearer <key>" } " when the server has keys configured."
        }
        p {
            "The examples run as written in a shell with " code { "curl" } " and " code { "jq" } ": they use beer 1, "
            "send " code { "label.png" } " from the working directory as a label, read an image's address from beer 1's "
            code { "image_url" } " (so upload a label first), and take the key from " code { "$API_KEY" } "."
        }
        nav.toc aria-label="Operations" {
            @for (tag, _) in &tags {
                div.toc-group {
                    h2.toc-title { (tag) }
                    ul {
                        @for op in operations.iter().filter(|op| op.tag() == tag) {
                            li { a href={ "#" (op.anchor()) } { span.method { (op.method.to_uppercase()) } " " code { (op.path) } } }
                        }
                    }
                }
            }
        }
        @for (tag, description) in &tags {
            section.tag aria-labelledby={ "tag-" (tag) } {
                h2 #{ "tag-" (tag) } { (tag) }
                @if !description.is_empty() { p { (prose(description)) } }
                @for op in operations.iter().filter(|op| op.tag() == tag) { (operation_markup(document, op, base)) }
            }
        }
        @if let Some(schemas) = schemas {
            section aria-labelledby="schemas" {
                h2 #schemas { "Schemas" }
                @for (name, schema) in schemas {
                    div.schema #{ "schema-" (name) } {
                        h3 { (name) }
                        @if let Some(description) = schema.get("description").and_then(Value::as_str) { p { (prose(description)) } }
                        details {
                            summary { "JSON Schema of " (name) }
                            pre { code { (serde_json::to_string_pretty(schema).unwrap_or_default()) } }
                        }
                    }
                }
            }
        }
    }
}

fn operation_markup(document: &Value, op: &Operation, base: &str) -> Markup {
    let text = |key: &str| op.spec.get(key).and_then(Value::as_str).unwrap_or_default();
    let parameters = op.parameters();
    let responses = op.spec.get("responses").and_then(Value::as_object);
    let body = op.spec.get("requestBody");
    html! {
        section.operation #(op.anchor()) data-method=(op.method.to_uppercase()) data-path=(op.path)
            aria-labelledby={ (op.anchor()) "-title" } {
            h3 #{ (op.anchor()) "-title" } {
                span.method { (op.method.to_uppercase()) } " " code { (op.path) }
                @if op.needs_key() { " " span.badge { "API key" } }
            }
            @if !text("summary").is_empty() { p { (prose(text("summary"))) } }
            @if !text("description").is_empty() && text("description") != text("summary") { p { (prose(text("description"))) } }
            @if !parameters.is_empty() {
                table.params {
                    caption { "Parameters" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "In" } th scope="col" { "Type" } th scope="col" { "Required" } th scope="col" { "Description" } } }
                    tbody {
                        @for p in &parameters {
                            tr {
                                td { code { (p.get("name").and_then(Value::as_str).unwrap_or_default()) } }
                                td { (p.get("in").and_then(Value::as_str).unwrap_or_default()) }
                                td { (p.get("schema").map(schema_summary).unwrap_or_default()) }
                                td { @if p.get("required").and_then(Value::as_bool).unwrap_or(false) { "yes" } @else { "no" } }
                                td { (prose(p.get("description").and_then(Value::as_str).unwrap_or_default())) }
                            }
                        }
                    }
                }
            }
            @if let Some(body) = body {
                h4 { "Request body" @if body.get("required").and_then(Value::as_bool).unwrap_or(false) { " (required)" } }
                ul {
                    @for (content_type, media) in body.get("content").and_then(Value::as_object).into_iter().flatten() {
                        li { code { (content_type) } ": " (media.get("schema").map(schema_summary).unwrap_or_default()) }
                    }
                }
            }
            @if let Some(responses) = responses {
                table.responses {
                    caption { "Responses" }
                    thead { tr { th scope="col" { "Status" } th scope="col" { "Meaning" } th scope="col" { "Body" } } }
                    tbody {
                        @for (status, response) in responses {
                            tr {
                                td { (status) }
                                td { (prose(response.get("description").and_then(Value::as_str).unwrap_or_default())) }
                                td {
                                    @for (content_type, media) in response.get("content").and_then(Value::as_object).into_iter().flatten() {
                                        code { (content_type) } " "
                                        (media.get("schema").map(schema_summary).unwrap_or_default())
                                        br;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h4 { "Example" }
            pre.example { code { (curl_example(document, op, base)) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_of_the_document_is_on_the_page() {
        let page = reference_markup(&DOCUMENT, "http://localhost:8080").into_string();
        let operations = operations(&DOCUMENT);
        assert!(operations.len() >= 10, "{}", operations.len());
        for op in &operations {
            let marker = format!("data-method=\"{}\" data-path=\"{}\"", op.method.to_uppercase(), op.path);
            assert!(page.contains(&marker), "missing {marker}");
        }
    }

    #[test]
    fn write_examples_carry_the_key_and_a_valid_body() {
        let post = operations(&DOCUMENT)
            .into_iter()
            .find(|op| op.method == "post" && op.path == "/beers")
            .unwrap();
        let example = curl_example(&DOCUMENT, &post, "http://localhost:8080");
        assert!(
            example.starts_with("curl -i -X POST 'http://localhost:8080/beers'"),
            "{example}"
        );
        assert!(example.contains("Authorization: Bearer $API_KEY"), "{example}");
        let body = example.split("-d '").nth(1).unwrap().trim_end_matches('\'');
        let fields: crate::domain::BeerFields = serde_json::from_str(body).unwrap();
        assert_eq!(crate::domain::validate(&fields), Ok(()));
    }

    #[test]
    fn the_base_url_follows_the_request() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "beers.example.com".parse().unwrap());
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(base_url(&headers), "https://beers.example.com");
        assert_eq!(base_url(&HeaderMap::new()), "http://localhost:8080");
    }
}
