//! Verification of Open Badges 3.0 credentials: JSON with embedded Data
//! Integrity proofs, and VC-JWT (see [`super::jwt`]).
//!
//! [`verify`] returns no error. It returns a [`VerificationReport`] with one
//! [`Check`] per aspect (format, proofs, terms, dates, status, recipient),
//! each with an outcome and a sentence that says what was found.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::canon::{self, CanonError, TermPolicy};
use super::contexts::{CREDENTIALS_V1, CREDENTIALS_V2};
use super::credential::hash_email;
use super::did;
use super::keys::{self, KnownKey, PublicKey};
use super::proof::{self, ProofError};
use super::status_check::check_status;

pub use super::report::{
    Check, CheckKind, CredentialFormat, Outcome, StatusResult, VerificationReport,
};

/// Returns the status-list credential published at a URL, or a message
/// saying why it could not be obtained.
pub type StatusListResolver<'a> = &'a dyn Fn(&str) -> Result<Value, String>;

/// Inputs of [`verify`] besides the credential.
#[derive(Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The time at which validity dates are checked.
    pub now: DateTime<Utc>,
    /// Email address the credential should be issued to. Without it the
    /// recipient is not checked.
    pub recipient_email: Option<&'a str>,
    /// Fetches status lists. Without it the status is not checked.
    pub status_lists: Option<StatusListResolver<'a>>,
    /// Keys the caller vouches for, tried before any other source.
    pub known_keys: &'a [KnownKey],
}

impl<'a> VerifyOptions<'a> {
    /// Options that check proofs and dates at `now`, and nothing else.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now,
            recipient_email: None,
            status_lists: None,
            known_keys: &[],
        }
    }
}

/// Verifies a credential given as text: JSON with embedded proofs, or a
/// compact VC-JWT.
pub fn verify(input: &str, options: &VerifyOptions<'_>) -> VerificationReport {
    let text = input.trim();
    if text.starts_with('{') {
        return match serde_json::from_str::<Value>(text) {
            Ok(document) => verify_json(&document, options),
            Err(error) => {
                let mut report = VerificationReport::new(CredentialFormat::DataIntegrity);
                report.push(
                    CheckKind::Format,
                    Outcome::Failed,
                    format!("the input is not valid JSON: {error}"),
                );
                report
            }
        };
    }
    if text.split('.').count() == 3 {
        return super::jwt::verify_jwt(text, options);
    }
    let mut report = VerificationReport::new(CredentialFormat::Unknown);
    report.push(
        CheckKind::Format,
        Outcome::Failed,
        "the input is neither a JSON credential nor a compact JWT (three base64url parts separated by dots)",
    );
    report
}

/// Verifies a JSON credential with embedded proofs.
pub fn verify_json(document: &Value, options: &VerifyOptions<'_>) -> VerificationReport {
    let mut report = VerificationReport::new(CredentialFormat::DataIntegrity);
    if !document.is_object() {
        report.push(
            CheckKind::Format,
            Outcome::Failed,
            "the credential is not a JSON object",
        );
        return report;
    }
    report.credential = Some(document.clone());
    report.credential_id = document
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    report.issuer = issuer_id(document);

    check_format(document, &mut report);
    let issuer = report.issuer.clone();
    check_proofs(document, issuer.as_deref(), options.known_keys, &mut report);
    check_terms(document, &mut report);
    check_credential(document, options, &mut report);
    report
}

/// Checks the dates, status and recipient of a credential, whatever secures it.
pub(crate) fn check_credential(
    credential: &Value,
    options: &VerifyOptions<'_>,
    report: &mut VerificationReport,
) {
    check_dates(credential, options.now, report);
    check_status(credential, options, report);
    check_recipient(credential, options.recipient_email, report);
}

/// Returns the issuer id: `issuer` when it is a string, else `issuer.id`.
pub(crate) fn issuer_id(credential: &Value) -> Option<String> {
    match credential.get("issuer")? {
        Value::String(id) => Some(id.clone()),
        profile => profile.get("id")?.as_str().map(str::to_owned),
    }
}

