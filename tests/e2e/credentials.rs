//! Open Badges 3.0 credentials over HTTP: the credential routes, the status
//! list, `POST /verify` on our own and on third-party credentials, and the
//! files written for independent verifiers.
//!
//! `credentials_written_for_verifiers` writes its files to
//! `BADGES_OB3_ISSUED_DIR`, or `target/ob3-issued/` of the workspace, with
//! a `manifest.json` that states what each file should verify as.

use std::path::PathBuf;

use badges_shared::ob3::{self, CheckKind, Outcome, VerifyOptions};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::share_support::{TRICKY_NAME, accept, create_award, create_tricky_badge, multipart, page};
use crate::support::{DEMO_BADGE, TestServer};

/// Reads one of the third-party Open Badges 3.0 files that the `ob3`
/// module's tests use too. `NOTICE.md` beside them names their sources and licences.
fn third_party(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/src/ob3/testdata/v3").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Returns the folder for the files of independent verifiers.
fn issued_dir() -> PathBuf {
    match std::env::var_os("BADGES_OB3_ISSUED_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ob3-issued"),
    }
}

async fn get(server: &TestServer, url: &str) -> reqwest::Response {
    server.client.get(url).send().await.unwrap()
}

/// Fetches an award's credential JSON and checks the response headers.
async fn fetch_credential(server: &TestServer, award_url: &str) -> Value {
    let response = get(server, &format!("{award_url}/credential.json")).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/vc+ld+json");
    assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=300");
    response.json().await.unwrap()
}

async fn revoke(server: &TestServer, award_id: &str) {
    let path = format!("/admin/awards/{award_id}/revoke");
    let (status, body) = server.admin_json(reqwest::Method::POST, &path, &json!({ "reason": "Issued in error" })).await;
    assert_eq!(status, 200, "{body}");
}

