//! Bearer-token check for admin routes of the local binary. On AWS, the API
//! Gateway JWT authorizer does this job before the function runs.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::web::ApiError;

/// The expected admin token, kept as a SHA-256 hash so that comparing it
/// takes the same time whatever the length of the presented value.
#[derive(Clone)]
pub struct AdminToken {
    hash: Arc<[u8; 32]>,
}

impl AdminToken {
    pub fn new(token: &str) -> Self {
        Self { hash: Arc::new(Sha256::digest(token.as_bytes()).into()) }
    }

    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.hash.ct_eq(&presented).into()
    }
}

/// Rejects requests without `Authorization: Bearer <admin token>`.
pub async fn require_admin(token: AdminToken, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match presented {
        Some(presented) if token.matches(presented) => next.run(request).await,
        Some(_) => unauthorized("the admin token is not valid"),
        None => unauthorized("send the admin token as Authorization: Bearer <token>"),
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
        .with_field("Authorization")
        .into_response();
    response.headers_mut().insert(WWW_AUTHENTICATE, "Bearer".parse().expect("static header value"));
    response
}
