//! A local server per test, on a random loopback port with its own data
//! folder, plus helpers to read its outbox and run the validator.

use std::path::PathBuf;
use tokio::process::Command;
use std::time::Duration;

use badges_local::{Options, Running};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
/// A demo catalogue badge that every test server has.
pub const DEMO_BADGE: &str = "rda-serials-cataloging-update";

/// Options of a test server on the embedded store: a random loopback port,
/// `data_dir`, the test admin token and the demo catalogue.
pub fn test_options(data_dir: PathBuf) -> Options {
    Options {
        backend: badges_local::Backend::Embedded,
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir,
        base_url: None,
        admin_token: Some(ADMIN_TOKEN.into()),
        load_demo: true,
        issuer: None,
        linkedin_organization_id: None,
        cookie_secret: None,
        issuer_did: Default::default(),
        mail: Default::default(),
    }
}

pub struct TestServer {
    pub running: Option<Running>,
    pub base: String,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    _folder: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(badges_local::Backend::Embedded).await
    }

    pub async fn start_with(backend: badges_local::Backend) -> TestServer {
        let folder = tempfile::tempdir().expect("temporary folder");
        let data_dir = folder.path().join("data");
        let running = badges_local::start(Options { backend, ..test_options(data_dir.clone()) })
            .await
            .expect("the local server starts");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer { base: running.base_url.clone(), running: Some(running), client, data_dir, _folder: folder }
    }

    /// Wraps a server started by the test itself, on a data folder that
    /// the test owns.
    pub fn attach(running: Running, data_dir: PathBuf) -> TestServer {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let folder = tempfile::tempdir().expect("temporary folder");
        TestServer { base: running.base_url.clone(), running: Some(running), client, data_dir, _folder: folder }
    }

    pub fn app(&self) -> &badges_shared::App {
        &self.running.as_ref().unwrap().app
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn admin_json(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .request(method, self.url(path))
            .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(self.url(path))
            .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_body(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .client
            .request(if path.contains("/image") { reqwest::Method::PUT } else { reqwest::Method::POST }, self.url(path))
            .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, url: &str) -> (u16, Value) {
        let response = self.client.get(url).header(ACCEPT, "application/ld+json").send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_html(&self, url: &str) -> (u16, String) {
        let response = self
            .client
            .get(url)
            .header(ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Creates one award through the API and returns its JSON.
    pub async fn create_award(&self, email: &str, name: &str) -> Value {
        let body = serde_json::json!({ "badge_id": DEMO_BADGE, "recipient": { "email": email, "name": name } });
        let (status, award) = self.admin_json(reqwest::Method::POST, "/admin/awards", &body).await;
        assert_eq!(status, 201, "{award}");
        award
    }

    /// Returns the outbox messages, oldest first.
    pub fn outbox(&self) -> Vec<Email> {
        let dir = self.data_dir.join("outbox");
        let mut paths: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.map(|entry| entry.unwrap().path()).filter(|path| path.extension().is_some_and(|e| e == "eml")).collect(),
            Err(_) => Vec::new(),
        };
        paths.sort();
        paths.iter().map(|path| Email::parse(&std::fs::read(path).unwrap())).collect()
    }

    /// Sends every queued notification now and returns the outbox.
    pub async fn drain_outbox(&self) -> Vec<Email> {
        badges_notify_drain(self.app()).await;
        self.outbox()
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("the server stops cleanly");
        }
    }
}

async fn badges_notify_drain(app: &badges_shared::App) {
    // The in-process worker may be sending at the same time; drain until
    // nothing is queued or being sent.
    for _ in 0..200 {
        let queued = app.store.queued_awards(1).await.unwrap();
        if queued.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if app.store.queued_awards(1).await.unwrap().is_empty() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("queued notifications were not sent within 10 seconds");
}

/// A parsed outbox message.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl Email {
    pub fn parse(bytes: &[u8]) -> Email {
        let message = mail_parser::MessageParser::default().parse(bytes).expect("a valid RFC 5322 message");
        let address = |list: Option<&mail_parser::Address>| {
            list.and_then(|list| list.first()).and_then(|addr| addr.address()).unwrap_or_default().to_owned()
        };
        Email {
            to: address(message.to()),
            from: address(message.from()),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
            raw: String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// Returns the claim link of the plain-text part.
    pub fn claim_link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|word| word.contains("/claim/") && word.contains("token="))
            .expect("the text part has a claim link")
            .to_owned()
    }
}

/// Splits a claim link into its award id and token.
pub fn claim_parts(link: &str) -> (String, String) {
    let after = link.split("/claim/").nth(1).unwrap();
    let (id, query) = after.split_once('?').unwrap();
    (id.to_owned(), query.strip_prefix("token=").unwrap().to_owned())
}

/// Runs the Open Badges 2.0 reference validator on a URL or file. Returns
/// whether it said valid, and its report.
pub async fn ob2_validate(target: &str, recipient: &str) -> (bool, String) {
    let runner = std::env::var("BADGES_OB2_VALIDATE").expect(
        "BADGES_OB2_VALIDATE is not set: run the tests with scripts/test.sh, which installs the validator",
    );
    let output = Command::new(runner)
        .args(["--recipient", recipient, target])
        .output()
        .await
        .expect("the validator runner starts");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    match output.status.code() {
        Some(0) => (true, report),
        Some(1) => (false, report),
        other => panic!("the validator failed to run ({other:?}): {report}"),
    }
}
