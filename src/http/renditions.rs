//! Label renditions: `/images/{sha256}/{width}.webp`, the smaller copies of a stored image that the pages draw
//! (`srcset`), made when the image was stored. An image stored before renditions existed gets them the first time
//! one is asked for (decoded off the async workers, stored once, then served like the others): no start-up step,
//! no migration that decodes every label.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, DatabaseErrors, Problem};
use super::images::ImageBytes;
use super::state::AppState;
use crate::domain::rendition::make_renditions;
use crate::domain::{ImageRef, NewImage, RENDITION_KIND, RENDITION_WIDTHS};
use crate::storage::StoredRendition;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_rendition))
}

/// The URL path of an image's rendition at `width` (one of `RENDITION_WIDTHS`).
pub fn rendition_path(image: &ImageRef, width: u32) -> String {
    format!("/images/{}/{width}.{}", image.sha256, RENDITION_KIND.extension())
}

/// A smaller copy of a label image, as WebP.
///
/// For pages (`srcset`): `width` is 64, 128 or 256 pixels (an image narrower than that keeps its own width, never
/// enlarged), the aspect ratio is the original's. A beer's `image_url` always names the original. Content-addressed
/// like the original (its image's SHA-256 and the width), so cacheable forever; `If-None-Match` gets 304.
#[utoipa::path(
    get, path = "/images/{sha256}/{rendition}", tag = "images",
    params(
        ("sha256" = String, Path, pattern = r"^[0-9a-f]{64}$", description = "The original image's SHA-256, as in a beer's `image_url`"),
        ("rendition" = String, Path, pattern = r"^(64|128|256)\.webp$", description = "`{width}.webp`"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier answer: 304 when it matches"),
    ),
    responses(
        (status = 200, description = "The rendition", content((ImageBytes = "image/webp")), headers(
            ("ETag" = String, description = "The quoted SHA-256 of the rendition's bytes"),
            ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
        )),
        (status = 304, description = "Not modified: the `If-None-Match` tag matches"),
        (status = 404, description = "No such image, or not a width that is made", body = Problem, content_type = "application/problem+json"),
        DatabaseErrors,
    )
)]
pub async fn get_rendition(
    State(state): State<AppState>,
    Path((sha256, rendition)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let unknown = || {
        let widths = RENDITION_WIDTHS.map(|w| w.to_string()).join(", ");
        ApiError::NotFound(format!(
            "no rendition {sha256}/{rendition}: renditions are {{sha256}}/{{width}}.webp of a stored image, widths {widths}"
        ))
    };
    let Some(width) = parse_rendition(&rendition) else {
        return Err(unknown());
    };
    let original = ImageRef::parse_file_name(&format!("{sha256}.png")).ok_or_else(unknown)?;
    let reads = state.catalog.reads();
    if let Some(stored) = reads.image_rendition(&original.sha256, width).await? {
        return Ok(answer(stored));
    }
    // An image stored before renditions were made: make them now, once.
    let Some(image) = reads.image(&original.sha256).await? else {
        return Err(unknown());
    };
    let image = NewImage {
        meta: image.meta,
        bytes: image.bytes,
        renditions: Vec::new(),
    };
    let renditions = tokio::task::spawn_blocking(move || make_renditions(&image))
        .await
        .map_err(|error| ApiError::Internal(format!("making renditions: {error}")))?
        .map_err(|error| ApiError::Internal(format!("the stored image {sha256} cannot be decoded: {error}")))?;
    state
        .catalog
        .writes()
        .store_renditions(&original.sha256, &renditions)
        .await?;
    tracing::info!(image = %original.sha256, "made the renditions of an image stored before they existed");
    let made = renditions
        .into_iter()
        .find(|r| r.nominal_width == width)
        .ok_or_else(unknown)?;
    Ok(answer(StoredRendition {
        sha256: crate::domain::image::sha256_hex(&made.bytes),
        bytes: made.bytes,
    }))
}

/// `64.webp` -> 64, for the widths that are made.
fn parse_rendition(rendition: &str) -> Option<u32> {
    let width = rendition.strip_suffix(&format!(".{}", RENDITION_KIND.extension()))?;
    RENDITION_WIDTHS.into_iter().find(|w| w.to_string() == width)
}

fn answer(rendition: StoredRendition) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(RENDITION_KIND.content_type()),
    );
    let etag = HeaderValue::from_str(&format!("\"{}\"", rendition.sha256)).expect("hex is a valid header value");
    headers.insert(header::ETAG, etag);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    (headers, Body::from(rendition.bytes)).into_response()
}
