//! Contract tests of the media ports. One image-store suite runs against
//! `FolderImageStore` and `S3ImageStore`, and one mailer suite against
//! `OutboxMailer` and `SesMailer`. The AWS adapters run on the moto
//! emulator that scripts/test.sh starts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sesv2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sesv2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sesv2::error::BoxError;
use badges_shared::adapters::aws::s3::{S3ImageStore, allow_public_image_reads, create_bucket, s3_client};
use badges_shared::adapters::aws::ses::{SesMailer, SesSettings, create_sender_identity};
use badges_shared::adapters::{FolderImageStore, OutboxMailer};
use badges_shared::domain::{Award, BadgeClass, ImageKind, Issuer};
use badges_shared::ports::{ImageStore, MailError, Mailer, OsRandom, OutgoingEmail, StoredImage};
use badges_shared::settings::Settings;
use serde_json::{Value, json};

use crate::aws_support::{moto_config, moto_endpoint, random_name};

const PNG_BYTES: &[u8] = b"\x89PNG\r\n\x1a\n first image";
const PNG_REPLACEMENT: &[u8] = b"\x89PNG\r\n\x1a\n second image";
const SVG_BYTES: &[u8] = br#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>"#;

/// Keys outside the safe form: empty or `.`/`..` segments, absolute paths,
/// characters other than ASCII letters, digits, `-`, `_` and `.`, and
/// extensions other than `.png` and `.svg`.
const UNSAFE_KEYS: &[&str] = &[
    "",
    "/badges/x.png",
    "badges//x.png",
    "../x.png",
    "badges/../x.png",
    "./x.png",
    "badges/x y.png",
    "badges\\x.png",
    "badges/x%2F.png",
    "badges/é.png",
    "badges/x.gif",
    "badges/x",
];

// ---------------------------------------------------------------------
// Image stores
// ---------------------------------------------------------------------

