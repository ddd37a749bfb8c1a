//! The mail sample events in `events/` through their Lambda handlers on
//! the AWS emulator. The ses-events consumer gets the SES bounce,
//! complaint, delivery and unknown events, the notify stream handler a
//! queued resend request, and the reminders function the schedule.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sns::SnsEvent;
use badges_shared::App;
use badges_shared::domain::{AwardId, EmailAddress, NotificationStatus, ResendRequest, SuppressionReason};
use badges_shared::ports::{MailError, Mailer, OutgoingEmail, SystemClock};
use chrono::{Duration, Utc};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::lambda_events::{EVENT_AWARD, EVENT_MESSAGE_ID, read_event};

const EVENT_EMAIL: &str = "learner.one@example.org";

/// Counts the messages that SES (in moto) accepted through this app.
/// Reading moto's whole data dump instead gets slow as tests add to it.
struct CountingMailer {
    inner: Arc<dyn Mailer>,
    sent: AtomicUsize,
}

#[async_trait::async_trait]
impl Mailer for CountingMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let message_id = self.inner.send(email).await?;
        self.sent.fetch_add(1, Ordering::SeqCst);
        Ok(message_id)
    }
}

/// Builds the sample events' app on moto, with a count of the messages it sends.
async fn aws_app() -> (App, Arc<CountingMailer>) {
    let (mut app, _) = crate::lambda_events::aws_app().await;
    let counter = Arc::new(CountingMailer { inner: app.mailer.clone(), sent: AtomicUsize::new(0) });
    app.mailer = counter.clone();
    (app, counter)
}

fn sent_from(counter: &CountingMailer) -> usize {
    counter.sent.load(Ordering::SeqCst)
}

fn event_email() -> EmailAddress {
    EmailAddress::parse(EVENT_EMAIL).unwrap()
}

/// Marks the sample award pending with its claim email sent as the sample
/// SES events' message.
async fn mark_sent(app: &App) {
    let mut award = app.store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
    award.notification = NotificationStatus::Sent;
    award.notification_detail = None;
    award.message_id = Some(EVENT_MESSAGE_ID.into());
    award.first_sent_at = Some(Utc::now());
    app.store.update_award(&award).await.unwrap();
}

async fn handle(app: &App, event_file: &str) {
    let context = badges_ses_events::Context { store: app.store.as_ref(), clock: &SystemClock };
    let event: SnsEvent = serde_json::from_str(&read_event(event_file)).unwrap();
    badges_ses_events::handle_sns(&context, &event).await.expect("the batch succeeds");
}