pub(crate) fn check_format(credential: &Value, report: &mut VerificationReport) {
    let first_context = match credential.get("@context") {
        Some(Value::Array(items)) => items.first().and_then(Value::as_str),
        Some(Value::String(url)) => Some(url.as_str()),
        _ => None,
    };
    match first_context {
        Some(CREDENTIALS_V2) => {}
        Some(CREDENTIALS_V1) => report.push(
            CheckKind::Format,
            Outcome::Warning,
            "the credential uses VC Data Model 1.1; Open Badges 3.0 credentials now use VC Data Model 2.0",
        ),
        Some(other) => {
            report.push(
                CheckKind::Format,
                Outcome::Failed,
                format!("the first @context must be {CREDENTIALS_V2}, not {other}"),
            );
            return;
        }
        None => {
            report.push(
                CheckKind::Format,
                Outcome::Failed,
                format!("the credential has no @context, so it is not a verifiable credential (the first @context must be {CREDENTIALS_V2})"),
            );
            return;
        }
    }

    let types = string_list(credential.get("type"));
    if !types.iter().any(|kind| kind == "VerifiableCredential") {
        report.push(
            CheckKind::Format,
            Outcome::Failed,
            "the type list does not include VerifiableCredential",
        );
    } else if !types
        .iter()
        .any(|kind| kind == "OpenBadgeCredential" || kind == "AchievementCredential")
    {
        report.push(
            CheckKind::Format,
            Outcome::Warning,
            "the credential is not an OpenBadgeCredential (or AchievementCredential)",
        );
    } else {
        report.push(
            CheckKind::Format,
            Outcome::Passed,
            format!("an Open Badges credential of type {}", types.join(", ")),
        );
    }
    if report.issuer.is_none() {
        report.push(
            CheckKind::Format,
            Outcome::Failed,
            "the credential has no issuer id",
        );
    }
}

/// Verifies every embedded proof. Unsupported proof types are reported
/// and skipped; the credential needs at least one supported proof.
pub(super) fn check_proofs(
    document: &Value,
    issuer: Option<&str>,
    known: &[KnownKey],
    report: &mut VerificationReport,
) {
    let proofs = proof::proofs_of(document);
    if proofs.is_empty() {
        report.push(
            CheckKind::Signature,
            Outcome::Failed,
            "the credential has no proof",
        );
        return;
    }
    let mut supported = 0;
    for (number, proof) in proofs
        .iter()
        .enumerate()
        .map(|(index, proof)| (index + 1, proof))
    {
        if !proof::is_supported(proof) {
            report.push(CheckKind::Signature, Outcome::Warning, unsupported_proof_message(number, proof));
            continue;
        }
        supported += 1;
        for (outcome, kind, message) in check_one_proof(document, proof, issuer, known) {
            report.push(kind, outcome, format!("proof {number}: {message}"));
        }
    }
    if supported == 0 {
        report.push(
            CheckKind::Signature,
            Outcome::Failed,
            "the credential has no proof of a supported type",
        );
    }
}

/// Explains why a proof was skipped: it is not an object, its cryptosuite is
/// not supported, or its type is not supported.
fn unsupported_proof_message(number: usize, proof: &Value) -> String {
    const SUPPORTED: &str = "only DataIntegrityProof (eddsa-rdfc-2022) and Ed25519Signature2020 are checked";
    if !proof.is_object() {
        return format!("proof {number} was skipped: it is not an object ({SUPPORTED})");
    }
    let proof_type = proof.get("type").and_then(Value::as_str);
    let cryptosuite = proof.get("cryptosuite").and_then(Value::as_str);
    match (proof_type, cryptosuite) {
        (Some("DataIntegrityProof"), Some(suite)) => {
            format!("proof {number} was skipped: cryptosuite \"{suite}\" is not supported ({SUPPORTED})")
        }
        (Some("DataIntegrityProof"), None) => {
            format!("proof {number} was skipped: the DataIntegrityProof has no cryptosuite ({SUPPORTED})")
        }
        (Some(other), _) => format!("proof {number} was skipped: proof type \"{other}\" is not supported ({SUPPORTED})"),
        (None, _) => format!("proof {number} was skipped: it has no type ({SUPPORTED})"),
    }
}

