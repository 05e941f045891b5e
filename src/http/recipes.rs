//! Beers as recipes for brewing software (BeerXML 1.0, BeerJSON 1.0): chosen by `Accept` on `/beers` and
//! `/beers/{id}`, or downloaded from `/beers.xml`, `/beers.beerjson`, `/beers/{id}.xml` and `/beers/{id}.beerjson`.
//! The mapping itself is [`crate::domain::recipe_formats`]; this module only picks the representation and frames
//! the answer.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, DatabaseErrors, Problem};
use super::params::{FilterParams, NativeFilterParams, PageParams, SortParams};
use super::state::AppState;
use crate::domain::recipe_formats::{self, RecipeFormat};
use crate::domain::{Beer, Surface, parse_list_query};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_beerxml))
        .routes(routes!(list_beerjson))
}

/// What a client asked `/beers` or `/beers/{id}` for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Representation {
    Json,
    Recipe(RecipeFormat),
}

/// The representation `Accept` asks for: BeerXML for `application/xml` (or `text/xml`), BeerJSON for
/// [`RecipeFormat::BEERJSON_MEDIA_TYPE`], JSON otherwise. A recipe format must be named and preferred: a browser's
/// `text/html,...,application/xml;q=0.9,*/*;q=0.8` still gets JSON, as it always did, and so does a tie.
pub fn negotiate(headers: &HeaderMap) -> Representation {
    let mut best = (0.0_f32, Representation::Json);
    let mut json_q = 0.0_f32;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            let representation = match media.as_str() {
                "application/xml" | "text/xml" => Representation::Recipe(RecipeFormat::BeerXml),
                m if m == RecipeFormat::BEERJSON_MEDIA_TYPE => Representation::Recipe(RecipeFormat::BeerJson),
                "application/json" | "application/*" | "*/*" | "text/html" | "application/problem+json" => {
                    json_q = json_q.max(q);
                    continue;
                }
                _ => continue,
            };
            if q > best.0 {
                best = (q, representation);
            }
        }
    }
    if best.0 > json_q { best.1 } else { Representation::Json }
}

/// The response cache keeps one answer per representation of a negotiated path (see [`super::cache`]).
pub fn cache_variant(uri: &Uri, headers: &HeaderMap) -> &'static str {
    if !is_negotiated(uri.path()) {
        return "";
    }
    match negotiate(headers) {
        Representation::Json => "",
        Representation::Recipe(format) => match format {
            RecipeFormat::BeerXml => " as beerxml",
            RecipeFormat::BeerJson => " as beerjson",
        },
    }
}

/// `/beers` and `/beers/{id}`, where `Accept` picks the format.
fn is_negotiated(path: &str) -> bool {
    match path.trim_end_matches('/').strip_prefix("/beers") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('/')
            .is_some_and(|id| !id.is_empty() && !id.contains(['/', '.']) && id != "random"),
        None => false,
    }
}

/// `Vary: Accept`, on every answer of a negotiated route (JSON too, so a shared cache keeps them apart).
pub fn vary_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// One document of these beers in `format`; `download` names the file to save it as.
pub fn document(state: &AppState, format: RecipeFormat, beers: Vec<Beer>, download: Option<&str>) -> Response {
    let beers: Vec<Beer> = beers.into_iter().map(|beer| state.present(beer)).collect();
    let body = recipe_formats::export(format, beers.iter().map(|beer| &beer.fields));
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type(format)))],
        body,
    )
        .into_response();
    if let Some(stem) = download {
        let disposition = format!("attachment; filename=\"{stem}.{}\"", format.extension());
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}

fn content_type(format: RecipeFormat) -> &'static str {
    match format {
        RecipeFormat::BeerXml => "application/xml; charset=utf-8",
        RecipeFormat::BeerJson => "application/vnd.beerjson+json",
    }
}

/// A file name for a beer: its name in lower case, letters and digits only (`punk-ipa-2007-2010`).
pub fn file_stem(name: &str) -> String {
    let mut stem = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            stem.push(c.to_ascii_lowercase());
        } else if !stem.is_empty() && !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem = stem.trim_end_matches('-');
    if stem.is_empty() {
        "beer".into()
    } else {
        stem.chars().take(80).collect()
    }
}

/// One page of beers (the filters of `GET /beers`) as a document.
pub async fn list_document(state: &AppState, raw: Option<&str>, format: RecipeFormat) -> Result<Response, ApiError> {
    let query = parse_list_query(raw, Surface::Native).map_err(ApiError::InvalidQuery)?;
    let (beers, total) = tokio::try_join!(
        state.catalog.reads().list(&query),
        state.catalog.reads().count(&query.filter)
    )?;
    let path = format!("/beers.{}", format.extension());
    let headers = super::pagination::headers(&path, raw, &query, total);
    Ok((headers, document(state, format, beers, Some("beers"))).into_response())
}

