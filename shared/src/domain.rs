//! Domain types. Values are validated when they are built, so code that
//! receives one of these types does not check it again.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Maximum length of an email address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// An email address, trimmed and case-folded.
///
/// Addresses are compared, stored and hashed in this form. The check is
/// deliberately practical rather than a full RFC 5322 parser: one `@`, a
/// non-empty local part of at most 64 bytes without spaces, and a domain
/// with at least one dot made of letters, digits and hyphens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("the email address is empty")]
    Empty,
    #[error("the email address is longer than {MAX_EMAIL_LEN} characters")]
    TooLong,
    #[error("the email address must contain exactly one '@'")]
    AtSign,
    #[error("the part before '@' is empty, too long or contains spaces or invalid characters")]
    LocalPart,
    #[error("the domain after '@' is not a valid host name with a dot")]
    Domain,
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let folded = raw.trim().to_lowercase();
        if folded.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        if folded.chars().count() > MAX_EMAIL_LEN {
            return Err(InvalidEmail::TooLong);
        }
        let mut parts = folded.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(InvalidEmail::AtSign);
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
            });
        if !local_ok {
            return Err(InvalidEmail::LocalPart);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return Err(InvalidEmail::Domain);
        }
        Ok(Self(folded))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        EmailAddress::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Maximum length of a badge id.
pub const MAX_BADGE_ID_LEN: usize = 80;

/// A badge class id: a URL slug of lowercase ASCII letters, digits and
/// single hyphens, 1 to 80 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BadgeId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a badge id is 1 to {MAX_BADGE_ID_LEN} lowercase letters, digits and single hyphens, such as 'rda-serials-2026'")]
pub struct InvalidBadgeId;

impl BadgeId {
    pub fn parse(raw: &str) -> Result<Self, InvalidBadgeId> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_BADGE_ID_LEN
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--")
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidBadgeId) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BadgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for BadgeId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        BadgeId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// An award id: 26 characters of lowercase base32 (128 random bits), so it
/// is safe in URLs, file names and S3 keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AwardId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an award id is 26 characters of a-z and 2-7")]
pub struct InvalidAwardId;

impl AwardId {
    pub const LEN: usize = 26;

    pub fn parse(raw: &str) -> Result<Self, InvalidAwardId> {
        let ok = raw.len() == Self::LEN
            && raw.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidAwardId) }
    }

    /// Builds an id from 16 random bytes.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(crate::encoding::base32_lower(&bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AwardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AwardId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        AwardId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// What earning a badge takes: a narrative, a URL, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criteria {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Media type of a stored badge image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Png,
    Svg,
}

impl ImageKind {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Svg => "image/svg+xml",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Svg => "svg",
        }
    }
}

/// A badge class: what is awarded for one learning activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadgeClass {
    pub id: BadgeId,
    pub name: String,
    pub description: String,
    pub criteria: Criteria,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Learning format shown to people, such as "Webinar" or "Web Course".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_after_days: Option<u32>,
    /// Image formats stored for this badge. An SVG badge also has a PNG
    /// rendering, because social networks do not show SVG previews.
    #[serde(default)]
    pub images: Vec<ImageKind>,
    /// Pixel size of the stored PNG image, recorded when the image is
    /// stored, so that pages can state it without reading the image.
    /// Badges stored before this field existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub png_size: Option<ImageSize>,
    /// Follow-up survey to which recipients who accepted are invited once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_url: Option<String>,
    /// Days after acceptance before the survey invitation goes out; 0 when
    /// not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_delay_days: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Width and height of an image in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSize {
    pub width: u32,
    pub height: u32,
}

/// Whether the recipient has answered the award, or staff revoked it.
/// "expired" is not stored: it is derived from `expires_on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AwardStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
}

impl AwardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AwardStatus::Pending => "pending",
            AwardStatus::Accepted => "accepted",
            AwardStatus::Declined => "declined",
            AwardStatus::Revoked => "revoked",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(AwardStatus::Pending),
            "accepted" => Some(AwardStatus::Accepted),
            "declined" => Some(AwardStatus::Declined),
            "revoked" => Some(AwardStatus::Revoked),
            _ => None,
        }
    }
}

