//! SES event consumer: records delivery, bounce and complaint on the award
//! whose claim email the event is about.
//!
//! SES publishes events of the configuration set to an SNS topic. Each
//! event names the message id and carries the `award_id` tag that the SES
//! mailer set, so the award is found without an index on message ids.

use std::collections::HashMap;

use aws_lambda_events::event::sns::SnsEvent;
use serde::Deserialize;

use badges_shared::domain::{Award, AwardId, NotificationStatus};
use badges_shared::ports::{AwardStore, Clock, StoreError};

/// The fields of an SES event-publishing record that are used here.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SesEvent {
    /// Bounce, Complaint, Delivery, Send, Reject, Open, Click, …
    #[serde(alias = "notificationType")]
    pub event_type: String,
    pub mail: Mail,
    #[serde(default)]
    pub bounce: Option<Bounce>,
    #[serde(default)]
    pub complaint: Option<Complaint>,
    #[serde(default)]
    pub reject: Option<Reject>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mail {
    pub message_id: String,
    #[serde(default)]
    pub tags: HashMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bounce {
    pub bounce_type: String,
    #[serde(default)]
    pub bounce_sub_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Complaint {
    #[serde(default)]
    pub complaint_feedback_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Reject {
    #[serde(default)]
    pub reason: Option<String>,
}

/// What an event changes on an award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: NotificationStatus,
    pub detail: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("updating award {award_id} failed: {source}")]
    Update { award_id: AwardId, source: StoreError },
    #[error("award {0} kept changing while the event was recorded")]
    Contended(AwardId),
}

/// The ports the consumer needs.
pub struct Context<'a> {
    pub store: &'a dyn AwardStore,
    pub clock: &'a dyn Clock,
}

/// Returns the change an event makes, or `None` for event types that do
/// not change the notification status (Send, Open, Click, …).
pub fn status_change(event: &SesEvent) -> Option<StatusChange> {
    match event.event_type.as_str() {
        "Delivery" => Some(StatusChange { status: NotificationStatus::Delivered, detail: None }),
        "Bounce" => {
            let detail = event.bounce.as_ref().map(|bounce| match &bounce.bounce_sub_type {
                Some(sub_type) => format!("{} bounce ({sub_type})", bounce.bounce_type),
                None => format!("{} bounce", bounce.bounce_type),
            });
            Some(StatusChange { status: NotificationStatus::Bounced, detail })
        }
        "Complaint" => {
            let detail = event
                .complaint
                .as_ref()
                .and_then(|complaint| complaint.complaint_feedback_type.clone())
                .map(|kind| format!("complaint ({kind})"));
            Some(StatusChange { status: NotificationStatus::Complained, detail })
        }
        "Reject" => {
            let reason = event.reject.as_ref().and_then(|reject| reject.reason.clone());
            Some(StatusChange {
                status: NotificationStatus::Failed,
                detail: Some(format!("rejected by SES: {}", reason.unwrap_or_else(|| "no reason given".into()))),
            })
        }
        _ => None,
    }
}

/// Applies a change unless it would hide a worse outcome: a bounce or a
/// complaint is never replaced by a later delivery event of the same message.
fn apply(award: &mut Award, change: &StatusChange) {
    let keeps_worse = matches!(award.notification, NotificationStatus::Bounced | NotificationStatus::Complained)
        && change.status == NotificationStatus::Delivered;
    if keeps_worse {
        return;
    }
    award.notification = change.status;
    if change.detail.is_some() {
        award.notification_detail = change.detail.clone();
    }
}

/// Records one SES event. Events for unknown awards or for an older message
/// than the award's latest one are logged and ignored.
pub async fn record_event(context: &Context<'_>, event: &SesEvent) -> Result<(), EventError> {
    let Some(change) = status_change(event) else {
        tracing::info!(event_type = %event.event_type, message_id = %event.mail.message_id, "SES event type ignored");
        return Ok(());
    };
    let Some(award_id) = event
        .mail
        .tags
        .get("award_id")
        .and_then(|values| values.first())
        .and_then(|raw| AwardId::parse(raw).ok())
    else {
        tracing::warn!(event_type = %event.event_type, message_id = %event.mail.message_id, "SES event without an award_id tag ignored");
        return Ok(());
    };

    let message_id = event.mail.message_id.as_str();
    let failed = |source| EventError::Update { award_id: award_id.clone(), source };
    for _ in 0..5 {
        let Some(mut award) = context.store.get_award(&award_id).await.map_err(failed)? else {
            tracing::warn!(award_id = %award_id, message_id, "SES event for an unknown award ignored");
            return Ok(());
        };
        if award.message_id.as_deref() != Some(message_id) {
            tracing::info!(award_id = %award_id, message_id, "SES event for an older message ignored");
            return Ok(());
        }
        apply(&mut award, &change);
        award.updated_at = context.clock.now();
        match context.store.update_award(&award).await {
            Ok(award) => {
                tracing::info!(award_id = %award_id, message_id, notification = award.notification.as_str(), "SES event recorded");
                return Ok(());
            }
            Err(StoreError::VersionConflict) => continue,
            Err(source) => return Err(failed(source)),
        }
    }
    Err(EventError::Contended(award_id))
}

/// Handles an SNS delivery of SES events. A message that is not an SES
/// event is logged and skipped; a store failure fails the invocation so
/// that Lambda retries it.
pub async fn handle_sns(context: &Context<'_>, event: &SnsEvent) -> Result<(), EventError> {
    for record in &event.records {
        match serde_json::from_str::<SesEvent>(&record.sns.message) {
            Ok(ses_event) => record_event(context, &ses_event).await?,
            Err(error) => {
                tracing::warn!(sns_message_id = %record.sns.message_id, error = %error, "SNS message is not an SES event; skipped");
            }
        }
    }
    Ok(())
}
