//! Every sample event in `events/` through the handler of its function:
//! the API Gateway requests through the routers, the stream records through
//! the notification worker on DynamoDB and SES (moto), and the SNS-wrapped
//! SES events through the event consumer.

use std::path::PathBuf;
use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::sns::SnsEvent;
use axum::Router;
use badges_shared::App;
use badges_shared::domain::{Award, AwardId, ClaimToken, NotificationStatus};
use badges_shared::ports::{AwardStore, SystemClock};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::aws_support::{moto_config, moto_endpoint, random_name};
use crate::support::{DEMO_BADGE, TestServer};

/// The award id and claim token the sample events use.
pub(crate) const EVENT_AWARD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaa";
const EVENT_TOKEN: &str = "q3ABJr-2bocIo1uR9oppIpknhP_peQkODpKQrdqfJYA";
/// The cookie secret under which the sample events' owner cookie and
/// learner id were made, and the public address of the sample events.
const EVENT_COOKIE_SECRET: &str = "sample-events-cookie-secret-0123456789abcdef";
const EVENT_BASE_URL: &str = "https://badges.example.org";
/// The unsubscribe signing key under which the token of the sample
/// unsubscribe events was made: the bytes 0 to 31.
const EVENT_UNSUBSCRIBE_KEY: [u8; 32] = {
    let mut key = [0u8; 32];
    let mut index = 0;
    while index < 32 {
        key[index] = index as u8;
        index += 1;
    }
    key
};
/// The SES message id of the sample SES events.
pub(crate) const EVENT_MESSAGE_ID: &str = "0100019a7c2f4e1b-5d3c8a2e-91f7-4b6d-a0e3-7c9d1f2b4e6a-000000";

fn event_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events").join(relative)
}

pub(crate) fn read_event(relative: &str) -> String {
    std::fs::read_to_string(event_path(relative)).unwrap_or_else(|error| panic!("{relative}: {error}"))
}

/// The award of the sample events: pending, its email sent.
fn event_award(app: &App) -> Award {
    let badge = badges_shared::domain::BadgeId::parse(DEMO_BADGE).unwrap();
    let email = badges_shared::domain::EmailAddress::parse("learner.one@example.org").unwrap();
    let now = chrono::Utc::now();
    let mut award = badges_shared::service::awards::new_award(
        app,
        &badges_shared::domain::BadgeClass {
            id: badge,
            name: String::new(),
            description: String::new(),
            criteria: Default::default(),
            tags: vec![],
            format: None,
            expires_after_days: None,
            images: vec![],
            png_size: None,
            survey_url: None,
            survey_delay_days: None,
            created_at: now,
            updated_at: now,
        },
        badges_shared::domain::Recipient { email, name: "Learner One".into() },
        String::new(),
        None,
        now,
        None,
    );
    award.id = AwardId::parse(EVENT_AWARD).unwrap();
    award
}

async fn seed_claimable_award(app: &App) {
    let key = app.store.signing_key(badges_shared::service::unsubscribe::KEY_NAME, EVENT_UNSUBSCRIBE_KEY).await.unwrap();
    assert_eq!(key, EVENT_UNSUBSCRIBE_KEY, "the store had no other key yet");
    let mut award = event_award(app);
    award.notification = NotificationStatus::Sent;
    award.message_id = Some(EVENT_MESSAGE_ID.into());
    app.store.insert_awards(&[award]).await.unwrap();
    let now = chrono::Utc::now();
    app.store
        .add_claim_token(&ClaimToken {
            award_id: AwardId::parse(EVENT_AWARD).unwrap(),
            token_hash: badges_shared::tokens::hash_token(EVENT_TOKEN),
            created_at: now,
            expires_at: now + chrono::Duration::days(1),
        })
        .await
        .unwrap();
}

