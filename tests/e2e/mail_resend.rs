//! New claim links on request: the learner's resend form (same response for
//! known and unknown addresses, one email per interval) and the staff
//! resend of one award and of every pending award of a badge.

use std::sync::Arc;

use badges_shared::ports::FixedClock;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::mail_support::{MailServer, claim_links, subjects};
use crate::support::{DEMO_BADGE, claim_parts};

/// A second demo catalogue badge.
const OTHER_BADGE: &str = "fundamentals-cataloging";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_known_and_unknown_answer_alike() {
    let mail = MailServer::start_default().await;
    let (_, first_claim) = mail.demo_award("learner.one@example.org").await;
    let (second_id, _) = mail.award(OTHER_BADGE, "learner.one@example.org", "").await;
    let (accepted_id, accepted_claim) = mail.award(DEMO_BADGE, "learner.one@example.org", "2026-11-18").await;
    let (id, token) = claim_parts(&accepted_claim.claim_link());
    assert_eq!(id, accepted_id);
    let response = mail
        .server
        .client
        .post(mail.server.url(&format!("/claim/{id}/accept")))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let before = mail.settled_outbox().await.len();
    assert_eq!(before, 3);

    // WHEN an API client asks for the links of a known and an unknown address.
    let (known_status, known_body) = mail.post_resend_json("  Learner.One@Example.org ").await;
    let (unknown_status, unknown_body) = mail.post_resend_json("nobody@example.org").await;

    // THEN both get the same 202 and body.
    assert_eq!(known_status, 202);
    assert_eq!(unknown_status, 202);
    assert_eq!(known_body, unknown_body);
    assert_eq!(known_body["status"], "accepted");

    // AND only the known address gets one email, listing both pending badges.
    let outbox = mail.wait_for_outbox(before + 1).await;
    let resend = &outbox[before];
    assert_eq!(resend.to, "learner.one@example.org");
    assert!(resend.subject.contains("2 badges"), "{}", resend.subject);
    assert!(resend.subject.contains("Association for Library Collections"), "{}", resend.subject);
    let links = claim_links(resend);
    assert_eq!(links.len(), 2, "one link per pending award: {}", resend.text);
    assert!(!resend.text.contains(&accepted_id), "the accepted award is left out");
    for link in &links {
        assert!(resend.html.contains(&link.replace('&', "&amp;")), "the HTML part has the same link {link}");
        let (status, _) = mail.server.get_html(link).await;
        assert_eq!(status, 200, "the new link opens the claim page: {link}");
    }
    assert!(links.iter().any(|link| link.contains(&second_id)));

    // AND the old link keeps working.
    let (status, _) = mail.server.get_html(&first_claim.claim_link()).await;
    assert_eq!(status, 200, "the first link still works");
    assert_eq!(mail.settled_outbox().await.len(), before + 1, "nothing for the unknown address: {:?}", subjects(&mail.server.outbox()));

    // AND the awards record the resend as their latest message.
    let (_, award) = mail.server.admin_get(&format!("/admin/awards/{second_id}")).await;
    assert_eq!(award["notification"]["status"], "sent");
    assert!(award["notification"]["message_id"].is_string(), "{award}");
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_form_pages_for_browsers() {
    let mail = MailServer::start_default().await;
    mail.demo_award("learner.two@example.org").await;

    let (status, page) = mail.server.get_html(&mail.server.url("/resend")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<form method=\"post\""), "{page}");
    assert!(page.contains("name=\"email\""), "{page}");

    let (known_status, known_page) = mail.post_resend_form("learner.two@example.org").await;
    let (unknown_status, unknown_page) = mail.post_resend_form("learner.three@example.org").await;
    assert_eq!(known_status, 202);
    assert_eq!(unknown_status, 202);
    assert_eq!(
        known_page.replace("learner.two@example.org", "ADDRESS"),
        unknown_page.replace("learner.three@example.org", "ADDRESS"),
        "the same page apart from the address typed"
    );
    assert!(known_page.contains("Check your inbox"), "{known_page}");
    mail.wait_for_outbox(2).await;

    // A malformed address gets the form again, naming the problem.
    let (status, page) = mail.post_resend_form("not an address").await;
    assert_eq!(status, 422);
    assert!(page.contains("Check the address"), "{page}");
    assert!(page.contains("name=\"email\""), "{page}");
    let (status, body) = mail.post_resend_json("learner@localhost").await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "email");

    let response = mail.server.client.post(mail.server.url("/resend")).header(CONTENT_TYPE, "text/plain").body("x").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 415);

    // The page of a broken claim link offers the resend form.
    let (status, page) = mail.server.get_html(&mail.server.url("/claim/aaaaaaaaaaaaaaaaaaaaaaaaaa?token=wrong")).await;
    assert_eq!(status, 404);
    assert!(page.contains(&format!("href=\"{}/resend\"", mail.server.base)), "{page}");
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_rate_limited_per_address() {
    let mail = MailServer::start_default().await;
    mail.demo_award("learner.four@example.org").await;
    mail.demo_award("learner.five@example.org").await;

    let (status, first) = mail.post_resend_json("learner.four@example.org").await;
    assert_eq!(status, 202);
    mail.wait_for_outbox(3).await;

    // Asking again within the interval gets the same response and sends nothing.
    for _ in 0..3 {
        let (status, again) = mail.post_resend_json("learner.four@example.org").await;
        assert_eq!(status, 202);
        assert_eq!(again, first);
    }
    assert_eq!(mail.settled_outbox().await.len(), 3, "{:?}", subjects(&mail.server.outbox()));

    // Another address has its own window.
    mail.post_resend_json("learner.five@example.org").await;
    mail.wait_for_outbox(4).await;

    // Once the 15 minutes have passed, the address gets an email again.
    let mut later = mail.server.app().clone();
    later.clock = Arc::new(FixedClock(chrono::Utc::now() + chrono::Duration::minutes(14)));
    badges_shared::service::resend::request_links(&later, "learner.four@example.org").await.unwrap();
    assert_eq!(mail.settled_outbox().await.len(), 4, "still inside the window");
    later.clock = Arc::new(FixedClock(chrono::Utc::now() + chrono::Duration::minutes(16)));
    badges_shared::service::resend::request_links(&later, "learner.four@example.org").await.unwrap();
    let outbox = mail.wait_for_outbox(5).await;
    assert_eq!(outbox[4].to, "learner.four@example.org");
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_resend_single_and_bulk() {
    let mail = MailServer::start_default().await;
    let (one, first_email) = mail.demo_award("bulk.one@example.org").await;
    let (two, _) = mail.demo_award("bulk.two@example.org").await;
    let (three, _) = mail.demo_award("bulk.three@example.org").await;
    let (accepted, accepted_email) = mail.demo_award("bulk.accepted@example.org").await;
    let (bounced, _) = mail.demo_award("bounce@simulator.amazonses.com").await;
    let (other_badge, _) = mail.award(OTHER_BADGE, "bulk.one@example.org", "").await;
    mail.wait_for_notification(&bounced, "bounced").await;
    let (_, token) = claim_parts(&accepted_email.claim_link());
    mail.server
        .client
        .post(mail.server.url(&format!("/claim/{accepted}/accept")))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();

    // One award: 202, and a new email whose link works beside the old one.
    let (status, award) = mail.server.admin_json(reqwest::Method::POST, &format!("/admin/awards/{one}/resend"), &serde_json::Value::Null).await;
    assert_eq!(status, 202, "{award}");
    assert_eq!(award["notification"]["status"], "queued");
    let outbox = mail.wait_for_outbox(7).await;
    assert_eq!(outbox[6].to, "bulk.one@example.org");
    assert_ne!(outbox[6].claim_link(), first_email.claim_link());
    for link in [outbox[6].claim_link(), first_email.claim_link()] {
        assert_eq!(mail.server.get_html(&link).await.0, 200, "{link}");
    }
    mail.wait_for_notification(&one, "sent").await;

    // A suppressed address is refused by name.
    let (status, body) = mail.server.admin_json(reqwest::Method::POST, &format!("/admin/awards/{bounced}/resend"), &serde_json::Value::Null).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "suppressed");

    // Every pending award of the badge: the accepted one and the
    // suppressed address are left out, and the other badge is untouched.
    let (status, report) = mail.server.admin_json(reqwest::Method::POST, &format!("/admin/badges/{DEMO_BADGE}/resend"), &serde_json::Value::Null).await;
    assert_eq!(status, 202, "{report}");
    assert_eq!(report["queued"], 3, "{report}");
    assert_eq!(report["suppressed"], 1, "{report}");
    assert_eq!(report["already_queued"], 0, "{report}");
    let outbox = mail.wait_for_outbox(10).await;
    let mut recipients: Vec<&str> = outbox[7..].iter().map(|email| email.to.as_str()).collect();
    recipients.sort();
    assert_eq!(recipients, ["bulk.one@example.org", "bulk.three@example.org", "bulk.two@example.org"]);
    assert!(outbox[7..].iter().all(|email| !email.text.contains(&other_badge)), "only this badge's awards");
    for id in [&one, &two, &three] {
        mail.wait_for_notification(id, "sent").await;
    }
    assert_eq!(mail.settled_outbox().await.len(), 10);

    let (status, body) = mail.server.admin_json(reqwest::Method::POST, "/admin/badges/no-such-badge/resend", &serde_json::Value::Null).await;
    assert_eq!(status, 404, "{body}");
    let response = mail.server.client.post(mail.server.url(&format!("/admin/badges/{DEMO_BADGE}/resend"))).header(ACCEPT, "application/json").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401, "staff only");
    mail.stop().await;
}

