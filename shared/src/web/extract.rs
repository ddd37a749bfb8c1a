//! Request extractors whose rejections are `ApiError`s naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::domain::{AwardId, BadgeId};
use crate::web::ApiError;

/// Returns the media type of the request without parameters, lowercased.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// How much of an oversized body is read and discarded before the 413
/// answer. Reading it lets the client receive the answer instead of a
/// connection reset; past this amount the connection is closed.
const OVERSIZED_DRAIN_BYTES: usize = 64 * 1024 * 1024;

/// Reads the whole body, answering 413 when it is over `limit` bytes.
pub async fn read_body(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt as _;

    let mut body = request.into_body();
    let mut collected = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiError::bad_request("body", "the request body could not be read"))?;
        let Ok(data) = frame.into_data() else { continue };
        total += data.len();
        if total > limit {
            if total > OVERSIZED_DRAIN_BYTES {
                break;
            }
            continue;
        }
        collected.extend_from_slice(&data);
    }
    if total > limit {
        return Err(body_too_large(limit));
    }
    Ok(Bytes::from(collected))
}

pub fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than the limit of {limit} bytes"),
    )
    .with_field("body")
}

/// Parses JSON, naming the path of the first invalid field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request("body", format!("the body is not valid JSON: {inner}"));
        }
        let message = inner.to_string();
        // serde names a missing field only in its message: "missing field `reason` at …".
        let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            ("." | "", Some(name)) => name.to_owned(),
            (_, Some(name)) => format!("{path}.{name}"),
            ("." | "", None) => "body".to_owned(),
            (_, None) => path,
        };
        ApiError::bad_request(field, format!("invalid value: {message}"))
    })
}

/// A JSON request body of at most `State`'s JSON limit, with
/// `Content-Type: application/json`.
pub struct JsonBody<T>(pub T);

/// The JSON body limit, read by `JsonBody` from the request extensions
/// (set by the routers' layer); 64 KiB when missing.
#[derive(Clone, Copy)]
pub struct JsonLimit(pub usize);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = media_type(request.headers())
            .is_some_and(|media| media == "application/json" || media.ends_with("+json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            )
            .with_field("Content-Type"));
        }
        let limit = request.extensions().get::<JsonLimit>().map_or(64 * 1024, |limit| limit.0);
        let bytes = read_body(request, limit).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// An award id from the path; anything that is not a well-formed id is a 404.
pub struct AwardIdPath(pub AwardId);

impl<S: Send + Sync> FromRequestParts<S> for AwardIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("no award has this id"))?;
        AwardId::parse(&raw).map(AwardIdPath).map_err(|_| ApiError::not_found("no award has this id"))
    }
}

/// A badge id from the path; anything that is not a well-formed id is a 404.
pub struct BadgeIdPath(pub BadgeId);

impl<S: Send + Sync> FromRequestParts<S> for BadgeIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("no badge has this id"))?;
        BadgeId::parse(&raw).map(BadgeIdPath).map_err(|_| ApiError::not_found(format!("no badge has id {raw:?}")))
    }
}

/// Parses an `application/x-www-form-urlencoded` body.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_urlencoded::from_bytes(bytes).map_err(|error| ApiError::bad_request("body", format!("invalid form: {error}")))
}