/// Sends an API Gateway v2 event through a router, as `lambda_http::run` does.
async fn invoke(router: &Router, relative: &str) -> (u16, String) {
    let request = lambda_http::request::from_str(&read_event(relative)).unwrap_or_else(|error| panic!("{relative}: {error}"));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_events_through_routers() {
    let server = TestServer::start().await;
    let app = server.app().clone();
    seed_claimable_award(&app).await;
    let settings = app.settings.clone();
    let admin = badges_shared::web::finish(badges_admin::router(app.clone()), &settings);
    let claim = badges_shared::web::finish(badges_claim::router(app.clone()), &settings);
    // The awards function runs as deployed at the events' address, with the
    // secret that signed their owner cookie and made their learner id.
    let mut public_settings = (*settings).clone();
    public_settings.base_url = EVENT_BASE_URL.to_owned();
    public_settings.server_key = Some(badges_shared::share::ServerKey::from_secret(EVENT_COOKIE_SECRET).unwrap());
    let public_app = App { settings: Arc::new(public_settings), ..app.clone() };
    let awards = badges_shared::web::finish(badges_awards::router(public_app.clone()), &public_app.settings);

    // Each event, in an order that walks the award through its life.
    let steps: &[(&Router, &str, u16)] = &[
        (&awards, "http/awards-get-home.json", 200),
        (&awards, "http/awards-get-issuer.json", 200),
        (&awards, "http/awards-get-badge.json", 200),
        (&awards, "http/awards-get-verify.json", 200),
        (&admin, "http/admin-list-badges.json", 200),
        (&admin, "http/admin-get-badge.json", 200),
        (&admin, "http/admin-create-badge.json", 409),
        (&admin, "http/admin-update-badge.json", 200),
        (&admin, "http/admin-put-badge-image.json", 200),
        (&admin, "http/admin-get-award.json", 200),
        (&admin, "http/admin-list-awards.json", 200),
        (&admin, "http/admin-create-award.json", 201),
        (&admin, "http/admin-import.json", 200),
        (&claim, "http/claim-get.json", 200),
        (&claim, "http/claim-decline.json", 200),
        (&claim, "http/claim-accept.json", 303),
        (&awards, "http/awards-get-assertion.json", 200),
        (&awards, "http/awards-get-badge-png.json", 200),
        (&awards, "http/awards-get-badge-svg.json", 200),
        (&awards, "http/awards-get-credential.json", 200),
        (&awards, "http/awards-get-credential-png.json", 200),
        (&awards, "http/awards-get-status-list.json", 200),
        // The local server's issuer is a did:key, which has no DID document.
        (&awards, "http/awards-get-did.json", 404),
        (&awards, "http/awards-post-verify.json", 200),
        (&awards, "http/awards-get-oembed.json", 200),
        (&awards, "http/awards-get-learner.json", 200),
        (&awards, "http/awards-get-learner-feed.json", 200),
        (&awards, "http/awards-post-visibility.json", 303),
        (&awards, "http/awards-get-oembed.json", 404),
        (&claim, "http/claim-get-resend.json", 200),
        (&claim, "http/claim-post-resend.json", 202),
        (&admin, "http/admin-stats.json", 200),
        (&admin, "http/admin-resend-badge.json", 202),
        (&admin, "http/admin-resend.json", 409),
        (&admin, "http/admin-revoke.json", 200),
        (&claim, "http/claim-get-unsubscribe.json", 200),
        (&claim, "http/claim-post-unsubscribe.json", 200),
    ];
    for &(router, event, expected) in steps {
        let (status, body) = invoke(router, event).await;
        assert_eq!(status, expected, "{event}: {body}");
    }

    let (status, body) = invoke(&awards, "http/awards-get-assertion.json").await;
    assert_eq!(status, 410, "the revoked assertion: {body}");
    let revoked: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(revoked["revoked"], true);
    let (status, body) = invoke(&awards, "http/awards-get-credential.json").await;
    assert_eq!(status, 410, "the revoked credential: {body}");

    // The revocation set the award's bit in the status list.
    let award = app.store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
    let position = award.status_index.expect("the accepted award has a status index");
    assert_eq!(position.list, 1, "the sample status list event asks for list 1");
    let (status, body) = invoke(&awards, "http/awards-get-status-list.json").await;
    assert_eq!(status, 200, "{body}");
    let list = badges_shared::ob3::status_list::read_status_list_credential(&serde_json::from_str(&body).unwrap()).unwrap();
    assert!(list.list.get(position.index).unwrap(), "bit {} is set after the revocation", position.index);

    // Every HTTP sample event was sent above.
    let mut files: Vec<_> = std::fs::read_dir(event_path("http")).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    files.sort();
    let mut stepped: Vec<&str> = steps.iter().map(|(_, event, _)| *event).collect();
    stepped.sort();
    stepped.dedup();
    assert_eq!(files.len(), stepped.len(), "every sample request has a step: {files:?}");
    server.stop().await;
}

/// An app on DynamoDB, S3 and SES in moto, with the demo badge and the
/// sample events' award queued.
pub(crate) async fn aws_app() -> (App, String) {
    let config = moto_config().await;
    let table = random_name("badges-events");
    let bucket = random_name("badges-events");
    badges_shared::adapters::aws::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&config), &table).await.unwrap();
    let s3 = badges_shared::adapters::aws::s3::s3_client(&config);
    badges_shared::adapters::aws::s3::create_bucket(&s3, &bucket).await.unwrap();
    let sender = format!("{}@example.org", random_name("sender"));
    let ses = aws_sdk_sesv2::Client::new(&config);
    badges_shared::adapters::aws::ses::create_sender_identity(&ses, &sender).await.unwrap();

    let resources = badges_shared::aws::Resources {
        table,
        bucket: bucket.clone(),
        image_base_url: format!("{}/{bucket}/images", moto_endpoint()),
    };
    let issuer = badges_shared::domain::Issuer {
        name: "Test Association".into(),
        url: "https://www.example.org".into(),
        email: sender.clone(),
    };
    let settings = badges_shared::settings::Settings::new("https://badges.example.org", issuer);
    let mailer = Arc::new(badges_shared::adapters::aws::ses::SesMailer::new(
        ses,
        badges_shared::adapters::aws::ses::SesSettings { from_address: sender.clone(), configuration_set: None, max_send_rate: 14.0 },
    ));
    let app = badges_shared::aws::app(&config, &resources, settings, mailer);

    let catalogue: badges_shared::service::badges::Catalogue = serde_json::from_str(badges_local::DEMO_CATALOGUE).unwrap();
    badges_shared::service::badges::load_catalogue(&app, &catalogue).await.unwrap();
    app.store.insert_awards(&[event_award(&app)]).await.unwrap();
    (app, sender)
}