/// Returns every http(s) URL of a text.
fn urls(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(|word| word.trim_end_matches(['.', ',', ')']).replace("&amp;", "&"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_and_resend_email_content() {
    let mail = MailServer::start_default().await;
    let (_, claim) = mail.demo_award("content@example.org").await;
    mail.post_resend_json("content@example.org").await;
    let outbox = mail.wait_for_outbox(2).await;
    let resend_page = mail.server.url("/resend");

    for email in &outbox {
        let message = mail_parser::MessageParser::default().parse(email.raw.as_bytes()).unwrap();
        let from = message.from().and_then(|from| from.first()).unwrap();
        let issuer = &mail.server.app().settings.issuer;
        assert_eq!(from.name(), Some(issuer.name.as_str()), "the issuer's name as the sender name");
        assert_eq!(from.address(), Some(issuer.email.as_str()));
        assert!(email.subject.contains("RDA Serials Cataloging Update"), "{}", email.subject);
        assert!(email.subject.contains("Association for Library Collections"), "{}", email.subject);
        assert!(email.raw.contains("multipart/alternative"));

        // The claim URL as plain text, the resend page in the footer, and
        // the same links in both parts.
        let text_urls = urls(&email.text);
        assert!(text_urls.iter().any(|url| url.contains("/claim/")), "{}", email.text);
        assert!(text_urls.contains(&resend_page), "the footer names the resend page: {}", email.text);
        let html_urls = urls(&email.html);
        for url in &text_urls {
            assert!(html_urls.contains(url), "the HTML part has {url}");
        }
        for url in text_urls.iter().chain(&html_urls) {
            assert!(url.starts_with(&mail.server.base), "no link shortener or other host: {url}");
        }
        assert!(email.text.contains("You receive this email because"), "{}", email.text);
        assert!(email.html.contains("You receive this email because"), "{}", email.html);
        assert!(crate::mail_support::header(email, "List-Unsubscribe").is_none(), "claim emails have no unsubscribe header");
    }
    assert!(claim.text.contains("recorded your participation in"), "{}", claim.text);
    assert!(outbox[1].text.contains("someone asked for new badge links"), "{}", outbox[1].text);
    mail.stop().await;
}
