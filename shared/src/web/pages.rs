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

#[derive(Template)]
#[template(path = "badge.html")]
pub struct BadgePage {
    pub site: Site,
    pub badge: BadgeView,
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
}

#[derive(Template)]
#[template(path = "verify.html")]
pub struct VerifyPage {
    pub site: Site,
}
