//! Content codings (RFC 9110 8.4.1, 12.5.3): which coding an answer is sent in, chosen from the request's
//! `Accept-Encoding` by its q-values, which answers are worth compressing, and the compression itself.
//!
//! The choice never fails: when nothing the client accepts can be made (even `identity;q=0` alone), the answer goes
//! out uncompressed rather than as a 406, as RFC 9110 12.5.3 allows; an old client is better served than refused.
//! Where compressed bytes are kept so each answer is compressed once is the response cache's business
//! (`http/cache/variants.rs`), and the page assets' (`pages/assets.rs`).

use std::io::Write as _;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};

/// A content coding this service can produce.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// In the server's order of preference when the client ranks several equally (brotli is ~15-20% smaller).
    const PREFERRED: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    /// The token in `Accept-Encoding` and `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(self.token())
    }

    /// A strong validator of this coding's bytes, from the identity answer's one: a different representation must
    /// have a different strong `ETag` (RFC 9110 8.8.3), and the pair stays recognisable for a 304.
    pub fn etag(self, identity: &HeaderValue) -> HeaderValue {
        let tag = identity.to_str().unwrap_or_default().trim_end_matches('"');
        HeaderValue::from_str(&format!("{tag}-{}\"", self.token())).unwrap_or_else(|_| identity.clone())
    }
}

/// Bodies under this are sent as they are: a header and a round trip cost more than the bytes saved (CloudFront
/// uses the same floor, 1,000 bytes).
pub const MIN_COMPRESSED_BYTES: usize = 1024;

/// How hard to compress: once per process for the embedded assets, or when an answer is first asked for.
#[derive(Copy, Clone, Debug)]
pub enum Effort {
    /// Brotli 11 and gzip 9: tens of milliseconds for the stylesheet, paid once per process.
    Best,
    /// Brotli 5 and gzip 6: ~1 ms for a 50 KB list, near brotli 11's size on JSON, paid once per variant kept.
    Fast,
}

/// How much the client wants each coding; `None` where it does not say.
#[derive(Default)]
struct Preferences {
    brotli: Option<f32>,
    gzip: Option<f32>,
    identity: Option<f32>,
    any: Option<f32>,
}

impl Preferences {
    fn parse(headers: &HeaderMap) -> Self {
        let mut preferences = Self::default();
        let values = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok());
        for element in values.flat_map(|value| value.split(',')) {
            let mut parts = element.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            // A malformed weight makes the element unusable, not the header: it is skipped.
            let Some(q) = weight(parts) else { continue };
            let slot = match coding.as_str() {
                "br" => &mut preferences.brotli,
                "gzip" | "x-gzip" => &mut preferences.gzip,
                "identity" => &mut preferences.identity,
                "*" => &mut preferences.any,
                // Codings this service cannot produce (zstd, compress, deflate, anything unknown) are irrelevant.
                _ => continue,
            };
            // A repeated coding: the first mention counts, as most servers do.
            slot.get_or_insert(q);
        }
        preferences
    }

    fn of(&self, coding: Coding) -> f32 {
        let explicit = match coding {
            Coding::Brotli => self.brotli,
            Coding::Gzip => self.gzip,
        };
        explicit.or(self.any).unwrap_or(0.0)
    }

    /// How much identity is wanted over the codings: only a client that names it (`identity;q=1, gzip;q=0.5`)
    /// prefers it. Unnamed, it ranks last, so `gzip;q=0.8` alone gets gzip, as with nginx and most servers; it is
    /// still what is sent when no coding is acceptable (see [`negotiate`]).
    fn of_identity(&self) -> f32 {
        self.identity.unwrap_or(0.0)
    }
}

/// The `q` of an element's parameters: 1 when absent, `None` when not a number in [0, 1].
fn weight<'a>(parameters: impl Iterator<Item = &'a str>) -> Option<f32> {
    let mut q = 1.0;
    for parameter in parameters {
        let (name, value) = parameter.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            q = value.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))?;
        }
    }
    Some(q)
}

/// The coding to send an answer in, `None` for identity: the one the client weighs highest among those it accepts
/// (q > 0), the server's preference among equals, and identity when the client weighs it higher or accepts nothing
/// this service makes. No header at all means identity: a client that never asked may not decode anything.
pub fn negotiate(headers: &HeaderMap) -> Option<Coding> {
    if !headers.contains_key(header::ACCEPT_ENCODING) {
        return None;
    }
    let preferences = Preferences::parse(headers);
    let mut best: Option<(Coding, f32)> = None;
    for coding in Coding::PREFERRED {
        let q = preferences.of(coding);
        if q > 0.0 && best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((coding, q));
        }
    }
    best.filter(|(_, q)| *q >= preferences.of_identity())
        .map(|(coding, _)| coding)
}

/// Whether an answer with these headers is text worth compressing: JSON (and problem details, the OpenAPI
/// document), HTML, CSS, JavaScript, SVG. Never images in binary formats (PNG, JPEG and WebP are compressed
/// already), and never an answer already encoded or negotiated by its handler (`Vary: Accept-Encoding`).
pub fn is_compressible(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::CONTENT_ENCODING) || varies_by_encoding(headers) {
        return false;
    }
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media_type.starts_with("text/")
        || media_type.ends_with("+json")
        || media_type.ends_with("+xml")
        || matches!(
            media_type.as_str(),
            "application/json" | "application/javascript" | "application/xml"
        )
}

