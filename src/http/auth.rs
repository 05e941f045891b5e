//! Who may write: the accepted API keys, the server's write policy, and the [`WriteAccess`] extractor that every
//! handler changing the catalog takes.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::error::ApiError;

#[derive(Debug, thiserror::Error)]
#[error("API_KEY_SHA256 entries must be 64 hex characters (a SHA-256 digest); entry {0} is not")]
pub struct InvalidKeyDigest(pub usize);

/// The accepted API keys, as SHA-256 digests (plain keys are hashed on load and not kept).
#[derive(Clone, Default)]
pub struct ApiKeys(Vec<[u8; 32]>);

impl ApiKeys {
    pub fn digest(key: &str) -> [u8; 32] {
        Sha256::digest(key.as_bytes()).into()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison of the presented key's digest against every configured digest: the time taken
    /// says nothing about how much of a key matched.
    pub fn accepts(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let digest = Self::digest(presented);
        self.0
            .iter()
            .fold(subtle::Choice::from(0), |found, known| found | known.ct_eq(&digest))
            .into()
    }

    /// Comma-separated plain keys (`API_KEYS`) and hex digests (`API_KEY_SHA256`); blanks are ignored.
    pub fn parse(plain: Option<&str>, digests: Option<&str>) -> Result<Self, InvalidKeyDigest> {
        let entries = |list: Option<&str>| -> Vec<String> {
            list.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut keys: Vec<[u8; 32]> = entries(plain).iter().map(|key| Self::digest(key)).collect();
        for (i, digest) in entries(digests).iter().enumerate() {
            let bytes = hex::decode(digest).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
            keys.push(bytes.ok_or(InvalidKeyDigest(i + 1))?);
        }
        Ok(Self(keys))
    }
}

/// Who may create, change and delete beers.
#[derive(Clone)]
pub enum WritePolicy {
    /// Development with no keys configured: anyone (the start-up log says so).
    Open,
    /// A valid `Authorization: Bearer <key>` is required.
    Keys(ApiKeys),
    /// Production with no keys configured: nobody, rather than everybody.
    Closed,
}

impl WritePolicy {
    pub fn new(keys: ApiKeys, production: bool) -> Self {
        match (keys.is_empty(), production) {
            (false, _) => WritePolicy::Keys(keys),
            (true, false) => WritePolicy::Open,
            (true, true) => WritePolicy::Closed,
        }
    }
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is case-insensitive (RFC 9110 11.1), so
/// `bearer` and `BEARER` are accepted as clients send them.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Proof that the caller may write. Handlers that change the catalog take it as an argument, so the protection
/// is visible in their signatures and cannot be forgotten by a route.
pub struct WriteAccess;

impl<S> FromRequestParts<S> for WriteAccess
where
    WritePolicy: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match &WritePolicy::from_ref(state) {
            WritePolicy::Open => Ok(WriteAccess),
            WritePolicy::Closed => Err(ApiError::Forbidden(
                "writes are disabled: this production server has no API keys configured (set API_KEYS or \
                 API_KEY_SHA256)"
                    .into(),
            )),
            WritePolicy::Keys(keys) => {
                let presented = parts
                    .headers
                    .get(header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(bearer_token);
                match presented {
                    Some(key) if keys.accepts(key) => Ok(WriteAccess),
                    _ => Err(ApiError::Unauthorized),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_accept_plain_keys_and_digests() {
        let digest = hex::encode(ApiKeys::digest("second"));
        let keys = ApiKeys::parse(Some("first, "), Some(&digest)).unwrap();
        assert!(keys.accepts("first") && keys.accepts("second"));
        assert!(!keys.accepts("third") && !keys.accepts(""));
        assert!(ApiKeys::parse(None, Some("abc")).is_err());
        assert!(ApiKeys::parse(None, None).unwrap().is_empty());
    }

    #[test]
    fn no_keys_means_open_in_development_and_closed_in_production() {
        assert!(matches!(WritePolicy::new(ApiKeys::default(), false), WritePolicy::Open));
        assert!(matches!(
            WritePolicy::new(ApiKeys::default(), true),
            WritePolicy::Closed
        ));
        let keys = ApiKeys::parse(Some("k"), None).unwrap();
        assert!(matches!(WritePolicy::new(keys, true), WritePolicy::Keys(_)));
    }
}
