//! The pages' stylesheet, script and icon, compiled into the binary (no files to ship, nothing from a CDN) and
//! served under names that carry a hash of their content: a new release changes the name, so browsers may keep
//! each version for a year without ever using a stale one.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::http::AppState;

pub struct Asset {
    /// e.g. `style.3f2a9c1b04de.css`
    file_name: String,
    content_type: &'static str,
    bytes: &'static [u8],
    etag: String,
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        let digest = hex::encode(Sha256::digest(bytes));
        Asset {
            file_name: format!("{stem}.{}.{extension}", &digest[..12]),
            content_type,
            bytes,
            etag: format!("\"{}\"", &digest[..32]),
        }
    }

    /// The URL path pages link to.
    pub fn path(&self) -> String {
        format!("/assets/{}", self.file_name)
    }
}

pub static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "style",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("assets/style.css"),
    )
});
pub static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "app",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/app.js"),
    )
});
pub static ICON: LazyLock<Asset> =
    LazyLock::new(|| Asset::new("icon", "svg", "image/svg+xml", include_bytes!("assets/icon.svg")));

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{file}", get(serve_asset))
}

async fn serve_asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = [&*STYLE, &*SCRIPT, &*ICON].into_iter().find(|a| a.file_name == file) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("no asset named {file}"),
        )
            .into_response();
    };
    let revalidated = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| super::etag_matches(value, &asset.etag));
    let etag = HeaderValue::from_str(&asset.etag).expect("hex is a valid header");
    let common = [
        (header::ETAG, etag),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    if revalidated {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type))],
        asset.bytes,
    )
        .into_response()
}
