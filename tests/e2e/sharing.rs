//! The award page as share hub: owner cookie, LinkedIn link, snippets,
//! link previews, oEmbed, privacy, learner page and feed. Names with
//! markup, quotes, ampersands and non-Latin scripts must stay text.

use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use quick_xml::XmlVersion;
use serde_json::{Value, json};

use badges_shared::share::snippets::{SnippetImage, embed_html, signature_html};

use crate::share_support::{
    TRICKY_BADGE, TRICKY_NAME, accept, create_award, create_tricky_badge, element_href, element_text, html_unescape,
    meta_content, page,
};
use crate::support::{DEMO_BADGE, TestServer};

fn demo_award(email: &str, name: &str) -> Value {
    json!({
        "badge_id": DEMO_BADGE,
        "recipient": { "email": email, "name": name },
        "issued_on": "2020-05-22T00:00:00Z",
        "expires_on": "2030-01-01T00:00:00Z",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_cookie_shows_share_tools() {
    let server = TestServer::start().await;
    let id = create_award(&server, demo_award("owner@example.org", "Ada Okafor")).await;
    let accepted = accept(&server, &id).await;

    // The cookie is signed, HttpOnly, SameSite=Lax, and not Secure on http.
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(accepted.set_cookie.contains(attribute), "{attribute}: {}", accepted.set_cookie);
    }
    assert!(!accepted.set_cookie.contains("Secure"), "{}", accepted.set_cookie);
    assert!(accepted.cookie.starts_with("badges_owner=v1."), "{}", accepted.cookie);
    assert!(!accepted.set_cookie.contains("owner@example.org"));

    // Visitors see the award without the share tools.
    let (status, public_page) = page(&server, &accepted.url, None).await;
    assert_eq!(status, 200);
    assert!(!public_page.contains("Share your badge"));
    assert!(!public_page.contains("linkedin.com/profile/add"));

    // The owner sees them, with the LinkedIn fields from the UTC dates.
    let (status, owner_page) = page(&server, &accepted.url, Some(&accepted.cookie)).await;
    assert_eq!(status, 200);
    assert!(owner_page.contains("Share your badge"));
    let linkedin = element_href(&owner_page, "linkedin-add").expect("the LinkedIn link");
    assert!(linkedin.starts_with("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&name=RDA%20Serials%20Cataloging%20Update&"), "{linkedin}");
    assert!(linkedin.contains("issueYear=2020&issueMonth=5&expirationYear=2030&expirationMonth=1"), "{linkedin}");
    assert!(linkedin.contains("&organizationName=Association%20for%20Library%20Collections%20%26%20Technical%20Services"), "{linkedin}");
    assert!(linkedin.contains(&format!("&certId={id}")), "{linkedin}");
    assert!(linkedin.contains(&format!("&certUrl={}", badges_shared::share::links::encode(&accepted.url))), "{linkedin}");
    for field in ["linkedin-name", "linkedin-organization", "linkedin-issue-date", "linkedin-credential-id", "linkedin-credential-url"] {
        assert!(owner_page.contains(&format!("id=\"{field}\"")), "{field}");
    }
    assert!(owner_page.contains("value=\"May 2020\""));
    assert!(owner_page.contains("value=\"January 2030\""));
    let feed_share = element_href(&owner_page, "share-linkedin").unwrap();
    assert_eq!(feed_share, badges_shared::share::links::linkedin_feed_url(&accepted.url));
    assert!(element_href(&owner_page, "share-facebook").unwrap().starts_with("https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2F127.0.0.1"));
    assert!(element_href(&owner_page, "share-x").unwrap().starts_with("https://x.com/intent/tweet?text="));
    assert!(owner_page.contains("id=\"copy-link\""));

    // The embed snippet links the award page around the public baked image.
    let public_png = server.app().images.public_url(&format!("awards/{id}/badge.png"));
    let embed = element_text(&owner_page, "embed-code").expect("the embed snippet");
    assert!(embed.starts_with(&format!("<a href=\"{}\"><img src=\"{public_png}\"", accepted.url)), "{embed}");
    assert!(embed.contains("width=\"150\" height=\"150\""), "{embed}");
    let image = server.client.get(&public_png).send().await.unwrap();
    assert_eq!(image.status().as_u16(), 200, "the embedded image is served");
    assert_eq!(image.headers()[CONTENT_TYPE], "image/png");

    // Reopening the claim link sets the cookie again.
    let response = server.client.get(&accepted.claim_link).header(ACCEPT, "text/html").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()[LOCATION].to_str().unwrap(), accepted.url);
    let again = response.headers()[SET_COOKIE].to_str().unwrap();
    assert!(again.starts_with("badges_owner=v1."), "{again}");
    assert!(again.contains("HttpOnly"), "{again}");

    // Another recipient's cookie does not unlock this award.
    let other = create_award(&server, demo_award("other@example.org", "Other Person")).await;
    let other = accept(&server, &other).await;
    let (_, page_for_other) = page(&server, &accepted.url, Some(&other.cookie)).await;
    assert!(!page_for_other.contains("Share your badge"));
    let (_, forged) = page(&server, &accepted.url, Some("badges_owner=v1.99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).await;
    assert!(!forged.contains("Share your badge"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_render_as_text_everywhere() {
    let server = TestServer::start().await;
    let badge_id = create_tricky_badge(&server).await;
    let id = create_award(&server, json!({ "badge_id": badge_id, "recipient": { "email": "tricky@example.org", "name": TRICKY_NAME } })).await;
    let accepted = accept(&server, &id).await;
    let (status, owner_page) = page(&server, &accepted.url, Some(&accepted.cookie)).await;
    assert_eq!(status, 200);

    // No raw markup from the names reaches any page.
    for raw in ["<script>alert", "<b>&amp;</b>", "<em>describe", "<session>"] {
        assert!(!owner_page.contains(raw), "{raw} appears unescaped");
    }
    let heading_start = owner_page.find("<h1>").unwrap() + 4;
    let heading_end = owner_page[heading_start..].find("</h1>").unwrap() + heading_start;
    assert_eq!(html_unescape(&owner_page[heading_start..heading_end]), TRICKY_BADGE);
    let name_start = owner_page.find("Awarded to <strong>").unwrap() + "Awarded to <strong>".len();
    let name_end = owner_page[name_start..].find("</strong>").unwrap() + name_start;
    assert_eq!(html_unescape(&owner_page[name_start..name_end]), TRICKY_NAME);

    // Meta tags carry the names as attribute text.
    let title = meta_content(&owner_page, "og:title").unwrap();
    assert_eq!(title, format!("{TRICKY_BADGE}: {TRICKY_NAME}"));
    assert_eq!(meta_content(&owner_page, "twitter:title").unwrap(), title);
    let alt = meta_content(&owner_page, "og:image:alt").unwrap();
    assert!(alt.contains(TRICKY_BADGE), "{alt}");
    assert!(alt.contains(TRICKY_NAME), "{alt}");
    let image = meta_content(&owner_page, "og:image").unwrap();
    assert_eq!(image, server.app().images.public_url(&format!("awards/{id}/badge.png")));
    assert_eq!(meta_content(&owner_page, "og:image:width").as_deref(), Some("600"));
    assert_eq!(meta_content(&owner_page, "og:image:height").as_deref(), Some("600"));
    assert_eq!(meta_content(&owner_page, "og:image:type").as_deref(), Some("image/png"));
    assert_eq!(meta_content(&owner_page, "twitter:card").as_deref(), Some("summary"));

    // The snippet text areas hold the snippets escaped exactly once.
    let snippet_image = SnippetImage { award_url: &accepted.url, image_url: &image, alt: &alt, pixel_size: Some((600, 600)) };
    let embed = element_text(&owner_page, "embed-code").unwrap();
    assert_eq!(embed, embed_html(&snippet_image, 150));
    assert!(embed.contains("&lt;script&gt;alert(&quot;x&quot;)"), "{embed}");
    assert!(embed.contains("&lt;b&gt;&amp;amp;&lt;/b&gt;"), "{embed}");
    let server_issuer = server.app().settings.issuer.name.clone();
    let signature = element_text(&owner_page, "signature-code").unwrap();
    assert_eq!(signature, signature_html(&snippet_image, TRICKY_BADGE, &server_issuer));
    // The preview is the same markup as the snippet.
    assert!(owner_page.contains(&format!("<div class=\"preview\" id=\"embed-preview\">{embed}</div>")));

    // The LinkedIn link and copy fields carry the badge name encoded.
    let linkedin = element_href(&owner_page, "linkedin-add").unwrap();
    assert!(linkedin.contains(&format!("&name={}&", badges_shared::share::links::encode(TRICKY_BADGE))), "{linkedin}");
    assert!(owner_page.contains("id=\"linkedin-name\" value=\""));
    let name_start = owner_page.find("id=\"linkedin-name\" value=\"").unwrap() + "id=\"linkedin-name\" value=\"".len();
    let name_end = owner_page[name_start..].find('"').unwrap() + name_start;
    assert_eq!(html_unescape(&owner_page[name_start..name_end]), TRICKY_BADGE);

    // The badge page too.
    let (status, badge_page) = page(&server, &server.url(&format!("/badges/{badge_id}")), None).await;
    assert_eq!(status, 200);
    assert!(!badge_page.contains("<script>alert"));
    assert_eq!(meta_content(&badge_page, "og:title").unwrap(), TRICKY_BADGE);
    assert!(meta_content(&badge_page, "og:description").unwrap().contains("<em>describe</em>"));

    // oEmbed JSON carries the same escaped snippet.
    let oembed_url = server.url(&format!("/oembed?url={}&format=json", badges_shared::share::links::encode(&accepted.url)));
    let oembed: Value = server.client.get(&oembed_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(oembed["title"], TRICKY_BADGE);
    assert_eq!(oembed["author_name"], TRICKY_NAME);
    assert_eq!(oembed["html"], embed_html(&snippet_image, 150));

    // The learner page and its Atom feed.
    let learner_url = element_href(&owner_page, "learner-page").expect("the learner page link");
    let (status, learner_page) = page(&server, &learner_url, None).await;
    assert_eq!(status, 200);
    assert!(!learner_page.contains("<script>alert"));
    assert!(!learner_page.contains("<b>&amp;</b>"));
    assert!(html_unescape(&learner_page).contains(TRICKY_BADGE));
    let feed_url = element_href(&owner_page, "learner-feed").expect("the feed link");
    let feed = server.client.get(&feed_url).send().await.unwrap();
    assert_eq!(feed.headers()[CONTENT_TYPE], "application/atom+xml");
    let feed = feed.text().await.unwrap();
    assert!(!feed.contains("<script>"), "{feed}");
    assert!(!feed.contains("<b>"), "{feed}");
    let texts = xml_texts(&feed);
    assert!(texts.contains(&format!("Badges of {TRICKY_NAME}")), "{texts:?}");
    assert!(texts.contains(&format!("{TRICKY_NAME} earned “{TRICKY_BADGE}”")), "{texts:?}");
    server.stop().await;
}

/// Parses XML and returns every text node, unescaped; panics when the
/// document is not well-formed.
fn xml_texts(xml: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut texts = Vec::new();
    let mut current = String::new();
    loop {
        match reader.read_event().expect("the feed is well-formed XML") {
            quick_xml::events::Event::Text(text) => current.push_str(&text.xml_content(XmlVersion::Implicit1_0)),
            quick_xml::events::Event::GeneralRef(reference) => {
                let name = reference.xml_content(XmlVersion::Implicit1_0);
                let resolved = quick_xml::escape::resolve_predefined_entity(&name).expect("only predefined entities");
                current.push_str(resolved);
            }
            quick_xml::events::Event::Start(_) => current.clear(),
            quick_xml::events::Event::End(_) => {
                if !current.trim().is_empty() {
                    texts.push(current.clone());
                }
                current.clear();
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_hides_award_from_lists() {
    let server = TestServer::start().await;
    let id = create_award(&server, demo_award("private@example.org", "Pri Vate")).await;
    let accepted = accept(&server, &id).await;
    let (_, owner_page) = page(&server, &accepted.url, Some(&accepted.cookie)).await;
    let learner_url = element_href(&owner_page, "learner-page").unwrap();
    let feed_url = element_href(&owner_page, "learner-feed").unwrap();
    let visibility = server.url(&format!("/awards/{id}/visibility"));
    let post = |cookie: Option<&str>, origin: Option<&str>, body: &'static str| {
        let mut request = server
            .client
            .post(&visibility)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie.to_owned());
        }
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin.to_owned());
        }
        request.send()
    };

    // Public at first: listed on the page and in the feed, embeddable.
    let (_, listed) = page(&server, &learner_url, None).await;
    assert!(listed.contains(&accepted.url));
    let oembed_url = server.url(&format!("/oembed?url={}", badges_shared::share::links::encode(&accepted.url)));
    assert_eq!(server.client.get(&oembed_url).send().await.unwrap().status().as_u16(), 200);

    // Only the owner can change it, and only from this site.
    let response = post(None, None, "visibility=private").await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "not_owner");
    let response = post(Some(&accepted.cookie), Some("https://evil.example"), "visibility=private").await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let response = post(Some(&accepted.cookie), None, "visibility=hidden").await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["field"], "visibility");

    let response = post(Some(&accepted.cookie), Some(&server.base), "visibility=private").await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()[LOCATION].to_str().unwrap(), accepted.url);

    // Private: listed nowhere, not embeddable, still verifiable by address.
    let (status, listed) = page(&server, &learner_url, None).await;
    assert_eq!(status, 200);
    assert!(!listed.contains(&accepted.url));
    let feed = server.client.get(&feed_url).send().await.unwrap().text().await.unwrap();
    assert!(!feed.contains(&accepted.url));
    assert_eq!(server.client.get(&oembed_url).send().await.unwrap().status().as_u16(), 404);
    let (status, assertion) = server.get_json(&accepted.url).await;
    assert_eq!(status, 200);
    assert_eq!(assertion["id"], accepted.url.as_str());
    let (status, visitor_page) = page(&server, &accepted.url, None).await;
    assert_eq!(status, 200);
    assert!(visitor_page.contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(!visitor_page.contains("application/json+oembed"));
    let (_, owner_page) = page(&server, &accepted.url, Some(&accepted.cookie)).await;
    assert!(owner_page.contains("id=\"make-public\""));
    let (_, admin) = server.admin_get(&format!("/admin/awards/{id}")).await;
    assert_eq!(admin["status"], "accepted");

    // And public again.
    let response = post(Some(&accepted.cookie), None, "visibility=public").await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let (_, listed) = page(&server, &learner_url, None).await;
    assert!(listed.contains(&accepted.url));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oembed_answers_only_award_pages() {
    let server = TestServer::start().await;
    let id = create_award(&server, demo_award("embed@example.org", "Em Bed")).await;
    let accepted = accept(&server, &id).await;
    let (_, award_page) = page(&server, &accepted.url, None).await;
    let discovery = format!(
        "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"{}\"",
        server.url(&format!("/oembed?url={}&#38;format=json", badges_shared::share::links::encode(&accepted.url)))
    );
    assert!(award_page.contains(&discovery), "{award_page}");

    let get = |query: String| server.client.get(server.url(&format!("/oembed?{query}"))).send();
    let encoded = badges_shared::share::links::encode(&accepted.url);
    let response = get(format!("url={encoded}&format=json&maxwidth=120")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["version"], "1.0");
    assert_eq!(body["type"], "rich");
    assert_eq!(body["width"], 120);
    assert_eq!(body["height"], 120);
    assert_eq!(body["title"], "RDA Serials Cataloging Update");
    assert!(body["html"].as_str().unwrap().contains(&format!("<a href=\"{}\">", accepted.url)));

    assert_eq!(get(format!("url={encoded}&format=xml")).await.unwrap().status().as_u16(), 501);
    assert_eq!(get("format=json".into()).await.unwrap().status().as_u16(), 400);
    for other in [
        "https://example.com/awards/aaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
        server.url("/badges/rda-serials-cataloging-update"),
        format!("{}/badge.png", accepted.url),
        server.url("/awards/aaaaaaaaaaaaaaaaaaaaaaaaaa"),
    ] {
        let status = get(format!("url={}", badges_shared::share::links::encode(&other))).await.unwrap().status().as_u16();
        assert_eq!(status, 404, "{other}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linkedin_organization_id_from_options() {
    let folder = tempfile::tempdir().unwrap();
    let data_dir = folder.path().join("data");
    let start = |id: Option<&str>| {
        badges_local::start(badges_local::Options {
            linkedin_organization_id: id.map(str::to_owned),
            ..crate::support::test_options(data_dir.clone())
        })
    };
    let running = start(Some("1234567")).await.unwrap();
    let server = crate::support::TestServer::attach(running, data_dir.clone());
    let id = create_award(&server, demo_award("org@example.org", "Org Id")).await;
    let accepted = accept(&server, &id).await;
    let (_, owner_page) = page(&server, &accepted.url, Some(&accepted.cookie)).await;
    let linkedin = element_href(&owner_page, "linkedin-add").unwrap();
    assert!(linkedin.contains("&organizationId=1234567&issueYear=2020&issueMonth=5&"), "{linkedin}");
    assert!(!linkedin.contains("organizationName"), "{linkedin}");
    let learner_before = element_href(&owner_page, "learner-page").unwrap();

    // The cookie secret is a private file in the data folder, kept across restarts.
    let secret_path = data_dir.join(badges_local::COOKIE_SECRET_FILE);
    let secret = std::fs::read_to_string(&secret_path).unwrap();
    assert_eq!(secret.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&secret_path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    server.stop().await;

    let running = start(None).await.unwrap();
    let server = crate::support::TestServer::attach(running, data_dir.clone());
    assert_eq!(std::fs::read_to_string(&secret_path).unwrap(), secret);
    let url = server.url(&format!("/awards/{id}"));
    let (_, owner_page) = page(&server, &url, Some(&accepted.cookie)).await;
    assert!(owner_page.contains("Share your badge"), "the old cookie still works after a restart");
    let learner_after = element_href(&owner_page, "learner-page").unwrap();
    let path = |url: &str| url.split("/learners/").nth(1).unwrap().to_owned();
    assert_eq!(path(&learner_before), path(&learner_after), "the learner id is stable");
    assert!(element_href(&owner_page, "linkedin-add").unwrap().contains("&organizationName="));
    server.stop().await;
    drop(folder);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_learner_ids_are_404() {
    let server = TestServer::start().await;
    for id in ["abc", &"A".repeat(64), "not%20base64"] {
        let (status, _) = page(&server, &server.url(&format!("/learners/{id}")), None).await;
        assert_eq!(status, 404, "{id}");
        let status = server.client.get(server.url(&format!("/learners/{id}/feed.atom"))).send().await.unwrap().status().as_u16();
        assert_eq!(status, 404, "{id}");
    }
    server.stop().await;
}
