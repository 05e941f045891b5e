//! Ingredient facets: `GET /hops`, `/malts`, `/yeasts` and `/foods` list every name used by the beers matching the
//! filters of `GET /beers`, with how many beers use it, spelling variants merged under one display name and every
//! spelling listed (`domain/ingredient_names.rs`), so a client can build a filter menu. Most used first, paginated
//! like the lists (`X-Total-Count` counts names, `Link` pages them); public reads, cached and rate-limited like the
//! others. `/v2` and the stored documents are untouched.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, DatabaseErrors, Problem};
use super::params::{FilterParams, NativeFilterParams, PageParams};
use super::state::AppState;
use crate::domain::ingredient_names::sort_names;
use crate::domain::{IngredientKind, IngredientName, ListQuery, ParamError, Surface, parse_list_query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hops))
        .routes(routes!(malts))
        .routes(routes!(yeasts))
        .routes(routes!(foods))
}

/// The filters and pages of `GET /beers`; no `sort` (names come most used first).
fn facet_query(raw: Option<&str>) -> Result<ListQuery, ApiError> {
    let sort = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).find(|(name, _)| name == "sort");
    if let Some((_, value)) = sort {
        return Err(ApiError::InvalidQuery(vec![ParamError {
            param: "sort".into(),
            msg: "facets come most used first, then by name: they take no sort".into(),
            value: value.into_owned(),
        }]));
    }
    parse_list_query(raw, Surface::Native).map_err(ApiError::InvalidQuery)
}

async fn facet(state: AppState, raw: Option<String>, kind: IngredientKind, path: &str) -> Result<Response, ApiError> {
    let query = facet_query(raw.as_deref())?;
    let mut names = state.catalog.reads().ingredient_names(kind, &query.filter).await?;
    sort_names(&mut names);
    let total = names.len() as u64;
    let start = usize::try_from(query.offset()).unwrap_or(usize::MAX).min(names.len());
    let end = start.saturating_add(query.per_page as usize).min(names.len());
    let page: Vec<IngredientName> = names.drain(start..end).collect();
    let headers = super::pagination::headers(path, raw.as_deref(), &query, total);
    Ok((headers, axum::Json(page)).into_response())
}

/// Hops (and the adjuncts recipes list as hops) of the beers matching the filters, with the number of beers using
/// each, spelling variants merged (`Wilamette` is `Willamette`), most used first. `X-Total-Count` counts names.
#[utoipa::path(
    get, path = "/hops", tag = "facets",
    params(PageParams, FilterParams, NativeFilterParams),
    responses(
        (status = 200, description = "One page of hop names", body = Vec<IngredientName>, headers(
            ("X-Total-Count" = u64, description = "Names used by the matching beers, over all pages"),
            ("Link" = String, description = "RFC 8288 links to the first, previous, next and last pages"),
        )),
        (status = 400, description = "An invalid or unknown query parameter (`sort` is refused)", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn hops(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    facet(state, raw, IngredientKind::Hop, "/hops").await
}

/// Malts and other fermentables of the beers matching the filters, with the number of beers using each (see
/// `/hops`).
#[utoipa::path(
    get, path = "/malts", tag = "facets",
    params(PageParams, FilterParams, NativeFilterParams),
    responses(
        (status = 200, description = "One page of malt names", body = Vec<IngredientName>, headers(
            ("X-Total-Count" = u64, description = "Names used by the matching beers, over all pages"),
            ("Link" = String, description = "RFC 8288 links to the first, previous, next and last pages"),
        )),
        (status = 400, description = "An invalid or unknown query parameter (`sort` is refused)", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn malts(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    facet(state, raw, IngredientKind::Malt, "/malts").await
}

/// Yeasts of the beers matching the filters, with the number of beers using each, strain spellings merged (the
/// Wyeast 1056 written five ways is one name; see `/hops`).
#[utoipa::path(
    get, path = "/yeasts", tag = "facets",
    params(PageParams, FilterParams, NativeFilterParams),
    responses(
        (status = 200, description = "One page of yeast names", body = Vec<IngredientName>, headers(
            ("X-Total-Count" = u64, description = "Names used by the matching beers, over all pages"),
            ("Link" = String, description = "RFC 8288 links to the first, previous, next and last pages"),
        )),
        (status = 400, description = "An invalid or unknown query parameter (`sort` is refused)", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn yeasts(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    facet(state, raw, IngredientKind::Yeast, "/yeasts").await
}

/// Food pairings of the beers matching the filters, with the number of beers pairing each (see `/hops`).
#[utoipa::path(
    get, path = "/foods", tag = "facets",
    params(PageParams, FilterParams, NativeFilterParams),
    responses(
        (status = 200, description = "One page of food pairings", body = Vec<IngredientName>, headers(
            ("X-Total-Count" = u64, description = "Pairings of the matching beers, over all pages"),
            ("Link" = String, description = "RFC 8288 links to the first, previous, next and last pages"),
        )),
        (status = 400, description = "An invalid or unknown query parameter (`sort` is refused)", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn foods(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    facet(state, raw, IngredientKind::Food, "/foods").await
}
