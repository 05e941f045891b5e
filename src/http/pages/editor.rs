//! `/catalog/new` and `/catalog/{id}/edit`: the beer form. The server renders it (labels, current values, where
//! each field's message goes); the script (`assets/app.js`) sends it to the API itself with the key the person
//! typed as `Authorization: Bearer`, so the key never reaches a URL, a cookie or this server's pages, and the
//! messages shown are the API's own 422 answers, field by field.

use axum::extract::{Path, State};
use maud::{Markup, html};
use serde_json::Number;

use super::catalog::label_src;
use super::{Nav, Page, PageError, layout};
use crate::domain::{Beer, BeerFields};
use crate::http::AppState;

#[derive(Copy, Clone, PartialEq, Eq)]
enum Kind {
    /// One line of text.
    Text,
    /// A number (sent as a JSON number; empty means unknown).
    Number,
    /// Several paragraphs.
    LongText,
    /// A list of strings, one per line.
    Lines,
}

/// A form field: its JSON path in the beer (the `field` the API names in its errors), label and kind.
struct Field {
    path: &'static str,
    label: &'static str,
    kind: Kind,
    hint: Option<&'static str>,
    required: bool,
}

const fn field(path: &'static str, label: &'static str, kind: Kind) -> Field {
    Field {
        path,
        label,
        kind,
        hint: None,
        required: false,
    }
}

const GENERAL: &[Field] = &[
    Field {
        required: true,
        ..field("name", "Name", Kind::Text)
    },
    field("tagline", "Tagline", Kind::Text),
    Field {
        hint: Some("MM/YYYY or YYYY, e.g. 04/2007"),
        ..field("first_brewed", "First brewed", Kind::Text)
    },
    field("style", "Style", Kind::Text),
    field("description", "Description", Kind::LongText),
];

const NUMBERS: &[Field] = &[
    Field {
        required: true,
        hint: Some("0 to 100"),
        ..field("abv", "ABV (%)", Kind::Number)
    },
    field("ibu", "IBU", Kind::Number),
    field("ebc", "EBC", Kind::Number),
    field("srm", "SRM", Kind::Number),
    Field {
        hint: Some("0 to 14"),
        ..field("ph", "pH", Kind::Number)
    },
    field("target_og", "Target OG", Kind::Number),
    field("target_fg", "Target FG", Kind::Number),
    field("attenuation_level", "Attenuation level", Kind::Number),
];

const RECIPE: &[Field] = &[
    Field {
        hint: Some("One pairing per line"),
        ..field("food_pairing", "Food pairing", Kind::Lines)
    },
    field("ingredients.yeast", "Yeast", Kind::Text),
    field("method.twist", "Twist", Kind::LongText),
    field("brewers_tips", "Brewer\u{2019}s tips", Kind::LongText),
    field("contributed_by", "Contributed by", Kind::Text),
];

/// The current value of a field, as the form shows it.
fn current_value(fields: &BeerFields, path: &str) -> String {
    let number = |n: Option<&Number>| n.map(Number::to_string).unwrap_or_default();
    match path {
        "name" => fields.name.clone(),
        "tagline" => fields.tagline.clone(),
        "first_brewed" => fields.first_brewed.clone(),
        "style" => fields.style.clone().unwrap_or_default(),
        "description" => fields.description.clone(),
        "abv" => fields.abv.to_string(),
        "ibu" => number(fields.ibu.as_ref()),
        "ebc" => number(fields.ebc.as_ref()),
        "srm" => number(fields.srm.as_ref()),
        "ph" => number(fields.ph.as_ref()),
        "target_og" => number(fields.target_og.as_ref()),
        "target_fg" => number(fields.target_fg.as_ref()),
        "attenuation_level" => number(fields.attenuation_level.as_ref()),
        "food_pairing" => fields.food_pairing.join("\n"),
        "ingredients.yeast" => fields.ingredients.yeast.clone().unwrap_or_default(),
        "method.twist" => fields.method.twist.clone().unwrap_or_default(),
        "brewers_tips" => fields.brewers_tips.clone(),
        "contributed_by" => fields.contributed_by.clone(),
        _ => String::new(),
    }
}

pub async fn new_page() -> Page {
    Page::ok(layout("Add a beer", Nav::New, form_markup(None)))
}

pub async fn edit_page(State(state): State<AppState>, Path(raw_id): Path<String>) -> Result<Page, PageError> {
    let not_found = || PageError::not_found(format!("there is no beer {raw_id} in the catalog"));
    let id = crate::http::extract::parse_beer_id(raw_id.clone()).map_err(|_| not_found())?;
    let beer = state.catalog.reads().get(id).await?.ok_or_else(not_found)?;
    Ok(Page::ok(layout(
        &format!("Edit {}", beer.fields.name),
        Nav::None,
        form_markup(Some(&beer)),
    )))
}

