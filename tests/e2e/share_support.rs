//! Helpers of the sharing and verification tests: accept an award as its
//! recipient, keep the owner cookie, and read values out of pages.

use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::support::{TestServer, claim_parts};

/// A badge name and a recipient name with markup, quotes, an ampersand
/// and non-Latin scripts.
pub const TRICKY_BADGE: &str = r#"<script>alert("x")</script> Cataloguing & "Ω" 编目 'Δ'"#;
pub const TRICKY_NAME: &str = r#"Zoë "O'Brien" <b>&amp;</b> 李华 Ярослава"#;

/// An accepted award and the owner cookie set by accepting it.
pub struct Accepted {
    pub id: String,
    pub url: String,
    pub claim_link: String,
    /// `badges_owner=…`, ready for a `Cookie` header.
    pub cookie: String,
    /// The whole `Set-Cookie` header of the accept response.
    pub set_cookie: String,
}

/// Creates a badge with a tricky name and an SVG image, and returns its id.
pub async fn create_tricky_badge(server: &TestServer) -> String {
    let body = json!({
        "id": "tricky-badge",
        "name": TRICKY_BADGE,
        "description": "Learners <em>describe</em> serials & \"continuing\" resources: 连续出版物.",
        "criteria": "Attend the whole <session>.",
        "format": "Web & \"Course\"",
    });
    let (status, badge) = server.admin_json(reqwest::Method::POST, "/admin/badges", &body).await;
    assert_eq!(status, 201, "{badge}");
    let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50" width="200" height="100"><rect width="100" height="50" fill="#1d4ed8"/></svg>"##;
    let (status, badge) = server.admin_body("/admin/badges/tricky-badge/image", "image/svg+xml", svg.to_vec()).await;
    assert_eq!(status, 200, "{badge}");
    // The SVG is rendered to a square PNG, whose size the badge records.
    let size = badges_shared::service::badges::RENDERED_PNG_SIZE;
    assert_eq!(badge["png_size"], serde_json::json!({ "width": size, "height": size }), "{badge}");
    "tricky-badge".to_owned()
}

/// Creates an award through the admin API and returns its id.
pub async fn create_award(server: &TestServer, body: Value) -> String {
    let (status, award) = server.admin_json(reqwest::Method::POST, "/admin/awards", &body).await;
    assert_eq!(status, 201, "{award}");
    award["id"].as_str().unwrap().to_owned()
}

/// Sends the claim email of `award_id`, accepts the award through its
/// claim link and returns the owner cookie.
pub async fn accept(server: &TestServer, award_id: &str) -> Accepted {
    let outbox = server.drain_outbox().await;
    let link = outbox
        .iter()
        .rev()
        .map(|email| email.claim_link())
        .find(|link| claim_parts(link).0 == award_id)
        .expect("the outbox has the award's claim link");
    let (_, token) = claim_parts(&link);
    let response = server
        .client
        .post(server.url(&format!("/claim/{award_id}/accept")))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "text/html")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let url = server.url(&format!("/awards/{award_id}"));
    assert_eq!(response.headers()[LOCATION].to_str().unwrap(), url);
    let set_cookie = response.headers().get(SET_COOKIE).expect("accepting sets the owner cookie").to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    Accepted { id: award_id.to_owned(), url, claim_link: link, cookie, set_cookie }
}

/// Gets a page as a browser, with an optional `Cookie` header.
pub async fn page(server: &TestServer, url: &str, cookie: Option<&str>) -> (u16, String) {
    let mut request = server.client.get(url).header(ACCEPT, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8");
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Decodes the character references that the page templates write.
pub fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(ch) => {
                out.push(ch);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Returns the decoded `content` of the `<meta>` tag with this property
/// or name.
pub fn meta_content(page: &str, key: &str) -> Option<String> {
    let marker_property = format!("property=\"{key}\" content=\"");
    let marker_name = format!("name=\"{key}\" content=\"");
    let start = page.find(&marker_property).map(|at| at + marker_property.len()).or_else(|| page.find(&marker_name).map(|at| at + marker_name.len()))?;
    let end = page[start..].find('"')? + start;
    Some(html_unescape(&page[start..end]))
}

/// Returns the decoded text of the element with this id, which must be
/// a `<textarea>` or other element without children.
pub fn element_text(page: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let at = page.find(&marker)?;
    let start = page[at..].find('>')? + at + 1;
    let end = page[start..].find("</")? + start;
    Some(html_unescape(&page[start..end]))
}

/// Returns the decoded `href` of the element with this id.
pub fn element_href(page: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\" href=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(html_unescape(&page[start..end]))
}

/// Builds a `multipart/form-data` body; returns its content type and bytes.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----badges-test-boundary-7d1f3a";
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file_name {
            Some(file_name) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
