//! Notification worker: sends the claim email of each queued award.
//!
//! Taking an award moves its notification from `queued` to `sending` with
//! a versioned write, so two workers (or a retried batch) never send the
//! same notification twice. The claim token is created here, at sending
//! time, and only its hash is stored. The worker also sends the email of
//! each queued resend request (the learner's "Where's my badge?" form).

use aws_lambda_events::event::dynamodb::{Event as DynamoDbEvent, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_dynamo::AttributeValue;

use badges_shared::App;
use badges_shared::domain::{Award, AwardId, AwardStatus, ClaimToken, EmailAddress, NotificationStatus, ResendRequest};
use badges_shared::email::claim_email;
use badges_shared::ports::{MailError, StoreError};
use badges_shared::service::ServiceError;
use badges_shared::service::followup::schedule_reminder;
use badges_shared::service::mail_events::suppression_of;
use badges_shared::service::resend;
use badges_shared::tokens::new_token;

/// Awards taken from the queue per store call.
pub const BATCH_SIZE: usize = 50;

/// What happened to one queued award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent { message_id: String },
    /// Another worker took the award first, or it left the queue.
    Skipped,
    /// The provider throttled or failed; the award is queued again.
    Retry,
    /// The provider rejected the message for good.
    Failed,
    /// The address is suppressed; nothing was sent.
    Suppressed,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the award store failed: {0}")]
    Store(#[from] StoreError),
    #[error("sending a resend email failed: {0}")]
    Resend(#[from] ServiceError),
}

/// Sends every queued notification, in batches, until the queue is empty
/// or a send must be retried later, then the email of every queued resend
/// request. Returns the number of emails sent.
pub async fn drain_queue(app: &App) -> Result<usize, WorkerError> {
    let mut sent = 0;
    loop {
        let batch = app.store.queued_awards(BATCH_SIZE).await?;
        if batch.is_empty() {
            break;
        }
        for award in batch {
            match deliver(app, award).await? {
                Delivery::Sent { .. } => sent += 1,
                // Stop this round: the provider asked us to slow down.
                Delivery::Retry => return Ok(sent),
                Delivery::Skipped | Delivery::Failed | Delivery::Suppressed => {}
            }
        }
    }
    sent += resend::send_queued(app).await?;
    Ok(sent)
}

/// Sends the claim email of one award if it is still queued.
pub async fn deliver(app: &App, award: Award) -> Result<Delivery, WorkerError> {
    if award.notification != NotificationStatus::Queued {
        return Ok(Delivery::Skipped);
    }

    // Take the award: only one worker wins this versioned write.
    let mut taking = award;
    taking.notification = NotificationStatus::Sending;
    taking.updated_at = app.clock.now();
    let taken = match app.store.update_award(&taking).await {
        Ok(taken) => taken,
        Err(StoreError::VersionConflict | StoreError::NotFound) => return Ok(Delivery::Skipped),
        Err(error) => return Err(error.into()),
    };

    match send_taken(app, taken.clone()).await {
        Ok(delivery) => Ok(delivery),
        Err(error) => {
            // Put the award back in the queue so that a later round retries it.
            tracing::error!(award_id = %taken.id, error = %error, "sending failed; award queued again");
            if let Err(requeue) = finish(app, taken, NotificationStatus::Queued, Some("sending failed; retrying".into())).await {
                tracing::error!(error = %requeue, "the award could not be queued again and stays in sending");
            }
            Err(error)
        }
    }
}

/// Sends the claim email of an award this worker has taken.
async fn send_taken(app: &App, taken: Award) -> Result<Delivery, WorkerError> {
    if taken.status == AwardStatus::Revoked || taken.status == AwardStatus::Accepted {
        let detail = format!("not sent: the award is {}", taken.status.as_str());
        finish(app, taken, NotificationStatus::Failed, Some(detail)).await?;
        return Ok(Delivery::Skipped);
    }

    if let Some(suppression) = suppression_of(app.store.as_ref(), &taken.recipient.email).await? {
        tracing::info!(award_id = %taken.id, reason = suppression.reason.as_str(), "claim email not sent: the address is suppressed");
        let detail = format!("not sent: {}", suppression.reason.describe());
        finish(app, taken, NotificationStatus::Suppressed, Some(detail)).await?;
        return Ok(Delivery::Suppressed);
    }

    let Some(badge) = app.store.get_badge(&taken.badge_id).await? else {
        tracing::error!(award_id = %taken.id, badge_id = %taken.badge_id, "award refers to a missing badge");
        finish(app, taken, NotificationStatus::Failed, Some("the badge no longer exists".into())).await?;
        return Ok(Delivery::Failed);
    };

    let now = app.clock.now();
    let (token, token_hash) = new_token(app.random.as_ref());
    app.store
        .add_claim_token(&ClaimToken {
            award_id: taken.id.clone(),
            token_hash,
            created_at: now,
            expires_at: now + app.settings.claim_token_ttl,
        })
        .await?;
    let claim_url = format!("{}/claim/{}?token={token}", app.settings.base_url, taken.id);

    let email = match claim_email(&app.settings, &taken, &badge, &claim_url, &app.random_hex(8)) {
        Ok(email) => email,
        Err(error) => {
            tracing::error!(award_id = %taken.id, error = %error, "claim email could not be built");
            finish(app, taken, NotificationStatus::Failed, Some(error.to_string())).await?;
            return Ok(Delivery::Failed);
        }
    };

    match app.mailer.send(&email).await {
        Ok(message_id) => {
            tracing::info!(award_id = %taken.id, message_id = %message_id, "claim email sent");
            let mut sent = taken;
            sent.first_sent_at.get_or_insert(now);
            sent.message_id = Some(message_id.clone());
            schedule_reminder(&mut sent, &app.settings.mail.reminder_ages);
            finish(app, sent, NotificationStatus::Sent, Some(message_id.clone())).await?;
            app.mailer.message_recorded(&message_id).await;
            Ok(Delivery::Sent { message_id })
        }
        Err(MailError::Rejected(reason)) => {
            tracing::warn!(award_id = %taken.id, reason = %reason, "claim email rejected by the provider");
            finish(app, taken, NotificationStatus::Failed, Some(reason)).await?;
            Ok(Delivery::Failed)
        }
        Err(error) => {
            tracing::warn!(award_id = %taken.id, error = %error, "claim email not sent; queued again");
            finish(app, taken, NotificationStatus::Queued, Some(error.to_string())).await?;
            Ok(Delivery::Retry)
        }
    }
}

/// Records the outcome of a send on the award taken by this worker.
async fn finish(
    app: &App,
    mut award: Award,
    status: NotificationStatus,
    detail: Option<String>,
) -> Result<(), WorkerError> {
    award.notification = status;
    award.notification_detail = detail;
    award.updated_at = app.clock.now();
    match app.store.update_award(&award).await {
        Ok(_) => Ok(()),
        // Someone changed the award meanwhile (a revocation, for example):
        // record the outcome on the fresh copy.
        Err(StoreError::VersionConflict) => {
            let Some(mut fresh) = app.store.get_award(&award.id).await? else { return Ok(()) };
            fresh.notification = award.notification;
            fresh.notification_detail = award.notification_detail;
            fresh.first_sent_at = fresh.first_sent_at.or(award.first_sent_at);
            if award.message_id.is_some() {
                fresh.message_id = award.message_id;
            }
            schedule_reminder(&mut fresh, &app.settings.mail.reminder_ages);
            fresh.updated_at = award.updated_at;
            app.store.update_award(&fresh).await?;
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

/// Handles a batch of the table's stream records: sends the claim email of
/// every award item that is queued, and the email of every queued resend
/// request. Returns the records to retry, so that one failing award does
/// not make Lambda send the whole batch again. `deliver` skips a retried
/// record whose email was already sent, and a retried resend request is no
/// longer queued.
pub async fn handle_stream(app: &App, event: &DynamoDbEvent) -> DynamoDbEventResponse {
    let mut failures = Vec::new();
    for record in &event.records {
        let retry = if let Some(award_id) = queued_award_id(record) {
            let outcome = match app.store.get_award(&award_id).await {
                Ok(Some(award)) => deliver(app, award).await,
                Ok(None) => Ok(Delivery::Skipped),
                Err(error) => Err(WorkerError::Store(error)),
            };
            if let Err(error) = &outcome {
                tracing::error!(award_id = %award_id, error = %error, "stream record failed");
            }
            matches!(outcome, Ok(Delivery::Retry) | Err(_))
        } else if let Some(request) = queued_resend(record) {
            match resend::send_links(app, &request).await {
                Ok(_) => false,
                Err(error) => {
                    tracing::error!(error = %error, "resend stream record failed");
                    true
                }
            }
        } else {
            false
        };
        if retry {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            failures.push(failure);
        }
    }
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failures;
    response
}

/// Returns the request of a stream record whose new image is a queued
/// resend request.
fn queued_resend(record: &EventRecord) -> Option<ResendRequest> {
    let image = &record.change.new_image;
    let text = |name: &str| match image.get(name) {
        Some(AttributeValue::S(value)) => Some(value.as_str()),
        _ => None,
    };
    if text("entity")? != "resend" || text("state")? != "queued" {
        return None;
    }
    let email = EmailAddress::parse(text("email")?).ok()?;
    let requested_at = chrono::DateTime::parse_from_rfc3339(text("requested_at")?).ok()?.with_timezone(&chrono::Utc);
    Some(ResendRequest { email, requested_at })
}

/// Returns the award id of a stream record whose new image is an award
/// item with a queued notification.
fn queued_award_id(record: &EventRecord) -> Option<AwardId> {
    let image = &record.change.new_image;
    let text = |name: &str| match image.get(name) {
        Some(AttributeValue::S(value)) => Some(value.as_str()),
        _ => None,
    };
    if text("entity")? != "award" || text("notification")? != "queued" {
        return None;
    }
    let id = text("pk")?.strip_prefix("AWARD#")?;
    AwardId::parse(id).ok()
}
