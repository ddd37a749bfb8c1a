//! Middleware shared by every router: the access log and error pages.

use std::time::Instant;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::web::error::ErrorBody;
use crate::web::pages::{ErrorPage, Site, render};
use crate::web::{ApiError, prefers_html};

/// Marks an error response whose body must be sent as it is (the Open
/// Badges 410 body of a revoked assertion, or a page already rendered).
#[derive(Clone, Copy, Debug)]
pub struct FinalBody;

/// Logs one line per request with the method, the path (never the query
/// string, which can carry a claim token), the status and the duration.
pub async fn access_log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed_us = started.elapsed().as_micros() as u64;
    if status >= 500 {
        tracing::error!(%method, %path, status, elapsed_us, "request failed");
    } else {
        tracing::info!(%method, %path, status, elapsed_us, "request");
    }
    response
}

/// Gives every error response the shape of the API: JSON
/// `{error: {code, message, field?}}` for API clients and a readable page
/// for browsers. This covers the framework's own rejections too (unknown
/// route, wrong method, body too large), which arrive as plain text.
pub async fn error_pages(site: Site, request: Request, next: Next) -> Response {
    let html = prefers_html(request.headers());
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || response.extensions().get::<FinalBody>().is_some() {
        return response;
    }

    let error = match response.extensions().get::<ErrorBody>() {
        Some(ErrorBody(_)) if !html => return response,
        Some(ErrorBody(error)) => error.clone(),
        None => error_for_status(status, &path),
    };
    let headers = response.headers().clone();
    let mut rewritten = if html {
        let page = ErrorPage::new(&site, &error);
        (status, render(&page)).into_response()
    } else {
        error.into_response()
    };
    // Keep headers such as `Allow` on a 405 answer.
    if let Some(allow) = headers.get(axum::http::header::ALLOW) {
        rewritten.headers_mut().insert(axum::http::header::ALLOW, allow.clone());
    }
    rewritten
}

fn error_for_status(status: StatusCode, path: &str) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::new(status, "not_found", format!("nothing is published at {path}")),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(status, "method_not_allowed", format!("{path} does not accept this method"))
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(status, "body_too_large", "the request body is larger than this route accepts").with_field("body")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::new(status, "unsupported_media_type", "the Content-Type of the body is not accepted here")
                .with_field("Content-Type")
        }
        StatusCode::UNAUTHORIZED => ApiError::new(status, "unauthorized", "a valid admin token is required"),
        status if status.is_server_error() => ApiError::internal(),
        status => ApiError::new(status, "invalid_request", "the request is invalid"),
    }
}
