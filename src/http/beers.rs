//! The native API: `/beers`, full CRUD, errors as RFC 9457 problem details.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::WriteAccess;
use super::error::{AccessErrors, ApiError, BodyErrors, DatabaseErrors, Problem};
use super::extract::{AppJson, BeerPath, WritableBeerId};
use super::params::{FilterParams, NativeFilterParams, PageParams, SortParams};
use super::recipes::{self, Representation, negotiate, vary_accept};
use super::response::json_text;
use super::state::AppState;
use crate::domain::recipe_formats::RecipeFormat;
use crate::domain::{Beer, BeerFields, Surface, parse_list_query, validate};
use crate::storage::JsonShape;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_beers, create_beer))
        .routes(routes!(random_beer))
        .routes(routes!(get_beer, replace_beer, delete_beer))
}

/// List beers, filtered, sorted (by ascending id unless `sort` says otherwise) and paginated. The body is a JSON
/// array; `X-Total-Count` and `Link` (first, prev, next, last) carry the pagination. `Accept: application/xml`
/// answers the page as BeerXML 1.0, `Accept: application/vnd.beerjson+json` as BeerJSON 1.0 (as `/beers.xml` and
/// `/beers.beerjson` do).
#[utoipa::path(
    get, path = "/beers", tag = "beers",
    params(
        PageParams, FilterParams, NativeFilterParams, SortParams,
    ),
    responses(
        (status = 200, description = "One page of beers", content(
            (Vec<Beer> = "application/json"),
            (String = "application/xml"),
            (Object = "application/vnd.beerjson+json"),
        ), headers(
            ("X-Total-Count" = u64, description = "Beers matching the filters, over all pages"),
            ("Link" = String, description = "RFC 8288 links to the first, previous, next and last pages"),
        )),
        (status = 400, description = "An invalid or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn list_beers(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Representation::Recipe(format) = negotiate(&headers) {
        return recipes::list_document(&state, raw.as_deref(), format)
            .await
            .map(vary_accept);
    }
    let query = parse_list_query(raw.as_deref(), Surface::Native).map_err(ApiError::InvalidQuery)?;
    let (beers, total) = tokio::try_join!(
        state
            .catalog
            .reads()
            .list_json(&query, JsonShape::Native, state.image_base()),
        state.catalog.reads().count(&query.filter)
    )?;
    let headers = super::pagination::headers("/beers", raw.as_deref(), &query, total);
    Ok(vary_accept((headers, json_text(beers)).into_response()))
}

/// Create a beer. Writes need `Authorization: Bearer <key>` when API keys are configured.
#[utoipa::path(
    post, path = "/beers", tag = "beers", request_body = BeerFields,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the new beer", body = Beer),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        AccessErrors, BodyErrors, DatabaseErrors,
    )
)]
pub async fn create_beer(
    State(state): State<AppState>,
    _access: WriteAccess,
    AppJson(fields): AppJson<BeerFields>,
) -> Result<Response, ApiError> {
    validate(&fields).map_err(ApiError::Validation)?;
    let beer = state.catalog.writes().create(&fields).await?;
    let location = HeaderValue::from_str(&format!("/beers/{}", beer.id)).expect("a path is a valid header");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(state.present(beer)),
    )
        .into_response())
}

/// One beer, chosen at random.
#[utoipa::path(
    get, path = "/beers/random", tag = "beers",
    responses(
        (status = 200, description = "A random beer", body = Beer),
        (status = 404, description = "The catalog is empty", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn random_beer(State(state): State<AppState>) -> Result<axum::Json<Beer>, ApiError> {
    let beer = state
        .catalog
        .reads()
        .random()
        .await?
        .ok_or_else(|| ApiError::NotFound("the catalog is empty".into()))?;
    Ok(axum::Json(state.present(beer)))
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("no beer with id {id}"))
}

/// One beer by id. `Accept: application/xml` answers it as a BeerXML 1.0 recipe, `Accept:
/// application/vnd.beerjson+json` as BeerJSON 1.0 (see `/beers/{id}.xml` and `/beers/{id}.beerjson`).
#[utoipa::path(
    get, path = "/beers/{id}", tag = "beers", params(("id" = i64, Path, minimum = 1, description = "Beer id, from 1")),
    responses(
        (status = 200, description = "The beer", content(
            (Beer = "application/json"),
            (String = "application/xml"),
            (Object = "application/vnd.beerjson+json"),
        )),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such beer", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn get_beer(
    State(state): State<AppState>,
    BeerPath { id, download }: BeerPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match download {
        Some(RecipeFormat::BeerXml) => return recipes::beer_beerxml(&state, id).await,
        Some(RecipeFormat::BeerJson) => return recipes::beer_beerjson(&state, id).await,
        None => {}
    }
    if let Representation::Recipe(format) = negotiate(&headers) {
        return recipes::beer_document(&state, id, format, false).await.map(vary_accept);
    }
    let beer = state
        .catalog
        .reads()
        .get_json(id, JsonShape::Native, state.image_base())
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(vary_accept(json_text(beer)))
}

/// Replace a beer with the body given (the same shape as create).
#[utoipa::path(
    put, path = "/beers/{id}", tag = "beers", request_body = BeerFields,
    params(("id" = i64, Path, minimum = 1, description = "Beer id, from 1")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The beer as stored", body = Beer),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such beer", body = Problem, content_type = "application/problem+json"),
        AccessErrors, BodyErrors, DatabaseErrors,
    )
)]
pub async fn replace_beer(
    State(state): State<AppState>,
    _access: WriteAccess,
    WritableBeerId(id): WritableBeerId,
    AppJson(fields): AppJson<BeerFields>,
) -> Result<axum::Json<Beer>, ApiError> {
    validate(&fields).map_err(ApiError::Validation)?;
    let beer = state
        .catalog
        .writes()
        .update(id, &fields)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(axum::Json(state.present(beer)))
}

/// Delete a beer.
#[utoipa::path(
    delete, path = "/beers/{id}", tag = "beers", params(("id" = i64, Path, minimum = 1, description = "Beer id, from 1")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such beer", body = Problem, content_type = "application/problem+json"),
        AccessErrors, DatabaseErrors,
    )
)]
pub async fn delete_beer(
    State(state): State<AppState>,
    _access: WriteAccess,
    WritableBeerId(id): WritableBeerId,
) -> Result<StatusCode, ApiError> {
    if state.catalog.writes().delete(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(id))
    }
}
