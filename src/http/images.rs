//! Label images: served content-addressed under `/images/{sha256}.{ext}`, written per beer under
//! `/beers/{id}/image` (native API, API key required).

use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::WriteAccess;
use super::error::{ApiError, DatabaseErrors, Problem};
use super::extract::BeerId;
use super::state::AppState;
use crate::domain::image::inspect;
use crate::domain::rendition::with_renditions;
use crate::domain::{Beer, ImageMeta, ImageRef, ImageRejection};
use crate::storage::ImageRemoval;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_image))
        .routes(routes!(put_beer_image, delete_beer_image))
}

/// A content-addressed URL never changes meaning: caches may keep it for a year without asking again.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// An image's bytes; the type is judged from them.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImageBytes(#[allow(dead_code)] Vec<u8>);

fn unknown_image(file: &str) -> ApiError {
    ApiError::NotFound(format!("no image {file}"))
}

/// The image a URL names, if the name is one this service hands out.
fn parse_file(file: &str) -> Result<ImageRef, ApiError> {
    ImageRef::parse_file_name(file).ok_or_else(|| unknown_image(file))
}

/// The stored image's metadata, when it exists with the type the URL's extension says.
async fn find_meta(state: &AppState, file: &str) -> Result<ImageMeta, ApiError> {
    let wanted = parse_file(file)?;
    match state.catalog.reads().image_meta(&wanted.sha256).await? {
        Some(meta) if meta.image == wanted => Ok(meta),
        _ => Err(unknown_image(file)),
    }
}

fn etag(image: &ImageRef) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{}\"", image.sha256)).expect("hex is a valid header value")
}

/// `If-None-Match` (weak comparison, as RFC 9110 asks for it): `*`, or any listed tag naming this content.
fn not_modified(headers: &HeaderMap, image: &ImageRef) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == image.sha256)
}

/// Headers every image answer carries (200, 304 and HEAD).
fn image_headers(meta: &ImageMeta) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(meta.image.kind.content_type()),
    );
    headers.insert(header::ETAG, etag(&meta.image));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_FOREVER));
    // Uploaded content: browsers must not second-guess the type.
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers
}

