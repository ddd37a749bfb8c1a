//! Open Badges 3.0 input of `POST /verify`: credential JSON, a VC-JWT, or
//! either baked into a PNG or SVG. The credential is checked by its proofs
//! with [`crate::ob3::verify`], from any issuer. Status lists are taken
//! from this deployment's store or from the list the user supplied. No
//! other site is contacted, so the status of another issuer's credential
//! stays unchecked unless its list is supplied.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{CheckOutcome, Evidence, Report, Resolver, Status};
use crate::images::{BakedPayload, Carrier, Spec, unbake};
use crate::ob3::{self, CheckKind, KnownKey, Outcome, StatusResult, VerificationReport, VerifyOptions};
use crate::ports::StoreError;

/// An Open Badges 3.0 credential found in the evidence.
pub(super) struct FoundCredential {
    /// The credential JSON or compact JWT, as submitted.
    text: String,
    /// The place it was found in, for the `read` check.
    read_message: String,
}

/// Returns the Open Badges 3.0 credential in `evidence`: the payload of an
/// image baked under the 3.0 PNG keyword or SVG element, JSON whose
/// `@context` names a verifiable-credential context, or a compact JWT.
/// Returns `None` for anything else, which is read as Open Badges 2.0.
pub(super) fn find_credential(evidence: &Evidence) -> Option<FoundCredential> {
    match evidence {
        Evidence::Image(bytes) => {
            // A credential baked under the Open Badges 2.0 keyword or element
            // is still a credential.
            let unbaked = unbake(bytes).ok().filter(|unbaked| {
                unbaked.spec == Spec::V3
                    || matches!(&unbaked.payload, BakedPayload::Json(text) if is_credential_json(text))
            })?;
            let is_png = matches!(unbaked.carrier, Carrier::PngItxt | Carrier::PngZtxt | Carrier::PngText);
            let place = match (is_png, unbaked.spec) {
                (true, Spec::V3) => "a PNG openbadgecredential text chunk",
                (true, Spec::V2) => "a PNG openbadges text chunk (the Open Badges 2.0 keyword)",
                (false, Spec::V3) => "the SVG openbadges:credential element",
                (false, Spec::V2) => "the SVG openbadges:assertion element (the Open Badges 2.0 element)",
            };
            let form = match unbaked.payload {
                BakedPayload::Json(_) => "JSON with embedded proofs",
                BakedPayload::Jwt(_) => "a VC-JWT",
                BakedPayload::Url(_) => "an address instead of a credential",
            };
            Some(FoundCredential {
                text: unbaked.payload.as_str().to_owned(),
                read_message: format!("The image carries an Open Badges 3.0 credential as {form} in {place}."),
            })
        }
        Evidence::Json(text) => {
            let text = text.trim();
            if text.starts_with('{') {
                return is_credential_json(text).then(|| FoundCredential {
                    text: text.to_owned(),
                    read_message: "The text is a verifiable credential in JSON (Open Badges 3.0).".into(),
                });
            }
            matches!(BakedPayload::classify(text), Ok(BakedPayload::Jwt(_))).then(|| FoundCredential {
                text: text.to_owned(),
                read_message: "The text is a compact JWT, read as an Open Badges 3.0 VC-JWT.".into(),
            })
        }
        Evidence::Url(_) => None,
    }
}

/// Checks whether JSON text is an object whose `@context` names a
/// verifiable-credential context (VC 1.1 or 2.0) or the Open Badges 3.0 one.
pub(super) fn is_credential_json(text: &str) -> bool {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let context = value.get("@context").map(Value::to_string).unwrap_or_default();
    context.contains("/credentials/") || context.contains("ob/v3p0")
}

/// Verifies a found credential and turns the result into a [`Report`].
pub(super) async fn verify_credential(
    resolver: &dyn Resolver,
    found: &FoundCredential,
    supplied_list: Option<&Value>,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let keys = resolver.issuer_keys();

    // The first pass records which status lists the credential names. They
    // are then looked up (which needs the store, so it cannot happen inside
    // the verifier's synchronous callback), and a second pass checks them.
    let (first, requested) = verify_recording_lists(&found.text, email, now, &keys);
    let result = if requested.is_empty() {
        first
    } else {
        let mut lists = HashMap::new();
        for url in requested {
            let answer = match resolver.status_list(&url).await? {
                Some(list) => Ok(list),
                None => match supplied_list {
                    Some(list) => Ok(list.clone()),
                    None => Err("status not checked: the list is not available offline, because this site does not \
                                 fetch other sites (supply a copy of the list to check it)"
                        .to_owned()),
                },
            };
            lists.insert(url, answer);
        }
        verify_with_lists(&found.text, email, now, &keys, &lists)
    };
    Ok(into_report(result, &found.read_message))
}

fn options<'a>(email: Option<&'a str>, now: DateTime<Utc>, keys: &'a [KnownKey]) -> VerifyOptions<'a> {
    let mut options = VerifyOptions::at(now);
    options.recipient_email = email;
    options.known_keys = keys;
    options
}