/// One page of beers as BeerXML 1.0, filtered, sorted and paginated like `GET /beers` (same parameters,
/// `X-Total-Count` and `Link`); a download (`Content-Disposition: attachment`).
#[utoipa::path(
    get, path = "/beers.xml", tag = "recipes",
    params(PageParams, FilterParams, NativeFilterParams, SortParams),
    responses(
        (status = 200, description = "A BeerXML 1.0 document, one RECIPE per beer", content_type = "application/xml",
         body = String, headers(("X-Total-Count" = u64, description = "Beers matching the filters, over all pages"))),
        (status = 400, description = "An invalid or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn list_beerxml(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    list_document(&state, raw.as_deref(), RecipeFormat::BeerXml).await
}

/// One page of beers as a BeerJSON 1.0 document, filtered, sorted and paginated like `GET /beers`.
#[utoipa::path(
    get, path = "/beers.beerjson", tag = "recipes",
    params(PageParams, FilterParams, NativeFilterParams, SortParams),
    responses(
        (status = 200, description = "A BeerJSON 1.0 document, one recipe per beer", content_type = "application/vnd.beerjson+json",
         body = Object, headers(("X-Total-Count" = u64, description = "Beers matching the filters, over all pages"))),
        (status = 400, description = "An invalid or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn list_beerjson(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    list_document(&state, raw.as_deref(), RecipeFormat::BeerJson).await
}

/// The single-beer downloads: served by `GET /beers/{id}` (the router cannot match `{id}.xml`), documented as
/// paths of their own.
#[derive(utoipa::OpenApi)]
#[openapi(paths(beer_beerxml, beer_beerjson))]
pub struct DownloadPaths;

/// One beer as a BeerXML 1.0 recipe, to download (`Content-Disposition: attachment`, named after the beer).
#[utoipa::path(
    get, path = "/beers/{id}.xml", tag = "recipes", params(("id" = i64, Path, minimum = 1, description = "Beer id, from 1")),
    responses(
        (status = 200, description = "A BeerXML 1.0 document with the beer's RECIPE", body = String, content_type = "application/xml"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such beer", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn beer_beerxml(state: &AppState, id: i64) -> Result<Response, ApiError> {
    beer_document(state, id, RecipeFormat::BeerXml, true).await
}

/// One beer as a BeerJSON 1.0 recipe, to download (`Content-Disposition: attachment`, named after the beer).
#[utoipa::path(
    get, path = "/beers/{id}.beerjson", tag = "recipes", params(("id" = i64, Path, minimum = 1, description = "Beer id, from 1")),
    responses(
        (status = 200, description = "A BeerJSON 1.0 document with the beer's recipe", body = Object, content_type = "application/vnd.beerjson+json"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such beer", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn beer_beerjson(state: &AppState, id: i64) -> Result<Response, ApiError> {
    beer_document(state, id, RecipeFormat::BeerJson, true).await
}

/// One beer as a recipe document, or its 404.
pub async fn beer_document(
    state: &AppState,
    id: i64,
    format: RecipeFormat,
    download: bool,
) -> Result<Response, ApiError> {
    let beer = state
        .catalog
        .reads()
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no beer with id {id}")))?;
    let stem = file_stem(&beer.fields.name);
    Ok(document(state, format, vec![beer], download.then_some(stem.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, value.parse().unwrap());
        headers
    }

    #[test]
    fn recipe_formats_only_when_named_and_preferred() {
        let xml = Representation::Recipe(RecipeFormat::BeerXml);
        assert_eq!(negotiate(&accept("application/xml")), xml);
        assert_eq!(negotiate(&accept("text/xml, application/json;q=0.5")), xml);
        assert_eq!(
            negotiate(&accept("application/vnd.beerjson+json")),
            Representation::Recipe(RecipeFormat::BeerJson)
        );
        assert_eq!(negotiate(&HeaderMap::new()), Representation::Json);
        assert_eq!(
            negotiate(&accept(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            )),
            Representation::Json
        );
        assert_eq!(
            negotiate(&accept("application/json, application/xml")),
            Representation::Json
        );
        assert_eq!(negotiate(&accept("image/png")), Representation::Json);
    }

    #[test]
    fn only_beers_and_a_beer_are_negotiated() {
        for path in ["/beers", "/beers/", "/beers/12"] {
            assert!(is_negotiated(path), "{path}");
        }
        for path in [
            "/v2/beers",
            "/beers/random",
            "/beers/1.xml",
            "/beers.xml",
            "/beers/1/image",
            "/health",
        ] {
            assert!(!is_negotiated(path), "{path}");
        }
    }

    #[test]
    fn file_stems_are_plain() {
        assert_eq!(file_stem("Punk IPA 2007 - 2010"), "punk-ipa-2007-2010");
        assert_eq!(file_stem("Ælf!"), "lf");
        assert_eq!(file_stem("???"), "beer");
    }
}
