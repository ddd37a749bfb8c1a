//! The error body of every failed request: `{error: {code, message, field?}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::ServiceError;
use crate::service::claims::ClaimError;

/// An expected failure, answered with its status and a JSON body. The
/// error-page middleware turns it into an HTML page for browsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

/// Marks a response body as this crate's JSON error, so the middleware
/// knows it need not rewrite it.
#[derive(Debug, Clone)]
pub struct ErrorBody(pub ApiError);

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message).with_field(field)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side; please try again later")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Envelope {
            error: Inner { code: self.code, message: &self.message, field: self.field.as_deref() },
        };
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorBody(self));
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound { message, field } => {
                let error = ApiError::new(StatusCode::NOT_FOUND, "not_found", message);
                match field {
                    Some(field) => error.with_field(field),
                    None => error,
                }
            }
            ServiceError::Invalid { field, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", message).with_field(field)
            }
            ServiceError::Rejected { code, field, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
            }
            ServiceError::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            ServiceError::Unavailable { code, message } => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message),
            ServiceError::Internal(source) => {
                tracing::error!(error = %source, "request failed");
                ApiError::internal()
            }
        }
    }
}

impl From<ClaimError> for ApiError {
    fn from(error: ClaimError) -> Self {
        match error {
            ClaimError::Invalid => ApiError::new(StatusCode::NOT_FOUND, "invalid_claim_link", error.to_string()),
            ClaimError::Expired => ApiError::new(StatusCode::GONE, "expired_claim_link", error.to_string()),
            ClaimError::Revoked { .. } => ApiError::new(StatusCode::GONE, "revoked", error.to_string()),
            ClaimError::Service(error) => error.into(),
        }
    }
}
