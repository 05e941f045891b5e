//! Extractors whose rejections speak the API's own error shape instead of axum's plain-text defaults.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::body_shape::{Shaped, shape_problems};
use super::error::ApiError;
use crate::domain::ParamError;
use crate::domain::recipe_formats::RecipeFormat;

/// `axum::Json`, with malformed JSON -> 400, a wrong content type -> 415, an oversized body -> 413 and a body of
/// the wrong shape (missing, mistyped or unknown fields) -> 422 listing every such field, each saying what to fix.
pub struct AppJson<T>(pub T);

impl<T: Shaped, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // As a JSON value first: a shape error is then listed field by field from it, without reading the body
        // twice.
        let axum::Json(body) = axum::Json::<serde_json::Value>::from_request(request, state)
            .await
            .map_err(json_rejection)?;
        match T::deserialize(&body) {
            Ok(value) => Ok(AppJson(value)),
            Err(_) => Err(ApiError::Shape(shape_problems::<T>(&body))),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "the request body must be JSON: send `Content-Type: application/json`".into(),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(format!("malformed JSON: {}", source_text(&e))),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(format!(
            "the request body is larger than {} bytes",
            super::BODY_LIMIT_BYTES
        )),
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// serde's own message ("expected value at line 1 column 9"), without axum's prefix.
fn source_text(error: &dyn std::error::Error) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

/// A beer id from the path: a positive integer, or a 400 naming the parameter.
pub struct BeerId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for BeerId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        parse_beer_id(raw).map(BeerId)
    }
}

/// The last segment of `/beers/{id}`: a beer id, or a download of it as a recipe (`1.xml`, `1.beerjson`; the
/// router cannot match a suffix after a parameter).
pub struct BeerPath {
    pub id: i64,
    pub download: Option<RecipeFormat>,
}

impl<S: Send + Sync> FromRequestParts<S> for BeerPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let download = [RecipeFormat::BeerXml, RecipeFormat::BeerJson]
            .into_iter()
            .find_map(|format| Some((raw.strip_suffix(format.extension())?.strip_suffix('.')?, format)));
        match download {
            Some((id, format)) => Ok(BeerPath {
                id: parse_beer_id(id.to_owned())?,
                download: Some(format),
            }),
            None => Ok(BeerPath {
                id: parse_beer_id(raw)?,
                download: None,
            }),
        }
    }
}

/// The id of a beer to change. A recipe download (`/beers/1.xml`) is read-only: anything but GET there is a 405,
/// as on any other route, before the body is read.
pub struct WritableBeerId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for WritableBeerId {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let path = BeerPath::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match path.download {
            Some(_) => {
                let message = format!("{} is not allowed on {}", parts.method, parts.uri.path());
                let allow = [(axum::http::header::ALLOW, "GET, HEAD")];
                Err((allow, ApiError::MethodNotAllowed(message)).into_response())
            }
            None => Ok(WritableBeerId(path.id)),
        }
    }
}

pub fn parse_beer_id(raw: String) -> Result<i64, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id >= 1 => Ok(id),
        _ => Err(ApiError::InvalidPath(ParamError {
            param: "id".into(),
            msg: "must be a whole number greater than 0".into(),
            value: raw,
        })),
    }
}