async fn suppression_reason(app: &App) -> Option<SuppressionReason> {
    app.store.suppressions(&[event_email()]).await.unwrap().first().map(|record| record.reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_bounce_event_suppresses_mail() {
    let (app, sender) = aws_app().await;
    mark_sent(&app).await;

    // A delivery and an unknown event type suppress nothing and fail nothing.
    handle(&app, "sns/ses-delivery.json").await;
    handle(&app, "sns/ses-unknown-type.json").await;
    assert_eq!(suppression_reason(&app).await, None);

    // WHEN SES reports a hard bounce.
    handle(&app, "sns/ses-bounce.json").await;

    // THEN the award records it and the address is suppressed.
    let id = AwardId::parse(EVENT_AWARD).unwrap();
    let award = app.store.get_award(&id).await.unwrap().unwrap();
    assert_eq!(award.notification, NotificationStatus::Bounced);
    assert_eq!(suppression_reason(&app).await, Some(SuppressionReason::HardBounce));

    // AND a resend queued afterwards is not sent, and the detail gives the reason.
    let mut queued = award.clone();
    queued.notification = NotificationStatus::Queued;
    app.store.update_award(&queued).await.unwrap();
    let before = sent_from(&sender);
    let stream: DynamoDbEvent = serde_json::from_str(&read_event("dynamodb/award-queued.json")).unwrap();
    let response = badges_notify::handle_stream(&app, &stream).await;
    assert!(response.batch_item_failures.is_empty());
    let award = app.store.get_award(&id).await.unwrap().unwrap();
    assert_eq!(award.notification, NotificationStatus::Suppressed);
    assert!(award.notification_detail.as_deref().unwrap().contains("bounced permanently"), "{:?}", award.notification_detail);
    assert_eq!(sent_from(&sender), before, "SES received nothing");

    // AND a later complaint keeps the first reason.
    handle(&app, "sns/ses-complaint.json").await;
    assert_eq!(suppression_reason(&app).await, Some(SuppressionReason::HardBounce));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_complaint_event_suppresses_mail() {
    let (app, _) = aws_app().await;
    mark_sent(&app).await;
    handle(&app, "sns/ses-complaint.json").await;

    let award = app.store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
    assert_eq!(award.notification, NotificationStatus::Complained);
    assert_eq!(suppression_reason(&app).await, Some(SuppressionReason::Complaint));

    // A delivery event of the same message arriving late does not hide it.
    handle(&app, "sns/ses-delivery.json").await;
    let award = app.store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
    assert_eq!(award.notification, NotificationStatus::Complained);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_events_skip_bad_records() {
    let (app, _) = aws_app().await;
    mark_sent(&app).await;

    // A batch with a message that is not an SES event, one without any
    // award or recipient, and the bounce: only the bounce is recorded.
    let mut batch: Value = serde_json::from_str(&read_event("sns/ses-bounce.json")).unwrap();
    let bounce = batch["Records"][0].clone();
    let mut not_ses = bounce.clone();
    not_ses["Sns"]["Message"] = Value::String("this is not JSON".into());
    let mut anonymous = bounce.clone();
    let mut message: Value = serde_json::from_str(bounce["Sns"]["Message"].as_str().unwrap()).unwrap();
    message["mail"]["tags"].as_object_mut().unwrap().remove("award_id");
    message["mail"]["destination"] = Value::Array(vec![]);
    message["bounce"]["bouncedRecipients"] = Value::Array(vec![]);
    anonymous["Sns"]["Message"] = Value::String(message.to_string());
    batch["Records"] = Value::Array(vec![not_ses, anonymous, bounce]);
    let event: SnsEvent = serde_json::from_value(batch).unwrap();
    let context = badges_ses_events::Context { store: app.store.as_ref(), clock: &SystemClock };
    badges_ses_events::handle_sns(&context, &event).await.expect("bad records do not fail the batch");

    let award = app.store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
    assert_eq!(award.notification, NotificationStatus::Bounced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ses_event_of_resend_matched_by_recipient() {
    let (app, _) = aws_app().await;
    mark_sent(&app).await;
    // A second award of the same recipient, listed in the same resend email.
    let badge = app.store.get_badge(&badges_shared::domain::BadgeId::parse("fundamentals-cataloging").unwrap()).await.unwrap().unwrap();
    let mut second = badges_shared::service::awards::new_award(
        &app,
        &badge,
        badges_shared::domain::Recipient { email: event_email(), name: "Learner One".into() },
        String::new(),
        None,
        Utc::now(),
        None,
    );
    second.notification = NotificationStatus::Sent;
    second.message_id = Some(EVENT_MESSAGE_ID.into());
    app.store.insert_awards(std::slice::from_ref(&second)).await.unwrap();

    // The resend email names no award: its events carry no award_id tag.
    let mut event: Value = serde_json::from_str(&read_event("sns/ses-delivery.json")).unwrap();
    let mut message: Value = serde_json::from_str(event["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
    message["mail"]["tags"].as_object_mut().unwrap().remove("award_id");
    event["Records"][0]["Sns"]["Message"] = Value::String(message.to_string());
    let event: SnsEvent = serde_json::from_value(event).unwrap();
    let context = badges_ses_events::Context { store: app.store.as_ref(), clock: &SystemClock };
    badges_ses_events::handle_sns(&context, &event).await.unwrap();

    for id in [AwardId::parse(EVENT_AWARD).unwrap(), second.id.clone()] {
        let award = app.store.get_award(&id).await.unwrap().unwrap();
        assert_eq!(award.notification, NotificationStatus::Delivered, "award {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_stream_event_sends_links() {
    let (app, sender) = aws_app().await;
    mark_sent(&app).await;
    // The request of the sample stream record, queued in the table.
    let requested_at = chrono::DateTime::parse_from_rfc3339("2026-11-18T19:45:00Z").unwrap().with_timezone(&Utc);
    let request = ResendRequest { email: event_email(), requested_at };
    assert!(app.store.request_resend(&request, requested_at + Duration::minutes(15)).await.unwrap());
    let before = sent_from(&sender);

    let stream: DynamoDbEvent = serde_json::from_str(&read_event("dynamodb/resend-queued.json")).unwrap();
    let response = badges_notify::handle_stream(&app, &stream).await;
    assert!(response.batch_item_failures.is_empty());
    let after_first = sent_from(&sender);
    assert!(after_first > before, "SES received the resend email");
    let award = app.store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
    assert_ne!(award.message_id.as_deref(), Some(EVENT_MESSAGE_ID), "the resend is the latest message");
    assert_eq!(app.store.claim_tokens(&award.id).await.unwrap().len(), 1, "a new claim token");

    // Lambda delivers the record again: nothing more is sent.
    let response = badges_notify::handle_stream(&app, &stream).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(sent_from(&sender), after_first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_event_sends_due_reminders() {
    let (app, sender) = aws_app().await;
    let mut award = app.store.get_award(&AwardId::parse(EVENT_AWARD).unwrap()).await.unwrap().unwrap();
    award.notification = NotificationStatus::Sent;
    award.message_id = Some(EVENT_MESSAGE_ID.into());
    award.first_sent_at = Some(Utc::now() - Duration::days(8));
    badges_shared::service::followup::schedule_reminder(&mut award, &app.settings.mail.reminder_ages);
    app.store.update_award(&award).await.unwrap();
    let before = sent_from(&sender);

    let event: EventBridgeEvent = serde_json::from_str(&read_event("schedule/reminders.json")).unwrap();

    // An invocation out of time starts no email.
    let summary = badges_reminders::handle_schedule(&app, &event, Some(std::time::Instant::now())).await.unwrap();
    assert_eq!(summary.reminders, 0, "{summary:?}");
    assert!(summary.stopped_early);
    assert_eq!(sent_from(&sender), before);

    let summary = badges_reminders::handle_schedule(&app, &event, None).await.unwrap();
    assert_eq!(summary.reminders, 1, "{summary:?}");
    assert_eq!(summary.surveys, 0);
    let after = sent_from(&sender);
    assert!(after > before, "SES received the reminder");
    let award = app.store.get_award(&award.id).await.unwrap().unwrap();
    assert_eq!(award.reminders_sent, 1);

    // A retried or overlapping invocation sends nothing more.
    let summary = badges_reminders::handle_schedule(&app, &event, None).await.unwrap();
    assert_eq!(summary.reminders, 0, "{summary:?}");
    assert_eq!(sent_from(&sender), after);
}
