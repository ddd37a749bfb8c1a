//! Claim routes: the page a claim link opens, and accept / decline.
//! Accepting, and opening the link of an accepted award, set the owner
//! cookie that shows the recipient the share tools of the award page.

mod mail;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use badges_shared::App;
use badges_shared::domain::{Award, AwardId, AwardStatus};
use badges_shared::openbadges::{badge_image_key, preferred_image};
use badges_shared::service::claims::{self, Claim};
use badges_shared::share::owner;
use badges_shared::web::error::ApiError;
use badges_shared::web::extract::{media_type, parse_form, read_body};
use badges_shared::web::pages::{BadgeView, ClaimPage, DeclinedPage, Site, render};

pub fn router(app: App) -> Router {
    Router::new()
        .route("/claim/{award_id}", get(claim_page))
        .route("/claim/{award_id}/accept", post(accept))
        .route("/claim/{award_id}/decline", post(decline))
        .merge(mail::routes())
        .layer(axum::middleware::map_response(private_response))
        .with_state(app)
}

#[derive(Deserialize)]
struct TokenParam {
    #[serde(default)]
    token: String,
}

fn badge_view(app: &App, claim: &Claim) -> BadgeView {
    let image_url = preferred_image(&claim.badge).map(|kind| app.images.public_url(&badge_image_key(&claim.badge.id, kind)));
    BadgeView::new(&app.settings, &claim.badge, image_url)
}

async fn private_response(response: Response) -> Response {
    private(response)
}

/// The award id of a claim link. A malformed id gets the same answer as a
/// wrong token, with the page that explains how to get a new link.
struct ClaimId(AwardId);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClaimId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let invalid = || ApiError::from(claims::ClaimError::Invalid);
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await.map_err(|_| invalid())?;
        AwardId::parse(&raw).map(ClaimId).map_err(|_| invalid())
    }
}

/// Claim pages and their errors carry the token: keep them out of caches
/// and referrers.
fn private(mut response: Response) -> Response {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    private(response)
}

/// Redirects the recipient of an accepted award to its page with a new
/// owner cookie, which shows them the share tools there.
fn to_award_page_as_owner(app: &App, award: &Award) -> Response {
    let mut response = see_other(&app.settings.award_url(&award.id));
    match owner::set_cookie_header(&app.settings, &award.recipient.email, app.clock.now()) {
        Some(cookie) => {
            response.headers_mut().append(SET_COOKIE, cookie);
        }
        None => tracing::warn!(award_id = %award.id, "no server key is configured, so no owner cookie is set"),
    }
    response
}

async fn claim_page(
    State(app): State<App>,
    ClaimId(id): ClaimId,
    Query(TokenParam { token }): Query<TokenParam>,
) -> Result<Response, ApiError> {
    let claim = claims::open_claim(&app, &id, &token).await?;
    if claim.award.status == AwardStatus::Accepted {
        return Ok(to_award_page_as_owner(&app, &claim.award));
    }
    let page = ClaimPage::new(&Site::new(&app.settings), badge_view(&app, &claim), &claim.award, &token);
    Ok(private(render(&page)))
}

/// Reads the `token` field of an accept or decline form.
async fn form_token(app: &App, request: Request) -> Result<String, ApiError> {
    let is_form = media_type(request.headers()).is_some_and(|media| media == "application/x-www-form-urlencoded");
    if !is_form {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the token as a form (application/x-www-form-urlencoded)",
        )
        .with_field("Content-Type"));
    }
    let body = read_body(request, app.settings.limits.json_body_bytes).await?;
    let TokenParam { token } = parse_form(&body)?;
    if token.is_empty() {
        return Err(ApiError::bad_request("token", "the form has no token; open the link from your email again"));
    }
    Ok(token)
}

async fn accept(State(app): State<App>, ClaimId(id): ClaimId, request: Request) -> Result<Response, ApiError> {
    let token = form_token(&app, request).await?;
    let claim = claims::accept(&app, &id, &token).await?;
    Ok(to_award_page_as_owner(&app, &claim.award))
}

async fn decline(State(app): State<App>, ClaimId(id): ClaimId, request: Request) -> Result<Response, ApiError> {
    let token = form_token(&app, request).await?;
    let claim = claims::decline(&app, &id, &token).await?;
    let page = DeclinedPage {
        site: Site::new(&app.settings),
        badge: badge_view(&app, &claim),
        award_id: AwardId::to_string(&id),
        token,
    };
    Ok(private(render(&page)))
}
