//! Bad input gets a 4xx naming the field or line, and writes nothing.

use serde_json::{Value, json};

use crate::support::{ADMIN_TOKEN, DEMO_BADGE, TestServer};

/// Counts the awards of the demo badge.
async fn award_count(server: &TestServer) -> usize {
    let (status, page) = server.admin_get(&format!("/admin/awards?badge_id={DEMO_BADGE}&limit=200")).await;
    assert_eq!(status, 200);
    page["items"].as_array().unwrap().len()
}

fn error_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_badge_is_404_naming_badge_id() {
    let server = TestServer::start().await;
    let body = json!({ "badge_id": "no-such-badge", "recipient": { "email": "a@example.org", "name": "A" } });
    let (status, error) = server.admin_json(reqwest::Method::POST, "/admin/awards", &body).await;
    assert_eq!(status, 404);
    assert_eq!(error_field(&error), "badge_id");

    let (status, error) = server
        .admin_body("/admin/awards/import?badge_id=no-such-badge", "text/csv", b"Email\na@example.org\n".to_vec())
        .await;
    assert_eq!(status, 404);
    assert_eq!(error_field(&error), "badge_id");
    assert_eq!(server.outbox().len(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_names_the_field() {
    let server = TestServer::start().await;
    let send = |body: &'static str| {
        server
            .client
            .post(server.url("/admin/awards"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let response = send("{\"badge_id\": ").await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_request");
    assert_eq!(error_field(&error), "body");

    let response = send(r#"{"badge_id": "rda-serials-cataloging-update", "recipient": {"name": "No Email"}}"#).await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error_field(&error), "recipient.email", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("email"));

    let response = send(r#"{"badge_id": "rda-serials-cataloging-update", "recipient": {"email": "not-an-email"}}"#).await.unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error_field(&error), "recipient.email");

    let response = send(r#"{"badge_id": "rda-serials-cataloging-update", "recipient": {"email": "a@example.org"}, "colour": "red"}"#)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.unwrap();
    assert!(error["error"]["message"].as_str().unwrap().contains("colour"), "{error}");

    let response = server
        .client
        .post(server.url("/admin/awards"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);

    assert_eq!(award_count(&server).await, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_413() {
    let server = TestServer::start().await;
    let huge_name = "x".repeat(100 * 1024);
    let body = json!({ "badge_id": DEMO_BADGE, "recipient": { "email": "a@example.org", "name": huge_name } });
    let (status, error) = server.admin_json(reqwest::Method::POST, "/admin/awards", &body).await;
    assert_eq!(status, 413);
    assert_eq!(error["error"]["code"], "body_too_large");
    assert_eq!(error_field(&error), "body");

    let big_image = vec![0u8; 2 * 1024 * 1024];
    let (status, error) = server.admin_body(&format!("/admin/badges/{DEMO_BADGE}/image"), "image/png", big_image).await;
    assert_eq!(status, 413);
    assert_eq!(error_field(&error), "body");

    assert_eq!(award_count(&server).await, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_images_are_rejected_and_nothing_changes() {
    let server = TestServer::start().await;
    let image_path = format!("/admin/badges/{DEMO_BADGE}/image");
    let (_, before) = server.admin_get(&format!("/admin/badges/{DEMO_BADGE}")).await;
    let svg_before = server.client.get(server.url(&format!("/images/badges/{DEMO_BADGE}.svg"))).send().await.unwrap().bytes().await.unwrap();

    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];
    let (status, error) = server.admin_body(&image_path, "image/jpeg", jpeg.clone()).await;
    assert_eq!(status, 415);
    assert_eq!(error_field(&error), "Content-Type");

    let (status, error) = server.admin_body(&image_path, "image/png", jpeg).await;
    assert_eq!(status, 422);
    assert_eq!(error_field(&error), "body");

    let scripted = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script><rect width="10" height="10"/></svg>"#;
    let (status, error) = server.admin_body(&image_path, "image/svg+xml", scripted.to_vec()).await;
    assert_eq!(status, 422);
    assert!(error["error"]["message"].as_str().unwrap().contains("script"), "{error}");

    let handler = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>"#;
    let (status, error) = server.admin_body(&image_path, "image/svg+xml", handler.to_vec()).await;
    assert_eq!(status, 422);
    assert!(error["error"]["message"].as_str().unwrap().contains("onload"), "{error}");

    let (_, after) = server.admin_get(&format!("/admin/badges/{DEMO_BADGE}")).await;
    assert_eq!(before, after, "the badge is unchanged");
    let svg_after = server.client.get(server.url(&format!("/images/badges/{DEMO_BADGE}.svg"))).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(svg_before, svg_after, "the stored image is unchanged");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_without_email_column_writes_nothing() {
    let server = TestServer::start().await;
    let path = format!("/admin/awards/import?badge_id={DEMO_BADGE}");
    let csv = b"Name,Attended\nAda Abbott,Yes\nBen Brandt,Yes\n".to_vec();
    let (status, error) = server.admin_body(&path, "text/csv", csv).await;
    assert_eq!(status, 422, "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("email_column"), "{error}");

    let (status, error) = server.admin_body(&format!("{path}&email_column=Mail"), "text/csv", b"Email\na@example.org\n".to_vec()).await;
    assert_eq!(status, 422);
    assert_eq!(error_field(&error), "email_column");

    let (status, error) = server.admin_body(&format!("{path}&min_minutes=abc"), "text/csv", b"Email\na@example.org\n".to_vec()).await;
    assert_eq!(status, 400);
    assert_eq!(error_field(&error), "min_minutes");

    let (status, error) = server.admin_body(&format!("{path}&colour=red"), "text/csv", b"Email\na@example.org\n".to_vec()).await;
    assert_eq!(status, 400);
    assert_eq!(error_field(&error), "colour", "{error}");

    let (status, _) = server.admin_body(&path, "application/json", b"{}".to_vec()).await;
    assert_eq!(status, 415);

    assert_eq!(award_count(&server).await, 0);
    assert_eq!(server.outbox().len(), 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badge_validation_names_the_field() {
    let server = TestServer::start().await;
    let cases = [
        (json!({ "id": "Bad Id", "name": "N", "description": "D", "criteria": "C" }), 422, "id"),
        (json!({ "id": "ok-id", "name": " ", "description": "D", "criteria": "C" }), 422, "name"),
        (json!({ "id": "ok-id", "name": "N", "description": "D", "criteria": { "url": "ftp://x" } }), 422, "criteria.url"),
        (json!({ "id": "ok-id", "name": "N", "description": "D", "criteria": {} }), 422, "criteria"),
        (json!({ "id": "ok-id", "name": "N", "criteria": "C" }), 400, "description"),
        (json!({ "id": "ok-id", "name": "Line\r\nBcc: someone@example.org", "description": "D", "criteria": "C" }), 422, "name"),
        (json!({ "id": "ok-id", "name": "N", "description": "Bell \u{7}", "criteria": "C" }), 422, "description"),
        (json!({ "id": DEMO_BADGE, "name": "N", "description": "D", "criteria": "C" }), 409, ""),
    ];
    for (body, expected_status, expected_field) in cases {
        let (status, error) = server.admin_json(reqwest::Method::POST, "/admin/badges", &body).await;
        assert_eq!(status, expected_status, "{body} -> {error}");
        assert_eq!(error_field(&error), expected_field, "{body} -> {error}");
    }
    let (status, badge) = server
        .admin_json(
            reqwest::Method::POST,
            "/admin/badges",
            &json!({ "id": "new-badge", "name": "New & <Improved>", "description": "D", "criteria": "C", "tags": ["t"] }),
        )
        .await;
    assert_eq!(status, 201, "{badge}");
    assert_eq!(badge["name"], "New & <Improved>");
    server.stop().await;
}