async fn post_verify(server: &TestServer, query: &str, content_type: &str, body: Vec<u8>) -> Value {
    let response = server
        .client
        .post(server.url(&format!("/verify{query}")))
        .header(CONTENT_TYPE, content_type)
        .header(ACCEPT, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Returns the ids and outcomes of a report's checks, such as `signature:failed`.
fn outcomes(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| format!("{}:{}", check["id"].as_str().unwrap(), check["outcome"].as_str().unwrap()))
        .collect()
}

/// Changes one character of the proof value to another base58 digit.
fn tamper_proof(credential: &Value) -> Value {
    let mut tampered = credential.clone();
    let value = tampered["proof"]["proofValue"].as_str().unwrap().to_owned();
    let mut chars: Vec<char> = value.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    tampered["proof"]["proofValue"] = json!(chars.into_iter().collect::<String>());
    tampered
}

fn credential_body(credential: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(credential).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_has_award_content() {
    let server = TestServer::start().await;
    let id = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "Content@Example.org", "name": "Ada" } })).await;

    // A pending award has no credential, as it has no assertion.
    let pending = get(&server, &server.url(&format!("/awards/{id}/credential.json"))).await;
    assert_eq!(pending.status().as_u16(), 404);

    let accepted = accept(&server, &id).await;
    let credential = fetch_credential(&server, &accepted.url).await;
    let signer = server.app().issuer_signer.clone().expect("badges-local has an issuer key");
    let award = server.app().store.get_award(&badges_shared::domain::AwardId::parse(&id).unwrap()).await.unwrap().unwrap();

    assert_eq!(credential["id"], format!("{}/credential.json", accepted.url));
    assert_eq!(credential["type"], json!(["VerifiableCredential", "OpenBadgeCredential"]));
    assert_eq!(credential["issuer"]["id"], signer.did());
    assert!(signer.did().starts_with("did:key:z6Mk"));
    assert_eq!(credential["issuer"]["name"], server.app().settings.issuer.name);
    assert_eq!(credential["validFrom"], ob3::credential::xsd_date_time(award.issued_on));
    assert_eq!(credential["proof"]["created"], credential["validFrom"], "the proof is dated at the issue time");

    let identifier = &credential["credentialSubject"]["identifier"][0];
    assert_eq!(identifier["hashed"], true);
    assert_eq!(identifier["identityHash"], ob3::hash_email("content@example.org", &award.salt));
    assert!(!credential.to_string().to_lowercase().contains("content@example.org"), "the email never appears in clear");

    let achievement = &credential["credentialSubject"]["achievement"];
    assert_eq!(achievement["id"], server.url(&format!("/badges/{DEMO_BADGE}")));
    assert!(achievement["criteria"]["narrative"].is_string(), "{achievement}");
    assert!(achievement["image"]["id"].as_str().unwrap().contains(&format!("/images/badges/{DEMO_BADGE}.")));

    let status = &credential["credentialStatus"];
    let position = award.status_index.expect("acceptance allocates the status index");
    assert_eq!(status["type"], "BitstringStatusListEntry");
    assert_eq!(status["statusPurpose"], "revocation");
    assert_eq!(status["statusListIndex"], position.index.to_string());
    assert_eq!(status["statusListCredential"], server.url(&format!("/credentials/status/{}", position.list)));

    // Signing is deterministic: a second download is the same document.
    assert_eq!(fetch_credential(&server, &accepted.url).await, credential);

    // The baked images carry the same credential under the 3.0 names.
    for (kind, media) in [("png", "image/png"), ("svg", "image/svg+xml")] {
        let response = get(&server, &format!("{}/credential.{kind}", accepted.url)).await;
        assert_eq!(response.status().as_u16(), 200, "{kind}");
        assert_eq!(response.headers()[CONTENT_TYPE], media);
        let unbaked = badges_shared::images::unbake(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(unbaked.spec, badges_shared::images::Spec::V3, "{kind}");
        let baked: Value = serde_json::from_str(unbaked.payload.as_str()).unwrap();
        assert_eq!(baked, credential, "{kind}");
    }

    // The status list is signed by the same issuer and has a short lifetime in caches.
    let response = get(&server, status["statusListCredential"].as_str().unwrap()).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()[CACHE_CONTROL], "public, max-age=60");
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["issuer"], signer.did());
    // Dated minutes back, so that verifiers with slow clocks accept it.
    let dated = chrono::DateTime::parse_from_rfc3339(list["validFrom"].as_str().unwrap()).unwrap();
    assert!(dated < chrono::Utc::now() - chrono::Duration::minutes(4), "{dated}");
    assert_eq!(list["proof"]["created"], list["validFrom"]);
    let bits = ob3::status_list::read_status_list_credential(&list).unwrap();
    assert_eq!(bits.list.len(), 131_072);
    assert!(!bits.list.get(position.index).unwrap());

    // After revocation the credential routes return 410 and its bit is set.
    revoke(&server, &id).await;
    for kind in ["json", "png", "svg"] {
        let response = get(&server, &format!("{}/credential.{kind}", accepted.url)).await;
        assert_eq!(response.status().as_u16(), 410, "{kind}");
    }
    let list: Value = get(&server, status["statusListCredential"].as_str().unwrap()).await.json().await.unwrap();
    let bits = ob3::status_list::read_status_list_credential(&list).unwrap();
    assert!(bits.list.get(position.index).unwrap(), "the revoked award's bit is set");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_award_gets_index_once() {
    let server = TestServer::start().await;
    let id = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "older@example.org", "name": "Older" } })).await;
    let accepted = accept(&server, &id).await;

    // GIVEN an award accepted before status indexes existed.
    let store = &server.app().store;
    let award_id = badges_shared::domain::AwardId::parse(&id).unwrap();
    let mut award = store.get_award(&award_id).await.unwrap().unwrap();
    award.status_index = None;
    store.update_award(&award).await.unwrap();

    // WHEN two requests build its credential at once.
    let url = format!("{}/credential.json", accepted.url);
    let (first, second) = tokio::join!(get(&server, &url), get(&server, &url));
    let first: Value = first.json().await.unwrap();
    let second: Value = second.json().await.unwrap();

    // THEN both name the one index that the award now stores.
    let stored = store.get_award(&award_id).await.unwrap().unwrap().status_index.expect("an index is stored");
    assert_eq!(first["credentialStatus"]["statusListIndex"], stored.index.to_string());
    assert_eq!(second["credentialStatus"]["statusListIndex"], stored.index.to_string());
    assert_eq!(first, second);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_routes_reject_bad_paths() {
    let server = TestServer::start().await;
    for (path, expected) in [
        ("/awards/not-an-award-id/credential.json", 404),
        ("/awards/aaaaaaaaaaaaaaaaaaaaaaaaaa/credential.json", 404),
        ("/credentials/status/0", 404),
        ("/credentials/status/01", 404),
        ("/credentials/status/x", 404),
        ("/credentials/status/4294967296", 404),
        // The local server's issuer is a did:key, which needs no DID document.
        ("/.well-known/did.json", 404),
    ] {
        let response = get(&server, &server.url(path)).await;
        assert_eq!(response.status().as_u16(), expected, "{path}");
    }

    // A bad list number is named, with the range of valid ones.
    let response = get(&server, &server.url("/credentials/status/x")).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "list", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("\"x\"") && message.contains("4294967295"), "{message}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn award_page_offers_credential_downloads() {
    let server = TestServer::start().await;
    let id = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "page@example.org", "name": TRICKY_NAME } })).await;
    let accepted = accept(&server, &id).await;

    let (status, html) = page(&server, &accepted.url, None).await;
    assert_eq!(status, 200);
    for (element, suffix) in [
        ("credential-link", "json"),
        ("download-credential-json", "json"),
        ("download-credential-png", "png"),
        ("download-credential-svg", "svg"),
    ] {
        let href = crate::share_support::element_href(&html, element).unwrap_or_else(|| panic!("no {element}"));
        assert_eq!(href, format!("{}/credential.{suffix}", accepted.url), "{element}");
    }

    revoke(&server, &id).await;
    let (status, html) = page(&server, &accepted.url, None).await;
    assert_eq!(status, 410);
    assert!(!html.contains("download-credential"), "a revoked award offers no credential");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_credentials_verify_then_revoke() {
    let server = TestServer::start().await;
    let id = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "own@example.org", "name": "Own" } })).await;
    let accepted = accept(&server, &id).await;
    let credential = fetch_credential(&server, &accepted.url).await;

    // The JSON, with the recipient's email: valid, status checked from the store.
    let report = post_verify(&server, "?email=Own@Example.org", "application/vc+ld+json", credential_body(&credential)).await;
    assert_eq!(report["status"], "valid", "{report}");
    assert_eq!(report["open_badges_version"], "3.0");
    assert_eq!(report["credential_id"], credential["id"]);
    assert_eq!(report["recipient_match"], true);
    assert_eq!(report["badge_name"], "RDA Serials Cataloging Update");
    let checks = outcomes(&report);
    for expected in ["read:passed", "signature:passed", "issuer_key:passed", "status:passed", "recipient:passed"] {
        assert!(checks.contains(&expected.to_owned()), "{expected} in {checks:?}");
    }

    // The baked images verify the same way.
    for (kind, media) in [("png", "image/png"), ("svg", "image/svg+xml")] {
        let bytes = get(&server, &format!("{}/credential.{kind}", accepted.url)).await.bytes().await.unwrap().to_vec();
        let report = post_verify(&server, "", media, bytes).await;
        assert_eq!(report["status"], "valid", "{kind}: {report}");
        assert_eq!(report["open_badges_version"], "3.0", "{kind}");
    }

    // This site's key confirms the issuer, and its status list is read.
    assert_eq!(report["issuer_confirmed"], true, "{report}");
    assert_eq!(report["status_checked"], true, "{report}");

    // The credential's addresses in the url field are checked as the award.
    for suffix in ["json", "png", "svg"] {
        let url = format!("{}/credential.{suffix}", accepted.url);
        let (content_type, body) = multipart(&[("url", None, url.as_bytes())]);
        let report = post_verify(&server, "", &content_type, body).await;
        assert_eq!(report["status"], "valid", "{suffix}: {report}");
    }

    // A changed name breaks the signature.
    let mut tampered = credential.clone();
    tampered["credentialSubject"]["achievement"]["name"] = json!("Advanced Cataloging");
    let report = post_verify(&server, "", "application/json", credential_body(&tampered)).await;
    assert_eq!(report["status"], "malformed", "{report}");
    assert!(outcomes(&report).contains(&"signature:failed".to_owned()), "{report}");

    // After revocation the same file verifies as revoked.
    revoke(&server, &id).await;
    let report = post_verify(&server, "", "application/json", credential_body(&credential)).await;
    assert_eq!(report["status"], "revoked", "{report}");
    assert!(outcomes(&report).contains(&"status:failed".to_owned()), "{report}");
    assert_eq!(report["revocation_reason"], "Issued in error", "{report}");

    // The result page shows the checks with their outcomes, escaped.
    let (content_type, body) = multipart(&[("json", None, &credential_body(&credential)), ("email", None, b"own@example.org")]);
    let response = server
        .client
        .post(server.url("/verify"))
        .header(CONTENT_TYPE, content_type)
        .header(ACCEPT, "text/html")
        .body(body)
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(html.contains("data-status=\"revoked\""), "{html}");
    assert!(html.contains("data-outcome=\"failed\""));
    assert!(html.contains("id=\"result-version\">3.0<"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_party_credentials_get_expected_answers() {
    let server = TestServer::start().await;
    let cases: &[(&str, &str, &str)] = &[
        ("dcpv_simple.json", "application/json", "valid"),
        ("dcpv_simple-json.png", "image/png", "valid"),
        ("dcpv_simple-json.svg", "image/svg+xml", "valid"),
        ("dcpv_simple-jwt.png", "image/png", "valid"),
        ("dcpv_simple-jwt.svg", "image/svg+xml", "valid"),
        ("dcpv_simple-jwt_v1.png", "image/png", "valid"),
        ("dcpv_simple-jwt_v1.svg", "image/svg+xml", "valid"),
        ("dcpv_simple-eddsa-2022.json", "application/json", "valid"),
        ("dcpv_simple-multiple-proofs.json", "application/json", "valid"),
        ("dcc_v2_eddsa-rdfc-2022_didkey_OBSpecExample.json", "application/ld+json", "valid"),
        ("dcc_v2_both-proofs_didkey.json", "application/json", "valid"),
        ("dcc_v1_ed25519signature2020_didkey.json", "application/json", "valid"),
        ("dcpv_simple-err-proof-value.json", "application/json", "malformed"),
        ("dcpv_simple-noproof.json", "application/json", "malformed"),
        ("dcpv_simple.jwt", "text/plain", "malformed"),
    ];
    for &(name, media, expected) in cases {
        let report = post_verify(&server, "", media, third_party(name)).await;
        assert_eq!(report["status"], expected, "{name}: {report}");
        assert_eq!(report["open_badges_version"], "3.0", "{name}");
    }

    // Several proofs: the unknown proof type is skipped with a warning, and
    // both proofs of the same key verify when both are supported.
    let report = post_verify(&server, "", "application/json", third_party("dcpv_simple-multiple-proofs.json")).await;
    let checks = outcomes(&report);
    assert!(checks.contains(&"signature:warning".to_owned()), "{checks:?}");
    assert!(checks.contains(&"signature:passed".to_owned()), "{checks:?}");
    let report = post_verify(&server, "", "application/json", third_party("dcc_v2_both-proofs_didkey.json")).await;
    let passed = outcomes(&report).iter().filter(|check| *check == "signature:passed").count();
    assert_eq!(passed, 2, "{report}");

    // The revoked credential's list is on another site: not fetched, so the
    // status is not checked and the proof alone is valid.
    let revoked = third_party("dcpv_bsl_credential-status-revoked.json");
    let report = post_verify(&server, "", "application/json", revoked.clone()).await;
    assert_eq!(report["status"], "valid", "{report}");
    let status = report["checks"].as_array().unwrap().iter().find(|check| check["id"] == "status").unwrap();
    assert_eq!(status["outcome"], "warning");
    assert!(status["message"].as_str().unwrap().contains("not available offline"), "{status}");
    assert_eq!(report["status_checked"], false, "{report}");
    assert!(report["summary"].as_str().unwrap().contains("its status was not checked"), "{report}");

    // A multikey in the fragment of an https verification method is the
    // credential's own key: the signature is valid, the issuer unconfirmed.
    let report = post_verify(&server, "", "application/json", third_party("dcpv_simple.json")).await;
    assert_eq!(report["issuer_confirmed"], false, "{report}");
    assert!(report["summary"].as_str().unwrap().contains("the issuer's identity was not confirmed"), "{report}");

    // With a copy of the list supplied in the form, it is revoked.
    let list = third_party("dcpv_bsl_testlist.json");
    let (content_type, body) = multipart(&[("json", None, &revoked), ("status_list", None, &list)]);
    let report = post_verify(&server, "", &content_type, body).await;
    assert_eq!(report["status"], "revoked", "{report}");
    assert!(outcomes(&report).contains(&"signature:passed".to_owned()), "{report}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_web_issuer_serves_document() {
    let folder = tempfile::tempdir().unwrap();
    let data_dir = folder.path().join("data");
    let running = badges_local::start(badges_local::Options {
        issuer_did: badges_local::IssuerDid::Web,
        ..crate::support::test_options(data_dir.clone())
    })
    .await
    .unwrap();
    let key_file = running.issuer_key_path.clone();
    let server = TestServer::attach(running, data_dir.clone());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is private");
    }
    assert_eq!(key_file, data_dir.join("issuer-ed25519.key"));

    let response = get(&server, &server.url("/.well-known/did.json")).await;
    assert_eq!(response.status().as_u16(), 200);
    let document: Value = response.json().await.unwrap();
    let did = server.app().issuer_signer.as_ref().unwrap().did();
    assert!(did.starts_with("did:web:127.0.0.1%3A"), "{did}");
    assert_eq!(document["id"], did);

    let id = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "web@example.org", "name": "Web" } })).await;
    let accepted = accept(&server, &id).await;
    let credential = fetch_credential(&server, &accepted.url).await;
    assert_eq!(credential["issuer"]["id"], did);
    let report = post_verify(&server, "", "application/json", credential_body(&credential)).await;
    assert_eq!(report["status"], "valid", "our own did:web key is known without a request: {report}");
    server.stop().await;
}

