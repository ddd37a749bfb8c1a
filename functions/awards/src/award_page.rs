//! The award page (the HTML side of `/awards/{award_id}`) with the owner's
//! share tools, and the owner's public/private switch.

use axum::extract::{Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use badges_shared::App;
use badges_shared::domain::{Award, AwardStatus, BadgeClass, ImageKind};
use badges_shared::openbadges::baked_image_key;
use badges_shared::service::claims::award_image_url;
use badges_shared::service::sharing::set_public;
use badges_shared::share::links::{
    Certification, Organization, add_to_profile_url, encode, facebook_share_url, linkedin_feed_url, x_share_url,
};
use badges_shared::share::snippets::{EMBED_WIDTH, SnippetImage, embed_html, scaled_height, signature_html};
use badges_shared::share::{learner, owner};
use badges_shared::web::error::ApiError;
use badges_shared::web::extract::{AwardIdPath, media_type, parse_form, read_body};
use badges_shared::web::pages::{
    AwardPage, BadgeView, CopyField, EmbedSize, OwnerTools, PixelSize, PreviewImage, Site, SocialMeta, human_date,
};

use crate::{badge_image_url, badge_png_size};

/// Widths offered for the embed snippet, in CSS pixels.
const EMBED_SIZES: [(&str, u32); 3] = [("Small", 100), ("Medium", EMBED_WIDTH), ("Large", 250)];

/// Builds the award page. The share tools are added when the request
/// carries the recipient's owner cookie and the award is not revoked.
pub async fn build(app: &App, award: &Award, badge: &BadgeClass, headers: &HeaderMap) -> AwardPage {
    let settings = &app.settings;
    let now = app.clock.now();
    let revoked = award.status == AwardStatus::Revoked;
    let status = if revoked { "revoked" } else if award.is_expired(now) { "expired" } else { "valid" };
    let award_url = settings.award_url(&award.id);
    let baked_url = |kind: ImageKind| {
        (!revoked && badge.images.contains(&kind))
            .then(|| settings.url(&format!("/awards/{}/badge.{}", award.id, kind.extension())))
    };
    let has_credential = !revoked && app.issuer_signer.is_some();
    let credential_url = |kind: &str| {
        has_credential.then(|| settings.url(&format!("/awards/{}/credential.{kind}", award.id)))
    };
    let credential_image_url = |kind: ImageKind| credential_url(kind.extension()).filter(|_| badge.images.contains(&kind));
    let png_size = badge_png_size(app, badge).await;
    let has_png = badge.images.contains(&ImageKind::Png);
    // The baked PNG where websites and social networks fetch images from.
    let public_png = (has_png && !revoked).then(|| app.images.public_url(&baked_image_key(&award.id, ImageKind::Png)));
    let alt = image_alt(app, award, badge);

    let title = if award.recipient.name.is_empty() {
        badge.name.clone()
    } else {
        format!("{}: {}", badge.name, award.recipient.name)
    };
    let preview_url = public_png
        .clone()
        .or_else(|| has_png.then(|| app.images.public_url(&badges_shared::openbadges::badge_image_key(&badge.id, ImageKind::Png))));
    let preview = preview_url.map(|url| PreviewImage { url, size: png_size, alt: alt.clone() });
    let meta = SocialMeta::new(title, &badge.description, award_url.clone(), preview);
    let oembed_url = (award.public && !revoked)
        .then(|| settings.url(&format!("/oembed?url={}&format=json", encode(&award_url))));

    let is_owner = !revoked && owner::is_owner(settings, headers, &award.recipient.email, now);
    let owner_tools =
        is_owner.then(|| owner_tools(app, award, badge, &award_url, public_png.as_deref(), png_size, &alt));

    AwardPage {
        site: Site::new(settings),
        badge: BadgeView::new(settings, badge, badge_image_url(app, badge)),
        award_id: award.id.to_string(),
        award_url,
        recipient_name: award.recipient.name.clone(),
        issued_on: human_date(award.issued_on),
        expires_on: award.expires_on.map(human_date),
        status: status.to_owned(),
        revocation_reason: award.revocation_reason.clone(),
        image_url: award_image_url(app, award, badge).filter(|_| !revoked).or_else(|| badge_image_url(app, badge)),
        png_url: baked_url(ImageKind::Png),
        svg_url: baked_url(ImageKind::Svg),
        credential_json_url: credential_url("json"),
        credential_png_url: credential_image_url(ImageKind::Png),
        credential_svg_url: credential_image_url(ImageKind::Svg),
        meta,
        oembed_url,
        public: award.public,
        owner: owner_tools,
    }
}

/// Returns the alt text of the award's image: what it is, for whom, by whom.
pub fn image_alt(app: &App, award: &Award, badge: &BadgeClass) -> String {
    let issuer = &app.settings.issuer.name;
    if award.recipient.name.is_empty() {
        format!("{} badge issued by {issuer}", badge.name)
    } else {
        format!("{} badge awarded to {} by {issuer}", badge.name, award.recipient.name)
    }
}

fn owner_tools(
    app: &App,
    award: &Award,
    badge: &BadgeClass,
    award_url: &str,
    public_png: Option<&str>,
    png_size: Option<PixelSize>,
    alt: &str,
) -> OwnerTools {
    let settings = &app.settings;
    let issuer = settings.issuer.name.as_str();
    let organization = match &settings.linkedin_organization_id {
        Some(id) => Organization::Id(id),
        None => Organization::Name(issuer),
    };
    let award_id = award.id.to_string();
    let certification = Certification {
        name: &badge.name,
        organization,
        issued_on: award.issued_on,
        expires_on: award.expires_on,
        cert_url: award_url,
        cert_id: &award_id,
    };

    let month = |time: chrono::DateTime<chrono::Utc>| time.format("%B %Y").to_string();
    let mut fields = vec![
        copy_field("linkedin-name", "Name", &badge.name),
        copy_field("linkedin-organization", "Issuing organization", issuer),
        copy_field("linkedin-issue-date", "Issue date", &month(award.issued_on)),
    ];
    match award.expires_on {
        Some(expires) => fields.push(copy_field("linkedin-expiration-date", "Expiration date", &month(expires))),
        None => fields.push(copy_field("linkedin-expiration-date", "Expiration date", "This credential does not expire")),
    }
    fields.push(copy_field("linkedin-credential-id", "Credential ID", &award_id));
    fields.push(copy_field("linkedin-credential-url", "Credential URL", award_url));

    let pixel_size = png_size.map(|size| (size.width, size.height));
    let snippet_image = public_png.map(|image_url| SnippetImage { award_url, image_url, alt, pixel_size });
    let post_text = format!("I earned the “{}” badge from {issuer}.", badge.name);
    let learner_id = settings.server_key.as_ref().map(|key| learner::learner_id(key, &award.recipient.email));

    OwnerTools {
        linkedin_add_url: add_to_profile_url(&certification),
        linkedin_fields: fields,
        linkedin_feed_url: linkedin_feed_url(award_url),
        facebook_url: facebook_share_url(award_url),
        x_url: x_share_url(&post_text, award_url),
        embed_html: snippet_image.as_ref().map(|image| embed_html(image, EMBED_WIDTH)),
        embed_sizes: EMBED_SIZES
            .iter()
            .map(|(label, width)| EmbedSize {
                label: (*label).to_owned(),
                width: *width,
                height: scaled_height(pixel_size, *width),
                checked: *width == EMBED_WIDTH,
            })
            .collect(),
        signature_html: snippet_image.as_ref().map(|image| signature_html(image, &badge.name, issuer)),
        learner_page_url: learner_id.as_ref().map(|id| settings.url(&format!("/learners/{id}"))),
        learner_feed_url: learner_id.as_ref().map(|id| settings.url(&format!("/learners/{id}/feed.atom"))),
        visibility_action: settings.url(&format!("/awards/{}/visibility", award.id)),
    }
}

fn copy_field(id: &str, label: &str, value: &str) -> CopyField {
    CopyField { id: id.to_owned(), label: label.to_owned(), value: value.to_owned() }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisibilityForm {
    visibility: String,
}

/// `POST /awards/{award_id}/visibility`: the owner makes an accepted award
/// public or private, then returns to the award page.
pub async fn set_visibility(State(app): State<App>, AwardIdPath(id): AwardIdPath, request: Request) -> Result<Response, ApiError> {
    let settings = &app.settings;
    if !owner::same_origin(settings, request.headers()) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "cross_site_request", "the form was sent from another site")
            .with_field("Origin"));
    }
    let is_form = media_type(request.headers()).is_some_and(|media| media == "application/x-www-form-urlencoded");
    if !is_form {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the choice as a form (application/x-www-form-urlencoded)",
        )
        .with_field("Content-Type"));
    }
    let headers = request.headers().clone();
    let body = read_body(request, settings.limits.json_body_bytes).await?;
    let VisibilityForm { visibility } = parse_form(&body)?;
    let public = match visibility.as_str() {
        "public" => true,
        "private" => false,
        other => {
            return Err(ApiError::bad_request("visibility", format!("visibility is \"public\" or \"private\", not {other:?}")));
        }
    };

    let not_found = || ApiError::not_found("no public award has this id");
    let award = app.store.get_award(&id).await.map_err(badges_shared::service::ServiceError::from)?.ok_or_else(not_found)?;
    if !matches!(award.status, AwardStatus::Accepted | AwardStatus::Revoked) {
        return Err(not_found());
    }
    if !owner::is_owner(settings, &headers, &award.recipient.email, app.clock.now()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_owner",
            "only the recipient can change this; open the link from your badge email in this browser first",
        ));
    }
    set_public(&app, &id, public).await?;

    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&settings.award_url(&id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}
