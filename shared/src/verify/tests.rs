//! Verification against documents injected through a test resolver.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;
use crate::domain::{EmailAddress, Issuer};
use crate::openbadges::hashed_identity;

const BASE: &str = "https://badges.example.org";
const AWARD: &str = "https://badges.example.org/awards/abcdefghijklmnopqrstuvwxyz";
const BADGE: &str = "https://badges.example.org/badges/rda-serials";

/// Serves the documents and status lists it was given and counts every
/// document lookup.
struct MapResolver {
    documents: HashMap<String, Document>,
    status_lists: HashMap<String, Value>,
    lookups: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl Resolver for MapResolver {
    async fn resolve(&self, url: &str) -> Result<Resolved, StoreError> {
        self.lookups.lock().unwrap().push(url.to_owned());
        Ok(match self.documents.get(url) {
            Some(document) => Resolved::Document(document.clone()),
            None => Resolved::NotFound,
        })
    }

    async fn status_list(&self, url: &str) -> Result<Option<Value>, StoreError> {
        Ok(self.status_lists.get(url).cloned())
    }
}

fn settings() -> Settings {
    let issuer = Issuer { name: "Example Association".into(), url: "https://www.example.org".into(), email: "b@example.org".into() };
    Settings::new(BASE, issuer)
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn hosted(expires: Option<&str>) -> Value {
    let email = EmailAddress::parse("learner@example.org").unwrap();
    let mut doc = json!({
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": AWARD,
        "recipient": { "type": "email", "hashed": true, "salt": "s4lt", "identity": hashed_identity(&email, "s4lt") },
        "badge": BADGE,
        "issuedOn": "2020-05-22T00:00:00Z",
        "verification": { "type": "hosted" },
    });
    if let Some(expires) = expires {
        doc["expires"] = json!(expires);
    }
    doc
}

fn resolver(assertion: Option<Document>) -> MapResolver {
    let mut documents = HashMap::new();
    if let Some(assertion) = assertion {
        documents.insert(AWARD.to_owned(), assertion);
    }
    documents.insert(
        BADGE.to_owned(),
        Document {
            body: json!({ "type": "BadgeClass", "id": BADGE, "name": "RDA Serials", "issuer": format!("{BASE}/issuer") }),
            revoked: false,
            recipient_name: None,
        },
    );
    MapResolver { documents, status_lists: HashMap::new(), lookups: Default::default() }
}

fn published(body: Value) -> Option<Document> {
    Some(Document { body, revoked: false, recipient_name: Some("Zoë O'Brien".into()) })
}

async fn run(resolver: &MapResolver, evidence: Evidence, email: Option<&str>) -> Report {
    verify(&settings(), resolver, &evidence, email, None, time("2026-01-01T00:00:00Z")).await.unwrap()
}

fn check<'a>(report: &'a Report, id: &str) -> &'a Check {
    report.checks.iter().find(|check| check.id == id).unwrap_or_else(|| panic!("no {id} check: {report:?}"))
}

#[tokio::test]
async fn url_of_published_award_is_valid() {
    let resolver = resolver(published(hosted(None)));
    let report = run(&resolver, Evidence::Url(AWARD.into()), Some("Learner@Example.org")).await;
    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert_eq!(report.badge_name.as_deref(), Some("RDA Serials"));
    assert_eq!(report.recipient_name.as_deref(), Some("Zoë O'Brien"));
    assert_eq!(report.recipient_match, Some(true));
    assert!(report.checks.iter().all(|check| check.passed), "{report:?}");
    assert!(report.summary.contains("22 May 2020"), "{}", report.summary);
}

#[tokio::test]
async fn wrong_email_fails_recipient_check() {
    let resolver = resolver(published(hosted(None)));
    let report = run(&resolver, Evidence::Url(AWARD.into()), Some("someone@example.org")).await;
    assert_eq!(report.status, Status::Valid);
    assert_eq!(report.recipient_match, Some(false));
    assert!(!check(&report, "recipient").passed);
    let report = run(&resolver, Evidence::Url(AWARD.into()), Some("not an address")).await;
    assert_eq!(report.recipient_match, Some(false));
    assert!(check(&report, "recipient").message.contains("not a valid email"), "{report:?}");
}

