//! Delivery tracking on the local binary through the SES mailbox simulator
//! addresses: deliveries, hard bounces and complaints update the award and
//! suppress further mail, and staff see why.

use reqwest::Method;
use serde_json::Value;

use crate::mail_support::{MailServer, subjects};
use crate::support::DEMO_BADGE;

const SUCCESS: &str = "success@simulator.amazonses.com";
const BOUNCE: &str = "bounce@simulator.amazonses.com";
const COMPLAINT: &str = "complaint@simulator.amazonses.com";
const SUPPRESSION_LIST: &str = "suppressionlist@simulator.amazonses.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_success_is_delivered() {
    let mail = MailServer::start_default().await;
    let (id, _) = mail.demo_award(SUCCESS).await;

    let award = mail.wait_for_notification(&id, "delivered").await;
    assert!(award["notification"]["suppressed"].is_null(), "{award}");
    assert!(award["notification"]["message_id"].is_string(), "{award}");
    assert!(award["notification"]["first_sent_at"].is_string(), "{award}");
    mail.stop().await;
}

/// Checks that mail to `address` is suppressed for `reason` after its
/// first claim email, everywhere mail could go out.
async fn check_suppressed(mail: &MailServer, address: &str, status: &str, detail: &str, reason: &str) {
    let (id, _) = mail.demo_award(address).await;

    // THEN the award shows the outcome and why mail is suppressed.
    let award = mail.wait_for_notification(&id, status).await;
    assert_eq!(award["notification"]["detail"], detail, "{award}");
    assert_eq!(award["notification"]["suppressed"]["reason"], reason, "{award}");
    assert!(award["notification"]["suppressed"]["since"].is_string(), "{award}");

    // AND the admin list shows it too.
    let (status_code, page) = mail.server.admin_get(&format!("/admin/awards?email={address}")).await;
    assert_eq!(status_code, 200);
    assert_eq!(page["items"][0]["notification"]["suppressed"]["reason"], reason, "{page}");
    let (_, filtered) = mail.server.admin_get(&format!("/admin/awards?badge_id={DEMO_BADGE}&notification={status}")).await;
    assert!(filtered["items"].as_array().unwrap().iter().any(|item| item["id"] == id.as_str()), "{filtered}");
    let before = mail.settled_outbox().await.len();

    // AND staff cannot resend to the address.
    let (code, body) = mail.server.admin_json(Method::POST, &format!("/admin/awards/{id}/resend"), &Value::Null).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["error"]["code"], "suppressed");

    // AND a new award for the address is not emailed, and its detail gives the reason.
    let body = serde_json::json!({ "badge_id": "fundamentals-cataloging", "recipient": { "email": address, "name": "Ada" } });
    let (code, second) = mail.server.admin_json(Method::POST, "/admin/awards", &body).await;
    assert_eq!(code, 201, "{second}");
    let second = mail.wait_for_notification(second["id"].as_str().unwrap(), "suppressed").await;
    assert!(second["notification"]["detail"].as_str().unwrap().starts_with("not sent"), "{second}");

    // AND the learner's resend form sends nothing, with the usual response.
    let (code, answer) = mail.post_resend_json(address).await;
    assert_eq!(code, 202);
    assert_eq!(answer["status"], "accepted");
    let outbox = mail.settled_outbox().await;
    assert_eq!(outbox.len(), before, "no email after the suppression: {:?}", subjects(&outbox));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_bounce_suppresses() {
    let mail = MailServer::start_default().await;
    check_suppressed(&mail, BOUNCE, "bounced", "Permanent bounce (General)", "hard_bounce").await;
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_complaint_suppresses() {
    let mail = MailServer::start_default().await;
    check_suppressed(&mail, COMPLAINT, "complained", "complaint (abuse)", "complaint").await;
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_suppression_list_suppresses() {
    let mail = MailServer::start_default().await;
    check_suppressed(&mail, SUPPRESSION_LIST, "bounced", "Permanent bounce (OnAccountSuppressionList)", "hard_bounce").await;
    mail.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppression_is_per_address() {
    let mail = MailServer::start_default().await;
    let (bounced, _) = mail.demo_award("bounce+first@simulator.amazonses.com").await;
    mail.wait_for_notification(&bounced, "bounced").await;

    // Another label of the simulator is another address, and is mailed.
    let (other, _) = mail.demo_award("success+second@simulator.amazonses.com").await;
    mail.wait_for_notification(&other, "delivered").await;
    mail.stop().await;
}
