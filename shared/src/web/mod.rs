//! HTTP building blocks shared by the function routers: errors in JSON and
//! HTML, content negotiation, extractors, pages and middleware.

pub mod auth;
pub mod error;
pub mod extract;
pub mod mail_pages;
pub mod middleware;
pub mod negotiate;
pub mod pages;

pub use error::ApiError;
pub use negotiate::prefers_html;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{Next, from_fn};

use crate::settings::Settings;

/// Adds what every deployment of the routes needs: the JSON body limit,
/// a JSON 404 for unknown routes, error pages for browsers and the access
/// log. Call it once on the merged router.
pub fn finish(router: Router, settings: &Settings) -> Router {
    let site = pages::Site::new(settings);
    let json_limit = extract::JsonLimit(settings.limits.json_body_bytes);
    router
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(from_fn(move |request: Request, next: Next| {
            let site = site.clone();
            async move { middleware::error_pages(site, request, next).await }
        }))
        .layer(from_fn(move |mut request: Request, next: Next| async move {
            request.extensions_mut().insert(json_limit);
            next.run(request).await
        }))
        .layer(from_fn(middleware::access_log))
}
