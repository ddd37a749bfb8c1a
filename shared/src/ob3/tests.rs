//! Tests across modules: issue and verify, tampering, status lists, and the
//! third-party credentials in `testdata/v3` (see `testdata/v3/NOTICE.md`).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::credential::tests::sample_input;
use super::did;
use super::keys::{KnownKey, PublicKey};
use super::proof::{self, ProofError};
use super::status_list::{self, MIN_LIST_BITS, StatusList};
use super::verify::{
    CheckKind, CredentialFormat, Outcome, StatusResult, VerificationReport, VerifyOptions,
};
use super::*;

const LIST_URL: &str = "https://badges.example.org/status/1";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
}

fn issuer() -> Ed25519Signer {
    Ed25519Signer::from_seed([42; 32])
}

fn issue(signer: &Ed25519Signer, name: &str) -> Value {
    let mut input = sample_input(signer.did());
    input.name = name.into();
    input.achievement.name = name.into();
    let credential = build_credential(&input).unwrap();
    add_proof(&credential, signer, input.valid_from).unwrap()
}

fn signed_list(signer: &Ed25519Signer, revoked: &[u64]) -> Value {
    let mut list = StatusList::new(MIN_LIST_BITS).unwrap();
    for index in revoked {
        list.set(*index, true).unwrap();
    }
    let credential =
        status_list::build_status_list_credential(LIST_URL, signer.did(), now(), &list);
    add_proof(&credential, signer, now()).unwrap()
}

fn failures(report: &VerificationReport) -> Vec<String> {
    report
        .failures()
        .map(|check| format!("{:?}: {}", check.kind, check.message))
        .collect()
}

fn has_failed(report: &VerificationReport, kind: CheckKind) -> bool {
    report.failures().any(|check| check.kind == kind)
}

