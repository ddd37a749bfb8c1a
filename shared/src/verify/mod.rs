//! Verification of a badge given as a baked image, an assertion URL or
//! assertion JSON. Only Open Badges 2.0 badges of this deployment can be
//! checked: their published copies come from a [`Resolver`], and no other
//! URL is fetched.
//!
//! Open Badges 3.0 credentials (JSON, VC-JWT, or baked into a PNG or SVG)
//! from any issuer are checked by their proofs instead (`credential.rs`).

mod credential;
mod resolver;
#[cfg(test)]
mod tests;

pub use resolver::{Document, LocalUrl, Resolved, Resolver, StoreResolver, parse_local_url};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::EmailAddress;
use crate::images::{BakedPayload, Carrier, Spec, UnbakeError, unbake};
use crate::openbadges::hashed_identity;
use crate::ports::StoreError;
use crate::settings::Settings;

/// Input to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A baked PNG or SVG file.
    Image(Vec<u8>),
    /// An assertion URL (or the URL of a baked image of this deployment).
    Url(String),
    /// Assertion JSON.
    Json(String),
    /// Text that its media type (`application/vc+ld+json`,
    /// `application/vc+jwt` or `application/jwt`) declares to be an Open
    /// Badges 3.0 credential, so it is checked as one whatever its content.
    Credential(String),
}

/// The verdict on a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Issued here, published, not revoked and not expired.
    Valid,
    Revoked,
    Expired,
    /// Not issued by this deployment, or not published here.
    Unknown,
    /// The input cannot be read as an Open Badges assertion, or it differs
    /// from the published copy.
    Malformed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
            Status::Unknown => "unknown",
            Status::Malformed => "malformed",
        }
    }
}

/// Outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// Accepted, but the reader should know (Open Badges 3.0 only).
    Warning,
    /// Not checked, because nothing was given to check it with (Open
    /// Badges 3.0 only).
    Skipped,
}

/// One check made, with its outcome explained in plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id. Open Badges 2.0: `read`, `issuer`, `published`,
    /// `integrity`, `badge`, `revocation`, `expiry` or `recipient`. Open
    /// Badges 3.0: `read`, `format`, `signature`, `issuer_key`, `terms`,
    /// `valid_from`, `valid_until`, `status` or `recipient`.
    pub id: &'static str,
    /// False only when the outcome is `failed`.
    pub passed: bool,
    pub outcome: CheckOutcome,
    pub message: String,
}

/// The outcome of a verification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub status: Status,
    /// One sentence for people.
    pub summary: String,
    /// `2.0` for assertions, `3.0` for verifiable credentials.
    pub open_badges_version: &'static str,
    /// The assertion URL, when one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion_id: Option<String>,
    /// The `id` of an Open Badges 3.0 credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// The issuer id (a DID or URL) of an Open Badges 3.0 credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub badge_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub badge_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    /// Whether the email given matches the recipient; absent when no email
    /// was given, the badge could not be found, or no signature of an Open
    /// Badges 3.0 credential verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_match: Option<bool>,
    /// Open Badges 3.0 only, present when a signature verified: true when
    /// the signing key is bound to the issuer (a did:key, or this site's
    /// issuer key). False when the credential carries the key itself, as
    /// the jwk of a VC-JWT header or an Ed25519 multikey in the fragment of
    /// an http(s) verification method. Then the credential is intact, but
    /// the issuer's identity was not confirmed, even when `status` is `valid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_confirmed: Option<bool>,
    /// Open Badges 3.0 only, present when a signature verified and the
    /// credential has a status entry: false when its status list could not
    /// be checked, so a `valid` credential may have been revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_checked: Option<bool>,
    pub checks: Vec<Check>,
}

impl Report {
    fn new() -> Self {
        Report {
            status: Status::Valid,
            summary: String::new(),
            open_badges_version: "2.0",
            assertion_id: None,
            credential_id: None,
            issuer_id: None,
            badge_name: None,
            badge_id: None,
            issuer_name: None,
            recipient_name: None,
            issued_on: None,
            expires: None,
            revocation_reason: None,
            recipient_match: None,
            issuer_confirmed: None,
            status_checked: None,
            checks: Vec::new(),
        }
    }

    fn pass(&mut self, id: &'static str, message: impl Into<String>) {
        self.push(id, CheckOutcome::Passed, message);
    }

    fn fail(&mut self, id: &'static str, message: impl Into<String>) {
        self.push(id, CheckOutcome::Failed, message);
    }

