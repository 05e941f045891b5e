//! One error type for every handler, rendered two ways: RFC 9457 `application/problem+json` on the native API,
//! and the Punk API's own shape under `/v2`, which existing Punk clients parse. The cause of a server-side failure
//! is never echoed to the client: it travels in the response's extensions ([`ErrorCause`]) to the request log line,
//! which is where it is logged, once.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::domain::{FieldError, ParamError};
use crate::storage::StoreError;
use crate::telemetry::error_chain;

/// The most problems an error answer lists: a query of thousands of bad parameters must not turn into an answer
/// many times its size. The answer says how many there were.
const MAX_LISTED_PROBLEMS: usize = 20;

/// Seconds a client should wait before retrying while the database is unavailable.
const RETRY_AFTER_SECS: &str = "5";

/// The Punk API's 429 message.
pub const PUNK_RATE_LIMIT_MESSAGE: &str = "You have reached your limit on this ip address please wait an hour";

/// What a client is told of a storage failure: whether to retry, never the driver's words.
fn store_message(error: &StoreError) -> &'static str {
    match error {
        StoreError::Busy => "the service is busy; retry shortly",
        StoreError::Resuming => "the database is resuming from a pause; retry in a few seconds",
        StoreError::Conflict(_) => "a concurrent write to the same beer undid this one; nothing was written, retry it",
        error if error.is_unavailable() => "the database is unavailable; retry shortly",
        _ => "internal server error",
    }
}

