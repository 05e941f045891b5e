//! The Punk API v2 surface (`/v2/beers`...): the same paths, filters, JSON shapes and errors as the public Punk
//! API that shut down in May 2024, so the apps written against it work by changing only their base URL.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, PunkError, PunkErrorBody};
use super::extract::parse_beer_id;
use super::params::{FilterParams, PageParams};
use super::response::json_text;
use super::state::AppState;
use crate::domain::{PunkBeer, Surface, parse_list_query};
use crate::storage::JsonShape;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_beers))
        .routes(routes!(random_beer))
        .routes(routes!(get_beer))
}

type PunkResult = Result<axum::Json<Vec<PunkBeer>>, PunkError>;

/// List beers by ascending id, 25 a page by default; unknown parameters are ignored, as Punk did. The body is what
/// Punk sent; `X-Total-Count` and `Link` (which Punk lacked) carry the total and the neighbouring pages.
#[utoipa::path(
    get, path = "/v2/beers", tag = "punk-v2", params(PageParams, FilterParams),
    responses(
        (status = 200, description = "One page of beers", body = Vec<PunkBeer>, headers(
            ("X-Total-Count" = u64, description = "Beers matching the filters, over all pages"),
            ("Link" = String, description = "RFC 8288 links to the first, previous, next and last pages (`/v2/beers?...`)"),
        )),
        (status = 400, description = "Invalid query parameters, each named in `data`", body = PunkErrorBody),
        (status = 503, description = "The database is unavailable", body = PunkErrorBody),
    )
)]
pub async fn list_beers(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, PunkError> {
    let query = parse_list_query(raw.as_deref(), Surface::Punk).map_err(ApiError::InvalidQuery)?;
    let (beers, total) = tokio::try_join!(
        state
            .catalog
            .reads()
            .list_json(&query, JsonShape::Punk, state.image_base()),
        state.catalog.reads().count(&query.filter)
    )?;
    let headers = super::pagination::headers("/v2/beers", raw.as_deref(), &query, total);
    Ok((headers, json_text(beers)).into_response())
}

/// An array holding one beer chosen at random.
#[utoipa::path(
    get, path = "/v2/beers/random", tag = "punk-v2",
    responses(
        (status = 200, description = "An array of one beer", body = Vec<PunkBeer>),
        (status = 404, description = "The catalog is empty", body = PunkErrorBody),
        (status = 503, description = "The database is unavailable", body = PunkErrorBody),
    )
)]
pub async fn random_beer(State(state): State<AppState>) -> PunkResult {
    let beer = state
        .catalog
        .reads()
        .random()
        .await?
        .ok_or_else(|| ApiError::NotFound("No beers found".into()))?;
    Ok(axum::Json(vec![state.present(beer).into()]))
}

/// An array holding the beer with this id.
#[utoipa::path(
    get, path = "/v2/beers/{id}", tag = "punk-v2", params(("id" = i64, Path, minimum = 1, description = "Beer id, from 1")),
    responses(
        (status = 200, description = "An array of one beer", body = Vec<PunkBeer>),
        (status = 400, description = "The id is not a positive integer", body = PunkErrorBody),
        (status = 404, description = "No such beer", body = PunkErrorBody),
        (status = 503, description = "The database is unavailable", body = PunkErrorBody),
    )
)]
pub async fn get_beer(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Response, PunkError> {
    let id = parse_beer_id(raw)?;
    let beer = state
        .catalog
        .reads()
        .get_json(id, JsonShape::Punk, state.image_base())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("No beer found that matches the ID {id}")))?;
    Ok(json_text(format!("[{beer}]")))
}

/// `/v2/beers` shares the native list's parameters, with one difference its document must say too: an empty `ids=`
/// is accepted there (and matches nothing, as Punk answered an app whose favourites list is empty), where the native
/// API refuses it. So the `ids` pattern of that one operation also matches the empty string.
pub struct EmptyIdsMatchNothing;

impl utoipa::Modify for EmptyIdsMatchNothing {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let operation = openapi
            .paths
            .paths
            .get_mut("/v2/beers")
            .and_then(|path| path.get.as_mut());
        let parameters = operation.and_then(|operation| operation.parameters.as_mut());
        let ids = parameters.and_then(|parameters| parameters.iter_mut().find(|p| p.name == "ids"));
        if let Some(RefOr::T(Schema::Object(schema))) = ids.and_then(|ids| ids.schema.as_mut())
            && let Some(pattern) = schema.pattern.as_mut()
        {
            let inner = pattern.trim_start_matches('^').trim_end_matches('$');
            *pattern = format!("^(|{inner})$");
        }
    }
}
