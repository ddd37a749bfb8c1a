//! HTML pages, rendered by askama with HTML auto-escaping.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};

use crate::domain::{Award, BadgeClass};
use crate::settings::Settings;
use crate::web::ApiError;

/// What every page shows in its header and footer.
#[derive(Clone, Debug)]
pub struct Site {
    pub issuer_name: String,
    pub issuer_url: String,
    pub issuer_email: String,
    pub base_url: String,
}

impl Site {
    pub fn new(settings: &Settings) -> Self {
        Self {
            issuer_name: settings.issuer.name.clone(),
            issuer_url: settings.issuer.url.clone(),
            issuer_email: settings.issuer.email.clone(),
            base_url: settings.base_url.clone(),
        }
    }
}

/// Renders a template, answering 500 when rendering fails.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "page rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Formats a date as people read it, such as "22 May 2020" (UTC).
pub fn human_date(time: DateTime<Utc>) -> String {
    time.format("%-d %B %Y").to_string()
}

/// A badge class as pages show it.
#[derive(Clone, Debug)]
pub struct BadgeView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub format: Option<String>,
    pub criteria_narrative: Option<String>,
    pub criteria_url: Option<String>,
    pub tags: Vec<String>,
    pub image_url: Option<String>,
    pub page_url: String,
}

