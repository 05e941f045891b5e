//! The OpenAPI 3.1 document, generated from the handlers' annotations and derived from the routes that
//! [`super::routes`] registers; `tests/api/openapi.rs` snapshots it and checks that every documented operation is
//! served.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "beer-catalog",
        description = "A beer catalog API. `/beers` is the native API (errors as RFC 9457 problem details); \
                       `/v2/beers` speaks the Punk API v2 dialect (same paths, filters, shapes and errors).",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "beers", description = "The native catalog API"),
        (name = "punk-v2", description = "Punk API v2 compatibility"),
        (name = "recipes", description = "Beers as BeerXML 1.0 and BeerJSON 1.0 recipes for brewing software \
                                          (also by `Accept` on `/beers` and `/beers/{id}`)"),
        (name = "facets", description = "Ingredient names of the beers matching a filter, with their beer counts and \
                                         every spelling, for filter menus"),
        (name = "images", description = "Label images, content-addressed (the URLs in `image_url`)"),
        (name = "operations", description = "Health, readiness and this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// `Beer` and `PunkBeer` flatten `BeerFields`, whose schema forbids additional properties (unknown input fields
/// are rejected). In an `allOf`, that restriction would wrongly reject the response's own `id` and timestamps, so
/// the response schemas drop it from their inlined copy.
struct OpenResponseObjects;

impl Modify for OpenResponseObjects {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in ["Beer", "PunkBeer"] {
            if let Some(RefOr::T(Schema::AllOf(all_of))) = components.schemas.get_mut(name) {
                for item in &mut all_of.items {
                    if let RefOr::T(Schema::Object(object)) = item {
                        object.additional_properties = None;
                    }
                }
            }
        }
    }
}

/// The document's info, tags and security schemes, before the routes add their operations.
pub fn base_document() -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    // Served by `GET /beers/{id}`, documented as their own paths (see `recipes::DownloadPaths`).
    document.merge(super::recipes::DownloadPaths::openapi());
    // Answered by `GET /images/{file}`'s handler (see `images::HeadPaths`).
    document.merge(super::images::HeadPaths::openapi());
    document
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// The generated document. (Modifiers that need the routes' schemas run here: `ApiDoc`'s own run before the
/// routes add theirs.)
pub fn api_doc() -> utoipa::openapi::OpenApi {
    let mut document = super::routes().split_for_parts().1;
    OpenResponseObjects.modify(&mut document);
    super::rate_limit::DocumentRateLimit.modify(&mut document);
    super::text_schema::NoControlCharacters.modify(&mut document);
    super::punk::EmptyIdsMatchNothing.modify(&mut document);
    super::export::ExportParameters.modify(&mut document);
    document
}

/// This document, as JSON.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let body = DOCUMENT.get_or_init(|| api_doc().to_pretty_json().expect("the OpenAPI document serialises"));
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}