#[tokio::test]
async fn other_host_is_unknown_and_not_resolved() {
    let resolver = resolver(published(hosted(None)));
    for url in [
        "https://other.example.net/awards/abcdefghijklmnopqrstuvwxyz",
        "https://badges.example.org.evil.example/awards/abcdefghijklmnopqrstuvwxyz",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let report = run(&resolver, Evidence::Url(url.into()), None).await;
        assert_eq!(report.status, Status::Unknown, "{url}: {report:?}");
        assert!(!check(&report, "issuer").passed);
    }
    assert!(resolver.lookups.lock().unwrap().is_empty(), "no outside URL is looked up");
}

#[tokio::test]
async fn unpublished_award_is_unknown() {
    let resolver = resolver(None);
    let report = run(&resolver, Evidence::Url(AWARD.into()), None).await;
    assert_eq!(report.status, Status::Unknown);
    assert!(!check(&report, "published").passed);
}

#[tokio::test]
async fn revoked_award_reports_reason() {
    let body = json!({ "id": AWARD, "revoked": true, "revocationReason": "Entered in error" });
    let resolver = resolver(Some(Document { body, revoked: true, recipient_name: None }));
    let report = run(&resolver, Evidence::Url(format!("{AWARD}/badge.png")), None).await;
    assert_eq!(report.status, Status::Revoked);
    assert_eq!(report.revocation_reason.as_deref(), Some("Entered in error"));
    assert_eq!(report.assertion_id.as_deref(), Some(AWARD));
}

#[tokio::test]
async fn past_expiry_is_expired() {
    let resolver = resolver(published(hosted(Some("2025-06-01T00:00:00Z"))));
    let report = run(&resolver, Evidence::Url(AWARD.into()), None).await;
    assert_eq!(report.status, Status::Expired);
    assert!(check(&report, "expiry").message.contains("1 June 2025"), "{report:?}");
}

#[tokio::test]
async fn pasted_json_must_match_published_copy() {
    let resolver = resolver(published(hosted(None)));
    let report = run(&resolver, Evidence::Json(hosted(None).to_string()), None).await;
    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert!(check(&report, "integrity").passed);

    let mut edited = hosted(None);
    edited["issuedOn"] = json!("2019-01-01T00:00:00Z");
    let report = run(&resolver, Evidence::Json(edited.to_string()), None).await;
    assert_eq!(report.status, Status::Malformed);
    assert!(check(&report, "integrity").message.contains("issuedOn"), "{report:?}");
}

#[tokio::test]
async fn unreadable_input_is_malformed() {
    let resolver = resolver(published(hosted(None)));
    for (evidence, words) in [
        (Evidence::Json("{not json".into()), "not valid JSON"),
        (Evidence::Json("[1, 2]".into()), "not an object"),
        (Evidence::Json(json!({ "type": "BadgeClass", "id": BADGE }).to_string()), "BadgeClass"),
        (Evidence::Json(json!({ "type": "Assertion" }).to_string()), "no assertion address"),
        (Evidence::Url("javascript:alert(1)".into()), "not an http"),
        (Evidence::Image(b"GIF89a".to_vec()), "not a PNG or SVG"),
        (Evidence::Image(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()), "no badge data"),
    ] {
        let report = run(&resolver, evidence.clone(), None).await;
        assert_eq!(report.status, Status::Malformed, "{evidence:?}: {report:?}");
        assert!(check(&report, "read").message.contains(words), "{evidence:?}: {report:?}");
    }
}

#[tokio::test]
async fn baked_image_is_read() {
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#;
    let png = crate::images::render_png(svg, 20).unwrap();
    let baked = crate::images::bake_png(&png, &hosted(None).to_string()).unwrap();
    let resolver = resolver(published(hosted(None)));
    let report = run(&resolver, Evidence::Image(baked), Some("learner@example.org")).await;
    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert!(check(&report, "read").message.contains("PNG"), "{report:?}");
    assert_eq!(report.recipient_match, Some(true));
}