impl BadgeView {
    pub fn new(settings: &Settings, badge: &BadgeClass, image_url: Option<String>) -> Self {
        Self {
            id: badge.id.to_string(),
            name: badge.name.clone(),
            description: badge.description.clone(),
            format: badge.format.clone(),
            criteria_narrative: badge.criteria.narrative.clone(),
            criteria_url: badge.criteria.url.clone(),
            tags: badge.tags.clone(),
            image_url,
            page_url: settings.badge_url(&badge.id),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub site: Site,
    pub status: u16,
    pub title: String,
    pub message: String,
    /// Whether to explain how to get a new claim link.
    pub claim_help: bool,
}

impl ErrorPage {
    pub fn new(site: &Site, error: &ApiError) -> Self {
        let title = match error.status {
            StatusCode::NOT_FOUND if error.code == "invalid_claim_link" => "This link does not work",
            StatusCode::GONE if error.code == "expired_claim_link" => "This link has expired",
            StatusCode::GONE if error.code == "revoked" => "This badge has been revoked",
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::UNAUTHORIZED => "Sign-in required",
            status if status.is_server_error() => "Something went wrong",
            _ => "The request could not be completed",
        };
        Self {
            site: site.clone(),
            status: error.status.as_u16(),
            title: title.to_owned(),
            message: error.message.clone(),
            claim_help: matches!(error.code, "invalid_claim_link" | "expired_claim_link"),
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub site: Site,
    pub badges: Vec<BadgeView>,
}

/// An image for link previews (Open Graph and Twitter cards).
#[derive(Clone, Debug)]
pub struct PreviewImage {
    /// Absolute URL of a PNG, because social networks do not show SVG.
    pub url: String,
    /// Pixel size, when the PNG header could be read.
    pub size: Option<PixelSize>,
    pub alt: String,
}

/// Width and height of an image in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelSize {
    pub width: u32,
    pub height: u32,
}

/// Open Graph and Twitter card tags of a page.
#[derive(Clone, Debug)]
pub struct SocialMeta {
    pub title: String,
    pub description: String,
    /// The page's own absolute URL.
    pub url: String,
    pub image: Option<PreviewImage>,
    /// Add `og:image:secure_url`, because the image URL is https.
    pub secure_image: bool,
}

impl SocialMeta {
    pub fn new(title: String, description: &str, url: String, image: Option<PreviewImage>) -> Self {
        let secure_image = image.as_ref().is_some_and(|image| image.url.starts_with("https://"));
        Self { title, description: summary_text(description), url, image, secure_image }
    }
}

/// Shortens text to at most 300 characters on a word boundary, for
/// descriptions in link previews.
pub fn summary_text(text: &str) -> String {
    const MAX_CHARS: usize = 300;
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= MAX_CHARS {
        return text;
    }
    let cut: String = text.chars().take(MAX_CHARS - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > MAX_CHARS / 2 => cut[..space].to_owned(),
        _ => cut,
    };
    format!("{cut}…")
}

#[derive(Template)]
#[template(path = "badge.html")]
pub struct BadgePage {
    pub site: Site,
    pub badge: BadgeView,
    pub meta: SocialMeta,
}

#[derive(Template)]
#[template(path = "claim.html")]
pub struct ClaimPage {
    pub site: Site,
    pub badge: BadgeView,
    pub award_id: String,
    pub token: String,
    pub recipient_name: String,
    pub issued_on: String,
    pub expires_on: Option<String>,
    /// The award's expiry date has passed.
    pub expired: bool,
    pub declined: bool,
}

impl ClaimPage {
    pub fn new(site: &Site, badge: BadgeView, award: &Award, token: &str) -> Self {
        Self {
            site: site.clone(),
            badge,
            award_id: award.id.to_string(),
            token: token.to_owned(),
            recipient_name: award.recipient.name.clone(),
            issued_on: human_date(award.issued_on),
            expires_on: award.expires_on.map(human_date),
            expired: award.is_expired(chrono::Utc::now()),
            declined: award.status == crate::domain::AwardStatus::Declined,
        }
    }
}

#[derive(Template)]
#[template(path = "declined.html")]
pub struct DeclinedPage {
    pub site: Site,
    pub badge: BadgeView,
    pub award_id: String,
    pub token: String,
}

#[derive(Template)]
#[template(path = "award.html")]
pub struct AwardPage {
    pub site: Site,
    pub badge: BadgeView,
    pub award_id: String,
    pub award_url: String,
    pub recipient_name: String,
    pub issued_on: String,
    pub expires_on: Option<String>,
    /// valid, expired or revoked.
    pub status: String,
    pub revocation_reason: Option<String>,
    pub image_url: Option<String>,
    pub png_url: Option<String>,
    pub svg_url: Option<String>,
    /// The Open Badges 3.0 credential and its baked images; none when the
    /// award is revoked or the deployment has no issuer key.
    pub credential_json_url: Option<String>,
    pub credential_png_url: Option<String>,
    pub credential_svg_url: Option<String>,
    pub meta: SocialMeta,
    /// oEmbed discovery URL; only public, unrevoked awards have one.
    pub oembed_url: Option<String>,
    /// The recipient lists the award on their public page.
    pub public: bool,
    /// Share tools, shown only to the recipient (owner cookie).
    pub owner: Option<OwnerTools>,
}

/// A value shown with a copy button, such as a LinkedIn form field.
#[derive(Clone, Debug)]
pub struct CopyField {
    /// Element id, unique on the page.
    pub id: String,
    pub label: String,
    pub value: String,
}

/// An embed snippet size the owner can choose.
#[derive(Clone, Debug)]
pub struct EmbedSize {
    pub label: String,
    pub width: u32,
    pub height: u32,
    pub checked: bool,
}

/// The share tools of the award page.
#[derive(Clone, Debug)]
pub struct OwnerTools {
    pub linkedin_add_url: String,
    /// The same fields as the LinkedIn link, for copying by hand.
    pub linkedin_fields: Vec<CopyField>,
    pub linkedin_feed_url: String,
    pub facebook_url: String,
    pub x_url: String,
    /// Embed snippet HTML, already escaped inside; the template escapes
    /// it once more as textarea text, and shows it unescaped as preview.
    pub embed_html: Option<String>,
    pub embed_sizes: Vec<EmbedSize>,
    pub signature_html: Option<String>,
    pub learner_page_url: Option<String>,
    pub learner_feed_url: Option<String>,
    /// Form action that makes the award public or private.
    pub visibility_action: String,
}

/// The public badge page of one learner.
#[derive(Template)]
#[template(path = "learner.html")]
pub struct LearnerPage {
    pub site: Site,
    /// The name on the learner's newest award, possibly empty.
    pub learner_name: String,
    pub page_url: String,
    pub feed_url: String,
    pub awards: Vec<LearnerAward>,
}

/// One award on a learner page.
#[derive(Clone, Debug)]
pub struct LearnerAward {
    pub award_url: String,
    pub badge_name: String,
    pub badge_format: Option<String>,
    pub image_url: Option<String>,
    pub issued_on: String,
    /// valid or expired.
    pub status: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
pub struct VerifyPage {
    pub site: Site,
    /// The largest accepted upload, for the form's hint, such as "4 MiB".
    pub max_upload: String,
    /// The values of the submitted form, shown again with the result.
    pub url: String,
    pub json: String,
    pub email: String,
    /// The pasted status-list credential.
    pub status_list: String,
    /// Error message about the submitted form, which could not be checked.
    pub error: Option<String>,
    pub result: Option<VerifyResult>,
}

/// A verification report as the page shows it.
#[derive(Clone, Debug)]
pub struct VerifyResult {
    /// valid, revoked, expired, unknown or malformed.
    pub status: String,
    pub heading: String,
    pub summary: String,
    pub badge_name: Option<String>,
    pub recipient_name: Option<String>,
    pub issuer_name: Option<String>,
    pub issued_on: Option<String>,
    pub expires: Option<String>,
    pub assertion_id: Option<String>,
    /// `2.0` or `3.0`.
    pub open_badges_version: String,
    pub credential_id: Option<String>,
    pub issuer_id: Option<String>,
    pub recipient_match: Option<bool>,
    /// True when the details come from an Open Badges 3.0 credential whose
    /// signature did not verify, so they are only what the file states.
    pub details_unverified: bool,
    pub checks: Vec<VerifyCheck>,
}

#[derive(Clone, Debug)]
pub struct VerifyCheck {
    pub passed: bool,
    /// passed, failed, warning or skipped.
    pub outcome: String,
    /// The outcome as the page shows it: Passed, Failed, Warning or Skipped.
    pub label: String,
    pub message: String,
}

impl VerifyCheck {
    fn new(check: &crate::verify::Check) -> Self {
        use crate::verify::CheckOutcome;
        let (outcome, label) = match check.outcome {
            CheckOutcome::Passed => ("passed", "Passed"),
            CheckOutcome::Failed => ("failed", "Failed"),
            CheckOutcome::Warning => ("warning", "Warning"),
            CheckOutcome::Skipped => ("skipped", "Skipped"),
        };
        Self { passed: check.passed, outcome: outcome.to_owned(), label: label.to_owned(), message: check.message.clone() }
    }
}

impl VerifyResult {
    pub fn new(report: &crate::verify::Report) -> Self {
        use crate::verify::Status;
        let failed = |id: &str| report.checks.iter().any(|check| check.id == id && !check.passed);
        let heading = match report.status {
            Status::Valid => match (report.issuer_confirmed, report.status_checked) {
                (Some(false), Some(false)) => "Valid signature, issuer and status not confirmed",
                (Some(false), _) => "Valid signature, issuer not confirmed",
                (_, Some(false)) => "Valid badge, status not checked",
                _ => "Valid badge",
            },
            Status::Revoked => "Revoked badge",
            Status::Expired => "Expired badge",
            Status::Unknown if report.open_badges_version == "3.0" => "Cannot be verified here",
            Status::Unknown => "Not a badge of this issuer",
            Status::Malformed if failed("signature") => "Signature check failed",
            Status::Malformed if failed("integrity") => "Badge data was changed",
            Status::Malformed => "Not a readable badge",
        };
        let date = |text: &Option<String>| {
            text.as_deref()
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|time| human_date(time.with_timezone(&Utc)))
        };
        Self {
            status: report.status.as_str().to_owned(),
            heading: heading.to_owned(),
            summary: report.summary.clone(),
            badge_name: report.badge_name.clone(),
            recipient_name: report.recipient_name.clone(),
            issuer_name: report.issuer_name.clone(),
            issued_on: date(&report.issued_on),
            expires: date(&report.expires),
            assertion_id: report.assertion_id.clone(),
            open_badges_version: report.open_badges_version.to_owned(),
            credential_id: report.credential_id.clone(),
            issuer_id: report.issuer_id.clone(),
            recipient_match: report.recipient_match,
            details_unverified: report.open_badges_version == "3.0" && report.status == Status::Malformed,
            checks: report.checks.iter().map(VerifyCheck::new).collect(),
        }
    }
}
