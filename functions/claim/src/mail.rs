//! Learner-facing mail routes: the "Where's my badge?" form that emails new
//! claim links, and one-click unsubscribe (RFC 8058) for reminders and
//! survey invitations.

use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use badges_shared::App;
use badges_shared::service::ServiceError;
use badges_shared::service::resend;
use badges_shared::service::unsubscribe::{self, UnsubscribeError, masked_email};
use badges_shared::web::error::ApiError;
use badges_shared::web::extract::{media_type, parse_form, parse_json, read_body};
use badges_shared::web::mail_pages::{ResendPage, ResendSentPage, UnsubscribePage, UnsubscribedPage};
use badges_shared::web::middleware::FinalBody;
use badges_shared::web::pages::{Site, render};
use badges_shared::web::prefers_html;

/// Returns the routes, without state, for the claim router to merge.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/resend", get(resend_form).post(request_links))
        .route("/unsubscribe", get(confirm_unsubscribe).post(unsubscribe))
}

/// Body of `POST /resend`, as a form or as JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResendInput {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
struct EmailParam {
    #[serde(default)]
    email: String,
}

async fn resend_form(State(app): State<App>, Query(EmailParam { email }): Query<EmailParam>) -> Response {
    render(&ResendPage { site: Site::new(&app.settings), email, error: None })
}

/// Queues the request and responds 202 with the same body whether or not
/// the address has awards, and whether or not its resend window is open.
async fn request_links(State(app): State<App>, request: Request) -> Result<Response, ApiError> {
    let html = prefers_html(request.headers());
    let media = media_type(request.headers());
    let body = read_body(request, app.settings.limits.json_body_bytes).await?;
    let input: ResendInput = match media.as_deref() {
        Some("application/x-www-form-urlencoded") => parse_form(&body)?,
        Some(media) if media == "application/json" || media.ends_with("+json") => parse_json(&body)?,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the address as a form (application/x-www-form-urlencoded) or as JSON",
            )
            .with_field("Content-Type"));
        }
    };

    let site = Site::new(&app.settings);
    match resend::request_links(&app, &input.email).await {
        Ok(()) => {}
        Err(ServiceError::Invalid { message, .. }) if html => {
            // Show the form again with the problem, instead of an error page.
            let page = ResendPage { site, email: input.email.trim().to_owned(), error: Some(format!("Check the address: {message}.")) };
            let mut response = (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
            response.extensions_mut().insert(FinalBody);
            return Ok(response);
        }
        Err(error) => return Err(error.into()),
    }

    if html {
        let page = ResendSentPage {
            site,
            email: input.email.trim().to_owned(),
            interval_minutes: app.settings.mail.resend_interval.num_minutes(),
        };
        return Ok((StatusCode::ACCEPTED, render(&page)).into_response());
    }
    let body = serde_json::json!({
        "status": "accepted",
        "message": "If this address has badges waiting to be claimed, an email with a new link for each of them is on its way.",
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn unsubscribe_error(error: UnsubscribeError) -> ApiError {
    match error {
        UnsubscribeError::Invalid => ApiError::new(StatusCode::NOT_FOUND, "invalid_unsubscribe_link", error.to_string()),
        UnsubscribeError::Service(error) => error.into(),
    }
}

/// Shows the confirmation form. Opening the link changes nothing, because
/// mail scanners and link previews open links too.
async fn confirm_unsubscribe(State(app): State<App>, Query(TokenQuery { token }): Query<TokenQuery>) -> Result<Response, ApiError> {
    let award = unsubscribe::check(&app, &token).await.map_err(unsubscribe_error)?;
    let page = UnsubscribePage { site: Site::new(&app.settings), token, masked_email: masked_email(&award) };
    Ok(render(&page))
}

/// The name and value of the one-click unsubscribe body (RFC 8058).
const ONE_CLICK_FIELD: &str = "List-Unsubscribe";
const ONE_CLICK_VALUE: &str = "One-Click";

/// Unsubscribes without further interaction when the body is
/// `List-Unsubscribe=One-Click`, as a form or as multipart form data.
async fn unsubscribe(
    State(app): State<App>,
    Query(TokenQuery { token }): Query<TokenQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    let html = prefers_html(request.headers());
    let one_click = match media_type(request.headers()).as_deref() {
        Some("application/x-www-form-urlencoded") => {
            let body = read_body(request, app.settings.limits.json_body_bytes).await?;
            let fields: Vec<(String, String)> = parse_form(&body)?;
            fields.iter().any(|(name, value)| name == ONE_CLICK_FIELD && value == ONE_CLICK_VALUE)
        }
        Some("multipart/form-data") => multipart_has_one_click(request).await?,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send List-Unsubscribe=One-Click as a form (application/x-www-form-urlencoded or multipart/form-data)",
            )
            .with_field("Content-Type"));
        }
    };
    if !one_click {
        return Err(ApiError::bad_request("body", "the body must be List-Unsubscribe=One-Click (RFC 8058)"));
    }

    let award = unsubscribe::unsubscribe(&app, &token).await.map_err(unsubscribe_error)?;
    if html {
        return Ok(render(&UnsubscribedPage { site: Site::new(&app.settings), masked_email: masked_email(&award) }));
    }
    Ok(Json(serde_json::json!({ "unsubscribed": true })).into_response())
}

/// Reads a multipart body and checks for the one-click field.
async fn multipart_has_one_click(request: Request) -> Result<bool, ApiError> {
    let invalid = || ApiError::bad_request("body", "the multipart body could not be read");
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|_| invalid())?;
    while let Some(field) = multipart.next_field().await.map_err(|_| invalid())? {
        if field.name() == Some(ONE_CLICK_FIELD) {
            let value = field.text().await.map_err(|_| invalid())?;
            if value.trim() == ONE_CLICK_VALUE {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
