//! Deployment settings shared by every function.

use chrono::Duration;

use crate::domain::Issuer;

/// Size and count limits applied to requests. Each one is documented in
/// the README and in `openapi.yaml`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Maximum JSON or form request body, in bytes.
    pub json_body_bytes: usize,
    /// Maximum CSV upload, in bytes.
    pub csv_body_bytes: usize,
    /// Maximum data rows in one CSV upload.
    pub import_rows: usize,
    /// Maximum uploaded badge image, in bytes.
    pub image_bytes: usize,
    /// Maximum `limit` of one listing page.
    pub page_size_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            json_body_bytes: 64 * 1024,
            csv_body_bytes: 20 * 1024 * 1024,
            import_rows: 100_000,
            image_bytes: crate::images::MAX_IMAGE_BYTES,
            page_size_max: 200,
        }
    }
}

/// Settings read once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public base URL without a trailing slash, such as
    /// `https://badges.example.org`. Every Open Badges id starts with it.
    pub base_url: String,
    pub issuer: Issuer,
    /// Lifetime of a claim link.
    pub claim_token_ttl: Duration,
    pub limits: Limits,
}

impl Settings {
    pub const DEFAULT_CLAIM_TOKEN_DAYS: i64 = 180;

    pub fn new(base_url: &str, issuer: Issuer) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            issuer,
            claim_token_ttl: Duration::days(Self::DEFAULT_CLAIM_TOKEN_DAYS),
            limits: Limits::default(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn issuer_url(&self) -> String {
        self.url("/issuer")
    }

    pub fn badge_url(&self, badge_id: &crate::domain::BadgeId) -> String {
        self.url(&format!("/badges/{badge_id}"))
    }

    pub fn award_url(&self, award_id: &crate::domain::AwardId) -> String {
        self.url(&format!("/awards/{award_id}"))
    }
}
