//! Public routes: the Open Badges documents of awards, badge classes and
//! the issuer, baked images, Open Badges 3.0 credentials and status lists, the pages that show them, the share tools of
//! an award's owner, learner pages and feeds, oEmbed and verification.

mod award_page;
mod credentials;
mod learners;
mod oembed;
mod verify;

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use badges_shared::App;
use badges_shared::domain::{Award, AwardId, AwardStatus, BadgeClass, ImageKind};
use badges_shared::openbadges::{
    assertion, badge_class, badge_image_key, baked_image_key, issuer_profile, preferred_image, revoked_assertion,
};
use badges_shared::service::ServiceError;
use badges_shared::service::claims::award_image_url;
use badges_shared::web::error::ApiError;
use badges_shared::web::extract::{AwardIdPath, BadgeIdPath};
use badges_shared::web::middleware::FinalBody;
use badges_shared::web::pages::{BadgePage, BadgeView, HomePage, PixelSize, PreviewImage, Site, SocialMeta, render};
use badges_shared::web::prefers_html;

/// Media type of the Open Badges JSON-LD documents.
const JSON_LD: &str = "application/ld+json";

pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/issuer", get(issuer))
        .route("/badges/{badge_id}", get(badge))
        .route("/awards/{award_id}", get(award))
        .route("/awards/{award_id}/badge.png", get(baked_png))
        .route("/awards/{award_id}/badge.svg", get(baked_svg))
        .route("/awards/{award_id}/credential.json", get(credentials::credential_json))
        .route("/awards/{award_id}/credential.png", get(credentials::credential_png))
        .route("/awards/{award_id}/credential.svg", get(credentials::credential_svg))
        .route("/credentials/status/{list}", get(credentials::status_list))
        .route("/.well-known/did.json", get(credentials::did_json))
        .route("/awards/{award_id}/visibility", post(award_page::set_visibility))
        .route("/learners/{learner_id}", get(learners::page))
        .route("/learners/{learner_id}/feed.atom", get(learners::feed))
        .route("/oembed", get(oembed::oembed))
        .route("/verify", get(verify::page).post(verify::submit))
        .with_state(app)
}

fn json_ld(status: StatusCode, document: &Value) -> Response {
    let mut response = (status, document.to_string()).into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(JSON_LD));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// Marks a response whose body depends on `Accept` (JSON-LD or a page)
/// and on the owner cookie, so that caches keep the variants apart.
fn vary_on_accept_and_cookie(mut response: Response) -> Response {
    response.headers_mut().insert(VARY, HeaderValue::from_static("Accept, Cookie"));
    response
}

/// Returns the public URL of a badge's image in its preferred format.
fn badge_image_url(app: &App, badge: &BadgeClass) -> Option<String> {
    preferred_image(badge).map(|kind| app.images.public_url(&badge_image_key(&badge.id, kind)))
}

/// Returns the pixel size of a badge's PNG, read from the stored image.
/// Link previews use it; a missing or unreadable image gives `None`.
async fn badge_png_size(app: &App, badge: &BadgeClass) -> Option<PixelSize> {
    if !badge.images.contains(&ImageKind::Png) {
        return None;
    }
    if let Some(size) = badge.png_size {
        return Some(PixelSize { width: size.width, height: size.height });
    }
    // A badge whose image was stored before its size was recorded.
    match app.images.get(&badge_image_key(&badge.id, ImageKind::Png)).await {
        Ok(Some(image)) => badges_shared::share::png_pixel_size(&image.bytes).map(|(width, height)| PixelSize { width, height }),
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(badge_id = %badge.id, error = %error, "reading the badge PNG for its size failed");
            None
        }
    }
}

async fn home(State(app): State<App>) -> Result<Response, ApiError> {
    let badges = app.store.list_badges().await.map_err(ServiceError::from)?;
    let badges = badges
        .iter()
        .map(|badge| BadgeView::new(&app.settings, badge, badge_image_url(&app, badge)))
        .collect();
    Ok(render(&HomePage { site: Site::new(&app.settings), badges }))
}

async fn issuer(State(app): State<App>) -> Response {
    json_ld(StatusCode::OK, &issuer_profile(&app.settings))
}