#[test]
fn issued_credential_verifies() {
    let signer = issuer();
    let credential = issue(&signer, "RDA Serials Cataloging Update");
    let proof = &credential["proof"];
    assert_eq!(proof["type"], "DataIntegrityProof");
    assert_eq!(proof["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(proof["verificationMethod"], signer.verification_method());
    assert!(proof["proofValue"].as_str().unwrap().starts_with('z'));

    let report = verify::verify_json(&credential, &VerifyOptions::at(now()));
    assert!(report.is_valid(), "{:?}", failures(&report));
    assert_eq!(report.warnings().count(), 0, "{:?}", report.checks);
    assert_eq!(report.issuer.as_deref(), Some(signer.did()));
}

#[test]
fn names_with_markup_and_non_ascii_verify() {
    let signer = issuer();
    for name in [
        "Catalogación de publicaciones seriadas — nivel 2",
        "<b>Bold</b> & \"quoted\" 'name' <script>alert(1)</script>",
        "日本語のバッジ 🎓",
        "Line one\nLine two\twith tab \\ backslash",
    ] {
        let credential = issue(&signer, name);
        let text = serde_json::to_string(&credential).unwrap();
        let report = verify(&text, &VerifyOptions::at(now()));
        assert!(report.is_valid(), "{name:?}: {:?}", failures(&report));
    }
}

#[test]
fn tampered_copies_fail() {
    let signer = issuer();
    let credential = issue(&signer, "Metadata Basics");
    let options = VerifyOptions::at(now());

    let mut renamed = credential.clone();
    renamed["name"] = json!("Metadata Mastery");
    let mut other_achievement = credential.clone();
    other_achievement["credentialSubject"]["achievement"]["name"] = json!("Metadata Mastery");
    let mut other_description = credential.clone();
    other_description["credentialSubject"]["achievement"]["description"] = json!("Something else.");
    let mut other_recipient = credential.clone();
    other_recipient["credentialSubject"]["identifier"][0]["identityHash"] = json!(hash_email(
        "someone.else@example.org",
        "0123456789abcdef0123456789abcdef"
    ));
    let mut later_expiry = credential.clone();
    later_expiry["validUntil"] = json!("2099-01-01T00:00:00Z");
    let mut other_proof_value = credential.clone();
    let other_signature = issue(&signer, "Another badge")["proof"]["proofValue"].clone();
    other_proof_value["proof"]["proofValue"] = other_signature;
    let mut other_created = credential.clone();
    other_created["proof"]["created"] = json!("2025-03-14T15:09:27Z");

    for (case, tampered) in [
        ("name", renamed),
        ("achievement name", other_achievement),
        ("achievement description", other_description),
        ("recipient", other_recipient),
        ("validUntil", later_expiry),
        ("proofValue", other_proof_value),
        ("proof created", other_created),
    ] {
        let report = verify::verify_json(&tampered, &options);
        assert!(!report.is_valid(), "{case} was accepted");
        assert!(
            has_failed(&report, CheckKind::Signature),
            "{case}: {:?}",
            failures(&report)
        );
    }
}

#[test]
fn added_undefined_property_fails_terms_check() {
    let signer = issuer();
    let mut credential = issue(&signer, "Metadata Basics");
    credential["credentialSubject"]["grade"] = json!("A+");
    let report = verify::verify_json(&credential, &VerifyOptions::at(now()));
    // The signature still matches, because the undefined property is not
    // part of the signed dataset; the terms check catches it.
    assert!(
        !has_failed(&report, CheckKind::Signature),
        "{:?}",
        failures(&report)
    );
    assert!(has_failed(&report, CheckKind::Terms), "{:?}", report.checks);
    assert!(!report.is_valid());
}

#[test]
fn proof_signed_by_other_key_fails() {
    let signer = issuer();
    let impostor = Ed25519Signer::from_seed([7; 32]);
    let unsigned = build_credential(&sample_input(impostor.did())).unwrap();
    let mut forged = add_proof(&unsigned, &impostor, now()).unwrap();
    // Name the real issuer after signing, so the proof's key is not the issuer's.
    forged["issuer"]["id"] = json!(signer.did());
    let report = verify::verify_json(&forged, &VerifyOptions::at(now()));
    assert!(
        has_failed(&report, CheckKind::IssuerKey),
        "{:?}",
        report.checks
    );
    assert!(!report.is_valid());
}

#[test]
fn add_proof_rejects_invalid_input() {
    let signer = issuer();
    let credential = issue(&signer, "Metadata Basics");
    assert!(matches!(
        add_proof(&credential, &signer, now()),
        Err(ProofError::AlreadySigned)
    ));

    let foreign = build_credential(&sample_input(
        "did:key:z6MknNQD1WHLGGraFi6zcbGevuAgkVfdyCdtZnQTGWVVvR5Q",
    ))
    .unwrap();
    let error = add_proof(&foreign, &signer, now()).unwrap_err();
    assert!(
        matches!(error, ProofError::IssuerMismatch { .. }),
        "{error}"
    );

    let mut unsigned = build_credential(&sample_input(signer.did())).unwrap();
    unsigned["colour"] = json!("blue");
    let error = add_proof(&unsigned, &signer, now()).unwrap_err();
    assert!(matches!(error, ProofError::Canonicalization(_)), "{error}");
}

#[test]
fn dates_are_checked() {
    let signer = issuer();
    let credential = issue(&signer, "Metadata Basics");

    let before = Utc.with_ymd_and_hms(2025, 3, 14, 15, 9, 25).unwrap();
    let report = verify::verify_json(&credential, &VerifyOptions::at(before));
    assert!(
        has_failed(&report, CheckKind::ValidFrom),
        "{:?}",
        report.checks
    );

    let after = Utc.with_ymd_and_hms(2030, 3, 14, 0, 0, 0).unwrap();
    let report = verify::verify_json(&credential, &VerifyOptions::at(after));
    assert!(
        has_failed(&report, CheckKind::ValidUntil),
        "{:?}",
        report.checks
    );
    assert!(!report.is_valid());
}

#[test]
fn recipient_email_is_compared() {
    let signer = issuer();
    let credential = issue(&signer, "Metadata Basics");
    let mut options = VerifyOptions::at(now());

    options.recipient_email = Some(" Learner@Example.org ");
    let report = verify::verify_json(&credential, &options);
    assert!(report.is_valid(), "{:?}", failures(&report));
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.kind == CheckKind::Recipient && c.outcome == Outcome::Passed)
    );

    options.recipient_email = Some("someone.else@example.org");
    let report = verify::verify_json(&credential, &options);
    assert!(
        has_failed(&report, CheckKind::Recipient),
        "{:?}",
        report.checks
    );
}