/// Counts the messages moto accepted from `sender`.
async fn sent_from(sender: &str) -> usize {
    let data: Value = crate::aws_support::moto_state().await;
    data.to_string().matches(sender).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_event_sends_once() {
    let (app, sender) = aws_app().await;
    let event: DynamoDbEvent = serde_json::from_str(&read_event("dynamodb/award-queued.json")).unwrap();

    let response = badges_notify::handle_stream(&app, &event).await;
    assert!(response.batch_item_failures.is_empty());
    let award = app.store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
    assert_eq!(award.notification, NotificationStatus::Sent);
    assert!(award.message_id.is_some());
    let mentions_after_first = sent_from(&sender).await;
    assert!(mentions_after_first > 0, "moto received the email");

    // Lambda retries the same record: nothing is sent again.
    let response = badges_notify::handle_stream(&app, &event).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(sent_from(&sender).await, mentions_after_first);

    // A batch whose second award does not exist reports no failure.
    let batch: DynamoDbEvent = serde_json::from_str(&read_event("dynamodb/award-queued-batch.json")).unwrap();
    let response = badges_notify::handle_stream(&app, &batch).await;
    assert!(response.batch_item_failures.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_events_update_notification() {
    let (app, _) = aws_app().await;
    let id = AwardId::parse(EVENT_AWARD).unwrap();
    let context = badges_ses_events::Context { store: app.store.as_ref(), clock: &SystemClock };

    let set_sent = |store: Arc<dyn AwardStore>| async move {
        let mut award = store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
        award.notification = NotificationStatus::Sent;
        award.notification_detail = None;
        award.message_id = Some(EVENT_MESSAGE_ID.into());
        store.update_award(&award).await.unwrap();
    };
    let cases = [
        ("sns/ses-delivery.json", NotificationStatus::Delivered, None),
        ("sns/ses-bounce.json", NotificationStatus::Bounced, Some("Permanent bounce (General)")),
        ("sns/ses-complaint.json", NotificationStatus::Complained, Some("complaint (abuse)")),
        ("sns/ses-unknown-type.json", NotificationStatus::Sent, None),
    ];
    for (event_file, expected, detail) in cases {
        set_sent(app.store.clone()).await;
        let event: SnsEvent = serde_json::from_str(&read_event(event_file)).unwrap();
        badges_ses_events::handle_sns(&context, &event).await.unwrap();
        let award = app.store.get_award(&id).await.unwrap().unwrap();
        assert_eq!(award.notification, expected, "{event_file}");
        if let Some(detail) = detail {
            assert_eq!(award.notification_detail.as_deref(), Some(detail), "{event_file}");
        }
    }

    // An event about an older message leaves the award alone.
    set_sent(app.store.clone()).await;
    let mut award = app.store.get_award(&id).await.unwrap().unwrap();
    award.message_id = Some("a-newer-message".into());
    app.store.update_award(&award).await.unwrap();
    let event: SnsEvent = serde_json::from_str(&read_event("sns/ses-bounce.json")).unwrap();
    badges_ses_events::handle_sns(&context, &event).await.unwrap();
    let award = app.store.get_award(&id).await.unwrap().unwrap();
    assert_eq!(award.notification, NotificationStatus::Sent);
}
