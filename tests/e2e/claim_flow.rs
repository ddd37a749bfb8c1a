//! The main job: award, email, claim, accept, verify.

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use serde_json::Value;

use crate::support::{DEMO_BADGE, TestServer, claim_parts, ob2_validate};

async fn post_form(server: &TestServer, url: &str, token: &str) -> reqwest::Response {
    server
        .client
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "text/html")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_link_to_valid_assertion() {
    let server = TestServer::start().await;

    // GIVEN an award created by staff and its claim email in the outbox.
    let award = server.create_award("  Learner.One@Example.ORG ", "Zoë O'Brien <b>&</b>").await;
    let award_id = award["id"].as_str().unwrap().to_owned();
    assert_eq!(award["recipient"]["email"], "learner.one@example.org");
    assert_eq!(award["status"], "pending");
    let outbox = server.drain_outbox().await;
    assert_eq!(outbox.len(), 1);
    let email = &outbox[0];
    assert_eq!(email.to, "learner.one@example.org");
    assert!(email.subject.contains("RDA Serials Cataloging Update"), "{}", email.subject);
    assert_eq!(email.from, "badges@example.org");
    assert!(email.raw.contains("multipart/alternative"), "text and HTML parts");
    assert!(!email.html.is_empty(), "the message has an HTML part");
    let link = email.claim_link();
    assert!(email.html.contains(&link.replace('&', "&amp;")), "the HTML part has the same link");
    let (link_award, token) = claim_parts(&link);
    assert_eq!(link_award, award_id);

    // WHEN the learner opens the link, the claim page shows the badge.
    let (status, page) = server.get_html(&link).await;
    assert_eq!(status, 200);
    assert!(page.contains("RDA Serials Cataloging Update"));
    assert!(page.contains("Zoë O&#39;Brien &#60;b&#62;&#38;&#60;/b&#62;") || page.contains("Zoë O&#x27;Brien &lt;b&gt;&amp;&lt;/b&gt;"), "the name is escaped: {page}");
    assert!(!page.contains("<b>&</b>"));

    // AND accepts it: 303 to the award page.
    let response = post_form(&server, &server.url(&format!("/claim/{award_id}/accept")), &token).await;
    assert_eq!(response.status().as_u16(), 303);
    let award_url = server.url(&format!("/awards/{award_id}"));
    assert_eq!(response.headers()[LOCATION].to_str().unwrap(), award_url);

    // THEN the assertion is public JSON-LD with a hashed recipient.
    let (status, assertion) = server.get_json(&award_url).await;
    assert_eq!(status, 200);
    assert_eq!(assertion["id"], award_url.as_str());
    assert_eq!(assertion["type"], "Assertion");
    assert_eq!(assertion["badge"], server.url(&format!("/badges/{DEMO_BADGE}")).as_str());
    assert_eq!(assertion["recipient"]["hashed"], true);
    let salt = assertion["recipient"]["salt"].as_str().unwrap();
    let email = badges_shared::domain::EmailAddress::parse("learner.one@example.org").unwrap();
    assert_eq!(assertion["recipient"]["identity"], badges_shared::openbadges::hashed_identity(&email, salt).as_str());
    assert!(!assertion.to_string().contains("learner.one"), "the email is not in the assertion");

    // AND the baked PNG carries the same assertion.
    let png = server.client.get(server.url(&format!("/awards/{award_id}/badge.png"))).send().await.unwrap();
    assert_eq!(png.headers()[CONTENT_TYPE], "image/png");
    let baked = badges_shared::images::unbake(&png.bytes().await.unwrap()).expect("the PNG is baked");
    let badges_shared::images::BakedPayload::Json(json) = baked.payload else { panic!("the PNG holds JSON") };
    let embedded: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(embedded, assertion);

    // AND the SVG too, with the exact media type.
    let svg = server.client.get(server.url(&format!("/awards/{award_id}/badge.svg"))).send().await.unwrap();
    assert_eq!(svg.headers()[CONTENT_TYPE], "image/svg+xml");
    let baked = badges_shared::images::unbake(&svg.bytes().await.unwrap()).expect("the SVG is baked");
    assert!(matches!(baked.payload, badges_shared::images::BakedPayload::Json(_)));

    // AND re-opening the claim link shows the award.
    let response = server.client.get(&link).header(ACCEPT, "text/html").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()[LOCATION].to_str().unwrap(), award_url);

    // AND the award page shows the recipient's name, escaped.
    let (status, page) = server.get_html(&award_url).await;
    assert_eq!(status, 200);
    assert!(page.contains("Valid"));
    assert!(!page.contains("<b>&</b>"));

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assertion_passes_reference_validator() {
    let server = TestServer::start().await;
    let award = server.create_award("validator.check@example.org", "Val Idator").await;
    let award_id = award["id"].as_str().unwrap();
    let link = server.drain_outbox().await[0].claim_link();
    let (_, token) = claim_parts(&link);
    let response = post_form(&server, &server.url(&format!("/claim/{award_id}/accept")), &token).await;
    assert_eq!(response.status().as_u16(), 303);
    let award_url = server.url(&format!("/awards/{award_id}"));

    let (valid, report) = ob2_validate(&award_url, "validator.check@example.org").await;
    assert!(valid, "the hosted assertion is valid for its recipient: {report}");

    let (valid, report) = ob2_validate(&award_url, "someone.else@example.org").await;
    assert!(!valid, "the assertion is not valid for another recipient: {report}");

    // The baked image, validated as a file, is valid too.
    let png = server.client.get(format!("{award_url}/badge.png")).send().await.unwrap().bytes().await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("baked.png");
    std::fs::write(&path, &png).unwrap();
    let (valid, report) = ob2_validate(path.to_str().unwrap(), "validator.check@example.org").await;
    assert!(valid, "the baked PNG is valid: {report}");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decline_hides_award() {
    let server = TestServer::start().await;
    let award = server.create_award("decliner@example.org", "De Cliner").await;
    let award_id = award["id"].as_str().unwrap();
    let (_, token) = claim_parts(&server.drain_outbox().await[0].claim_link());
    let award_url = server.url(&format!("/awards/{award_id}"));

    let (status, _) = server.get_json(&award_url).await;
    assert_eq!(status, 404, "a pending award is not public");

    let response = post_form(&server, &server.url(&format!("/claim/{award_id}/decline")), &token).await;
    assert_eq!(response.status().as_u16(), 200);
    let (status, body) = server.get_json(&award_url).await;
    assert_eq!(status, 404, "a declined award is not public");
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = server.get_json(&format!("{award_url}/badge.png")).await;
    assert_eq!(status, 404);

    let (_, admin_view) = server.admin_get(&format!("/admin/awards/{award_id}")).await;
    assert_eq!(admin_view["status"], "declined");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_award_answers_410() {
    let server = TestServer::start().await;
    let award = server.create_award("revoked@example.org", "Re Voked").await;
    let award_id = award["id"].as_str().unwrap();
    let (_, token) = claim_parts(&server.drain_outbox().await[0].claim_link());
    post_form(&server, &server.url(&format!("/claim/{award_id}/accept")), &token).await;

    let (status, revoked) = server
        .admin_json(
            reqwest::Method::POST,
            &format!("/admin/awards/{award_id}/revoke"),
            &serde_json::json!({ "reason": "Attendance record was entered in error" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(revoked["status"], "revoked");

    let award_url = server.url(&format!("/awards/{award_id}"));
    let (status, body) = server.get_json(&award_url).await;
    assert_eq!(status, 410);
    assert_eq!(body, serde_json::json!({
        "id": award_url,
        "revoked": true,
        "revocationReason": "Attendance record was entered in error",
    }));

    let (status, page) = server.get_html(&award_url).await;
    assert_eq!(status, 410);
    assert!(page.contains("Revoked"));
    assert!(page.contains("Attendance record was entered in error"));

    let (status, _) = server.get_json(&format!("{award_url}/badge.png")).await;
    assert_eq!(status, 410);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_and_expired_links() {
    let server = TestServer::start().await;
    let award = server.create_award("links@example.org", "Link Tester").await;
    let award_id = award["id"].as_str().unwrap();
    server.drain_outbox().await;

    // A wrong token: a 404 page that explains how to get a new link.
    let wrong = server.url(&format!("/claim/{award_id}?token={}", "x".repeat(43)));
    let (status, page) = server.get_html(&wrong).await;
    assert_eq!(status, 404);
    assert!(page.contains("new link"), "{page}");

    // An unknown award: the same answer.
    let unknown = server.url(&format!("/claim/{}?token=abc", "a".repeat(26)));
    let (status, _) = server.get_html(&unknown).await;
    assert_eq!(status, 404);

    // An expired token: 410 with the same help.
    let app = server.app();
    let id = badges_shared::domain::AwardId::parse(award_id).unwrap();
    let token = "E".repeat(badges_shared::tokens::TOKEN_LEN);
    let past = chrono::Utc::now() - chrono::Duration::days(1);
    app.store
        .add_claim_token(&badges_shared::domain::ClaimToken {
            award_id: id,
            token_hash: badges_shared::tokens::hash_token(&token),
            created_at: past - chrono::Duration::days(180),
            expires_at: past,
        })
        .await
        .unwrap();
    let (status, page) = server.get_html(&server.url(&format!("/claim/{award_id}?token={token}"))).await;
    assert_eq!(status, 410);
    assert!(page.contains("expired"));
    let response = post_form(&server, &server.url(&format!("/claim/{award_id}/accept")), &token).await;
    assert_eq!(response.status().as_u16(), 410);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_resend_sends_new_link() {
    let server = TestServer::start().await;
    let award = server.create_award("resend@example.org", "Re Send").await;
    let award_id = award["id"].as_str().unwrap();
    let first = server.drain_outbox().await[0].claim_link();

    let (status, body) = server
        .admin_json(reqwest::Method::POST, &format!("/admin/awards/{award_id}/resend"), &Value::Null)
        .await;
    assert_eq!(status, 202, "{body}");
    let outbox = server.drain_outbox().await;
    assert_eq!(outbox.len(), 2);
    let second = outbox[1].claim_link();
    assert_ne!(first, second, "a resend makes a new token");

    // Both links work until they expire.
    for link in [&first, &second] {
        let (status, _) = server.get_html(link).await;
        assert_eq!(status, 200, "{link}");
    }

    let (_, view) = server.admin_get(&format!("/admin/awards/{award_id}")).await;
    assert_eq!(view["notification"]["status"], "sent");
    server.stop().await;
}