#[test]
fn status_list_revocation_round_trip() {
    let signer = issuer();
    let credential = issue(&signer, "Metadata Basics");
    let index = 94_567;

    let active = signed_list(&signer, &[3, 94_566]);
    let revoked = signed_list(&signer, &[index]);
    for (list, expected) in [
        (active, StatusResult::Active),
        (revoked, StatusResult::Revoked),
    ] {
        let resolver = |url: &str| {
            if url == LIST_URL {
                Ok(list.clone())
            } else {
                Err(format!("unknown URL {url}"))
            }
        };
        let mut options = VerifyOptions::at(now());
        options.status_lists = Some(&resolver);
        let report = verify::verify_json(&credential, &options);
        assert_eq!(report.status, expected, "{:?}", report.checks);
        assert_eq!(
            report.is_valid(),
            expected == StatusResult::Active,
            "{:?}",
            failures(&report)
        );
    }
}

#[test]
fn untrusted_status_list_rejected() {
    let signer = issuer();
    let credential = issue(&signer, "Metadata Basics");

    let stranger = signed_list(&Ed25519Signer::from_seed([8; 32]), &[]);
    let mut tampered = signed_list(&signer, &[94_567]);
    tampered["credentialSubject"]["encodedList"] =
        json!(StatusList::new(MIN_LIST_BITS).unwrap().encode());

    for (case, list) in [("other issuer", stranger), ("cleared bit", tampered)] {
        let resolver = |_: &str| Ok(list.clone());
        let mut options = VerifyOptions::at(now());
        options.status_lists = Some(&resolver);
        let report = verify::verify_json(&credential, &options);
        assert_eq!(
            report.status,
            StatusResult::Unknown,
            "{case}: {:?}",
            report.checks
        );
        assert!(
            has_failed(&report, CheckKind::Status),
            "{case}: {:?}",
            report.checks
        );
    }
}

#[test]
fn status_not_checked_without_resolver() {
    let signer = issuer();
    let credential = issue(&signer, "Metadata Basics");
    let report = verify::verify_json(&credential, &VerifyOptions::at(now()));
    assert_eq!(report.status, StatusResult::Unknown);
    assert!(
        report
            .checks
            .iter()
            .any(|c| c.kind == CheckKind::Status && c.outcome == Outcome::Skipped)
    );
    assert!(report.is_valid());
}

#[test]
fn did_web_credential_verifies_with_known_key() {
    let signer = issuer().with_did_web("badges.example.org").unwrap();
    let credential = issue(&signer, "Metadata Basics");
    assert_eq!(credential["issuer"]["id"], "did:web:badges.example.org");

    let report = verify::verify_json(&credential, &VerifyOptions::at(now()));
    assert!(!report.is_valid(), "did:web is not resolved offline: {:?}", report.checks);
    assert!(
        !has_failed(&report, CheckKind::Signature),
        "a key that is not available offline is no failure: {:?}",
        report.checks
    );
    assert!(
        report
            .checks
            .iter()
            .any(|check| check.kind == CheckKind::IssuerKey && check.outcome == Outcome::Warning),
        "{:?}",
        report.checks
    );

    let document = did::did_web_document("badges.example.org", &[signer.public_key()]).unwrap();
    let method = credential["proof"]["verificationMethod"].as_str().unwrap();
    let key = did::key_from_did_document(&document, method).unwrap();
    let known = [KnownKey {
        id: method.into(),
        key: PublicKey::Ed25519(key),
        description: "the issuer's key",
    }];
    let mut options = VerifyOptions::at(now());
    options.known_keys = &known;
    let report = verify::verify_json(&credential, &options);
    assert!(report.is_valid(), "{:?}", failures(&report));
    let key_check = report.checks.iter().find(|check| check.kind == CheckKind::IssuerKey).unwrap();
    assert_eq!(key_check.message, "proof 1: the key is the issuer's key");
}

