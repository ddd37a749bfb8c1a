//! oEmbed (https://oembed.com) for award pages: `GET /oembed?url=…`
//! returns a `rich` embed with the same snippet as the award page.

use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use badges_shared::App;
use badges_shared::domain::{AwardStatus, ImageKind};
use badges_shared::openbadges::baked_image_key;
use badges_shared::service::ServiceError;
use badges_shared::share::snippets::{EMBED_WIDTH, SnippetImage, embed_html, scaled_height};
use badges_shared::verify::{LocalUrl, parse_local_url};
use badges_shared::web::error::ApiError;

use crate::award_page::image_alt;
use crate::badge_png_size;

/// The oEmbed query. Other parameters are ignored, as consumers may add
/// their own.
#[derive(Deserialize)]
pub struct OembedQuery {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    maxwidth: Option<u32>,
    #[serde(default)]
    maxheight: Option<u32>,
}

/// Returns an embed only for award pages of this deployment (`{base}/awards/{id}`)
/// whose award is accepted, unrevoked and public: 404 otherwise, and 501
/// for any format but JSON, as the oEmbed specification asks.
pub async fn oembed(State(app): State<App>, query: Result<Query<OembedQuery>, axum::extract::rejection::QueryRejection>) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::bad_request("query", format!("invalid query: {}", error.body_text())))?;
    let settings = &app.settings;
    let url = query.url.as_deref().map(str::trim).filter(|url| !url.is_empty()).ok_or_else(|| {
        ApiError::bad_request("url", "url is required: the address of an award page, such as {base}/awards/{id}".replace("{base}", &settings.base_url))
    })?;
    if let Some(format) = query.format.as_deref().filter(|format| *format != "json") {
        return Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, "format_not_supported", format!("only format=json is supported, not {format:?}"))
            .with_field("format"));
    }
    let not_embeddable = || ApiError::not_found("this address is not a public award page of this site");
    let Some(LocalUrl::Assertion(id)) = parse_local_url(settings, url) else {
        return Err(not_embeddable());
    };
    // The image URLs of an award are not award pages.
    if url.trim_end_matches('/') != settings.award_url(&id) {
        return Err(not_embeddable());
    }
    let award = app.store.get_award(&id).await.map_err(ServiceError::from)?.ok_or_else(not_embeddable)?;
    if award.status != AwardStatus::Accepted || !award.public {
        return Err(not_embeddable());
    }
    let badge = badges_shared::service::badges::load_badge(&app, &award.badge_id).await?;
    if !badge.images.contains(&ImageKind::Png) {
        return Err(not_embeddable());
    }

    let award_url = settings.award_url(&id);
    let image_url = app.images.public_url(&baked_image_key(&id, ImageKind::Png));
    let size = badge_png_size(&app, &badge).await.map(|size| (size.width, size.height));
    let mut width = EMBED_WIDTH.min(query.maxwidth.unwrap_or(u32::MAX)).max(1);
    let mut height = scaled_height(size, width);
    if let Some(max_height) = query.maxheight.filter(|max| *max > 0 && *max < height) {
        width = (u64::from(width) * u64::from(max_height) / u64::from(height)).max(1) as u32;
        height = scaled_height(size, width).min(max_height);
    }
    let alt = image_alt(&app, &award, &badge);
    let html = embed_html(&SnippetImage { award_url: &award_url, image_url: &image_url, alt: &alt, pixel_size: size }, width);

    let mut document = json!({
        "version": "1.0",
        "type": "rich",
        "title": badge.name,
        "provider_name": settings.issuer.name,
        "provider_url": settings.base_url,
        "cache_age": 300,
        "html": html,
        "width": width,
        "height": height,
        "thumbnail_url": image_url,
        "thumbnail_width": size.map_or(width, |size| size.0),
        "thumbnail_height": size.map_or(height, |size| size.1),
    });
    if !award.recipient.name.is_empty() {
        document["author_name"] = json!(award.recipient.name);
    }
    let mut response = document.to_string().into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}