fn field_markup(spec: &Field, fields: Option<&BeerFields>) -> Markup {
    let id = format!("beer-{}", spec.path.replace('.', "-"));
    let value = fields.map(|f| current_value(f, spec.path)).unwrap_or_default();
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = match spec.hint {
        Some(_) => format!("{hint_id} {error_id}"),
        None => error_id.clone(),
    };
    let kind = match spec.kind {
        Kind::Text | Kind::LongText => "text",
        Kind::Number => "number",
        Kind::Lines => "lines",
    };
    html! {
        div.field data-field=(spec.path) {
            label for=(id) {
                (spec.label)
                @if spec.required { " " span.required { "(required)" } }
            }
            @match spec.kind {
                Kind::Text => {
                    input #(id) name=(spec.path) type="text" value=(value) data-kind=(kind)
                        aria-describedby=(described_by) aria-required=[spec.required.then_some("true")];
                }
                Kind::Number => {
                    // Text, not type=number: the API judges the value and its message is the one shown.
                    input #(id) name=(spec.path) type="text" inputmode="decimal" value=(value) data-kind=(kind)
                        aria-describedby=(described_by) aria-required=[spec.required.then_some("true")];
                }
                Kind::LongText | Kind::Lines => {
                    textarea #(id) name=(spec.path) rows=(if spec.kind == Kind::Lines { 3 } else { 4 }) data-kind=(kind)
                        aria-describedby=(described_by) { (value) }
                }
            }
            @if let Some(hint) = spec.hint { small.hint #(hint_id) { (hint) } }
            p.field-error #(error_id) aria-live="polite" {}
        }
    }
}

fn form_markup(beer: Option<&Beer>) -> Markup {
    let fields = beer.map(|b| &b.fields);
    let title = match beer {
        Some(beer) => format!("Edit {}", beer.fields.name),
        None => "Add a beer".to_owned(),
    };
    html! {
        h1 { (title) }
        noscript { p.notice.error { "Saving needs JavaScript: the page sends your changes to the API with your key." } }
        section.key-box aria-labelledby="key-title" {
            h2 #key-title { "API key" }
            p #key-help {
                "Changes are sent to the API with this key as " code { "Authorization: Bearer" } ". "
                "It stays in this browser tab (session storage): never in a link, a cookie or on the server."
            }
            div.field {
                label for="api-key" { "Your API key" }
                input #api-key type="password" autocomplete="off" spellcheck="false" aria-describedby="key-help";
            }
            button #forget-key type="button" .secondary { "Forget the key" }
        }
        div #form-status role="status" aria-live="polite" {}
        form #beer-form method="post" action="#" novalidate
            data-beer-id=[beer.map(|b| b.id)] aria-describedby="form-status" {
            fieldset {
                legend { "The beer" }
                @for spec in GENERAL { (field_markup(spec, fields)) }
            }
            fieldset {
                legend { "Measurements" }
                div.filter-grid { @for spec in NUMBERS { (field_markup(spec, fields)) } }
            }
            fieldset {
                legend { "Recipe" }
                @for spec in RECIPE { (field_markup(spec, fields)) }
                p.hint { "Malts, hops and mash steps are kept as they are; change them through the API." }
            }
            div.actions {
                button type="submit" { @if beer.is_some() { "Save changes" } @else { "Add the beer" } }
                @if let Some(beer) = beer { a.button.secondary href={ "/catalog/" (beer.id) } { "Back to the beer" } }
            }
        }
        @if let Some(beer) = beer {
            section.image-box #image-box aria-labelledby="image-title" data-beer-id=(beer.id) {
                h2 #image-title { "Label image" }
                @let src = label_src(beer);
                img #image-preview .label.large src=[src.as_deref()] width="135" height="529"
                    alt={ "Label of " (beer.fields.name) } hidden[src.is_none()];
                p #no-image hidden[src.is_some()] { "This beer has no label image stored here." }
                div.field {
                    label for="image-file" { "Upload a label (PNG, JPEG or WebP)" }
                    input #image-file type="file" accept="image/png,image/jpeg,image/webp";
                }
                div.actions {
                    button #image-upload type="button" { "Upload image" }
                    button #image-remove type="button" .secondary { "Remove image" }
                }
                div #image-status role="status" aria-live="polite" {}
            }
        }
    }
}