fn window_text(secs: u64) -> String {
    match secs {
        3600 => "hour".to_owned(),
        1 => "second".to_owned(),
        secs => format!("{secs} seconds"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("invalid query parameters")]
    InvalidQuery(Vec<ParamError>),
    #[error("invalid path parameter")]
    InvalidPath(ParamError),
    #[error("the beer is not valid")]
    Validation(Vec<FieldError>),
    /// A body that is not a beer at all: fields missing, unknown or of the wrong type, each listed.
    #[error("the body is not a beer: fields are missing, unknown or of the wrong type")]
    Shape(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("a valid API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error(
        "too many requests from this IP address: the limit is {limit} requests per {}; retry in {retry_after_secs} \
         seconds",
        window_text(*window_secs)
    )]
    TooManyRequests {
        retry_after_secs: u64,
        limit: u32,
        window_secs: u64,
    },
    #[error("the request took longer than {0} seconds")]
    Timeout(u64),
    /// A storage failure: 503 when the database is unreachable (worth retrying), 500 otherwise.
    #[error("{}", store_message(.0))]
    Store(#[from] StoreError),
    /// Something that should not happen (a handler panicked); the cause goes to the log, not to the client.
    #[error("internal server error")]
    Internal(String),
}

/// Why a request failed on the server side, for the request log line only (never sent to the client).
#[derive(Clone, Debug)]
pub struct ErrorCause(pub Arc<str>);

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::InvalidQuery(_) | ApiError::InvalidPath(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) | ApiError::Shape(_) | ApiError::Unprocessable(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(error) if error.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(StoreError::Conflict(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Field-level details: body fields for validation, parameters for queries and paths.
    fn details(&self) -> Vec<ProblemField> {
        match self {
            ApiError::Validation(errors) | ApiError::Shape(errors) => errors
                .iter()
                .take(MAX_LISTED_PROBLEMS)
                .map(|e| ProblemField {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            ApiError::InvalidQuery(errors) => errors
                .iter()
                .take(MAX_LISTED_PROBLEMS)
                .map(ProblemField::from)
                .collect(),
            ApiError::InvalidPath(error) => vec![ProblemField::from(error)],
            _ => Vec::new(),
        }
    }

    /// The problem's `detail`: the message, and how many problems there were when not all are listed.
    fn detail(&self) -> String {
        let problems = match self {
            ApiError::InvalidQuery(errors) => errors.len(),
            ApiError::Validation(errors) | ApiError::Shape(errors) => errors.len(),
            _ => 0,
        };
        if problems > MAX_LISTED_PROBLEMS {
            format!("{self} ({problems} problems; the first {MAX_LISTED_PROBLEMS} are listed)")
        } else {
            self.to_string()
        }
    }

    /// What the log should say about a server-side failure; `None` for client errors.
    fn cause(&self) -> Option<String> {
        match self {
            ApiError::Store(error) => Some(error_chain(error)),
            ApiError::Internal(cause) => Some(cause.clone()),
            ApiError::Timeout(secs) => Some(format!("no answer within the {secs} s request timeout")),
            _ => None,
        }
    }

    fn finish(&self, mut response: Response) -> Response {
        if let Some(cause) = self.cause() {
            response.extensions_mut().insert(ErrorCause(cause.into()));
        }
        let status = self.status();
        let headers = response.headers_mut();
        match self {
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
            }
            ApiError::TooManyRequests { retry_after_secs, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            ApiError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="beer-catalog""#),
                );
            }
            _ => {}
        }
        response
    }

    /// The Punk API v2 rendering of this error.
    pub fn into_punk(self) -> Response {
        let status = self.status();
        let (message, data) = match &self {
            ApiError::InvalidQuery(errors) => (
                "Invalid query params".to_owned(),
                Some(
                    errors
                        .iter()
                        .take(MAX_LISTED_PROBLEMS)
                        .map(|e| PunkParamError::new(e, "query"))
                        .collect(),
                ),
            ),
            ApiError::InvalidPath(error) => (
                "Invalid params".to_owned(),
                Some(vec![PunkParamError::new(error, "params")]),
            ),
            // Word for word what Punk answered: clients match on it.
            ApiError::TooManyRequests { .. } => (PUNK_RATE_LIMIT_MESSAGE.to_owned(), None),
            other => (other.to_string(), None),
        };
        let body = PunkErrorBody {
            status_code: status.as_u16(),
            error: status.canonical_reason().unwrap_or("Error").to_owned(),
            message,
            data,
        };
        self.finish((status, axum::Json(body)).into_response())
    }
}

/// RFC 9457 problem details.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`: the status code says what kind of problem this is.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub problem_type: &'static str,
    #[schema(example = "Unprocessable Entity")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "the beer is not valid")]
    pub detail: String,
    /// One entry per invalid field or parameter; omitted when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Serialize, ToSchema)]
pub struct ProblemField {
    /// The body field's JSON path, or the query/path parameter's name.
    #[schema(example = "abv")]
    pub field: String,
    #[schema(example = "must be between 0 and 100 (got 120)")]
    pub message: String,
}

/// One rejected parameter, in the Punk API's error vocabulary (express-validator's, which Punk ran).
#[derive(Clone, Serialize, ToSchema)]
pub struct PunkParamError {
    #[schema(example = "abv_gt")]
    pub param: String,
    #[schema(example = "Must be a number greater than 0")]
    pub msg: String,
    #[schema(example = "strong")]
    pub value: String,
    /// Where the parameter was: `query` (the query string) or `params` (the path).
    #[schema(example = "query")]
    pub location: &'static str,
}

impl PunkParamError {
    fn new(error: &ParamError, location: &'static str) -> Self {
        PunkParamError {
            param: error.param.clone(),
            msg: error.msg.clone(),
            value: error.value.clone(),
            location,
        }
    }
}

impl From<&ParamError> for ProblemField {
    fn from(error: &ParamError) -> Self {
        ProblemField {
            field: error.param.clone(),
            message: format!("{} (got {:?})", error.msg, error.value),
        }
    }
}

/// The Punk API v2 error shape.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PunkErrorBody {
    #[schema(example = 400)]
    pub status_code: u16,
    #[schema(example = "Bad Request")]
    pub error: String,
    #[schema(example = "Invalid query params")]
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Vec<PunkParamError>>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let problem = Problem {
            problem_type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: self.details(),
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        self.finish(response)
    }
}

/// The error type of `/v2` handlers: the same errors, in the Punk API's shape.
pub struct PunkError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PunkError {
    fn from(error: E) -> Self {
        PunkError(error.into())
    }
}

impl IntoResponse for PunkError {
    fn into_response(self) -> Response {
        self.0.into_punk()
    }
}

/// Documented once, listed by every native operation that touches the database.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum DatabaseErrors {
    /// The database is unavailable; retry after `Retry-After` seconds.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// The answers of a write that is not allowed.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum AccessErrors {
    /// Missing or wrong API key (`WWW-Authenticate: Bearer`).
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// Writes are disabled on this server (production without API keys).
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
}

/// The answers to a request body that cannot be taken.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    /// Body larger than 64 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// Body is not JSON (`Content-Type: application/json` expected).
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
    /// Invalid beer: wrong shape, unknown field, or broken rules, field by field.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}