#[tokio::test]
async fn credential_without_proof_is_malformed() {
    let credential = json!({ "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "id": AWARD });
    let resolver = resolver(published(hosted(None)));
    let report = run(&resolver, Evidence::Json(credential.to_string()), None).await;
    assert_eq!(report.status, Status::Malformed, "{report:?}");
    assert_eq!(report.open_badges_version, "3.0");
    assert!(!check(&report, "signature").passed, "{report:?}");
    assert!(resolver.lookups.lock().unwrap().is_empty(), "no Open Badges 2.0 lookup is made");
}

/// Signs a credential of the test issuer, with a status entry in `LIST`.
fn signed_credential(name: &str) -> Value {
    let signer = crate::ob3::Ed25519Signer::from_seed([7; 32]);
    let input = crate::ob3::CredentialInput {
        id: format!("{AWARD}/credential.json"),
        name: name.into(),
        issuer: crate::ob3::IssuerProfile {
            id: signer.did().to_owned(),
            name: "Example Association".into(),
            url: "https://www.example.org".into(),
            email: None,
        },
        achievement: crate::ob3::AchievementInput {
            id: BADGE.into(),
            name: name.into(),
            description: "Attended the webinar.".into(),
            criteria_narrative: Some("Attend.".into()),
            criteria_url: None,
            image_url: None,
        },
        recipient: crate::ob3::RecipientIdentity {
            identity_hash: crate::ob3::hash_email("learner@example.org", "salt"),
            salt: "salt".into(),
        },
        valid_from: time("2025-06-01T00:00:00Z"),
        valid_until: None,
        status: Some(crate::ob3::StatusEntry { list_url: LIST.into(), index: 7 }),
    };
    let unsigned = crate::ob3::build_credential(&input).unwrap();
    crate::ob3::add_proof(&unsigned, &signer, input.valid_from).unwrap()
}

const LIST: &str = "https://other.example.net/status/1";

fn signed_list(revoked: &[u64]) -> Value {
    let signer = crate::ob3::Ed25519Signer::from_seed([7; 32]);
    let mut list = crate::ob3::StatusList::new(131_072).unwrap();
    for index in revoked {
        list.set(*index, true).unwrap();
    }
    let unsigned = crate::ob3::build_status_list_credential(LIST, signer.did(), time("2025-06-01T00:00:00Z"), &list);
    crate::ob3::add_proof(&unsigned, &signer, time("2025-06-01T00:00:00Z")).unwrap()
}

#[tokio::test]
async fn signed_credential_is_valid_without_list() {
    let resolver = resolver(None);
    let text = signed_credential("Serials <update> & more").to_string();
    let report = run(&resolver, Evidence::Json(text), Some("Learner@Example.org")).await;
    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert_eq!(report.badge_name.as_deref(), Some("Serials <update> & more"));
    assert_eq!(report.recipient_match, Some(true));
    let status = check(&report, "status");
    assert_eq!(status.outcome, CheckOutcome::Warning, "{report:?}");
    assert!(status.message.contains("not available offline"), "{}", status.message);
}

#[tokio::test]
async fn tampered_credential_is_malformed() {
    let mut credential = signed_credential("Serials update");
    credential["name"] = json!("Serials update (changed)");
    let report = run(&resolver(None), Evidence::Json(credential.to_string()), None).await;
    assert_eq!(report.status, Status::Malformed, "{report:?}");
    assert!(!check(&report, "signature").passed);
}

#[tokio::test]
async fn credential_under_old_keyword_is_credential() {
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#;
    let png = crate::images::render_png(svg, 20).unwrap();
    let baked = crate::images::bake_png(&png, &signed_credential("Serials update").to_string()).unwrap();
    let report = run(&resolver(None), Evidence::Image(baked), None).await;
    assert_eq!(report.open_badges_version, "3.0", "{report:?}");
    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert!(check(&report, "read").message.contains("PNG openbadges text chunk"), "{report:?}");
}

#[tokio::test]
async fn supplied_list_decides_revocation() {
    let text = signed_credential("Serials update").to_string();
    let evidence = Evidence::Json(text);
    let now = time("2026-01-01T00:00:00Z");

    let revoked = signed_list(&[7]);
    let report = verify(&settings(), &resolver(None), &evidence, None, Some(&revoked), now).await.unwrap();
    assert_eq!(report.status, Status::Revoked, "{report:?}");
    assert_eq!(check(&report, "status").outcome, CheckOutcome::Failed);

    let active = signed_list(&[6, 8]);
    let report = verify(&settings(), &resolver(None), &evidence, None, Some(&active), now).await.unwrap();
    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert_eq!(check(&report, "status").outcome, CheckOutcome::Passed);
}

#[test]
fn local_urls_parse_strictly() {
    let settings = settings();
    assert!(matches!(parse_local_url(&settings, AWARD), Some(LocalUrl::Assertion(_))));
    assert!(matches!(parse_local_url(&settings, &format!("{AWARD}/badge.svg")), Some(LocalUrl::Assertion(_))));
    assert!(matches!(parse_local_url(&settings, &format!("{AWARD}/")), Some(LocalUrl::Assertion(_))));
    for suffix in ["credential.json", "credential.png", "credential.svg"] {
        let url = format!("{AWARD}/{suffix}");
        assert!(matches!(parse_local_url(&settings, &url), Some(LocalUrl::Assertion(_))), "{url}");
    }
    assert_eq!(parse_local_url(&settings, &format!("{BASE}/issuer")), Some(LocalUrl::Issuer));
    assert!(matches!(parse_local_url(&settings, BADGE), Some(LocalUrl::BadgeClass(_))));
    for url in [
        format!("{AWARD}?x=1"),
        format!("{AWARD}#frag"),
        format!("{BASE}/awards/../issuer"),
        format!("{BASE}.evil.example/issuer"),
        format!("{BASE}/issuer/extra"),
        format!("{AWARD}/credential.txt"),
        "http://badges.example.org/issuer".to_owned(),
    ] {
        assert_eq!(parse_local_url(&settings, &url), None, "{url}");
    }
}

/// Returns a VC-JWT that names the test issuer but carries its own key in
/// the header's `jwk`, so nothing binds the key to that issuer.
fn self_keyed_jwt() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::{Signer as _, SigningKey};

    let key = SigningKey::from_bytes(&[21; 32]);
    let mut credential = signed_credential("Serials update");
    let object = credential.as_object_mut().unwrap();
    object.remove("proof");
    object.remove("credentialStatus");
    credential["issuer"]["id"] = json!("https://www.example.org");
    let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()) });
    let header = json!({ "alg": "EdDSA", "typ": "vc+jwt", "jwk": jwk });
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap());
    let signing_input = format!("{}.{}", encode(&header), encode(&credential));
    let signature = URL_SAFE_NO_PAD.encode(key.sign(signing_input.as_bytes()).to_bytes());
    format!("{signing_input}.{signature}")
}

