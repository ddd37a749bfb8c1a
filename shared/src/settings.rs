//! Deployment settings shared by every function.

use chrono::Duration;

use crate::domain::Issuer;
use crate::share::ServerKey;

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
    /// Maximum `POST /verify` body, in bytes: an image, a URL or JSON,
    /// with the multipart framing of the verification form.
    pub verify_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            json_body_bytes: 64 * 1024,
            csv_body_bytes: 20 * 1024 * 1024,
            import_rows: 100_000,
            image_bytes: crate::images::MAX_IMAGE_BYTES,
            page_size_max: 200,
            verify_body_bytes: MAX_VERIFY_BODY_BYTES,
        }
    }
}

/// Maximum `POST /verify` body (4 MiB). A Lambda function receives at most
/// 6 MB, and API Gateway sends a binary body base64-encoded, which makes it
/// a third larger, so 4 MiB still fits.
pub const MAX_VERIFY_BODY_BYTES: usize = 4 * 1024 * 1024;

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
    /// Secret that signs owner cookies and makes learner page ids. Without
    /// it no owner cookie is set and learner pages return 404.
    pub server_key: Option<ServerKey>,
    /// LinkedIn id of the issuing organisation's company page. "Add to
    /// profile" links name the organisation by this id when it is set, and
    /// by the issuer name otherwise.
    pub linkedin_organization_id: Option<String>,
    /// Learner resends, reminders and follow-up emails.
    pub mail: MailSettings,
}

impl Settings {
    pub const DEFAULT_CLAIM_TOKEN_DAYS: i64 = 180;

    pub fn new(base_url: &str, issuer: Issuer) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            issuer,
            claim_token_ttl: Duration::days(Self::DEFAULT_CLAIM_TOKEN_DAYS),
            limits: Limits::default(),
            server_key: None,
            linkedin_organization_id: None,
            mail: MailSettings::default(),
        }
    }

    pub fn with_mail(mut self, mail: MailSettings) -> Self {
        self.mail = mail;
        self
    }

    pub fn with_server_key(mut self, key: ServerKey) -> Self {
        self.server_key = Some(key);
        self
    }

    /// Sets the LinkedIn organisation id; blank values mean none.
    pub fn with_linkedin_organization_id(mut self, id: Option<String>) -> Self {
        self.linkedin_organization_id = id.map(|id| id.trim().to_owned()).filter(|id| !id.is_empty());
        self
    }

    /// Returns true when the public base URL is https, so cookies get the
    /// `Secure` attribute.
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
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

/// Settings of the emails that follow the claim email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// Shortest time between two emails that learners request for one
    /// address through `POST /resend`.
    pub resend_interval: Duration,
    /// Ages of an unclaimed award, counted from its first successful send,
    /// at which a reminder goes out: at most two, in increasing order.
    pub reminder_ages: Vec<Duration>,
}

impl MailSettings {
    pub const DEFAULT_RESEND_INTERVAL_MINUTES: i64 = 15;
    pub const DEFAULT_REMINDER_DAYS: [u32; 2] = [7, 30];
    /// Maximum number of reminders per award.
    pub const MAX_REMINDERS: usize = 2;
    /// Largest resend interval, one day in minutes.
    pub const MAX_RESEND_INTERVAL_MINUTES: u32 = 1440;
    /// Largest reminder age in days.
    pub const MAX_REMINDER_DAYS: u32 = 365;

    /// Builds the settings from a resend interval in minutes and reminder
    /// ages in days, checking their ranges.
    pub fn new(resend_interval_minutes: u32, reminder_days: &[u32]) -> Result<Self, InvalidMailSettings> {
        if resend_interval_minutes == 0 || resend_interval_minutes > Self::MAX_RESEND_INTERVAL_MINUTES {
            return Err(InvalidMailSettings::ResendInterval(resend_interval_minutes));
        }
        if reminder_days.len() > Self::MAX_REMINDERS {
            return Err(InvalidMailSettings::TooManyReminders(reminder_days.len()));
        }
        let in_order = reminder_days.windows(2).all(|pair| pair[0] < pair[1]);
        let in_range = reminder_days.iter().all(|days| (1..=Self::MAX_REMINDER_DAYS).contains(days));
        if !in_order || !in_range {
            return Err(InvalidMailSettings::ReminderDays(reminder_days.to_vec()));
        }
        Ok(Self {
            resend_interval: Duration::minutes(i64::from(resend_interval_minutes)),
            reminder_ages: reminder_days.iter().map(|days| Duration::days(i64::from(*days))).collect(),
        })
    }

    /// Parses reminder ages written as comma-separated days, such as
    /// `7,30`. An empty text means no reminders.
    pub fn parse_reminder_days(text: &str) -> Result<Vec<u32>, InvalidMailSettings> {
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| part.parse::<u32>().map_err(|_| InvalidMailSettings::ReminderText(text.to_owned())))
            .collect()
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            resend_interval: Duration::minutes(Self::DEFAULT_RESEND_INTERVAL_MINUTES),
            reminder_ages: Self::DEFAULT_REMINDER_DAYS.iter().map(|days| Duration::days(i64::from(*days))).collect(),
        }
    }
}

/// A mail setting out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMailSettings {
    #[error("the resend interval must be 1 to {max} minutes, not {0}", max = MailSettings::MAX_RESEND_INTERVAL_MINUTES)]
    ResendInterval(u32),
    #[error("at most {max} reminder ages are allowed, not {0}", max = MailSettings::MAX_REMINDERS)]
    TooManyReminders(usize),
    #[error("reminder ages must increase and each be 1 to {max} days, not {0:?}", max = MailSettings::MAX_REMINDER_DAYS)]
    ReminderDays(Vec<u32>),
    #[error("reminder ages are whole numbers of days separated by commas, such as 7,30, not {0:?}")]
    ReminderText(String),
}

#[cfg(test)]
mod mail_settings_tests {
    use super::*;

    #[test]
    fn mail_defaults() {
        let settings = MailSettings::default();
        assert_eq!(settings.resend_interval, Duration::minutes(15));
        assert_eq!(settings.reminder_ages, vec![Duration::days(7), Duration::days(30)]);
        assert_eq!(MailSettings::new(15, &[7, 30]).unwrap(), settings);
    }

    #[test]
    fn reminder_days_are_checked() {
        assert_eq!(MailSettings::parse_reminder_days(" 3, 10 "), Ok(vec![3, 10]));
        assert_eq!(MailSettings::parse_reminder_days(""), Ok(vec![]));
        assert!(MailSettings::parse_reminder_days("7;30").is_err());
        assert!(MailSettings::new(15, &[]).is_ok());
        assert_eq!(MailSettings::new(15, &[7, 14, 30]), Err(InvalidMailSettings::TooManyReminders(3)));
        assert_eq!(MailSettings::new(15, &[30, 7]), Err(InvalidMailSettings::ReminderDays(vec![30, 7])));
        assert_eq!(MailSettings::new(15, &[0]), Err(InvalidMailSettings::ReminderDays(vec![0])));
        assert_eq!(MailSettings::new(0, &[7]), Err(InvalidMailSettings::ResendInterval(0)));
    }
}
