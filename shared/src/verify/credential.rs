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

use super::{CheckOutcome, Evidence, Report, Resolved, Resolver, Status};
use crate::images::{BakedPayload, Carrier, Spec, unbake};
use crate::ob3::{self, CheckKind, KnownKey, Outcome, StatusResult, VerificationReport, VerifyOptions};
use crate::ports::StoreError;
use crate::settings::Settings;

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
        Evidence::Credential(text) => {
            let form = if text.trim_start().starts_with('{') { "in JSON" } else { "as a VC-JWT" };
            Some(FoundCredential {
                text: text.trim().to_owned(),
                read_message: format!("The body is declared as an Open Badges 3.0 credential {form} by its media type."),
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
    settings: &Settings,
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
    let mut own_list = false;
    let result = if requested.is_empty() {
        first
    } else {
        let mut lists = HashMap::new();
        for url in requested {
            let answer = match resolver.status_list(&url).await? {
                Some(list) => {
                    own_list = true;
                    Ok(list)
                }
                None => match (supplied_list, first.credential.as_ref()) {
                    (Some(list), Some(credential)) => check_supplied_list(list, credential, now, &keys),
                    _ => Err("it is not available offline, because this site does not fetch other sites \
                              (supply a copy of the list in the status_list field to check it)"
                        .to_owned()),
                },
            };
            lists.insert(url, answer);
        }
        verify_with_lists(&found.text, email, now, &keys, &lists)
    };

    let mut report = into_report(result, &found.read_message);
    if own_list && report.status == Status::Revoked {
        add_revocation_reason(settings, resolver, &mut report).await?;
    }
    Ok(report)
}

/// Returns the status list that the user supplied, when it is signed by the
/// credential's issuer and in its validity period. Otherwise the message
/// explains why the copy was not used, and the status stays unchecked,
/// because a wrong copy is no evidence against the credential itself.
fn check_supplied_list(
    list: &Value,
    credential: &Value,
    now: DateTime<Utc>,
    keys: &[KnownKey],
) -> Result<Value, String> {
    let options = options(None, now, keys);
    match ob3::check_list_credential(list, credential, &options) {
        Ok(()) => Ok(list.clone()),
        Err(problem) => Err(format!(
            "the status_list copy that was given does not belong to this credential, because {problem}"
        )),
    }
}

/// Adds the reason that this deployment stored when it revoked the award
/// that issued the credential, as the Open Badges 2.0 report does.
async fn add_revocation_reason(
    settings: &Settings,
    resolver: &dyn Resolver,
    report: &mut Report,
) -> Result<(), StoreError> {
    let Some(award_url) = report.credential_id.as_deref().and_then(|id| id.strip_suffix("/credential.json")) else {
        return Ok(());
    };
    if !matches!(super::parse_local_url(settings, award_url), Some(super::LocalUrl::Assertion(_))) {
        return Ok(());
    }
    if let Resolved::Document(document) = resolver.resolve(award_url).await?
        && document.revoked
    {
        let reason = document.body["revocationReason"].as_str().unwrap_or("no reason given").to_owned();
        report.summary = format!("{} Reason: {reason}", report.summary);
        report.revocation_reason = Some(reason);
    }
    Ok(())
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
    let signature_verified = signature_verified(&result);
    for check in &result.checks {
        let (outcome, message) = if !signature_verified && depends_on_signature(check) {
            (
                CheckOutcome::Skipped,
                format!("not meaningful, because the signature did not verify (the credential states: {})", check.message),
            )
        } else {
            (check_outcome(check.outcome), check.message.clone())
        };
        report.push(check_id(check.kind), outcome, as_sentence(&message));
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
    if signature_verified {
        report.recipient_match = result.checks.iter().find(|check| check.kind == CheckKind::Recipient).and_then(|check| {
            match check.outcome {
                Outcome::Passed => Some(true),
                Outcome::Failed => Some(false),
                Outcome::Warning | Outcome::Skipped => None,
            }
        });
        report.issuer_confirmed = Some(issuer_confirmed(&result));
        report.status_checked = match result.status {
            StatusResult::NotListed => None,
            StatusResult::Unknown => Some(false),
            StatusResult::Active | StatusResult::Revoked | StatusResult::Suspended => Some(true),
        };
    }

    let (status, summary) = verdict(&result, report.issuer_name.as_deref(), report.badge_name.as_deref());
    report.finish(status, summary)
}

/// Turns a check message into a sentence, capitalized and ending in a full
/// stop, like the messages of the Open Badges 2.0 checks.
fn as_sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut sentence: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// Checks whether at least one signature verified and none failed.
fn signature_verified(result: &VerificationReport) -> bool {
    let mut signatures = result.checks.iter().filter(|check| check.kind == CheckKind::Signature);
    let passed = signatures.clone().any(|check| check.outcome == Outcome::Passed);
    passed && !signatures.any(|check| check.outcome == Outcome::Failed)
}

/// Checks whose result comes from the credential's own data, which means
/// nothing when no signature covers that data.
fn depends_on_signature(check: &ob3::Check) -> bool {
    let covered = matches!(check.kind, CheckKind::ValidFrom | CheckKind::ValidUntil | CheckKind::Status | CheckKind::Recipient);
    covered && check.outcome == Outcome::Passed
}

/// Checks whether every key that made a valid signature is bound to the
/// issuer: a did:key, or this site's issuer key. A key that the credential
/// carries itself (a JWT header's jwk, or a multikey in the fragment of an
/// http(s) verification method) proves only that the credential is intact.
fn issuer_confirmed(result: &VerificationReport) -> bool {
    let mut key_checks = result.checks.iter().filter(|check| check.kind == CheckKind::IssuerKey);
    key_checks.clone().any(|check| check.outcome == Outcome::Passed)
        && !key_checks.any(|check| check.outcome == Outcome::Warning)
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
    let issuer_id = result.issuer.as_deref().unwrap_or("its issuer");
    let issuer = issuer.unwrap_or(issuer_id);
    let name = badge.map(|name| format!("“{name}”")).unwrap_or_else(|| "this credential".to_owned());

    if let Some(first) = blocking.first() {
        return (Status::Malformed, format!("This Open Badges 3.0 credential does not verify: {}.", first.message));
    }
    if !signed {
        // Without failures, the only unsigned case is a key that cannot be
        // obtained offline, such as another site's did:web key.
        if result.checks.iter().any(|check| check.kind == CheckKind::IssuerKey && check.outcome == Outcome::Warning) {
            return (
                Status::Unknown,
                format!(
                    "This Open Badges 3.0 credential cannot be verified here: the key of its issuer {issuer_id} is not available, \
                     because this site does not fetch other sites' DID documents."
                ),
            );
        }
        return (Status::Malformed, "This Open Badges 3.0 credential has no proof that verifies, so it proves nothing.".into());
    }

    let confirmed = issuer_confirmed(result);
    let claimed_by = if confirmed { format!("{issuer} issued {name}") } else { format!("{name} names {issuer} as its issuer") };
    let unconfirmed = if confirmed {
        String::new()
    } else {
        format!(
            " The signature is valid with the key that the credential itself carries, so the credential is intact, \
             but the issuer's identity was not confirmed: nothing binds that key to {issuer_id}."
        )
    };
    if result.status == StatusResult::Suspended {
        return (Status::Revoked, format!("{issuer} has suspended {name}.{unconfirmed}"));
    }
    if withdrawn {
        return (Status::Revoked, format!("{issuer} has revoked {name}.{unconfirmed}"));
    }
    if result.failures().any(|check| check.kind == CheckKind::ValidUntil) {
        let by = if confirmed { format!("was issued by {issuer}") } else { format!("names {issuer} as its issuer") };
        return (Status::Expired, format!("{name} {by} but has expired.{unconfirmed}"));
    }
    let warnings = if result.warnings().next().is_some() { " Read the warnings below." } else { "" };
    let summary = match (confirmed, result.status == StatusResult::Unknown) {
        (true, false) => format!("This Open Badges 3.0 credential is valid: {claimed_by}."),
        (true, true) => format!(
            "The signature of this Open Badges 3.0 credential is valid, but its status was not checked, \
             so it may have been revoked: {claimed_by}."
        ),
        (false, false) => format!("The signature of this Open Badges 3.0 credential is valid: {claimed_by}.{unconfirmed}"),
        (false, true) => format!(
            "The signature of this Open Badges 3.0 credential is valid, but its status was not checked, \
             so it may have been revoked: {claimed_by}.{unconfirmed}"
        ),
    };
    (Status::Valid, format!("{summary}{warnings}"))
}