fn heading(report: &Report) -> String {
    crate::web::pages::VerifyResult::new(report).heading
}

#[tokio::test]
async fn self_keyed_jwt_leaves_issuer_unconfirmed() {
    let report = run(&resolver(None), Evidence::Json(self_keyed_jwt()), None).await;

    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert_eq!(report.issuer_confirmed, Some(false));
    assert!(report.summary.contains("the issuer's identity was not confirmed"), "{}", report.summary);
    assert!(report.summary.contains("the key that the credential itself carries"), "{}", report.summary);
    assert!(!report.summary.contains("Example Association issued"), "{}", report.summary);
    assert_eq!(heading(&report), "Valid signature, issuer not confirmed");
    assert_eq!(check(&report, "issuer_key").outcome, CheckOutcome::Warning);
}

#[tokio::test]
async fn did_key_credential_confirms_issuer() {
    let mut listed = resolver(None);
    listed.status_lists.insert(LIST.to_owned(), signed_list(&[]));
    let report = run(&listed, Evidence::Json(signed_credential("Serials update").to_string()), None).await;

    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert_eq!(report.issuer_confirmed, Some(true));
    assert_eq!(report.status_checked, Some(true));
    assert_eq!(report.summary, "This Open Badges 3.0 credential is valid: Example Association issued “Serials update”.");
    assert_eq!(heading(&report), "Valid badge");
}

#[tokio::test]
async fn unchecked_status_is_not_plainly_valid() {
    let report = run(&resolver(None), Evidence::Json(signed_credential("Serials update").to_string()), None).await;

    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert_eq!(report.status_checked, Some(false));
    assert!(report.summary.contains("its status was not checked"), "{}", report.summary);
    assert_eq!(heading(&report), "Valid badge, status not checked");
}

#[tokio::test]
async fn messages_have_no_debug_output() {
    let now = time("2026-01-01T00:00:00Z");
    let evidence = Evidence::Json(signed_credential("Serials update").to_string());
    let mut stranger = signed_list(&[]);
    stranger["issuer"] = json!("did:example:stranger");
    let no_context = Evidence::Json("eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJmb28iOjF9.abc".into());

    let reports = [
        verify(&settings(), &resolver(None), &evidence, None, Some(&signed_list(&[6])), now).await.unwrap(),
        verify(&settings(), &resolver(None), &evidence, None, Some(&stranger), now).await.unwrap(),
        run(&resolver(None), no_context, None).await,
    ];
    for report in &reports {
        for message in report.checks.iter().map(|check| &check.message).chain([&report.summary]) {
            assert!(!message.contains("Some("), "{message}");
            assert!(!message.contains("None"), "{message}");
        }
    }

    let clear = check(&reports[0], "status");
    assert_eq!(clear.message, format!("Not revoked: bit 7 of the status list {LIST} is not set."));
    assert!(check(&reports[2], "format").message.contains("has no @context"), "{:?}", reports[2]);
}

