//! Verification of credentials secured as a compact JWS (VC-JWT).
//!
//! The payload is either the credential itself (VC Data Model 2.0 with JWT
//! claims beside it) or a VC Data Model 1.1 JWT whose `vc` claim contains the
//! credential. Signatures use `EdDSA` (Ed25519) or `RS256`. The key comes
//! from a key the caller vouches for, a `did:key` `kid`, or the header's
//! `jwk`, in that order.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature as Ed25519Signature, Verifier as _};
use rsa::pkcs1v15;
use serde_json::Value;
use sha2::Sha256;

use super::did;
use super::keys::{self, KeySource, PublicKey};
use super::verify::{
    self, CheckKind, CredentialFormat, Outcome, VerificationReport, VerifyOptions,
};

/// Verifies a compact VC-JWT.
pub fn verify_jwt(token: &str, options: &VerifyOptions<'_>) -> VerificationReport {
    let mut report = VerificationReport::new(CredentialFormat::VcJwt);
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts[..] else {
        report.push(
            CheckKind::Format,
            Outcome::Failed,
            "a compact JWT has three parts separated by dots",
        );
        return report;
    };

    let header = match decode_json(header_b64) {
        Ok(header) => header,
        Err(message) => {
            report.push(
                CheckKind::Format,
                Outcome::Failed,
                format!("the JWT header is invalid: {message}"),
            );
            return report;
        }
    };
    let payload = match decode_json(payload_b64) {
        Ok(payload) => payload,
        Err(message) => {
            report.push(
                CheckKind::Format,
                Outcome::Failed,
                format!("the JWT payload is invalid: {message}"),
            );
            return report;
        }
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature_b64) else {
        report.push(
            CheckKind::Format,
            Outcome::Failed,
            "the JWT signature is not base64url",
        );
        return report;
    };

    let credential = payload
        .get("vc")
        .cloned()
        .unwrap_or_else(|| payload.clone());
    report.credential_id = credential
        .get("id")
        .or_else(|| payload.get("jti"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    report.issuer = verify::issuer_id(&credential).or_else(|| {
        payload
            .get("iss")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    report.credential = Some(credential.clone());

    verify::check_format(&credential, &mut report);
    check_issuer_claim(&payload, &mut report);
    let signing_input = format!("{header_b64}.{payload_b64}");
    check_signature(
        &header,
        signing_input.as_bytes(),
        &signature,
        options,
        &mut report,
    );
    check_time_claims(&payload, options.now, &mut report);
    verify::check_credential(&credential, options, &mut report);
    report
}

fn decode_json(part: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| "not base64url".to_owned())?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|error| format!("not JSON ({error})"))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err("not a JSON object".into())
    }
}

/// The `iss` claim, when present, must name the credential's issuer.
fn check_issuer_claim(payload: &Value, report: &mut VerificationReport) {
    let Some(iss) = payload.get("iss").and_then(Value::as_str) else {
        return;
    };
    if report.issuer.as_deref() != Some(iss) {
        report.push(
            CheckKind::IssuerKey,
            Outcome::Failed,
            format!(
                "the iss claim \"{iss}\" differs from the credential's issuer \"{}\"",
                report.issuer.as_deref().unwrap_or_default()
            ),
        );
    }
}

fn check_signature(
    header: &Value,
    signing_input: &[u8],
    signature: &[u8],
    options: &VerifyOptions<'_>,
    report: &mut VerificationReport,
) {
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(alg, "EdDSA" | "RS256") {
        report.push(
            CheckKind::Signature,
            Outcome::Failed,
            format!("JWT algorithm {alg:?} is not supported; use EdDSA or RS256"),
        );
        return;
    }

    let (key, source) = match find_key(header, report.issuer.as_deref(), options) {
        Ok(found) => found,
        Err(message) => {
            report.push(CheckKind::Signature, Outcome::Failed, message);
            return;
        }
    };

    let verified = match (&key, alg) {
        (PublicKey::Ed25519(key), "EdDSA") => Ed25519Signature::from_slice(signature)
            .is_ok_and(|signature| key.verify(signing_input, &signature).is_ok()),
        (PublicKey::Rsa(key), "RS256") => {
            pkcs1v15::Signature::try_from(signature).is_ok_and(|signature| {
                pkcs1v15::VerifyingKey::<Sha256>::new(key.clone())
                    .verify(signing_input, &signature)
                    .is_ok()
            })
        }
        _ => {
            report.push(
                CheckKind::Signature,
                Outcome::Failed,
                format!("the key does not fit algorithm {alg}"),
            );
            return;
        }
    };
    if verified {
        report.push(
            CheckKind::Signature,
            Outcome::Passed,
            format!("the {alg} signature of the JWT is valid"),
        );
        let outcome = if source.is_bound_to_issuer() {
            Outcome::Passed
        } else {
            Outcome::Warning
        };
        report.push(
            CheckKind::IssuerKey,
            outcome,
            source.describe(),
        );
    } else {
        report.push(
            CheckKind::Signature,
            Outcome::Failed,
            format!("the {alg} signature does not match: the token was changed, or another key signed it"),
        );
    }
}

/// Finds the verification key: a known key for the `kid` or the issuer,
/// then a `did:key` `kid`, then the header's `jwk`.
fn find_key(
    header: &Value,
    issuer: Option<&str>,
    options: &VerifyOptions<'_>,
) -> Result<(PublicKey, KeySource), String> {
    let kid = header.get("kid").and_then(Value::as_str);
    let known = options.known_keys.iter().find(|entry| {
        kid.is_some_and(|kid| entry.id == kid || entry.id == did::controller_of(kid))
            || issuer == Some(entry.id.as_str())
    });
    if let Some(entry) = known {
        return Ok((entry.key.clone(), KeySource::Known(entry.description)));
    }

    if let Some(kid) = kid.filter(|kid| kid.starts_with("did:key:")) {
        if issuer.is_some_and(|issuer| issuer != did::controller_of(kid)) {
            return Err(format!(
                "the kid {kid} does not belong to the issuer {}",
                issuer.unwrap_or_default()
            ));
        }
        let key = did::resolve_did_key(kid).map_err(|error| error.to_string())?;
        return Ok((PublicKey::Ed25519(key), KeySource::DidKey));
    }
    if let Some(jwk) = header.get("jwk") {
        return keys::parse_jwk(jwk).map(|key| (key, KeySource::JwtHeader));
    }
    Err("the JWT names no key that can be used offline: it has no jwk header, no did:key kid, and no key was given for its issuer".into())
}

/// Checks the `nbf` and `exp` claims (seconds since the Unix epoch).
fn check_time_claims(payload: &Value, now: DateTime<Utc>, report: &mut VerificationReport) {
    let claim = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_i64)
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
    };
    if let Some(not_before) = claim("nbf")
        && not_before > now
    {
        report.push(
            CheckKind::ValidFrom,
            Outcome::Failed,
            format!("the JWT is not valid before {}", not_before.to_rfc3339()),
        );
    }
    if let Some(expires) = claim("exp")
        && expires <= now
    {
        report.push(
            CheckKind::ValidUntil,
            Outcome::Failed,
            format!("the JWT expired on {}", expires.to_rfc3339()),
        );
    }
}