#[test]
fn eddsa_jwt_with_did_key_kid_verifies() {
    use ed25519_dalek::{Signer as _, SigningKey};

    let key = SigningKey::from_bytes(&[11; 32]);
    let public = key.verifying_key();
    let unsigned = build_credential(&sample_input(&did::did_key(&public))).unwrap();
    let header =
        json!({"alg": "EdDSA", "typ": "vc+jwt", "kid": did::did_key_verification_method(&public)});
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap());
    let signing_input = format!("{}.{}", encode(&header), encode(&unsigned));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signing_input.as_bytes()).to_bytes());
    let token = format!("{signing_input}.{signature}");

    let report = verify(&token, &VerifyOptions::at(now()));
    assert_eq!(report.format, CredentialFormat::VcJwt);
    assert!(report.is_valid(), "{:?}", failures(&report));

    let mut tampered_payload = unsigned.clone();
    tampered_payload["name"] = json!("Changed");
    let tampered = format!(
        "{}.{}.{signature}",
        encode(&header),
        encode(&tampered_payload)
    );
    let report = verify(&tampered, &VerifyOptions::at(now()));
    assert!(
        has_failed(&report, CheckKind::Signature),
        "{:?}",
        report.checks
    );
}

#[test]
fn unrecognised_input_is_reported() {
    let report = verify("hello", &VerifyOptions::at(now()));
    assert_eq!(report.format, CredentialFormat::Unknown);
    assert!(!report.is_valid());
    let report = verify("{not json", &VerifyOptions::at(now()));
    assert!(has_failed(&report, CheckKind::Format));
}

// Third-party credentials. Each case states what the source's own tests
// expect, as recorded in testdata/v3/NOTICE.md.