/// Delivery state of the award's latest email: the claim email, a resend
/// or a reminder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationStatus {
    /// Waiting for the notification worker.
    Queued,
    /// Taken by a worker that has not finished sending yet.
    Sending,
    Sent,
    Delivered,
    Bounced,
    Complained,
    /// Not sent because the address is suppressed.
    Suppressed,
    /// Sending failed with a permanent error.
    Failed,
}

impl NotificationStatus {
    pub const ALL: [NotificationStatus; 8] = [
        NotificationStatus::Queued,
        NotificationStatus::Sending,
        NotificationStatus::Sent,
        NotificationStatus::Delivered,
        NotificationStatus::Bounced,
        NotificationStatus::Complained,
        NotificationStatus::Suppressed,
        NotificationStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Queued => "queued",
            NotificationStatus::Sending => "sending",
            NotificationStatus::Sent => "sent",
            NotificationStatus::Delivered => "delivered",
            NotificationStatus::Bounced => "bounced",
            NotificationStatus::Complained => "complained",
            NotificationStatus::Suppressed => "suppressed",
            NotificationStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

/// Position of one award's bit in the revocation status lists: list
/// `list` (numbered from 1), bit `index` (from 0).
///
/// Positions come from one sequence. Position `n` of the sequence is bit
/// `n % LIST_BITS` of list `n / LIST_BITS + 1`, so when a list is full the
/// next award starts the next list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StatusIndex {
    pub list: u32,
    pub index: u64,
}

impl StatusIndex {
    /// Bits per status list: 131,072 (16 KiB), the minimum length that the
    /// Bitstring Status List specification sets so that a list hides
    /// which of its credentials a verifier asks about.
    pub const LIST_BITS: u64 = 131_072;

    /// Returns the position of number `sequence` (from 0) of the sequence.
    pub fn from_sequence(sequence: u64) -> Self {
        let list = sequence / Self::LIST_BITS + 1;
        Self { list: u32::try_from(list).unwrap_or(u32::MAX), index: sequence % Self::LIST_BITS }
    }
}

/// The person an award is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub email: EmailAddress,
    pub name: String,
}

/// One badge awarded to one recipient for one session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Award {
    pub id: AwardId,
    pub badge_id: BadgeId,
    pub recipient: Recipient,
    /// Session label; empty when the badge is awarded once per person.
    pub session: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    pub issued_on: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<DateTime<Utc>>,
    /// Salt of the hashed recipient identity in the Open Badges assertion.
    pub salt: String,
    pub status: AwardStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    /// Whether the recipient lists this award on their public badge page
    /// and feed. A private award is still published at its assertion URL
    /// for whoever has that address. Awards stored before this field
    /// existed are public.
    #[serde(default = "public_by_default")]
    pub public: bool,
    pub notification: NotificationStatus,
    /// Provider message id, bounce type or failure reason of the last
    /// notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_detail: Option<String>,
    /// Provider message id of the award's latest email (the claim email, a
    /// resend or a reminder); SES events about older messages are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<DateTime<Utc>>,
    /// Reminders of the claim email taken for sending, at most one per
    /// configured reminder age.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reminders_sent: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reminder_at: Option<DateTime<Utc>>,
    /// When the next reminder is due; `None` when no reminder is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_reminder_at: Option<DateTime<Utc>>,
    /// When the follow-up survey invitation is due; set on acceptance when
    /// the badge has a survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_due_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_invited_at: Option<DateTime<Utc>>,
    /// The award's bit in the revocation status lists of its Open Badges
    /// 3.0 credential. Set once, on acceptance or when the credential of an
    /// older award is first built, and never changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_index: Option<StatusIndex>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version, incremented by every update.
    pub version: u64,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

/// A scheduled follow-up email of an award.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FollowUp {
    /// A reminder of the claim email, for a pending award.
    Reminder,
    /// The survey invitation, for an accepted award.
    Survey,
}

impl FollowUp {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::Reminder => "reminder",
            FollowUp::Survey => "survey",
        }
    }
}

fn public_by_default() -> bool {
    true
}