#[tokio::test]
async fn wrong_supplied_list_leaves_status_unchecked() {
    let mut stranger = signed_list(&[7]);
    stranger["issuer"] = json!("did:example:stranger");
    let evidence = Evidence::Json(signed_credential("Serials update").to_string());
    let now = time("2026-01-01T00:00:00Z");
    let report = verify(&settings(), &resolver(None), &evidence, None, Some(&stranger), now).await.unwrap();

    assert_eq!(report.status, Status::Valid, "{report:?}");
    assert_eq!(report.status_checked, Some(false));
    let status = check(&report, "status");
    assert_eq!(status.outcome, CheckOutcome::Warning, "{report:?}");
    assert!(status.message.contains("the status_list copy that was given does not belong to this credential"), "{}", status.message);
    assert!(status.message.contains("issued by did:example:stranger"), "{}", status.message);
}

#[tokio::test]
async fn tampered_credential_heading_and_skipped_checks() {
    let mut credential = signed_credential("Serials update");
    credential["credentialSubject"]["achievement"]["name"] = json!("Serials update X");
    let mut listed = resolver(None);
    listed.status_lists.insert(LIST.to_owned(), signed_list(&[]));
    let report = run(&listed, Evidence::Json(credential.to_string()), Some("learner@example.org")).await;

    assert_eq!(report.status, Status::Malformed, "{report:?}");
    assert_eq!(heading(&report), "Signature check failed");
    assert_eq!(report.recipient_match, None, "an unsigned recipient proves nothing");
    for id in ["valid_from", "valid_until", "status", "recipient"] {
        let skipped = check(&report, id);
        assert_eq!(skipped.outcome, CheckOutcome::Skipped, "{id}: {report:?}");
        assert!(skipped.message.starts_with("Not meaningful, because the signature did not verify"), "{}", skipped.message);
    }
    assert!(crate::web::pages::VerifyResult::new(&report).details_unverified);
}

#[tokio::test]
async fn own_revoked_credential_reports_reason() {
    let mut revoked = hosted(None);
    revoked["revocationReason"] = json!("Issued in error");
    let mut listed = resolver(Some(Document { body: revoked, revoked: true, recipient_name: None }));
    listed.status_lists.insert(LIST.to_owned(), signed_list(&[7]));
    let report = run(&listed, Evidence::Json(signed_credential("Serials update").to_string()), None).await;

    assert_eq!(report.status, Status::Revoked, "{report:?}");
    assert_eq!(report.revocation_reason.as_deref(), Some("Issued in error"));
    assert!(report.summary.ends_with("Reason: Issued in error"), "{}", report.summary);
}

#[tokio::test]
async fn other_did_web_issuer_cannot_be_verified_here() {
    let signer = crate::ob3::Ed25519Signer::from_seed([9; 32]);
    let method = crate::ob3::did::did_web_verification_method("badges.other.example", &signer.public_key()).unwrap();
    let mut credential = signed_credential("Serials update");
    let issuer = method.split('#').next().unwrap().to_owned();
    credential["issuer"]["id"] = json!(issuer);
    credential["proof"]["verificationMethod"] = json!(method);

    let report = run(&resolver(None), Evidence::Json(credential.to_string()), None).await;

    assert_eq!(report.status, Status::Unknown, "{report:?}");
    assert!(report.summary.contains("cannot be verified here"), "{}", report.summary);
    assert_eq!(check(&report, "issuer_key").outcome, CheckOutcome::Warning);
    assert_eq!(heading(&report), "Cannot be verified here");
}

#[tokio::test]
async fn declared_credential_is_read_as_credential() {
    let report = run(&resolver(None), Evidence::Credential("{}".into()), None).await;

    assert_eq!(report.open_badges_version, "3.0", "{report:?}");
    assert_eq!(report.status, Status::Malformed, "{report:?}");
    assert!(check(&report, "format").message.contains("has no @context"), "{report:?}");
}

#[tokio::test]
async fn credential_checks_are_sentences() {
    let report = run(&resolver(None), Evidence::Json(signed_credential("Serials update").to_string()), None).await;

    for check in &report.checks {
        let first = check.message.chars().next().unwrap();
        assert!(first.is_uppercase(), "{}: {}", check.id, check.message);
        assert!(check.message.ends_with('.'), "{}: {}", check.id, check.message);
    }
}
