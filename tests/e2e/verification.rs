//! `GET /verify` and `POST /verify`: baked images, addresses and JSON, in
//! forms and as raw bodies, with the size limit and bad input.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::share_support::{TRICKY_NAME, accept, create_award, element_text, multipart, page};
use crate::support::{ADMIN_TOKEN, DEMO_BADGE, TestServer};

async fn post_verify(server: &TestServer, query: &str, content_type: &str, accept_type: &str, body: Vec<u8>) -> (u16, String) {
    let response = server
        .client
        .post(server.url(&format!("/verify{query}")))
        .header(CONTENT_TYPE, content_type)
        .header(ACCEPT, accept_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn verify_json(server: &TestServer, query: &str, content_type: &str, body: Vec<u8>) -> Value {
    let (status, text) = post_verify(server, query, content_type, "application/json", body).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn failed_checks(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["passed"] == false)
        .map(|check| check["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baked_images_verify_valid() {
    let server = TestServer::start().await;
    let id = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "verify@example.org", "name": TRICKY_NAME } })).await;
    let accepted = accept(&server, &id).await;
    let png = server.client.get(format!("{}/badge.png", accepted.url)).send().await.unwrap().bytes().await.unwrap().to_vec();
    let svg = server.client.get(format!("{}/badge.svg", accepted.url)).send().await.unwrap().bytes().await.unwrap().to_vec();

    // The raw PNG, with the recipient's email in the query.
    let report = verify_json(&server, "?email=Verify@Example.org", "image/png", png.clone()).await;
    assert_eq!(report["status"], "valid", "{report}");
    assert_eq!(report["assertion_id"], accepted.url.as_str());
    assert_eq!(report["recipient_match"], true);
    assert_eq!(report["recipient_name"], TRICKY_NAME);
    assert_eq!(report["badge_name"], "RDA Serials Cataloging Update");
    let ids: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|check| check["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["read", "issuer", "published", "integrity", "badge", "expiry", "revocation", "recipient"]);
    assert!(failed_checks(&report).is_empty(), "{report}");

    // The raw SVG, with someone else's email.
    let report = verify_json(&server, "?email=someone.else@example.org", "image/svg+xml", svg).await;
    assert_eq!(report["status"], "valid");
    assert_eq!(report["recipient_match"], false);
    assert_eq!(failed_checks(&report), ["recipient"]);

    // The form upload, as a browser sends it, returns the result page.
    let (content_type, body) = multipart(&[("file", Some("badge.png"), &png), ("url", None, b""), ("json", None, b""), ("email", None, b"verify@example.org")]);
    let (status, result_page) = post_verify(&server, "", &content_type, "text/html", body).await;
    assert_eq!(status, 200);
    assert!(result_page.contains("data-status=\"valid\""), "{result_page}");
    assert!(result_page.contains("The email address you gave matches the recipient."));
    assert!(!result_page.contains("<b>&amp;</b>"), "the recipient name is escaped");
    assert_eq!(element_text(&result_page, "result-status").as_deref(), Some("Valid badge"));

    // The same form from a program gets JSON.
    let (content_type, body) = multipart(&[("file", Some("badge.png"), &png)]);
    let report = verify_json(&server, "", &content_type, body).await;
    assert_eq!(report["status"], "valid");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_and_json_verify() {
    let server = TestServer::start().await;
    let id = create_award(&server, json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "json@example.org", "name": "Jay Son" } })).await;
    let accepted = accept(&server, &id).await;
    let (_, assertion) = server.get_json(&accepted.url).await;

    let report = verify_json(&server, "", "text/plain", accepted.url.clone().into_bytes()).await;
    assert_eq!(report["status"], "valid");
    let report = verify_json(&server, "", "application/ld+json", assertion.to_string().into_bytes()).await;
    assert_eq!(report["status"], "valid");
    assert!(failed_checks(&report).is_empty(), "{report}");

    // An edited copy no longer matches the published one.
    let mut edited = assertion.clone();
    edited["issuedOn"] = json!("2001-01-01T00:00:00Z");
    let report = verify_json(&server, "", "application/json", edited.to_string().into_bytes()).await;
    assert_eq!(report["status"], "malformed");
    assert_eq!(failed_checks(&report), ["integrity"]);

    // Addresses of other sites are never fetched: unknown.
    let (content_type, body) = multipart(&[("url", None, b"https://badges.example.net/awards/aaaaaaaaaaaaaaaaaaaaaaaaaa")]);
    let report = verify_json(&server, "", &content_type, body).await;
    assert_eq!(report["status"], "unknown");
    assert_eq!(failed_checks(&report), ["issuer"]);

    // An award id that was never issued here: unknown.
    let report = verify_json(&server, "", "text/plain", server.url("/awards/aaaaaaaaaaaaaaaaaaaaaaaaaa").into_bytes()).await;
    assert_eq!(report["status"], "unknown");
    assert_eq!(failed_checks(&report), ["published"]);

    // Broken JSON and a file that is no badge: malformed.
    let report = verify_json(&server, "", "application/json", b"{\"id\": ".to_vec()).await;
    assert_eq!(report["status"], "malformed");
    let report = verify_json(&server, "", "image/png", b"\x89PNG\r\n\x1a\nnot really".to_vec()).await;
    assert_eq!(report["status"], "malformed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_and_expired_verify() {
    let server = TestServer::start().await;
    let expired = create_award(
        &server,
        json!({
            "badge_id": DEMO_BADGE,
            "recipient": { "email": "old@example.org", "name": "Old Timer" },
            "issued_on": "2020-05-22T00:00:00Z",
            "expires_on": "2021-01-01T00:00:00Z",
        }),
    )
    .await;
    let expired = accept(&server, &expired).await;
    let png = server.client.get(format!("{}/badge.png", expired.url)).send().await.unwrap().bytes().await.unwrap().to_vec();
    let report = verify_json(&server, "", "image/png", png.clone()).await;
    assert_eq!(report["status"], "expired", "{report}");
    assert_eq!(failed_checks(&report), ["expiry"]);

    let (status, _) = server
        .admin_json(reqwest::Method::POST, &format!("/admin/awards/{}/revoke", expired.id), &json!({ "reason": "Recorded <twice> & more" }))
        .await;
    assert_eq!(status, 200);
    let report = verify_json(&server, "", "image/png", png).await;
    assert_eq!(report["status"], "revoked");
    assert_eq!(report["revocation_reason"], "Recorded <twice> & more");

    let (content_type, body) = multipart(&[("url", None, expired.url.as_bytes())]);
    let (status, result_page) = post_verify(&server, "", &content_type, "text/html", body).await;
    assert_eq!(status, 200);
    assert!(result_page.contains("data-status=\"revoked\""));
    assert!(!result_page.contains("<twice>"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_rejects_bad_requests() {
    let server = TestServer::start().await;

    let (status, form) = page(&server, &server.url("/verify"), None).await;
    assert_eq!(status, 200);
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert!(form.contains("At most 4 MiB."));

    // Over the limit: 413, for raw bodies and forms alike.
    let limit = server.app().settings.limits.verify_body_bytes;
    let (status, body) = post_verify(&server, "", "image/png", "application/json", vec![0u8; limit + 1]).await;
    assert_eq!(status, 413, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "body_too_large");
    let big = vec![b'a'; limit];
    let (content_type, body) = multipart(&[("file", Some("big.png"), &big)]);
    let (status, _) = post_verify(&server, "", &content_type, "application/json", body).await;
    assert_eq!(status, 413);

    // Nothing, or more than one thing, to check.
    let (content_type, body) = multipart(&[("email", None, b"a@example.org")]);
    let (status, body) = post_verify(&server, "", &content_type, "application/json", body).await;
    assert_eq!(status, 400, "{body}");
    let (content_type, body) = multipart(&[("url", None, b"https://x.example/a"), ("json", None, b"{}")]);
    let (status, _) = post_verify(&server, "", &content_type, "application/json", body).await;
    assert_eq!(status, 400);
    // A browser gets the form again with the message.
    let (content_type, body) = multipart(&[("file", Some(""), b""), ("email", None, b"<b>me</b>@example.org")]);
    let (status, again) = post_verify(&server, "", &content_type, "text/html", body).await;
    assert_eq!(status, 400);
    assert!(again.contains("id=\"form-error\""), "{again}");
    assert!(!again.contains("<b>me</b>"));

    // Unknown fields and media types.
    let (content_type, body) = multipart(&[("token", None, b"x")]);
    let (status, body) = post_verify(&server, "", &content_type, "application/json", body).await;
    assert_eq!(status, 400);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["field"], "token");
    let (status, _) = post_verify(&server, "", "image/gif", "application/json", b"GIF89a".to_vec()).await;
    assert_eq!(status, 415);

    // A raw body is read as its media type declares, and an empty one is
    // named as the body.
    let (status, body) = post_verify(&server, "", "application/json", "application/json", Vec::new()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["field"], "body");
    let (status, body) = post_verify(&server, "", "application/vc+jwt", "application/json", b"not-a-jwt".to_vec()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["field"], "body");
    let (status, body) = post_verify(&server, "", "application/vc+jwt", "application/json", b"aaa.bbb.ccc".to_vec()).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["open_badges_version"], "3.0", "{report}");
    assert_eq!(report["status"], "malformed", "{report}");
    let (status, body) = post_verify(&server, "", "application/vc+ld+json", "application/json", b"{}".to_vec()).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["open_badges_version"], "3.0", "{report}");
    assert!(report["summary"].as_str().unwrap().contains("no @context"), "{report}");

    // The verify route needs no admin token and ignores one.
    let response = server.client.post(server.url("/verify")).bearer_auth(ADMIN_TOKEN).header(CONTENT_TYPE, "text/plain").header(ACCEPT, "application/json").body("https://x.example/a").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    server.stop().await;
}