/// Builds one entry of `manifest.json`.
fn manifest_entry(file: &str, expect: &str, list_url: &str, list_file: &str) -> Value {
    json!({ "file": file, "expect": expect, "status_lists": { list_url: list_file } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_written_for_verifiers() {
    let server = TestServer::start().await;
    let tricky_badge = create_tricky_badge(&server).await;

    // GIVEN two valid credentials, one with markup and non-ASCII text in
    // the badge and recipient names, and one that is revoked.
    let plain = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "valid.one@example.org", "name": "Valid One" } })).await;
    let tricky = create_award(&server, json!({ "badge_id": tricky_badge, "recipient": { "email": "valid.two@example.org", "name": TRICKY_NAME } })).await;
    let to_revoke = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "revoked@example.org", "name": "Revoked" } })).await;
    let mut credentials = Vec::new();
    for id in [&plain, &tricky, &to_revoke] {
        let accepted = accept(&server, id).await;
        credentials.push(fetch_credential(&server, &accepted.url).await);
    }
    let [valid_one, valid_two, revoked] = <[Value; 3]>::try_from(credentials).unwrap();
    assert!(valid_two["name"].as_str().unwrap().contains("编目"), "{valid_two}");

    // WHEN one is revoked and the status list is fetched afterwards.
    revoke(&server, &to_revoke).await;
    let list_url = revoked["credentialStatus"]["statusListCredential"].as_str().unwrap().to_owned();
    for credential in [&valid_one, &valid_two] {
        assert_eq!(credential["credentialStatus"]["statusListCredential"], list_url.as_str(), "one list holds them all");
    }
    let status_list: Value = get(&server, &list_url).await.json().await.unwrap();

    let mut tampered_name = valid_one.clone();
    tampered_name["name"] = json!("RDA Serials Cataloging Update (Advanced)");
    let mut tampered_achievement = valid_one.clone();
    tampered_achievement["credentialSubject"]["achievement"]["description"] = json!("Completed the advanced course.");
    let tampered_proof = tamper_proof(&valid_one);

    let files: [(&str, &Value, &str); 6] = [
        ("valid-1.json", &valid_one, "valid"),
        ("valid-2.json", &valid_two, "valid"),
        ("tampered-name.json", &tampered_name, "invalid"),
        ("tampered-achievement.json", &tampered_achievement, "invalid"),
        ("tampered-proof.json", &tampered_proof, "invalid"),
        ("revoked.json", &revoked, "revoked"),
    ];

    // THEN each file verifies as its manifest entry states, here too.
    let served = |url: &str| if url == list_url { Ok(status_list.clone()) } else { Err(format!("not served: {url}")) };
    let mut options = VerifyOptions::at(chrono::Utc::now());
    options.status_lists = Some(&served);
    for (file, credential, expect) in &files {
        let report = ob3::verify(&credential.to_string(), &options);
        match *expect {
            "valid" => assert!(report.is_valid(), "{file}: {:?}", report.checks),
            "revoked" => assert!(report.is_revoked(), "{file}: {:?}", report.checks),
            _ => {
                assert!(!report.is_valid(), "{file}");
                let signature_failed =
                    report.checks.iter().any(|check| check.kind == CheckKind::Signature && check.outcome == Outcome::Failed);
                assert!(signature_failed, "{file}: {:?}", report.checks);
            }
        }
    }

    let dir = issued_dir();
    std::fs::create_dir_all(&dir).unwrap();
    // Files of an earlier run that this run does not write again would
    // confuse the verifiers, so the previous run's files go first.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ours = name == "manifest.json"
            || name == "revoked.json"
            || (name.ends_with(".json") && ["valid-", "tampered-", "status-list-"].iter().any(|prefix| name.starts_with(prefix)));
        if ours {
            std::fs::remove_file(&path).unwrap();
        }
    }

    let list_number = list_url.rsplit('/').next().unwrap();
    let list_file = format!("status-list-{list_number}.json");
    std::fs::write(dir.join(&list_file), serde_json::to_vec_pretty(&status_list).unwrap()).unwrap();
    let mut entries = Vec::new();
    for (file, credential, expect) in &files {
        std::fs::write(dir.join(file), serde_json::to_vec_pretty(credential).unwrap()).unwrap();
        entries.push(manifest_entry(file, expect, &list_url, &list_file));
    }
    let manifest = json!({ "credentials": entries });
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();

    // The issuer of these files is a did:key, which verifiers resolve offline.
    assert!(valid_one["issuer"]["id"].as_str().unwrap().starts_with("did:key:"));
    let written: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(written["credentials"].as_array().unwrap().len(), 6);
    server.stop().await;
}
