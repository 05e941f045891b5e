//! The compressed variants of answers (see the module documentation above): chosen per request, made once, kept in
//! the same bounded store as the answers, under the identity answer's content hash.

use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{CACHE_STATUS, HttpCache, Kind, Stored};
use crate::http::encoding::{self, MIN_COMPRESSED_BYTES};

/// The kept compressed variants are a cache of their own, after the answers' one (RFC 9211 lists the origin's first).
const ENCODED_HIT: &str = "beer-catalog-encoded; hit";
const ENCODED_STORED: &str = "beer-catalog-encoded; fwd=miss; stored";

/// A 200's headers and body in the coding the client prefers, when the body is text worth compressing: the
/// variant kept in the store, or compressed now (and kept, unless the answer is a new one each time or the store is
/// off). `headers` holds the identity answer's `ETag`, except a volatile answer's, which has none.
pub(super) async fn in_coding(
    cache: &HttpCache,
    kind: Kind,
    request_headers: &HeaderMap,
    mut headers: HeaderMap,
    identity: Bytes,
) -> (HeaderMap, Bytes) {
    if identity.len() < MIN_COMPRESSED_BYTES || !encoding::is_compressible(&headers) {
        return (headers, identity);
    }
    encoding::add_vary(&mut headers);
    let Some(coding) = encoding::negotiate(request_headers) else {
        return (headers, identity);
    };
    headers.insert(header::CONTENT_ENCODING, coding.header_value());
    // A volatile answer has no validator (never reused) and is never kept.
    let (Some(entries), Some(identity_etag)) = (
        cache.0.entries.as_ref().filter(|_| kind != Kind::Volatile),
        headers.get(header::ETAG).cloned(),
    ) else {
        return (headers, encoding::compress_off_workers(coding, identity).await);
    };
    let etag = coding.etag(&identity_etag);
    headers.insert(header::ETAG, etag.clone());
    // Keyed by the identity answer's content hash: the same bytes compress the same whatever URL they answer.
    let key = format!(
        "{ENCODED_PREFIX}{} {}",
        coding.token(),
        identity_etag.to_str().unwrap_or_default()
    );
    let (body, status) = match entries.get_value_or_guard_async(key.as_str()).await {
        Ok(stored) => (stored.body.clone(), ENCODED_HIT),
        Err(guard) => {
            let body = encoding::compress_off_workers(coding, identity).await;
            let stored = Stored {
                etag,
                headers: HeaderMap::new(),
                body: body.clone(),
                validity: None,
            };
            let _ = guard.insert(Arc::new(stored));
            (body, ENCODED_STORED)
        }
    };
    add_cache_status(&mut headers, status);
    (headers, body)
}

/// The key prefix of compressed variants, followed by the coding and the identity answer's `ETag`.
const ENCODED_PREFIX: &str = "encoded ";

fn add_cache_status(headers: &mut HeaderMap, member: &str) {
    let value = match headers.get(CACHE_STATUS).and_then(|v| v.to_str().ok()) {
        Some(before) => format!("{before}, {member}"),
        None => member.to_owned(),
    };
    headers.insert(
        CACHE_STATUS,
        HeaderValue::from_str(&value).expect("cache-status values are ASCII"),
    );
}

/// A HEAD's answer: the GET's headers, its `Content-Length` included, without the body.
pub(super) fn without_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    if let Some(length) = body.size_hint().exact()
        && parts.status != StatusCode::NOT_MODIFIED
    {
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Response::from_parts(parts, Body::empty())
}