    fn push(&mut self, id: &'static str, outcome: CheckOutcome, message: impl Into<String>) {
        let passed = outcome != CheckOutcome::Failed;
        self.checks.push(Check { id, passed, outcome, message: message.into() });
    }

    /// Ends the report with `status` and its summary.
    fn finish(mut self, status: Status, summary: impl Into<String>) -> Report {
        self.status = status;
        self.summary = summary.into();
        self
    }
}

/// Fields compared between a submitted assertion and the published copy.
const COMPARED_FIELDS: [&str; 6] = ["recipient", "badge", "issuedOn", "expires", "evidence", "verification"];

/// Checks `evidence` against this deployment's published documents, or,
/// for an Open Badges 3.0 credential, by its proofs. `email`, when given,
/// is compared with the hashed recipient identity. `status_list` is a
/// status-list credential that the user supplied, which is used for the
/// status lists of other sites. Only a failure of the resolver's backing
/// store is an error; everything about the input itself is in the report.
pub async fn verify(
    settings: &Settings,
    resolver: &dyn Resolver,
    evidence: &Evidence,
    email: Option<&str>,
    status_list: Option<&Value>,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let email = email.map(str::trim).filter(|email| !email.is_empty());
    if let Some(found) = credential::find_credential(evidence) {
        return credential::verify_credential(settings, resolver, &found, status_list, email, now).await;
    }

    let mut report = Report::new();
    let issuer = settings.issuer.name.as_str();

    // 1. Read the input down to an assertion URL, and the submitted JSON.
    let (url, submitted) = match read_evidence(&mut report, evidence) {
        Ok(found) => found,
        Err(ReadFailure::Malformed(summary)) => return Ok(report.finish(Status::Malformed, summary)),
        Err(ReadFailure::Unknown(summary)) => return Ok(report.finish(Status::Unknown, summary)),
    };
    report.assertion_id = Some(url.clone());

    // 2. Only this deployment's assertion URLs are looked up.
    let local = parse_local_url(settings, &url);
    let Some(LocalUrl::Assertion(award_id)) = local else {
        report.fail(
            "issuer",
            format!(
                "The assertion address {url} is not an award address of {issuer} ({base}/awards/…). \
                 This page checks only badges issued here, and it does not contact other sites.",
                base = settings.base_url
            ),
        );
        return Ok(report.finish(Status::Unknown, format!("This badge was not issued by {issuer} on this site, so it cannot be checked here.")));
    };
    let canonical = settings.award_url(&award_id);
    report.assertion_id = Some(canonical.clone());
    report.issuer_name = Some(issuer.to_owned());
    report.pass("issuer", format!("The assertion address belongs to {issuer} ({}).", settings.base_url));

    // 3. The published copy.
    let published = match resolver.resolve(&canonical).await? {
        Resolved::Document(document) => document,
        Resolved::NotFound | Resolved::OutsideDeployment => {
            report.fail(
                "published",
                format!("Nothing is published at {canonical}: no such badge was issued, or the recipient has not accepted it or has declined it."),
            );
            return Ok(report.finish(Status::Unknown, format!("{issuer} publishes no badge at this address.")));
        }
    };
    report.recipient_name = published.recipient_name.clone();
    report.pass("published", format!("{issuer} publishes this badge at {canonical}."));

    if published.revoked {
        let reason = published.body["revocationReason"].as_str().unwrap_or("no reason given").to_owned();
        report.fail("revocation", format!("{issuer} revoked this badge. Reason: {reason}"));
        report.revocation_reason = Some(reason.clone());
        return Ok(report.finish(Status::Revoked, format!("This badge was revoked by {issuer}: {reason}")));
    }
    let hosted = published.body;
    report.issued_on = hosted["issuedOn"].as_str().map(str::to_owned);
    report.expires = hosted["expires"].as_str().map(str::to_owned);

    // 4. A submitted copy must match the published one.
    let mut tampered = false;
    if let Some(submitted) = &submitted {
        let differing: Vec<&str> =
            COMPARED_FIELDS.into_iter().filter(|field| submitted.get(*field) != hosted.get(*field)).collect();
        if differing.is_empty() {
            report.pass("integrity", "The assertion in the file or text matches the copy the issuer publishes.");
        } else {
            tampered = true;
            report.fail(
                "integrity",
                format!(
                    "The assertion differs from the copy the issuer publishes in: {}. The file or text was changed after it was issued.",
                    differing.join(", ")
                ),
            );
        }
    }

    // 5. The badge class, published by the same issuer.
    check_badge_class(&mut report, settings, resolver, &hosted).await?;

    // 6. Expiry.
    let expired = match report.expires.as_deref().map(DateTime::parse_from_rfc3339) {
        Some(Ok(expires)) if expires.with_timezone(&Utc) <= now => {
            report.fail("expiry", format!("The badge expired on {}.", human_date(expires.with_timezone(&Utc))));
            true
        }
        Some(Ok(expires)) => {
            report.pass("expiry", format!("The badge is valid until {}.", human_date(expires.with_timezone(&Utc))));
            false
        }
        Some(Err(_)) => {
            report.fail("expiry", "The published expiry date cannot be read.");
            true
        }
        None => {
            report.pass("expiry", "The badge does not expire.");
            false
        }
    };
    report.pass("revocation", format!("{issuer} has not revoked this badge."));

    // 7. The recipient, when an email was given.
    if let Some(email) = email.map(str::trim).filter(|email| !email.is_empty()) {
        check_recipient(&mut report, &hosted, email);
    }

    let badge_failed = report.checks.iter().any(|check| check.id == "badge" && !check.passed);
    let name = report.badge_name.clone().unwrap_or_else(|| "this badge".to_owned());
    Ok(if tampered {
        report.finish(Status::Malformed, "The badge data was changed after it was issued, so it does not prove anything.")
    } else if badge_failed {
        report.finish(Status::Unknown, "The badge class of this award cannot be found.")
    } else if expired {
        report.finish(Status::Expired, format!("“{name}” was issued by {issuer} but has expired."))
    } else {
        let to = report.recipient_name.as_deref().map(|name| format!(" to {name}")).unwrap_or_default();
        let on = report
            .issued_on
            .as_deref()
            .and_then(|date| DateTime::parse_from_rfc3339(date).ok())
            .map(|date| format!(" on {}", human_date(date.with_timezone(&Utc))))
            .unwrap_or_default();
        report.finish(Status::Valid, format!("This badge is valid: {issuer} issued “{name}”{to}{on}."))
    })
}