fn verify_recording_lists(
    text: &str,
    email: Option<&str>,
    now: DateTime<Utc>,
    keys: &[KnownKey],
) -> (VerificationReport, Vec<String>) {
    let requested = RefCell::new(Vec::new());
    let record = |url: &str| {
        requested.borrow_mut().push(url.to_owned());
        Err("not looked up yet".to_owned())
    };
    let mut options = options(email, now, keys);
    options.status_lists = Some(&record);
    let report = ob3::verify(text, &options);
    (report, requested.into_inner())
}

fn verify_with_lists(
    text: &str,
    email: Option<&str>,
    now: DateTime<Utc>,
    keys: &[KnownKey],
    lists: &HashMap<String, Result<Value, String>>,
) -> VerificationReport {
    let resolve = |url: &str| lists.get(url).cloned().unwrap_or_else(|| Err(format!("{url} was not looked up")));
    let mut options = options(email, now, keys);
    options.status_lists = Some(&resolve);
    ob3::verify(text, &options)
}

fn check_id(kind: CheckKind) -> &'static str {
    match kind {
        CheckKind::Format => "format",
        CheckKind::Signature => "signature",
        CheckKind::IssuerKey => "issuer_key",
        CheckKind::Terms => "terms",
        CheckKind::ValidFrom => "valid_from",
        CheckKind::ValidUntil => "valid_until",
        CheckKind::Status => "status",
        CheckKind::Recipient => "recipient",
    }
}

fn check_outcome(outcome: Outcome) -> CheckOutcome {
    match outcome {
        Outcome::Passed => CheckOutcome::Passed,
        Outcome::Failed => CheckOutcome::Failed,
        Outcome::Warning => CheckOutcome::Warning,
        Outcome::Skipped => CheckOutcome::Skipped,
    }
}

/// Returns the first subject of a credential (`credentialSubject` may be a list).
fn first_subject(credential: &Value) -> Option<&Value> {
    match credential.get("credentialSubject")? {
        Value::Array(subjects) => subjects.first(),
        subject => Some(subject),
    }
}

fn text_field(value: Option<&Value>, key: &str) -> Option<String> {
    value?.get(key)?.as_str().map(str::to_owned)
}

fn into_report(result: VerificationReport, read_message: &str) -> Report {
    let mut report = Report::new();
    report.open_badges_version = "3.0";
    report.pass("read", read_message);
    for check in &result.checks {
        report.push(check_id(check.kind), check_outcome(check.outcome), check.message.clone());
    }

    let credential = result.credential.as_ref();
    let subject = credential.and_then(first_subject);
    let issuer = credential.and_then(|credential| credential.get("issuer"));
    report.credential_id = result.credential_id.clone();
    report.issuer_id = result.issuer.clone();
    report.issuer_name = text_field(issuer, "name").or_else(|| result.issuer.clone());
    report.badge_name = text_field(subject.and_then(|subject| subject.get("achievement")), "name");
    report.badge_id = text_field(subject.and_then(|subject| subject.get("achievement")), "id");
    report.issued_on = text_field(credential, "validFrom").or_else(|| text_field(credential, "issuanceDate"));
    report.expires = text_field(credential, "validUntil").or_else(|| text_field(credential, "expirationDate"));
    report.recipient_match = result.checks.iter().find(|check| check.kind == CheckKind::Recipient).and_then(|check| {
        match check.outcome {
            Outcome::Passed => Some(true),
            Outcome::Failed => Some(false),
            Outcome::Warning | Outcome::Skipped => None,
        }
    });

    let (status, summary) = verdict(&result, report.issuer_name.as_deref(), report.badge_name.as_deref());
    report.finish(status, summary)
}

/// Decides the status from the checks. A recipient mismatch does not change
/// it, as with Open Badges 2.0 badges. The report has its own recipient check.
fn verdict(result: &VerificationReport, issuer: Option<&str>, badge: Option<&str>) -> (Status, String) {
    let withdrawn = matches!(result.status, StatusResult::Revoked | StatusResult::Suspended);
    let signed = result.checks.iter().any(|check| check.kind == CheckKind::Signature && check.outcome == Outcome::Passed);
    let blocking: Vec<&ob3::Check> = result
        .failures()
        .filter(|check| match check.kind {
            CheckKind::Recipient | CheckKind::ValidUntil => false,
            CheckKind::Status => !withdrawn,
            _ => true,
        })
        .collect();
    let issuer = issuer.unwrap_or("its issuer");
    let name = badge.map(|name| format!("“{name}”")).unwrap_or_else(|| "this credential".to_owned());

    if let Some(first) = blocking.first() {
        return (Status::Malformed, format!("This Open Badges 3.0 credential does not verify: {}.", first.message));
    }
    if !signed {
        return (Status::Malformed, "This Open Badges 3.0 credential has no proof that verifies, so it proves nothing.".into());
    }
    if result.status == StatusResult::Suspended {
        return (Status::Revoked, format!("{issuer} has suspended {name}."));
    }
    if withdrawn {
        return (Status::Revoked, format!("{issuer} has revoked {name}."));
    }
    if result.failures().any(|check| check.kind == CheckKind::ValidUntil) {
        return (Status::Expired, format!("{name} was issued by {issuer} but has expired."));
    }
    let warnings = if result.warnings().next().is_some() { " Read the warnings below." } else { "" };
    (Status::Valid, format!("This Open Badges 3.0 credential is valid: {issuer} issued {name}.{warnings}"))
}