/// Checks one supported proof: purpose, key, issuer binding and signature.
fn check_one_proof(
    document: &Value,
    proof: &Value,
    issuer: Option<&str>,
    known: &[KnownKey],
) -> Vec<(Outcome, CheckKind, String)> {
    let mut findings = Vec::new();
    let purpose = proof
        .get("proofPurpose")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if purpose != proof::ASSERTION_METHOD {
        findings.push((
            Outcome::Failed,
            CheckKind::Signature,
            format!("its proofPurpose is \"{purpose}\", not assertionMethod"),
        ));
        return findings;
    }
    let Some(method) = proof.get("verificationMethod").and_then(Value::as_str) else {
        findings.push((
            Outcome::Failed,
            CheckKind::Signature,
            "it has no verificationMethod".into(),
        ));
        return findings;
    };

    let controller = did::controller_of(method);
    if issuer.is_some_and(|issuer| issuer != controller) {
        findings.push((
            Outcome::Failed,
            CheckKind::IssuerKey,
            format!(
                "it was made with {method}, which does not belong to the issuer {}",
                issuer.unwrap_or_default()
            ),
        ));
        return findings;
    }

    let (key, source) = match keys::resolve_verification_method(method, known) {
        Ok(found) => found,
        // A did:web key is bound to its issuer, but only the issuer's DID
        // document contains it. A key that cannot be read offline is no
        // evidence against the credential.
        Err(_) if method.starts_with("did:web:") => {
            findings.push((
                Outcome::Warning,
                CheckKind::IssuerKey,
                format!(
                    "the issuer's key is not available offline, so the signature cannot be checked: \
                     {method} is in a did:web document, and only known did:web keys are used without fetching it"
                ),
            ));
            return findings;
        }
        Err(message) => {
            findings.push((Outcome::Failed, CheckKind::Signature, message));
            return findings;
        }
    };
    let PublicKey::Ed25519(key) = key else {
        findings.push((
            Outcome::Failed,
            CheckKind::Signature,
            format!("the key of {method} is not an Ed25519 key"),
        ));
        return findings;
    };

    match proof::verify_proof(document, proof, &key) {
        Ok(()) => {
            findings.push((Outcome::Passed, CheckKind::Signature, format!("the signature by {method} is valid")));
            let outcome = if source.is_bound_to_issuer() { Outcome::Passed } else { Outcome::Warning };
            findings.push((outcome, CheckKind::IssuerKey, source.describe()));
        }
        Err(ProofError::Canonicalization(CanonError::UnknownContext(url))) => findings.push((
            Outcome::Failed,
            CheckKind::Signature,
            format!("the signature cannot be checked, because the context {url} is not available offline"),
        )),
        Err(error) => findings.push((Outcome::Failed, CheckKind::Signature, error.to_string())),
    }
    findings
}

/// Fails when the document has properties that the contexts do not
/// define, because a proof does not cover them and they could be changed.
fn check_terms(document: &Value, report: &mut VerificationReport) {
    let mut unsecured = document.clone();
    if let Some(object) = unsecured.as_object_mut() {
        object.remove("proof");
    }
    match canon::canonicalize(&unsecured, TermPolicy::RejectUndefined) {
        Ok(_) => report.push(
            CheckKind::Terms,
            Outcome::Passed,
            "every property is defined by the credential's contexts",
        ),
        Err(CanonError::UnknownContext(url)) => report.push(
            CheckKind::Terms,
            Outcome::Failed,
            format!(
                "the context {url} is not available offline, so the properties cannot be checked"
            ),
        ),
        Err(error) => {
            let message = match find_undefined_property(&unsecured) {
                Some(path) => format!(
                    "the property \"{path}\" is not defined by the credential's contexts, so no signature covers it"
                ),
                None => format!(
                    "a property is not defined by the contexts, so no signature covers it ({error})"
                ),
            };
            report.push(CheckKind::Terms, Outcome::Failed, message);
        }
    }
}

/// Maximum number of canonicalizations that [`find_undefined_property`]
/// runs, so that a large document cannot make a verification slow.
const MAX_TERM_SEARCH_STEPS: usize = 64;

/// Finds the property that strict JSON-LD expansion rejects, because the
/// expansion error does not name it. Removes one property at a time and
/// descends into the first one whose removal lets the document expand.
/// Returns its dotted path, such as `credentialSubject.foo`, or `None`
/// when the search finds nothing within [`MAX_TERM_SEARCH_STEPS`].
fn find_undefined_property(document: &Value) -> Option<String> {
    let mut steps = 0;
    let mut pointer = String::new();
    let mut path: Vec<String> = Vec::new();
    loop {
        let children: Vec<(String, Option<String>)> = match document.pointer(&pointer)? {
            Value::Object(map) => map
                .keys()
                .filter(|key| !key.starts_with('@'))
                .map(|key| (escape_pointer(key), Some(key.clone())))
                .collect(),
            Value::Array(items) => (0..items.len()).map(|index| (index.to_string(), None)).collect(),
            _ => Vec::new(),
        };
        let mut culprit = None;
        for (segment, name) in children {
            if steps == MAX_TERM_SEARCH_STEPS {
                return None;
            }
            steps += 1;
            let mut without = document.clone();
            remove_child(&mut without, &pointer, &segment);
            if canon::canonicalize(&without, TermPolicy::RejectUndefined).is_ok() {
                culprit = Some((segment, name));
                break;
            }
        }
        match culprit {
            Some((segment, name)) => {
                pointer = format!("{pointer}/{segment}");
                path.extend(name);
            }
            None if path.is_empty() => return None,
            None => return Some(path.join(".")),
        }
    }
}