async fn badge(State(app): State<App>, BadgeIdPath(id): BadgeIdPath, headers: HeaderMap) -> Result<Response, ApiError> {
    let badge = badges_shared::service::badges::load_badge(&app, &id).await?;
    let image_url = badge_image_url(&app, &badge);
    if prefers_html(&headers) {
        let view = BadgeView::new(&app.settings, &badge, image_url);
        let preview = if badge.images.contains(&ImageKind::Png) {
            Some(PreviewImage {
                url: app.images.public_url(&badge_image_key(&badge.id, ImageKind::Png)),
                size: badge_png_size(&app, &badge).await,
                alt: format!("Badge image of {}", badge.name),
            })
        } else {
            None
        };
        let meta = SocialMeta::new(badge.name.clone(), &badge.description, view.page_url.clone(), preview);
        let page = BadgePage { site: Site::new(&app.settings), badge: view, meta };
        return Ok(vary_on_accept_and_cookie(render(&page)));
    }
    Ok(vary_on_accept_and_cookie(json_ld(StatusCode::OK, &badge_class(&app.settings, &badge, image_url))))
}

/// Loads an award that may be shown publicly: accepted or revoked. Pending
/// and declined awards answer 404, like ids that do not exist.
async fn public_award(app: &App, id: &AwardId) -> Result<(Award, BadgeClass), ApiError> {
    let not_found = || ApiError::not_found("no public award has this id");
    let award = app.store.get_award(id).await.map_err(ServiceError::from)?.ok_or_else(not_found)?;
    if !matches!(award.status, AwardStatus::Accepted | AwardStatus::Revoked) {
        return Err(not_found());
    }
    let badge = badges_shared::service::badges::load_badge(app, &award.badge_id).await?;
    Ok((award, badge))
}

async fn award(State(app): State<App>, AwardIdPath(id): AwardIdPath, headers: HeaderMap) -> Result<Response, ApiError> {
    let (award, badge) = public_award(&app, &id).await?;
    let revoked = award.status == AwardStatus::Revoked;

    if !prefers_html(&headers) {
        if revoked {
            let mut response = json_ld(StatusCode::GONE, &revoked_assertion(&app.settings, &award));
            response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response.extensions_mut().insert(FinalBody);
            return Ok(vary_on_accept_and_cookie(response));
        }
        let document = assertion(&app.settings, &award, award_image_url(&app, &award, &badge));
        return Ok(vary_on_accept_and_cookie(json_ld(StatusCode::OK, &document)));
    }

    let page = award_page::build(&app, &award, &badge, &headers).await;
    let mut response = render(&page);
    // The page differs for the owner, so no shared cache may keep it.
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if revoked {
        *response.status_mut() = StatusCode::GONE;
        response.extensions_mut().insert(FinalBody);
    }
    Ok(vary_on_accept_and_cookie(response))
}

async fn baked_png(State(app): State<App>, AwardIdPath(id): AwardIdPath) -> Result<Response, ApiError> {
    baked_image(&app, &id, ImageKind::Png).await
}

async fn baked_svg(State(app): State<App>, AwardIdPath(id): AwardIdPath) -> Result<Response, ApiError> {
    baked_image(&app, &id, ImageKind::Svg).await
}

/// Serves the baked image of a public award. Revoked awards answer 410.
async fn baked_image(app: &App, id: &AwardId, kind: ImageKind) -> Result<Response, ApiError> {
    let (award, badge) = public_award(app, id).await?;
    if award.status == AwardStatus::Revoked {
        return Err(ApiError::new(StatusCode::GONE, "revoked", "this award has been revoked"));
    }
    let missing = || ApiError::not_found(format!("this badge has no {} image", kind.extension().to_uppercase()));
    if !badge.images.contains(&kind) {
        return Err(missing());
    }
    let key = baked_image_key(id, kind);
    let image = match app.images.get(&key).await.map_err(ServiceError::from)? {
        Some(image) => image,
        None => {
            // Baked images are written on acceptance and when the badge image
            // changes; bake again if the copy is missing all the same.
            badges_shared::service::claims::bake_award_images(app, &award, &badge).await?;
            app.images.get(&key).await.map_err(ServiceError::from)?.ok_or_else(missing)?
        }
    };
    let mut response = image.bytes.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(kind.content_type()));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}