impl Award {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_on.is_some_and(|expires| expires <= now)
    }

    /// Returns the status shown to people: `expired` overrides `accepted`
    /// and `pending` once `expires_on` has passed.
    pub fn display_status(&self, now: DateTime<Utc>) -> &'static str {
        match self.status {
            AwardStatus::Accepted | AwardStatus::Pending if self.is_expired(now) => "expired",
            status => status.as_str(),
        }
    }

    /// Returns the follow-up that the scheduled job looks for and when it
    /// is due. A queued or sending award has none, because its claim email
    /// comes first. Stores index awards by this value.
    pub fn next_follow_up(&self) -> Option<(FollowUp, DateTime<Utc>)> {
        if matches!(self.notification, NotificationStatus::Queued | NotificationStatus::Sending) {
            return None;
        }
        match self.status {
            AwardStatus::Pending => self.next_reminder_at.map(|due| (FollowUp::Reminder, due)),
            AwardStatus::Accepted => self.survey_due_at.map(|due| (FollowUp::Survey, due)),
            AwardStatus::Declined | AwardStatus::Revoked => None,
        }
    }
}

/// Reason that no more email goes to an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// A message to the address bounced permanently.
    HardBounce,
    /// The recipient marked a message as spam.
    Complaint,
    /// The recipient used the unsubscribe link of a reminder or survey
    /// invitation.
    Unsubscribed,
}

impl SuppressionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::HardBounce => "hard_bounce",
            SuppressionReason::Complaint => "complaint",
            SuppressionReason::Unsubscribed => "unsubscribed",
        }
    }

    /// Describes the reason in words, for staff and logs.
    pub fn describe(self) -> &'static str {
        match self {
            SuppressionReason::HardBounce => "a message to this address bounced permanently",
            SuppressionReason::Complaint => "the recipient marked a message as spam",
            SuppressionReason::Unsubscribed => "the recipient unsubscribed",
        }
    }
}

/// An address that gets no more email, with the first reason recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub email: EmailAddress,
    pub reason: SuppressionReason,
    /// Provider detail, such as the bounce type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A learner's request for new claim links, waiting for the sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResendRequest {
    pub email: EmailAddress,
    pub requested_at: DateTime<Utc>,
}

/// A claim-link token as stored: only its SHA-256 hash is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimToken {
    pub award_id: AwardId,
    pub token_hash: [u8; 32],
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The issuing organisation, from configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    pub name: String,
    /// The organisation's homepage.
    pub url: String,
    pub email: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_case_folded() {
        let email = EmailAddress::parse("  AOkafor@Library.Example.org ").unwrap();
        assert_eq!(email.as_str(), "aokafor@library.example.org");
    }

    #[test]
    fn email_rejects_common_mistakes() {
        for (raw, expected) in [
            ("", InvalidEmail::Empty),
            ("bob.keller(at)example.com", InvalidEmail::AtSign),
            ("a@b@example.com", InvalidEmail::AtSign),
            ("@example.com", InvalidEmail::LocalPart),
            ("john doe@example.com", InvalidEmail::LocalPart),
            ("jane@localhost", InvalidEmail::Domain),
            ("jane@exa_mple.com", InvalidEmail::Domain),
            ("jane@example..com", InvalidEmail::Domain),
        ] {
            assert_eq!(EmailAddress::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn email_accepts_plus_and_non_latin_domains() {
        assert!(EmailAddress::parse("lin.wei+ce@univ.example.edu").is_ok());
        assert!(EmailAddress::parse("li.hua@例子.中国").is_ok());
    }

    #[test]
    fn badge_id_is_a_slug() {
        assert!(BadgeId::parse("rda-serials-2026").is_ok());
        for bad in ["", "RDA", "a--b", "-a", "a-", "a b", "a/b", &"x".repeat(81)] {
            assert!(BadgeId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn award_id_round_trips_random_bytes() {
        let id = AwardId::from_random([7; 16]);
        assert_eq!(id.as_str().len(), AwardId::LEN);
        assert_eq!(AwardId::parse(id.as_str()), Ok(id));
        assert!(AwardId::parse("../../etc/passwd").is_err());
    }
}