/// Escapes a key for a JSON Pointer (RFC 6901).
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Removes the child `segment` of the value at `pointer`.
fn remove_child(document: &mut Value, pointer: &str, segment: &str) {
    match document.pointer_mut(pointer) {
        Some(Value::Object(map)) => {
            let key = segment.replace("~1", "/").replace("~0", "~");
            map.remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(index) = segment.parse::<usize>()
                && index < items.len()
            {
                items.remove(index);
            }
        }
        _ => {}
    }
}

/// Checks `validFrom`/`validUntil` (VC 2.0) or `issuanceDate`/
/// `expirationDate` (VC 1.1) against `now`.
pub(crate) fn check_dates(credential: &Value, now: DateTime<Utc>, report: &mut VerificationReport) {
    let (from_key, until_key) =
        if credential.get("validFrom").is_some() || credential.get("issuanceDate").is_none() {
            ("validFrom", "validUntil")
        } else {
            ("issuanceDate", "expirationDate")
        };

    match credential.get(from_key).map(parse_date_time) {
        None => report.push(
            CheckKind::ValidFrom,
            Outcome::Skipped,
            format!("the credential has no {from_key}"),
        ),
        Some(Err(text)) => report.push(
            CheckKind::ValidFrom,
            Outcome::Failed,
            format!("{from_key} \"{text}\" is not a date-time"),
        ),
        Some(Ok(from)) if from > now => report.push(
            CheckKind::ValidFrom,
            Outcome::Failed,
            format!("the credential is not valid before {}", from.to_rfc3339()),
        ),
        Some(Ok(from)) => report.push(
            CheckKind::ValidFrom,
            Outcome::Passed,
            format!("valid since {}", from.to_rfc3339()),
        ),
    }
    match credential.get(until_key).map(parse_date_time) {
        None => report.push(
            CheckKind::ValidUntil,
            Outcome::Passed,
            "the credential does not expire",
        ),
        Some(Err(text)) => report.push(
            CheckKind::ValidUntil,
            Outcome::Failed,
            format!("{until_key} \"{text}\" is not a date-time"),
        ),
        Some(Ok(until)) if until <= now => report.push(
            CheckKind::ValidUntil,
            Outcome::Failed,
            format!("the credential expired on {}", until.to_rfc3339()),
        ),
        Some(Ok(until)) => report.push(
            CheckKind::ValidUntil,
            Outcome::Passed,
            format!("valid until {}", until.to_rfc3339()),
        ),
    }
}

/// Parses an `xsd:dateTime`. A value without a time zone is read as UTC.
fn parse_date_time(value: &Value) -> Result<DateTime<Utc>, String> {
    let text = value.as_str().ok_or_else(|| value.to_string())?;
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|time| time.and_utc())
        })
        .map_err(|_| text.to_owned())
}

/// Compares `recipient_email` with the subject's email identifiers.
fn check_recipient(credential: &Value, email: Option<&str>, report: &mut VerificationReport) {
    let Some(email) = email else {
        report.push(
            CheckKind::Recipient,
            Outcome::Skipped,
            "no recipient email was given to compare",
        );
        return;
    };
    let subjects: Vec<&Value> = match credential.get("credentialSubject") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    };
    let identifiers: Vec<&Value> = subjects
        .iter()
        .filter_map(|subject| subject.get("identifier"))
        .flat_map(|value| match value {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            single => vec![single],
        })
        .filter(|identifier| {
            identifier.get("identityType").and_then(Value::as_str) == Some("emailAddress")
        })
        .collect();
    if identifiers.is_empty() {
        report.push(
            CheckKind::Recipient,
            Outcome::Failed,
            "the credential has no email identifier for its recipient",
        );
        return;
    }

    let matches = identifiers.iter().any(|identifier| {
        let stored = identifier
            .get("identityHash")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if identifier.get("hashed").and_then(Value::as_bool) == Some(true) {
            let salt = identifier
                .get("salt")
                .and_then(Value::as_str)
                .unwrap_or_default();
            stored.eq_ignore_ascii_case(&hash_email(email, salt))
        } else {
            stored.trim().eq_ignore_ascii_case(email.trim())
        }
    });
    if matches {
        report.push(
            CheckKind::Recipient,
            Outcome::Passed,
            "the credential was issued to the given email address",
        );
    } else {
        report.push(
            CheckKind::Recipient,
            Outcome::Failed,
            "the credential was not issued to the given email address",
        );
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}