/// A label image.
///
/// The URL is content-addressed (the SHA-256 of the bytes), so the answer is cacheable forever; `If-None-Match`
/// with the `ETag` gets 304.
#[utoipa::path(
    get, path = "/images/{file}", tag = "images",
    params(
        ("file" = String, Path, pattern = r"^[0-9a-f]{64}\.(png|jpg|webp)$", description = "`{sha256}.{ext}`, as in a beer's `image_url`"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 when it matches"),
    ),
    responses(
        (status = 200, description = "The image", content(
            (ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/webp"),
        ), headers(
            ("ETag" = String, description = "The quoted SHA-256 of the content (a strong validator)"),
            ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
            ("Content-Length" = u64, description = "Bytes"),
        )),
        (status = 304, description = "Not modified: the `If-None-Match` tag matches", headers(
            ("ETag" = String, description = "The quoted SHA-256 of the content"),
            ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
        )),
        (status = 404, description = "No such image", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn get_image(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let wanted = parse_file(&file)?;
    if request_headers.contains_key(header::IF_NONE_MATCH) {
        // Answered from the metadata alone when it matches: the bytes stay in the database.
        let meta = find_meta(&state, &file).await?;
        if not_modified(&request_headers, &meta.image) {
            let mut headers = image_headers(&meta);
            headers.remove(header::CONTENT_TYPE);
            return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
        }
    }
    match state.catalog.reads().image(&wanted.sha256).await? {
        Some(stored) if stored.meta.image == wanted => {
            Ok((image_headers(&stored.meta), Body::from(stored.bytes)).into_response())
        }
        _ => Err(unknown_image(&file)),
    }
}

/// `HEAD /images/{file}`, documented as a path of its own but answered by [`get_image`]: the router hands a HEAD
/// to the GET handler, and the response cache layer answers it as that GET less its body, with the GET's
/// `Content-Length` and validator. A HEAD handler of its own must not exist: the cache layer asks for the GET's
/// answer to store it, and a handler that answers HEAD with an empty body was stored as the image itself (every
/// later GET got 0 bytes).
#[derive(utoipa::OpenApi)]
#[openapi(paths(head_image))]
pub struct HeadPaths;

/// The headers of `GET /images/{file}` without the bytes.
#[utoipa::path(
    head, path = "/images/{file}", tag = "images",
    params(
        ("file" = String, Path, pattern = r"^[0-9a-f]{64}\.(png|jpg|webp)$", description = "`{sha256}.{ext}`, as in a beer's `image_url`"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 when it matches"),
    ),
    responses(
        (status = 304, description = "Not modified: the `If-None-Match` tag matches", headers(
            ("ETag" = String, description = "The quoted SHA-256 of the content"),
            ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
        )),
        (status = 200, description = "The image exists", headers(
            ("Content-Type" = String, description = "image/png, image/jpeg or image/webp"),
            ("Content-Length" = u64, description = "Bytes of the image"),
            ("ETag" = String, description = "The quoted SHA-256 of the content"),
            ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
        )),
        (status = 404, description = "No such image"),
        (status = 503, description = "The database is unavailable"),
    )
)]
#[allow(dead_code)] // Documentation only (see `HeadPaths`): never routed.
fn head_image() {}

/// Set or replace the label image of a beer.
///
/// The body is the raw bytes of a PNG, JPEG or WebP file. The type is judged by the content (any declared
/// `Content-Type` is ignored); at most `IMAGE_MAX_BYTES` (2 MiB by default) and `IMAGE_MAX_DIMENSION` pixels a
/// side (4096 by default). The beer's `image_url` then points at `/images/{sha256}.{ext}` on this service; an
/// image no beer uses any more is removed.
#[utoipa::path(
    put, path = "/beers/{id}/image", tag = "beers",
    params(("id" = i64, Path, minimum = 1, description = "Beer id, from 1")),
    request_body(description = "The image file's bytes", content(
        (ImageBytes = "image/png"), (ImageBytes = "image/jpeg"), (ImageBytes = "image/webp"),
        (ImageBytes = "application/octet-stream"),
    )),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The beer, `image_url` pointing at the stored image", body = Beer),
        (status = 400, description = "The id is not a positive integer, or the body could not be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong API key (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Writes are disabled on this server (production without API keys, or without PUBLIC_BASE_URL for image links)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such beer", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than IMAGE_MAX_BYTES (the limit is named)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a PNG, JPEG or WebP file (judged by content)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wider or taller than IMAGE_MAX_DIMENSION pixels, an unreadable header, or content that cannot be decoded", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn put_beer_image(
    State(state): State<AppState>,
    _access: WriteAccess,
    BeerId(id): BeerId,
    request_headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<Beer>, ApiError> {
    if state.images.public_base_url.is_none() {
        return Err(ApiError::Forbidden(
            "image uploads are disabled: set PUBLIC_BASE_URL to the URL clients reach this service at, so image \
             links can be absolute"
                .into(),
        ));
    }
    let limit = state.images.limits.max_bytes;
    let bytes = read_limited(&request_headers, body, limit).await?;
    // The whole file is decoded to make its renditions: CPU work for the blocking pool, not an async worker.
    let limits = state.images.limits;
    let image = tokio::task::spawn_blocking(move || inspect(bytes, limits).and_then(with_renditions))
        .await
        .map_err(|error| ApiError::Internal(format!("judging an image: {error}")))?
        .map_err(rejection)?;
    let beer = state
        .catalog
        .writes()
        .set_image(id, &image)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no beer with id {id}")))?;
    Ok(axum::Json(state.present(beer)))
}

fn rejection(rejection: ImageRejection) -> ApiError {
    let message = rejection.to_string();
    match rejection {
        ImageRejection::TooLarge { .. } => ApiError::PayloadTooLarge(message),
        ImageRejection::UnsupportedType { .. } => ApiError::UnsupportedMediaType(message),
        ImageRejection::Unreadable(_) | ImageRejection::TooManyPixels { .. } | ImageRejection::Undecodable(_) => {
            ApiError::Unprocessable(message)
        }
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the image is larger than the limit of {limit} bytes (IMAGE_MAX_BYTES)"
    ))
}

/// The body, refused as soon as it is known to exceed `limit`: from `Content-Length` before reading anything,
/// else while reading. (What is left unread is drained after the answer: see `drain.rs`.)
async fn read_limited(headers: &HeaderMap, mut body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::with_capacity(declared.map_or(0, |length| length as usize));
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| ApiError::BadRequest(format!("the request body could not be read: {e}")))?;
        if let Some(data) = frame.data_ref() {
            if bytes.len() + data.len() > limit {
                return Err(too_large(limit));
            }
            bytes.extend_from_slice(data);
        }
    }
    Ok(bytes)
}

/// Remove the image of a beer.
///
/// Afterwards the beer has no stored image and `image_url` is null (a link it was written with is cleared too).
#[utoipa::path(
    delete, path = "/beers/{id}/image", tag = "beers",
    params(("id" = i64, Path, minimum = 1, description = "Beer id, from 1")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "The id is not a positive integer", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong API key (`WWW-Authenticate: Bearer`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Writes are disabled on this server (production without API keys)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such beer, or the beer has no image", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn delete_beer_image(
    State(state): State<AppState>,
    _access: WriteAccess,
    BeerId(id): BeerId,
) -> Result<StatusCode, ApiError> {
    match state.catalog.writes().remove_image(id).await? {
        ImageRemoval::Removed => Ok(StatusCode::NO_CONTENT),
        ImageRemoval::NoSuchBeer => Err(ApiError::NotFound(format!("no beer with id {id}"))),
        ImageRemoval::NoImage => Err(ApiError::NotFound(format!("beer {id} has no image"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let image = ImageRef::parse_file_name(&format!("{}.png", "a".repeat(64))).unwrap();
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
            headers
        };
        let tag = format!("\"{}\"", "a".repeat(64));
        assert!(not_modified(&headers(&tag), &image));
        assert!(not_modified(&headers(&format!("\"x\", W/{tag}")), &image));
        assert!(not_modified(&headers("*"), &image));
        assert!(!not_modified(&headers("\"b\""), &image));
        assert!(!not_modified(&HeaderMap::new(), &image));
    }
}