/// Runs the `ImageStore` contract on an empty store whose public URL
/// prefix is `public_base`.
async fn check_image_store(store: &dyn ImageStore, public_base: &str) {
    let missing = store.get("badges/missing.png").await.expect("get of a missing key");
    assert_eq!(missing, None, "a missing key is not found");

    store.put("badges/x.png", PNG_BYTES.to_vec(), ImageKind::Png).await.expect("put PNG");
    let png = store.get("badges/x.png").await.expect("get PNG");
    assert_eq!(png, Some(StoredImage { bytes: PNG_BYTES.to_vec(), kind: ImageKind::Png }));

    store.put("badges/x.svg", SVG_BYTES.to_vec(), ImageKind::Svg).await.expect("put SVG");
    let svg = store.get("badges/x.svg").await.expect("get SVG");
    assert_eq!(svg, Some(StoredImage { bytes: SVG_BYTES.to_vec(), kind: ImageKind::Svg }));

    let award_key = "awards/aaaaaaaaaaaaaaaaaaaaaaaaaa/badge.png";
    store.put(award_key, PNG_BYTES.to_vec(), ImageKind::Png).await.expect("put nested key");
    let award_image = store.get(award_key).await.expect("get nested key");
    assert_eq!(award_image.map(|image| image.bytes), Some(PNG_BYTES.to_vec()));

    store.put("badges/x.png", PNG_REPLACEMENT.to_vec(), ImageKind::Png).await.expect("overwrite PNG");
    let replaced = store.get("badges/x.png").await.expect("get overwritten PNG");
    assert_eq!(replaced.map(|image| image.bytes), Some(PNG_REPLACEMENT.to_vec()), "overwrite replaces the bytes");

    let mismatch = store.put("badges/y.png", SVG_BYTES.to_vec(), ImageKind::Svg).await;
    assert!(mismatch.is_err(), "an SVG under a .png key is rejected");
    let mismatch_stored = store.get("badges/y.png").await.expect("get after rejected put");
    assert_eq!(mismatch_stored, None, "a rejected put stores nothing");

    for key in UNSAFE_KEYS {
        let put = store.put(key, PNG_BYTES.to_vec(), ImageKind::Png).await;
        assert!(put.is_err(), "put of unsafe key {key:?} is rejected");
        let get = store.get(key).await.unwrap_or_else(|error| panic!("get of unsafe key {key:?}: {error}"));
        assert_eq!(get, None, "get of unsafe key {key:?}");
        let delete = store.delete(key).await;
        assert!(delete.is_ok(), "delete of unsafe key {key:?}: {delete:?}");
    }

    store.delete("badges/x.png").await.expect("delete");
    let deleted = store.get("badges/x.png").await.expect("get after delete");
    assert_eq!(deleted, None, "a deleted key is not found");
    store.delete("badges/x.png").await.expect("delete of a missing key");
    let svg_kept = store.get("badges/x.svg").await.expect("get SVG after deleting PNG");
    assert!(svg_kept.is_some(), "deleting one key keeps the others");

    assert_eq!(store.public_url("badges/x.svg"), format!("{public_base}/badges/x.svg"));
    assert_eq!(store.public_url(award_key), format!("{public_base}/{award_key}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_image_store_contract() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let store = FolderImageStore::new(folder.path().join("images"), "http://127.0.0.1:3000/images/");
    check_image_store(&store, "http://127.0.0.1:3000/images").await;
}

/// Creates a bucket with a random name on moto and returns an S3 store on
/// it, with the raw client and the bucket name.
async fn moto_image_store() -> (S3ImageStore, aws_sdk_s3::Client, String) {
    let config = moto_config().await;
    let client = s3_client(&config);
    let bucket = random_name("badges-test");
    create_bucket(&client, &bucket).await.expect("create the bucket on moto");
    let public_base = format!("{}/{bucket}/images", moto_endpoint());
    (S3ImageStore::new(client.clone(), bucket.clone(), public_base), client, bucket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_image_store_contract() {
    let (store, _client, bucket) = moto_image_store().await;
    check_image_store(&store, &format!("{}/{bucket}/images", moto_endpoint())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_bucket_twice() {
    let config = moto_config().await;
    let client = s3_client(&config);
    let bucket = random_name("badges-test");
    create_bucket(&client, &bucket).await.expect("first create");
    create_bucket(&client, &bucket).await.expect("a bucket this account owns is not an error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_objects_under_images_prefix() {
    let (store, client, bucket) = moto_image_store().await;
    store.put("badges/x.png", PNG_BYTES.to_vec(), ImageKind::Png).await.expect("put PNG");
    store.put("badges/x.svg", SVG_BYTES.to_vec(), ImageKind::Svg).await.expect("put SVG");

    let listing = client.list_objects_v2().bucket(&bucket).send().await.expect("list the bucket");
    let mut keys: Vec<&str> = listing.contents().iter().filter_map(|object| object.key()).collect();
    keys.sort();
    assert_eq!(keys, ["images/badges/x.png", "images/badges/x.svg"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_public_url_headers() {
    let (store, client, bucket) = moto_image_store().await;
    allow_public_image_reads(&client, &bucket).await.expect("set the public read policy");
    store.put("badges/x.png", PNG_BYTES.to_vec(), ImageKind::Png).await.expect("put PNG");
    store.put("badges/x.svg", SVG_BYTES.to_vec(), ImageKind::Svg).await.expect("put SVG");
    client
        .put_object()
        .bucket(&bucket)
        .key("private/x.png")
        .body(PNG_BYTES.to_vec().into())
        .send()
        .await
        .expect("put an object outside images/");

    let http = reqwest::Client::new();
    let private_url = format!("{}/{bucket}/private/x.png", moto_endpoint());
    let private = http.get(&private_url).send().await.unwrap_or_else(|error| panic!("GET {private_url}: {error}"));
    assert_eq!(private.status().as_u16(), 403, "objects outside images/ stay private");

    for (key, content_type, bytes) in
        [("badges/x.png", "image/png", PNG_BYTES), ("badges/x.svg", "image/svg+xml", SVG_BYTES)]
    {
        let url = store.public_url(key);
        let response = http.get(&url).send().await.unwrap_or_else(|error| panic!("GET {url}: {error}"));
        assert_eq!(response.status().as_u16(), 200, "GET {url}");
        let headers = response.headers().clone();
        assert_eq!(headers.get("content-type").and_then(|value| value.to_str().ok()), Some(content_type), "{url}");
        assert_eq!(
            headers.get("cache-control").and_then(|value| value.to_str().ok()),
            Some("public, max-age=300"),
            "{url}"
        );
        assert_eq!(response.bytes().await.expect("body").as_ref(), bytes, "{url}");
    }
}

// ---------------------------------------------------------------------
// Mailers
// ---------------------------------------------------------------------

const SENDER: &str = "badges@example.org";
const RECIPIENT: &str = "learner@example.com";

/// Builds a claim email with the same code as the notification worker.
fn claim_email() -> OutgoingEmail {
    let settings = Settings::new(
        "http://127.0.0.1:3000",
        Issuer { name: "Example Association".into(), url: "https://example.org".into(), email: SENDER.into() },
    );
    let now = "2026-03-01T12:00:00Z";
    let badge: BadgeClass = serde_json::from_value(json!({
        "id": "contract-test-badge",
        "name": "Contract Test Badge",
        "description": "Awarded for attending the contract test webinar.",
        "criteria": { "narrative": "Attend the whole webinar." },
        "images": ["svg"],
        "created_at": now,
        "updated_at": now,
    }))
    .expect("badge class JSON");
    let award: Award = serde_json::from_value(json!({
        "id": "abcdefghijklmnopqrstuvwxyz",
        "badge_id": "contract-test-badge",
        "recipient": { "email": RECIPIENT, "name": "Zoë Learner" },
        "session": "",
        "issued_on": now,
        "salt": "0123456789abcdef",
        "status": "pending",
        "notification": "queued",
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }))
    .expect("award JSON");
    let claim_url = "http://127.0.0.1:3000/claim/abcdefghijklmnopqrstuvwxyz?token=contract-test-token";
    badges_shared::email::claim_email(&settings, &award, &badge, claim_url, "contract").expect("claim email")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_mailer_keeps_raw_bytes() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let mailer = OutboxMailer::new(folder.path().join("outbox"), Arc::new(OsRandom));
    let email = claim_email();

    let first_id = mailer.send(&email).await.expect("first send");
    let second_id = mailer.send(&email).await.expect("second send");
    assert_ne!(first_id, second_id, "each message gets its own id");

    for message_id in [&first_id, &second_id] {
        let path = folder.path().join("outbox").join(format!("{message_id}.eml"));
        let stored = std::fs::read(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
        assert!(stored == email.raw, "{} differs from the sent bytes", path.display());
    }
}

/// A `SendEmail` request as it left the client.
#[derive(Debug, Clone)]
struct RecordedRequest {
    sent_at: Instant,
    /// The JSON body.
    body: Vec<u8>,
}

/// SDK interceptor that records each `SendEmail` request as it leaves the
/// client.
#[derive(Debug, Clone, Default)]
struct SendEmailRecorder {
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl SendEmailRecorder {
    fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().clone()
    }
}

impl Intercept for SendEmailRecorder {
    fn name(&self) -> &'static str {
        "SendEmailRecorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let sent_at = Instant::now();
        let request = context.request();
        if request.uri().ends_with("/v2/email/outbound-emails") {
            let body = request.body().bytes().unwrap_or_default().to_vec();
            self.requests.lock().unwrap().push(RecordedRequest { sent_at, body });
        }
        Ok(())
    }
}

/// Returns an SES client on moto that records its `SendEmail` requests,
/// after creating the sender identity that moto requires.
async fn moto_ses_client() -> (aws_sdk_sesv2::Client, SendEmailRecorder) {
    let config = moto_config().await;
    let recorder = SendEmailRecorder::default();
    let client = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&config).interceptor(recorder.clone()).build(),
    );
    create_sender_identity(&client, SENDER).await.expect("create the sender identity on moto");
    (client, recorder)
}

/// Returns the messages that moto stored, from
/// `GET /moto-api/data.json` → `ses` → `RawMessage`.
async fn moto_raw_messages() -> Vec<Value> {
    let data: Value = crate::aws_support::moto_state().await;
    data["ses"]["RawMessage"]
        .as_array()
        .unwrap_or_else(|| panic!("data.json has no ses.RawMessage list; services: {:?}", object_keys(&data)))
        .clone()
}

fn object_keys(value: &Value) -> Vec<String> {
    value.as_object().map(|object| object.keys().cloned().collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_mailer_sends_raw_bytes() {
    let (client, recorder) = moto_ses_client().await;
    let settings = SesSettings {
        from_address: SENDER.into(),
        configuration_set: Some("badges-events".into()),
        max_send_rate: 10.0,
    };
    let mailer = SesMailer::new(client, settings);
    let email = claim_email();

    let message_id = mailer.send(&email).await.expect("send through moto");
    assert!(!message_id.is_empty(), "SES returns a message id");

    let stored = moto_raw_messages().await;
    let message = stored
        .iter()
        .find(|message| message["id"] == message_id.as_str())
        .unwrap_or_else(|| panic!("moto stored no message {message_id}"));
    let raw_data = message["raw_data"].as_str().expect("raw_data is a string");
    assert!(raw_data.as_bytes() == email.raw.as_slice(), "moto stored other bytes than were sent:\n{raw_data}");
    assert_eq!(message["source"], SENDER);
    let destinations = message["destinations"].as_array().expect("destinations list");
    assert!(destinations.iter().any(|address| address == RECIPIENT), "destinations: {destinations:?}");

    let requests = recorder.requests();
    assert_eq!(requests.len(), 1, "one SendEmail request");
    let body: Value = serde_json::from_slice(&requests[0].body).expect("SendEmail body is JSON");
    assert_eq!(body["FromEmailAddress"], SENDER);
    assert_eq!(body["Destination"]["ToAddresses"], json!([RECIPIENT]));
    assert_eq!(body["ConfigurationSetName"], "badges-events");
    assert!(body["Content"]["Raw"]["Data"].is_string(), "raw content: {}", body["Content"]);
    assert!(body["Content"].get("Simple").is_none(), "no simple content: {}", body["Content"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_mailer_without_configuration_set() {
    let (client, recorder) = moto_ses_client().await;
    let settings = SesSettings { from_address: SENDER.into(), configuration_set: None, max_send_rate: 10.0 };
    let mailer = SesMailer::new(client, settings);

    mailer.send(&claim_email()).await.expect("send through moto");

    let requests = recorder.requests();
    assert_eq!(requests.len(), 1, "one SendEmail request");
    let body: Value = serde_json::from_slice(&requests[0].body).expect("SendEmail body is JSON");
    assert!(body.get("ConfigurationSetName").is_none(), "body keys: {:?}", object_keys(&body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_mailer_unverified_sender_rejected() {
    let (client, recorder) = moto_ses_client().await;
    let sender = format!("{}@unverified.example.org", random_name("sender"));
    let settings = SesSettings { from_address: sender, configuration_set: None, max_send_rate: 10.0 };
    let mailer = SesMailer::new(client, settings);

    let result = mailer.send(&claim_email()).await;
    assert!(matches!(result, Err(MailError::Rejected(_))), "expected a rejection, got {result:?}");
    assert_eq!(recorder.requests().len(), 1, "a rejected message is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_mailer_paces_sends() {
    const MESSAGES: usize = 30;
    const RATE: usize = 10;

    let (client, recorder) = moto_ses_client().await;
    let settings = SesSettings { from_address: SENDER.into(), configuration_set: None, max_send_rate: RATE as f64 };
    let mailer = Arc::new(SesMailer::new(client, settings));
    let email = Arc::new(claim_email());

    let mut tasks = Vec::new();
    for _ in 0..MESSAGES {
        let mailer = mailer.clone();
        let email = email.clone();
        tasks.push(tokio::spawn(async move { mailer.send(&email).await }));
    }
    let mut message_ids = Vec::new();
    for task in tasks {
        message_ids.push(task.await.expect("send task").expect("send through moto"));
    }
    message_ids.sort();
    message_ids.dedup();
    assert_eq!(message_ids.len(), MESSAGES, "every message gets its own id");

    let mut sent_at: Vec<Instant> = recorder.requests().into_iter().map(|request| request.sent_at).collect();
    assert_eq!(sent_at.len(), MESSAGES, "one SendEmail request per message");
    sent_at.sort();
    for (index, start) in sent_at.iter().enumerate() {
        let window_end = *start + Duration::from_secs(1);
        let in_window = sent_at[index..].iter().take_while(|time| **time <= window_end).count();
        assert!(in_window <= RATE, "{in_window} requests within 1 s of request {index}; at most {RATE} allowed");
    }
}