fn varies_by_encoding(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("accept-encoding"))
}

/// Says that the answer depends on `Accept-Encoding`, for every cache between here and the client.
pub fn add_vary(headers: &mut HeaderMap) {
    if !varies_by_encoding(headers) {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// `body` in `coding`.
pub fn compress(coding: Coding, body: &[u8], effort: Effort) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 4 + 64);
    match coding {
        Coding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: match effort {
                    Effort::Best => 11,
                    Effort::Fast => 5,
                },
                size_hint: body.len(),
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params).expect("writing to memory cannot fail");
        }
        Coding::Gzip => {
            let level = match effort {
                Effort::Best => flate2::Compression::best(),
                Effort::Fast => flate2::Compression::default(),
            };
            let mut encoder = flate2::write::GzEncoder::new(out, level);
            encoder.write_all(body).expect("writing to memory cannot fail");
            out = encoder.finish().expect("writing to memory cannot fail");
        }
    }
    Bytes::from(out)
}

/// [`compress`] on the blocking pool: a large answer takes milliseconds of CPU the async workers must not spend.
/// At most one compression per core runs at once ([`compression_slots`]); the others wait their turn.
pub async fn compress_off_workers(coding: Coding, body: Bytes) -> Bytes {
    let _slot = compression_slots()
        .acquire()
        .await
        .expect("the semaphore is never closed");
    match tokio::task::spawn_blocking(move || compress(coding, &body, Effort::Fast)).await {
        Ok(encoded) => encoded,
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    }
}

/// Compressions running at once: one per core. Each holds its encoder's working memory (brotli's is megabytes), and
/// more at once than there are cores adds memory and threads, not speed: 64 concurrent uncached answers in brotli
/// made 290 blocking threads and a peak RSS of 0.8 GB with glibc's allocator, 2 GB with mimalloc's, before this
/// bound (docs/performance.md, "The fixed cost per request").
fn compression_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new(cores)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(accept_encoding: &str) -> Option<Coding> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept_encoding).unwrap());
        negotiate(&headers)
    }

    #[test]
    fn the_highest_weight_wins_and_the_server_breaks_ties() {
        assert_eq!(chosen("gzip, deflate, br"), Some(Coding::Brotli));
        assert_eq!(chosen("br;q=0.5, gzip"), Some(Coding::Gzip));
        assert_eq!(chosen("GZIP;Q=0.8"), Some(Coding::Gzip));
        assert_eq!(chosen("x-gzip"), Some(Coding::Gzip));
        assert_eq!(chosen("*"), Some(Coding::Brotli));
        assert_eq!(chosen("*;q=0.5, br;q=0"), Some(Coding::Gzip));
        assert_eq!(chosen("identity;q=1, br;q=0.5"), None);
        assert_eq!(chosen("br;q=0.5, identity;q=0.5"), Some(Coding::Brotli));
    }

    #[test]
    fn nothing_acceptable_means_identity_never_a_refusal() {
        assert_eq!(negotiate(&HeaderMap::new()), None);
        assert_eq!(chosen(""), None);
        assert_eq!(chosen("zstd, compress"), None);
        assert_eq!(chosen("identity;q=0"), None);
        assert_eq!(chosen("identity;q=0, zstd"), None);
        assert_eq!(chosen("identity;q=0, gzip;q=0.1"), Some(Coding::Gzip));
        assert_eq!(chosen("*;q=0"), None);
        assert_eq!(chosen("gzip;q=0"), None);
    }

    #[test]
    fn a_malformed_weight_skips_its_element_only() {
        assert_eq!(chosen("br;q=high, gzip"), Some(Coding::Gzip));
        assert_eq!(chosen("br;q=2, gzip;q=0.2"), Some(Coding::Gzip));
        assert_eq!(chosen("br;level, gzip;q=0.2"), Some(Coding::Gzip));
        assert_eq!(chosen("br; Q=0.3, gzip;q=0.2"), Some(Coding::Brotli));
    }

    #[test]
    fn only_text_is_compressed() {
        let with_type = |content_type: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers
        };
        for text in [
            "application/json",
            "application/problem+json",
            "text/html; charset=utf-8",
            "text/css; charset=utf-8",
            "text/javascript; charset=utf-8",
            "image/svg+xml",
        ] {
            assert!(is_compressible(&with_type(text)), "{text}");
        }
        for binary in ["image/png", "image/jpeg", "image/webp", "application/octet-stream"] {
            assert!(!is_compressible(&with_type(binary)), "{binary}");
        }
        let mut negotiated = with_type("text/css");
        add_vary(&mut negotiated);
        assert!(!is_compressible(&negotiated));
    }

    #[test]
    fn variants_have_their_own_strong_validator() {
        let identity = HeaderValue::from_static("\"0123abcd\"");
        assert_eq!(Coding::Brotli.etag(&identity), "\"0123abcd-br\"");
        assert_eq!(Coding::Gzip.etag(&identity), "\"0123abcd-gzip\"");
    }
}
