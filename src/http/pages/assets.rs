//! The pages' stylesheet, script and icon, compiled into the binary (no files to ship, nothing from a CDN) and
//! served under names that carry a hash of their content: a new release changes the name, so browsers may keep
//! each version for a year without ever using a stale one.
//!
//! Each is compressed in every coding the service makes once per process, at the highest effort, the first time a
//! page names it (tens of milliseconds in all), rather than in a build script: the bytes and their hash stay
//! `include_bytes!` and nothing is generated outside `src/`, and a release build does not pay brotli twice (once
//! for the build script's own compilation, once to run it).

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::http::AppState;
use crate::http::encoding::{self, Coding, Effort, MIN_COMPRESSED_BYTES};

pub struct Asset {
    /// e.g. `style.3f2a9c1b04de.css`
    file_name: String,
    content_type: &'static str,
    bytes: &'static [u8],
    etag: String,
    /// The bytes in each coding, when they are worth compressing.
    encoded: Vec<(Coding, Vec<u8>)>,
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        let digest = hex::encode(Sha256::digest(bytes));
        let encoded = if bytes.len() >= MIN_COMPRESSED_BYTES {
            [Coding::Brotli, Coding::Gzip]
                .into_iter()
                .map(|coding| (coding, encoding::compress(coding, bytes, Effort::Best).to_vec()))
                .collect()
        } else {
            Vec::new()
        };
        Asset {
            encoded,
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
    let identity_etag = HeaderValue::from_str(&asset.etag).expect("hex is a valid header");
    let mut answer = HeaderMap::new();
    let mut body: &'static [u8] = asset.bytes;
    let mut etag = identity_etag.clone();
    if !asset.encoded.is_empty() {
        answer.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        let wanted = encoding::negotiate(&headers);
        if let Some((coding, bytes)) = asset.encoded.iter().find(|(coding, _)| Some(*coding) == wanted) {
            answer.insert(header::CONTENT_ENCODING, coding.header_value());
            etag = coding.etag(&identity_etag);
            body = bytes;
        }
    }
    answer.insert(header::ETAG, etag.clone());
    answer.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    answer.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let revalidated = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| super::etag_matches(value, etag.to_str().unwrap_or_default()));
    if revalidated {
        return (StatusCode::NOT_MODIFIED, answer).into_response();
    }
    answer.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    (answer, body).into_response()
}
