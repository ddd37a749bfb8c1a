//! Helpers of the mail tests: a server with chosen mail settings and no
//! follow-up timer, waiting for the outbox, polling an award's
//! notification, and running the follow-up job as of a given time.

use std::time::Duration;

use badges_local::{MailOptions, Options};
use badges_shared::settings::MailSettings;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::Value;

use crate::support::{DEMO_BADGE, Email, TestServer};

/// A local server whose follow-up job runs only when a test calls it.
pub struct MailServer {
    pub server: TestServer,
    /// The options the server was started with, for `run_reminders`.
    pub options: Options,
    _folder: tempfile::TempDir,
}

impl MailServer {
    pub async fn start(settings: MailSettings) -> MailServer {
        let folder = tempfile::tempdir().expect("temporary folder");
        let data_dir = folder.path().join("data");
        let options = Options {
            mail: MailOptions { settings, follow_up_every: None },
            ..crate::support::test_options(data_dir.clone())
        };
        let running = badges_local::start(options.clone()).await.expect("the local server starts");
        // The job opens the same data folder, and links must name the same server.
        let options = Options { base_url: Some(running.base_url.clone()), ..options };
        let server = TestServer::attach(running, data_dir);
        MailServer { server, options, _folder: folder }
    }

    pub async fn start_default() -> MailServer {
        Self::start(MailSettings::default()).await
    }

    /// Runs `badges-local run reminders --now NOW` on this server's data.
    pub async fn run_reminders(&self, now: chrono::DateTime<chrono::Utc>) -> badges_shared::service::followup::FollowUpReport {
        badges_local::run_reminders(self.options.clone(), now).await.expect("the follow-up run succeeds")
    }

    /// Waits until the outbox contains `count` messages, and returns them.
    pub async fn wait_for_outbox(&self, count: usize) -> Vec<Email> {
        for _ in 0..200 {
            let outbox = self.server.outbox();
            if outbox.len() >= count {
                assert_eq!(outbox.len(), count, "more email than expected: {:?}", subjects(&outbox));
                return outbox;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the outbox did not reach {count} messages within 10 seconds: {:?}", subjects(&self.server.outbox()));
    }

    /// Waits until nothing is queued, then a little longer, and returns the
    /// outbox. A test uses it before checking that no email was sent.
    pub async fn settled_outbox(&self) -> Vec<Email> {
        let store = self.server.app().store.clone();
        for _ in 0..200 {
            let idle = store.queued_awards(1).await.unwrap().is_empty() && store.queued_resends(1).await.unwrap().is_empty();
            if idle {
                tokio::time::sleep(Duration::from_millis(300)).await;
                return self.server.outbox();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("queued email was not sent within 10 seconds");
    }

    /// Polls an award until its notification status is `expected`, and
    /// returns the award as staff see it.
    pub async fn wait_for_notification(&self, award_id: &str, expected: &str) -> Value {
        let mut award = Value::Null;
        for _ in 0..200 {
            let (status, body) = self.server.admin_get(&format!("/admin/awards/{award_id}")).await;
            assert_eq!(status, 200, "{body}");
            award = body;
            if award["notification"]["status"] == expected {
                return award;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("award {award_id} did not reach notification {expected} within 10 seconds: {award}");
    }

    /// Creates an award of `badge_id` and waits for its claim email.
    pub async fn award(&self, badge_id: &str, email: &str, session: &str) -> (String, Email) {
        let before = self.server.outbox().len();
        let body = serde_json::json!({ "badge_id": badge_id, "session": session, "recipient": { "email": email, "name": "Ada Okafor" } });
        let (status, award) = self.server.admin_json(reqwest::Method::POST, "/admin/awards", &body).await;
        assert_eq!(status, 201, "{award}");
        let outbox = self.wait_for_outbox(before + 1).await;
        (award["id"].as_str().unwrap().to_owned(), outbox[before].clone())
    }

    /// Creates an award of the demo badge and waits for its claim email.
    pub async fn demo_award(&self, email: &str) -> (String, Email) {
        self.award(DEMO_BADGE, email, "").await
    }

    /// Posts the resend form as a browser does.
    pub async fn post_resend_form(&self, email: &str) -> (u16, String) {
        let body = serde_urlencoded_pair("email", email);
        let response = self
            .server
            .client
            .post(self.server.url("/resend"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "text/html")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Posts `{"email": …}` as an API client does.
    pub async fn post_resend_json(&self, email: &str) -> (u16, Value) {
        let response = self
            .server
            .client
            .post(self.server.url("/resend"))
            .json(&serde_json::json!({ "email": email }))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// Encodes one form field.
fn serde_urlencoded_pair(name: &str, value: &str) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|byte| match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (byte as char).to_string(),
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    format!("{}={}", encode(name), encode(value))
}

pub fn subjects(outbox: &[Email]) -> Vec<String> {
    outbox.iter().map(|email| format!("{} → {}", email.subject, email.to)).collect()
}

/// Returns every claim link of the plain-text part, in order.
pub fn claim_links(email: &Email) -> Vec<String> {
    email.text.split_whitespace().filter(|word| word.contains("/claim/") && word.contains("token=")).map(str::to_owned).collect()
}

/// Returns a header of a message, unfolded.
pub fn header(email: &Email, name: &str) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse(email.raw.as_bytes()).expect("a valid message");
    message.header_raw(name).map(|value| value.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Returns the https-or-http URL of a `List-Unsubscribe` header.
pub fn unsubscribe_url(email: &Email) -> String {
    let value = header(email, "List-Unsubscribe").expect("the message has List-Unsubscribe");
    value.trim().trim_start_matches('<').trim_end_matches('>').to_owned()
}