enum ReadFailure {
    Malformed(String),
    Unknown(String),
}

/// Reads the evidence down to an assertion URL and, for JSON, the
/// submitted assertion. Adds the `read` check.
fn read_evidence(report: &mut Report, evidence: &Evidence) -> Result<(String, Option<Value>), ReadFailure> {
    match evidence {
        Evidence::Image(bytes) => {
            let unbaked = match unbake(bytes) {
                Ok(unbaked) => unbaked,
                Err(error) => {
                    let message = match &error {
                        UnbakeError::NotAnImage => "The file is not a PNG or SVG image.".to_owned(),
                        UnbakeError::NotBaked => "The image carries no badge data. It may be an image that was never baked, \
                             or a copy that an editor or website saved again without the data."
                            .to_owned(),
                        other => format!("The badge data in the image cannot be read: {other}."),
                    };
                    report.fail("read", message.clone());
                    return Err(ReadFailure::Malformed(message));
                }
            };
            let place = match unbaked.carrier {
                Carrier::PngItxt | Carrier::PngZtxt | Carrier::PngText => "a PNG text chunk",
                Carrier::SvgContent | Carrier::SvgVerifyAttribute => "the SVG openbadges element",
            };
            // `credential::find_credential` takes every Open Badges 3.0 image
            // before this point, so this branch is a safety net.
            if unbaked.spec == Spec::V3 {
                let message = format!("The image carries an Open Badges 3.0 credential in {place}, not an Open Badges 2.0 assertion.");
                report.fail("read", message);
                return Err(ReadFailure::Unknown("This badge was not issued on this site, so it cannot be checked here.".into()));
            }
            match &unbaked.payload {
                BakedPayload::Json(text) => {
                    let found = format!("The image carries an Open Badges assertion in {place}.");
                    read_json(report, text, unbaked.verify_attribute.as_deref(), found)
                }
                BakedPayload::Url(url) => {
                    report.pass("read", format!("The image carries the assertion address {url} in {place}."));
                    Ok((url.clone(), None))
                }
                BakedPayload::Jwt(_) => {
                    let message = "The image carries a signed assertion (JWS). This site issues hosted assertions only.";
                    report.fail("read", message);
                    Err(ReadFailure::Unknown("This badge was not issued on this site, so it cannot be checked here.".into()))
                }
            }
        }
        Evidence::Url(url) => {
            let url = url.trim();
            if !crate::openbadges::is_http_url(url) {
                let message = format!("{:?} is not an http or https address.", shorten(url, 80));
                report.fail("read", message.clone());
                return Err(ReadFailure::Malformed(message));
            }
            report.pass("read", "The address is a well-formed URL.");
            Ok((url.to_owned(), None))
        }
        // `credential::find_credential` takes every `Credential`, so it is
        // read here only as a safety net.
        Evidence::Json(text) | Evidence::Credential(text) => {
            if let Err(error) = serde_json::from_str::<Value>(text) {
                let message = format!("The text is not valid JSON: {error}.");
                report.fail("read", message.clone());
                return Err(ReadFailure::Malformed(message));
            }
            read_json(report, text, None, "The text is an Open Badges assertion in JSON.".to_owned())
        }
    }
}