fn testdata(name: &str) -> Vec<u8> {
    let path = format!("{}/src/ob3/testdata/v3/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Returns the text of the uncompressed or zlib-compressed `iTXt` chunk
/// with keyword `openbadgecredential`.
fn png_credential(png: &[u8]) -> String {
    let mut offset = 8;
    while offset + 8 <= png.len() {
        let length = u32::from_be_bytes(png[offset..offset + 4].try_into().unwrap()) as usize;
        let kind = &png[offset + 4..offset + 8];
        let data = &png[offset + 8..offset + 8 + length];
        if kind == b"iTXt" && data.starts_with(b"openbadgecredential\0") {
            let rest = &data[b"openbadgecredential\0".len()..];
            let compressed = rest[0] == 1;
            let rest = &rest[2..];
            let after_language = &rest[rest.iter().position(|&b| b == 0).unwrap() + 1..];
            let text = &after_language[after_language.iter().position(|&b| b == 0).unwrap() + 1..];
            if compressed {
                use std::io::Read;
                let mut out = String::new();
                flate2::read::ZlibDecoder::new(text)
                    .read_to_string(&mut out)
                    .unwrap();
                return out;
            }
            return String::from_utf8(text.to_vec()).unwrap();
        }
        offset += 12 + length;
    }
    panic!("no openbadgecredential iTXt chunk");
}

/// Returns the JWT of the `verify` attribute or the CDATA JSON of the
/// `openbadges:credential` element.
fn svg_credential(svg: &[u8]) -> String {
    let text = String::from_utf8(svg.to_vec()).unwrap();
    let element = &text[text.find("<openbadges:credential").unwrap()..];
    if let Some(start) = element.find("<![CDATA[") {
        let body = &element[start + 9..];
        return body[..body.find("]]>").unwrap()].to_owned();
    }
    let attribute = &element[element.find("verify=\"").unwrap() + 8..];
    attribute[..attribute.find('"').unwrap()].to_owned()
}

fn verify_testdata(name: &str, options: &VerifyOptions<'_>) -> VerificationReport {
    let bytes = testdata(name);
    let text = if name.ends_with(".png") {
        png_credential(&bytes)
    } else if name.ends_with(".svg") {
        svg_credential(&bytes)
    } else {
        String::from_utf8(bytes).unwrap()
    };
    verify(&text, options)
}

#[test]
fn third_party_valid_credentials() {
    let cases = [
        (
            "dcpv_simple.json",
            "http://example.com/credentials/3527",
            CredentialFormat::DataIntegrity,
            1,
        ),
        (
            "dcpv_simple-json.png",
            "http://example.com/credentials/3527",
            CredentialFormat::DataIntegrity,
            1,
        ),
        (
            "dcpv_simple-json.svg",
            "http://example.com/credentials/3527",
            CredentialFormat::DataIntegrity,
            1,
        ),
        (
            "dcpv_simple-jwt.png",
            "http://example.com/credentials/3527",
            CredentialFormat::VcJwt,
            1,
        ),
        (
            "dcpv_simple-jwt.svg",
            "http://example.com/credentials/3527",
            CredentialFormat::VcJwt,
            1,
        ),
        (
            "dcpv_simple-jwt_v1.png",
            "http://example.edu/credentials/3732",
            CredentialFormat::VcJwt,
            1,
        ),
        (
            "dcpv_simple-jwt_v1.svg",
            "http://example.edu/credentials/3732",
            CredentialFormat::VcJwt,
            1,
        ),
        (
            "dcpv_simple-eddsa-2022.json",
            "http://www.1edtech.org/ob/1",
            CredentialFormat::DataIntegrity,
            1,
        ),
        (
            "dcpv_simple-multiple-proofs.json",
            "http://example.com/credentials/3527",
            CredentialFormat::DataIntegrity,
            1,
        ),
        (
            "dcc_v2_eddsa-rdfc-2022_didkey_OBSpecExample.json",
            "http://example.com/credentials/3527",
            CredentialFormat::DataIntegrity,
            1,
        ),
        (
            "dcc_v2_both-proofs_didkey.json",
            "http://example.com/credentials/3527",
            CredentialFormat::DataIntegrity,
            2,
        ),
        (
            "dcc_v1_ed25519signature2020_didkey.json",
            "urn:uuid:2fe53dc9-b2ec-4939-9b2c-0d00f6663b6c",
            CredentialFormat::DataIntegrity,
            1,
        ),
    ];
    for (name, id, format, signatures) in cases {
        let report = verify_testdata(name, &VerifyOptions::at(now()));
        assert!(report.is_valid(), "{name}: {:?}", failures(&report));
        assert_eq!(report.credential_id.as_deref(), Some(id), "{name}");
        assert_eq!(report.format, format, "{name}");
        let passed = report
            .checks
            .iter()
            .filter(|check| check.kind == CheckKind::Signature && check.outcome == Outcome::Passed)
            .count();
        assert_eq!(passed, signatures, "{name}: {:?}", report.checks);
    }
}

#[test]
fn third_party_warnings() {
    let warned = |name: &str, kind: CheckKind| {
        let report = verify_testdata(name, &VerifyOptions::at(now()));
        report.warnings().any(|check| check.kind == kind)
    };
    // VC Data Model 1.1 credentials are accepted with a warning.
    assert!(warned("dcpv_simple-eddsa-2022.json", CheckKind::Format));
    assert!(warned("dcpv_simple-jwt_v1.png", CheckKind::Format));
    // The unknown proof type is skipped with a warning.
    assert!(warned(
        "dcpv_simple-multiple-proofs.json",
        CheckKind::Signature
    ));
    // Keys from a fragment or a JWT header are not bound to the issuer.
    assert!(warned("dcpv_simple.json", CheckKind::IssuerKey));
    assert!(warned("dcpv_simple-jwt.png", CheckKind::IssuerKey));
    assert!(!warned(
        "dcc_v2_eddsa-rdfc-2022_didkey_OBSpecExample.json",
        CheckKind::IssuerKey
    ));
}

#[test]
fn third_party_invalid_credentials() {
    let options = VerifyOptions::at(now());

    let report = verify_testdata("dcpv_simple-err-proof-value.json", &options);
    assert!(!report.is_valid());
    assert_eq!(failures(&report).len(), 1, "{:?}", failures(&report));
    assert!(has_failed(&report, CheckKind::Signature));

    let report = verify_testdata("dcpv_simple-noproof.json", &options);
    assert_eq!(
        report.credential_id.as_deref(),
        Some("http://example.edu/credentials/3732")
    );
    assert!(!report.is_valid());
    assert!(
        has_failed(&report, CheckKind::Signature),
        "{:?}",
        report.checks
    );

    // No jwk and no kid: the payload is read, but the signature cannot be checked.
    let report = verify_testdata("dcpv_simple.jwt", &options);
    assert_eq!(report.format, CredentialFormat::VcJwt);
    assert_eq!(
        report.credential_id.as_deref(),
        Some("http://example.edu/credentials/3732")
    );
    assert!(
        report
            .credential
            .as_ref()
            .is_some_and(|credential| credential.get("@context").is_some())
    );
    assert!(
        has_failed(&report, CheckKind::Signature),
        "{:?}",
        report.checks
    );
    assert!(!report.is_valid());
}

#[test]
fn third_party_revoked_credential() {
    let credential: Value =
        serde_json::from_slice(&testdata("dcpv_bsl_credential-status-revoked.json")).unwrap();
    let list: Value = serde_json::from_slice(&testdata("dcpv_bsl_testlist.json")).unwrap();
    let list_url = credential["credentialStatus"]["statusListCredential"]
        .as_str()
        .unwrap()
        .to_owned();
    let served = HashMap::from([(list_url, list)]);
    let resolver = |url: &str| {
        served
            .get(url)
            .cloned()
            .ok_or_else(|| format!("not served: {url}"))
    };

    let report = verify::verify_json(&credential, &VerifyOptions::at(now()));
    assert!(
        report.is_valid(),
        "without the list: {:?}",
        failures(&report)
    );

    let mut options = VerifyOptions::at(now());
    options.status_lists = Some(&resolver);
    let report = verify::verify_json(&credential, &options);
    assert!(report.is_revoked(), "{:?}", report.checks);
    assert!(!report.is_valid());
    assert!(
        report
            .checks
            .iter()
            .any(|check| check.kind == CheckKind::Signature && check.outcome == Outcome::Passed),
        "the proof itself verifies: {:?}",
        report.checks
    );
    let failed: Vec<CheckKind> = report.failures().map(|check| check.kind).collect();
    assert_eq!(failed, [CheckKind::Status]);
}

#[test]
fn third_party_status_list_proof_verifies() {
    let list: Value = serde_json::from_slice(&testdata("dcpv_bsl_testlist.json")).unwrap();
    let proof = proof::proofs_of(&list)[0].clone();
    let method = proof["verificationMethod"].as_str().unwrap();
    let key = did::parse_multikey(method.split_once('#').unwrap().1).unwrap();
    proof::verify_proof(&list, &proof, &key).unwrap();
}

#[test]
fn undefined_property_is_named() {
    let signer = issuer();
    let mut credential = issue(&signer, "Metadata Basics");
    credential["foo"] = json!("bar");
    credential["credentialSubject"]["nickname"] = json!("Sam");

    let mut top_level = issue(&signer, "Metadata Basics");
    top_level["foo"] = json!("bar");
    let report = verify::verify_json(&top_level, &VerifyOptions::at(now()));
    let terms = report.checks.iter().find(|check| check.kind == CheckKind::Terms).unwrap();
    assert_eq!(terms.outcome, Outcome::Failed);
    assert!(terms.message.starts_with("the property \"foo\" is not defined"), "{}", terms.message);

    let mut nested = issue(&signer, "Metadata Basics");
    nested["credentialSubject"]["nickname"] = json!("Sam");
    let report = verify::verify_json(&nested, &VerifyOptions::at(now()));
    let terms = report.checks.iter().find(|check| check.kind == CheckKind::Terms).unwrap();
    assert!(
        terms.message.starts_with("the property \"credentialSubject.nickname\" is not defined"),
        "{}",
        terms.message
    );

    let report = verify::verify_json(&credential, &VerifyOptions::at(now()));
    let terms = report.checks.iter().find(|check| check.kind == CheckKind::Terms).unwrap();
    assert_eq!(terms.outcome, Outcome::Failed, "two undefined properties still fail");
}
