//! Every error is JSON for API clients and a page for browsers, including
//! the framework's own rejections.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

use crate::support::TestServer;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_route_and_wrong_method() {
    let server = TestServer::start().await;

    let response = server.client.get(server.url("/no/such/route")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let response = server.client.get(server.url("/no/such/route")).header(ACCEPT, BROWSER).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("Page not found"));

    let response = server.client.delete(server.url("/issuer")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_requires_token() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/admin/badges")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "Authorization");

    let response = server.client.get(server.url("/admin/badges")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_and_badge_documents() {
    let server = TestServer::start().await;
    let (status, issuer) = server.get_json(&server.url("/issuer")).await;
    assert_eq!(status, 200);
    assert_eq!(issuer["id"], server.url("/issuer").as_str());
    assert_eq!(issuer["type"], "Issuer");

    let badge_url = server.url("/badges/rda-serials-cataloging-update");
    let (status, badge) = server.get_json(&badge_url).await;
    assert_eq!(status, 200);
    assert_eq!(badge["id"], badge_url.as_str());
    assert_eq!(badge["issuer"], server.url("/issuer").as_str());
    assert!(badge["description"].as_str().is_some_and(|text| !text.is_empty()));
    let image = server.client.get(badge["image"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(image.headers()[CONTENT_TYPE], "image/png");

    let (status, page) = server.get_html(&badge_url).await;
    assert_eq!(status, 200);
    assert!(page.contains("Attended at least 45 minutes"));

    let (status, home) = server.get_html(&server.url("/")).await;
    assert_eq!(status, 200);
    assert!(home.contains("Re-envisioning “Technical Services” to Transform Libraries"));
    server.stop().await;
}