/// Finds the assertion URL in assertion JSON: `id` (Open Badges 2.0), or
/// `verify.url` (Open Badges 1.0). `fallback_url` is an SVG verify
/// attribute. Adds the `read` check, passed with `found` on success.
fn read_json(
    report: &mut Report,
    text: &str,
    fallback_url: Option<&str>,
    found: String,
) -> Result<(String, Option<Value>), ReadFailure> {
    let malformed = |report: &mut Report, message: String| {
        report.fail("read", message.clone());
        Err(ReadFailure::Malformed(message))
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return malformed(report, format!("The badge data is not valid JSON: {error}.")),
    };
    let Some(object) = value.as_object() else {
        return malformed(report, "The JSON is not an object, so it is not an Open Badges assertion.".into());
    };
    if credential::is_credential_json(text) {
        report.fail("read", "The JSON is a verifiable credential (Open Badges 3.0), not an Open Badges 2.0 assertion.");
        return Err(ReadFailure::Unknown("This badge was not issued on this site, so it cannot be checked here.".into()));
    }
    match object.get("type").and_then(Value::as_str) {
        None | Some("Assertion") => {}
        Some(other) => {
            return malformed(report, format!("The JSON is an Open Badges {other}, not an Assertion (the record of one award)."));
        }
    }
    let id = object
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| id.starts_with("http"))
        .or_else(|| object.get("verify").and_then(|verify| verify.get("url")).and_then(Value::as_str))
        .or(fallback_url);
    match id {
        Some(id) => {
            report.pass("read", found);
            Ok((id.to_owned(), Some(value.clone())))
        }
        None => malformed(report, "The JSON has no assertion address (an \"id\" URL), so its published copy cannot be found.".into()),
    }
}

async fn check_badge_class(
    report: &mut Report,
    settings: &Settings,
    resolver: &dyn Resolver,
    hosted: &Value,
) -> Result<(), StoreError> {
    let Some(badge_url) = hosted["badge"].as_str() else {
        report.fail("badge", "The published assertion names no badge class.");
        return Ok(());
    };
    match resolver.resolve(badge_url).await? {
        Resolved::Document(document) => {
            report.badge_name = document.body["name"].as_str().map(str::to_owned);
            report.badge_id = Some(badge_url.to_owned());
            if document.body["issuer"].as_str() == Some(settings.issuer_url().as_str()) {
                let name = report.badge_name.as_deref().unwrap_or("The badge class");
                report.pass("badge", format!("“{name}” is a badge class of {}.", settings.issuer.name));
            } else {
                report.fail("badge", "The badge class names another issuer.");
            }
        }
        Resolved::NotFound | Resolved::OutsideDeployment => {
            report.fail("badge", format!("No badge class is published at {badge_url}."));
        }
    }
    Ok(())
}

fn check_recipient(report: &mut Report, hosted: &Value, email: &str) {
    let Ok(email) = EmailAddress::parse(email) else {
        report.recipient_match = Some(false);
        report.fail("recipient", format!("{email:?} is not a valid email address, so it cannot be compared with the recipient."));
        return;
    };
    let recipient = &hosted["recipient"];
    let identity = recipient["identity"].as_str().unwrap_or("");
    let matches = if recipient["hashed"].as_bool() == Some(true) {
        hashed_identity(&email, recipient["salt"].as_str().unwrap_or("")) == identity
    } else {
        email.as_str() == identity.to_lowercase()
    };
    report.recipient_match = Some(matches);
    if matches {
        report.pass("recipient", format!("The badge was issued to {email}."));
    } else {
        report.fail("recipient", format!("The badge was not issued to {email}: the address does not match the recipient's hashed identity."));
    }
}

/// Cuts `text` to at most `max_chars` characters for a message.
fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn human_date(time: DateTime<Utc>) -> String {
    time.format("%-d %B %Y").to_string()
}
