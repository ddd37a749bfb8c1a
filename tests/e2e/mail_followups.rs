//! Reminders, one-click unsubscribe, survey invitations and badge
//! statistics. Time is driven with `badges-local run reminders --now`,
//! never by waiting.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

use crate::mail_support::{MailServer, claim_links, header, subjects, unsubscribe_url};
use crate::support::{DEMO_BADGE, Email, claim_parts};

/// Returns the award's first send time as staff see it.
async fn first_sent_at(mail: &MailServer, award_id: &str) -> DateTime<Utc> {
    let award = mail.wait_for_notification(award_id, "sent").await;
    let raw = award["notification"]["first_sent_at"].as_str().expect("the award was sent");
    DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
}

async fn accept(mail: &MailServer, claim: &Email) {
    let (id, token) = claim_parts(&claim.claim_link());
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_at_ages_never_a_third() {
    let mail = MailServer::start_default().await;
    let (id, claim) = mail.demo_award("reminded@example.org").await;
    let (accepted_id, accepted_claim) = mail.award("fundamentals-cataloging", "answered@example.org", "").await;
    accept(&mail, &accepted_claim).await;
    let sent = first_sent_at(&mail, &id).await;
    assert!(mail.server.outbox().len() == 2);

    // Before the first age: nothing.
    let report = mail.run_reminders(sent + Duration::days(7) - Duration::minutes(1)).await;
    assert!(report.reminders.is_empty(), "{:?}", report.lines());
    assert_eq!(mail.server.outbox().len(), 2);

    // At 7 days: the first reminder, only for the unclaimed award.
    let report = mail.run_reminders(sent + Duration::days(7)).await;
    assert_eq!(report.reminders.len(), 1, "{:?}", report.lines());
    assert_eq!(report.reminders[0].reminder, Some(1));
    assert_eq!(report.reminders[0].award_id.as_str(), id);
    let outbox = mail.server.outbox();
    assert_eq!(outbox.len(), 3, "{:?}", subjects(&outbox));
    let reminder = &outbox[2];
    assert_eq!(reminder.to, "reminded@example.org");
    assert!(reminder.subject.starts_with("Reminder: "), "{}", reminder.subject);
    assert!(reminder.subject.contains("RDA Serials Cataloging Update"), "{}", reminder.subject);
    assert_eq!(header(reminder, "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert!(unsubscribe_url(reminder).starts_with(&format!("{}/unsubscribe?token=", mail.server.base)));
    assert!(reminder.text.contains(&unsubscribe_url(reminder)), "the footer has the unsubscribe link");
    assert!(!reminder.text.contains(&accepted_id));

    // The reminder's link and the first link both work.
    let links = claim_links(reminder);
    assert_eq!(links.len(), 1);
    assert_ne!(links[0], claim.claim_link());
    for link in [&links[0], &claim.claim_link()] {
        assert_eq!(mail.server.get_html(link).await.0, 200, "{link}");
    }

    // Running again at the same time, or before 30 days, sends nothing.
    assert!(mail.run_reminders(sent + Duration::days(7)).await.reminders.is_empty());
    assert!(mail.run_reminders(sent + Duration::days(29)).await.reminders.is_empty());

    // At 30 days: the second and last reminder.
    let report = mail.run_reminders(sent + Duration::days(30)).await;
    assert_eq!(report.reminders.len(), 1, "{:?}", report.lines());
    assert_eq!(report.reminders[0].reminder, Some(2));
    let outbox = mail.server.outbox();
    assert_eq!(outbox.len(), 4);
    assert!(outbox[3].text.contains("This is the last reminder"), "{}", outbox[3].text);

    // Never a third, however late.
    for days in [31, 60, 365] {
        let report = mail.run_reminders(sent + Duration::days(days)).await;
        assert!(report.reminders.is_empty(), "day {days}: {:?}", report.lines());
    }
    assert_eq!(mail.server.outbox().len(), 4);

    let (_, award) = mail.server.admin_get(&format!("/admin/awards/{id}")).await;
    assert_eq!(award["notification"]["reminders_sent"], 2, "{award}");
    assert!(award["notification"]["next_reminder_at"].is_null(), "{award}");
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_run_sends_one_reminder_at_a_time() {
    let mail = MailServer::start_default().await;
    let (id, _) = mail.demo_award("late@example.org").await;
    let sent = first_sent_at(&mail, &id).await;

    // A run at 40 days sends one reminder, not both.
    let report = mail.run_reminders(sent + Duration::days(40)).await;
    assert_eq!(report.reminders.len(), 1, "{:?}", report.lines());
    assert!(mail.run_reminders(sent + Duration::days(41)).await.reminders.is_empty());
    // The second keeps the 23-day gap between the ages.
    assert!(mail.run_reminders(sent + Duration::days(62)).await.reminders.is_empty());
    assert_eq!(mail.run_reminders(sent + Duration::days(63)).await.reminders.len(), 1);
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_click_unsubscribe_stops_reminders() {
    let mail = MailServer::start_default().await;
    let (id, _) = mail.demo_award("unsubscriber@example.org").await;
    let (other_id, _) = mail.demo_award("stays@example.org").await;
    let sent = first_sent_at(&mail, &id).await;
    first_sent_at(&mail, &other_id).await;
    assert_eq!(mail.run_reminders(sent + Duration::days(8)).await.reminders.len(), 2);
    let outbox = mail.server.outbox();
    let reminder = outbox.iter().find(|email| email.to == "unsubscriber@example.org" && email.subject.starts_with("Reminder")).unwrap();
    let url = unsubscribe_url(reminder);

    // Opening the link in a browser only shows a confirmation form.
    let (status, page) = mail.server.get_html(&url).await;
    assert_eq!(status, 200);
    assert!(page.contains("List-Unsubscribe"), "the form posts the one-click body: {page}");
    assert!(page.contains("u\u{2022}\u{2022}\u{2022}@example.org"), "the address is masked: {page}");
    let (_, award) = mail.server.admin_get(&format!("/admin/awards/{id}")).await;
    assert!(award["notification"]["suppressed"].is_null(), "GET changes nothing: {award}");

    // A wrong or tampered token is refused.
    let tampered = format!("{}x", &url[..url.len() - 1]);
    for bad in [tampered, mail.server.url("/unsubscribe?token=nonsense"), mail.server.url("/unsubscribe")] {
        let response = mail.server.client.post(&bad).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body("List-Unsubscribe=One-Click").send().await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "{bad}");
    }
    // A POST without the one-click body is refused.
    let response = mail.server.client.post(&url).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body("something=else").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);

    // WHEN the mail client posts the RFC 8058 body, as a mailbox provider
    // does: no cookie, no Accept header.
    let response = mail
        .server
        .client
        .post(&url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["unsubscribed"], true);

    // THEN staff see why, and no second reminder goes to that address.
    let (_, award) = mail.server.admin_get(&format!("/admin/awards/{id}")).await;
    assert_eq!(award["notification"]["suppressed"]["reason"], "unsubscribed", "{award}");
    let report = mail.run_reminders(sent + Duration::days(31)).await;
    let recipients: Vec<&str> = report.reminders.iter().map(|sent| sent.email.as_str()).collect();
    assert_eq!(recipients, ["stays@example.org"], "{:?}", report.lines());

    // AND unsubscribing again, from the browser form, is harmless.
    let response = mail
        .server
        .client
        .post(&url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "text/html")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.text().await.unwrap().contains("You are unsubscribed"));
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_click_unsubscribe_as_multipart() {
    let mail = MailServer::start_default().await;
    let (id, _) = mail.demo_award("multipart@example.org").await;
    let sent = first_sent_at(&mail, &id).await;
    mail.run_reminders(sent + Duration::days(7)).await;
    let url = unsubscribe_url(mail.server.outbox().last().unwrap());

    let boundary = "----badges-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--{boundary}--\r\n"
    );
    let response = mail
        .server
        .client
        .post(&url)
        .header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (_, award) = mail.server.admin_get(&format!("/admin/awards/{id}")).await;
    assert_eq!(award["notification"]["suppressed"]["reason"], "unsubscribed", "{award}");
    mail.stop().await;
}

/// Sets the survey of the demo badge through the staff API.
async fn set_survey(mail: &MailServer, url: Option<&str>, delay_days: Option<u32>) -> (u16, Value) {
    let (_, badge) = mail.server.admin_get(&format!("/admin/badges/{DEMO_BADGE}")).await;
    let body = serde_json::json!({
        "name": badge["name"],
        "description": badge["description"],
        "criteria": badge["criteria"],
        "tags": badge["tags"],
        "format": badge["format"],
        "survey_url": url,
        "survey_delay_days": delay_days,
    });
    mail.server.admin_json(Method::PUT, &format!("/admin/badges/{DEMO_BADGE}"), &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_invitations_sent_once() {
    let mail = MailServer::start_default().await;
    let (status, badge) = set_survey(&mail, Some("https://survey.example.org/rda-serials?src=badge"), Some(2)).await;
    assert_eq!(status, 200, "{badge}");
    assert_eq!(badge["survey_url"], "https://survey.example.org/rda-serials?src=badge");
    assert_eq!(badge["survey_delay_days"], 2);

    let (accepted_id, claim) = mail.demo_award("surveyed@example.org").await;
    let (pending_id, _) = mail.demo_award("pending@example.org").await;
    accept(&mail, &claim).await;
    let accepted_at = Utc::now();
    first_sent_at(&mail, &pending_id).await;

    // Before the delay: nothing.
    let report = mail.run_reminders(accepted_at + Duration::days(1)).await;
    assert!(report.surveys.is_empty(), "{:?}", report.lines());

    // After it: one invitation, to the recipient who accepted.
    let report = mail.run_reminders(accepted_at + Duration::days(2) + Duration::minutes(1)).await;
    assert_eq!(report.surveys.len(), 1, "{:?}", report.lines());
    assert_eq!(report.surveys[0].award_id.as_str(), accepted_id);
    let invitation = mail.server.outbox().last().unwrap().clone();
    assert_eq!(invitation.to, "surveyed@example.org");
    assert!(invitation.subject.contains("survey"), "{}", invitation.subject);
    assert!(invitation.subject.contains("RDA Serials Cataloging Update"), "{}", invitation.subject);
    assert!(invitation.text.contains("https://survey.example.org/rda-serials?src=badge"), "{}", invitation.text);
    assert!(invitation.html.contains("https://survey.example.org/rda-serials?src=badge"), "{}", invitation.html);
    assert_eq!(header(&invitation, "List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert!(claim_links(&invitation).is_empty(), "an invitation has no claim link");

    // Once each: later runs send no more invitations.
    for days in [3, 10, 100] {
        let report = mail.run_reminders(accepted_at + Duration::days(days)).await;
        assert!(report.surveys.is_empty(), "day {days}: {:?}", report.lines());
    }
    let (_, award) = mail.server.admin_get(&format!("/admin/awards/{accepted_id}")).await;
    assert!(award["notification"]["survey_invited_at"].is_string(), "{award}");
    let invitations = mail.server.outbox().iter().filter(|email| email.subject.contains("survey")).count();
    assert_eq!(invitations, 1);
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_added_later_reaches_earlier_acceptances() {
    let mail = MailServer::start_default().await;
    let (id, claim) = mail.demo_award("early@example.org").await;
    accept(&mail, &claim).await;
    assert!(mail.run_reminders(Utc::now() + Duration::days(5)).await.surveys.is_empty(), "no survey yet");

    let (status, _) = set_survey(&mail, Some("https://survey.example.org/later"), None).await;
    assert_eq!(status, 200);
    let report = mail.run_reminders(Utc::now() + Duration::minutes(1)).await;
    assert_eq!(report.surveys.len(), 1, "{:?}", report.lines());
    assert_eq!(report.surveys[0].award_id.as_str(), id);

    // Removing the survey and adding it back does not invite again.
    set_survey(&mail, None, None).await;
    set_survey(&mail, Some("https://survey.example.org/later"), None).await;
    assert!(mail.run_reminders(Utc::now() + Duration::days(1)).await.surveys.is_empty());
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_settings_are_checked() {
    let mail = MailServer::start_default().await;
    let cases = [
        (Some("ftp://survey.example.org/x"), None, "survey_url"),
        (Some("https://bit.ly/3abcd"), None, "survey_url"),
        (Some("https://www.tinyurl.com/xyz"), None, "survey_url"),
        (None, Some(3), "survey_delay_days"),
        (Some("https://survey.example.org/x"), Some(366), "survey_delay_days"),
    ];
    for (url, delay, field) in cases {
        let (status, body) = set_survey(&mail, url, delay).await;
        assert_eq!(status, 422, "{url:?} {delay:?}: {body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_statuses_and_claim_rate() {
    let mail = MailServer::start_default().await;
    let (_, first) = mail.demo_award("stats.one@example.org").await;
    mail.demo_award("stats.two@example.org").await;
    let (_, third) = mail.demo_award("stats.three@example.org").await;
    let (bounced, _) = mail.demo_award("bounce@simulator.amazonses.com").await;
    mail.wait_for_notification(&bounced, "bounced").await;
    accept(&mail, &first).await;
    let (id, token) = claim_parts(&third.claim_link());
    mail.server
        .client
        .post(mail.server.url(&format!("/claim/{id}/decline")))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    mail.settled_outbox().await;

    let (status, stats) = mail.server.admin_get(&format!("/admin/stats?badge_id={DEMO_BADGE}")).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["total"], 4);
    assert_eq!(stats["by_status"]["pending"], 2, "{stats}");
    assert_eq!(stats["by_status"]["accepted"], 1);
    assert_eq!(stats["by_status"]["declined"], 1);
    assert_eq!(stats["by_status"]["revoked"], 0);
    assert_eq!(stats["by_status"]["expired"], 0);
    assert_eq!(stats["by_notification"]["sent"], 3, "{stats}");
    assert_eq!(stats["by_notification"]["bounced"], 1);
    assert_eq!(stats["by_notification"]["queued"], 0);
    assert_eq!(stats["notified"], 4);
    assert_eq!(stats["claimed"], 1);
    assert_eq!(stats["claim_rate"], 0.25);

    let (status, empty) = mail.server.admin_get("/admin/stats?badge_id=fundamentals-cataloging").await;
    assert_eq!(status, 200);
    assert_eq!(empty["total"], 0);
    assert!(empty["claim_rate"].is_null(), "no rate without notified awards: {empty}");

    for (query, expected, field) in [("", 400, "badge_id"), ("?badge_id=Not_A_Slug", 400, "badge_id"), ("?badge_id=no-such-badge", 404, "badge_id"), ("?badge_id=fundamentals-cataloging&x=1", 400, "x")] {
        let (status, body) = mail.server.admin_get(&format!("/admin/stats{query}")).await;
        assert_eq!(status, expected, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    mail.stop().await;
}
