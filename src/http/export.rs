//! The whole catalog, or any filter of it, in one download: `GET /beers/all.ndjson` (one beer a line, the native
//! JSON shape) and `GET /beers/all.beerjson` (one BeerJSON document). Streamed by id in chunks read one after the
//! other, so memory stays at one chunk whatever the catalog's size; `X-Total-Count` says how many beers are coming
//! (a progress bar), and `since_id` resumes after the last id received. A public read like the others (the CDN
//! keeps it, `Cache-Control: public`), and one request for the rate limit.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, DatabaseErrors, Problem};
use super::params::{FilterParams, NativeFilterParams};
use super::state::AppState;
use crate::domain::recipe_formats::{Recipe, beerjson_recipe};
use crate::domain::{Beer, ListQuery, ParamError, Surface, parse_list_query};
use crate::storage::StoreError;

/// Beers read per round trip.
const CHUNK: u32 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_ndjson))
        .routes(routes!(export_beerjson))
}

fn refused(param: &str, msg: &str, value: &str) -> ApiError {
    ApiError::InvalidQuery(vec![ParamError {
        param: param.into(),
        msg: msg.into(),
        value: value.into(),
    }])
}

/// The filters of `GET /beers`, plus `since_id`; no pages and no `sort` (the export is in id order, which is what
/// makes `since_id` resume it).
fn export_query(raw: Option<&str>) -> Result<ListQuery, ApiError> {
    let mut since = None;
    let mut filters = Vec::new();
    for pair in raw.unwrap_or_default().split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "since_id" => match value.parse::<i64>() {
                Ok(id) if id >= 0 => since = Some(id),
                _ => return Err(refused(name, "must be a whole number, 0 or more", value)),
            },
            "page" | "per_page" | "sort" => {
                let msg = "the export is one download in id order: filter it, and resume it with since_id";
                return Err(refused(name, msg, value));
            }
            _ => filters.push(pair),
        }
    }
    let mut query = parse_list_query(Some(&filters.join("&")), Surface::Native).map_err(ApiError::InvalidQuery)?;
    query.filter.id_gt = since;
    query.page = 1;
    query.per_page = CHUNK;
    Ok(query)
}

/// The matching beers, a chunk at a time, by ascending id.
fn chunks(state: AppState, query: ListQuery) -> impl Stream<Item = Result<Vec<Beer>, StoreError>> + Send {
    stream::unfold(Some(query), move |next| {
        let state = state.clone();
        async move {
            let mut query = next?;
            match state.catalog.reads().list(&query).await {
                Err(error) => Some((Err(error), None)),
                Ok(beers) if beers.is_empty() => None,
                Ok(beers) => {
                    let full = beers.len() == CHUNK as usize;
                    query.filter.id_gt = beers.last().map(|beer| beer.id);
                    let beers = beers.into_iter().map(|beer| state.present(beer)).collect();
                    Some((Ok(beers), full.then_some(query)))
                }
            }
        }
    })
}

async fn streamed(
    state: AppState,
    raw: Option<String>,
    content_type: &'static str,
    file_name: &'static str,
    body: impl FnOnce(AppState, ListQuery) -> Body,
) -> Result<Response, ApiError> {
    let query = export_query(raw.as_deref())?;
    let total = state.catalog.reads().count(&query.filter).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("x-total-count", HeaderValue::from(total));
    let disposition = format!("attachment; filename=\"{file_name}\"");
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).expect("a plain file name"),
    );
    Ok((headers, body(state, query)).into_response())
}

/// Every beer matching the filters, one JSON object a line (NDJSON), in the shape of `GET /beers/{id}`, by
/// ascending id, streamed. `X-Total-Count` is the number of lines to come; an interrupted download resumes with
/// `since_id` set to the last id received.
#[utoipa::path(
    get, path = "/beers/all.ndjson", tag = "beers",
    params(FilterParams, NativeFilterParams,
        ("since_id" = Option<i64>, Query, minimum = 0, description = "Only beers with a greater id: resumes an export")),
    responses(
        (status = 200, description = "One beer a line", content_type = "application/x-ndjson", body = String,
         headers(("X-Total-Count" = u64, description = "Beers to come"))),
        (status = 400, description = "An invalid or unknown query parameter (`page`, `per_page` and `sort` are refused)",
         body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn export_ndjson(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    streamed(state, raw, "application/x-ndjson", "beers.ndjson", |state, query| {
        Body::from_stream(chunks(state, query).map(|chunk| {
            chunk.map(|beers| {
                let mut lines = String::new();
                for beer in &beers {
                    lines.push_str(&serde_json::to_string(beer).expect("a beer serialises"));
                    lines.push('\n');
                }
                Bytes::from(lines)
            })
        }))
    })
    .await
}

/// Every beer matching the filters as one BeerJSON 1.0 document, streamed (see `/beers/all.ndjson`).
#[utoipa::path(
    get, path = "/beers/all.beerjson", tag = "recipes",
    params(FilterParams, NativeFilterParams,
        ("since_id" = Option<i64>, Query, minimum = 0, description = "Only beers with a greater id: resumes an export")),
    responses(
        (status = 200, description = "A BeerJSON 1.0 document, one recipe per beer", content_type = "application/vnd.beerjson+json",
         body = Object, headers(("X-Total-Count" = u64, description = "Recipes to come"))),
        (status = 400, description = "An invalid or unknown query parameter (`page`, `per_page` and `sort` are refused)",
         body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn export_beerjson(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    streamed(
        state,
        raw,
        "application/vnd.beerjson+json",
        "beers.beerjson",
        |state, query| {
            let mut first = true;
            let recipes = chunks(state, query).map(move |chunk| {
                chunk.map(|beers| {
                    let mut text = String::new();
                    for beer in &beers {
                        if !std::mem::take(&mut first) {
                            text.push(',');
                        }
                        let recipe = beerjson_recipe(&Recipe::from_fields(&beer.fields));
                        text.push_str(&serde_json::to_string(&recipe).expect("a recipe serialises"));
                    }
                    Bytes::from(text)
                })
            });
            let open = stream::once(async { Ok(Bytes::from_static(br#"{"beerjson":{"version":1.0,"recipes":["#)) });
            let close = stream::once(async { Ok(Bytes::from_static(b"]}}")) });
            Body::from_stream(open.chain(recipes).chain(close))
        },
    )
    .await
}

/// The exports take the filters of `GET /beers` but no pages and no sort: their documented parameters say so.
pub struct ExportParameters;

impl utoipa::Modify for ExportParameters {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for path in ["/beers/all.ndjson", "/beers/all.beerjson"] {
            let operation = openapi.paths.paths.get_mut(path).and_then(|item| item.get.as_mut());
            if let Some(parameters) = operation.and_then(|operation| operation.parameters.as_mut()) {
                parameters.retain(|p| !matches!(p.name.as_str(), "page" | "per_page" | "sort"));
            }
        }
    }
}
