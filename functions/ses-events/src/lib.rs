//! SES event consumer: records delivery, bounce and complaint on the award
//! whose claim email the event is about, and suppresses addresses that
//! bounce permanently or complain.
//!
//! SES publishes events of the configuration set to an SNS topic. Each
//! event names the message id and carries the `award_id` tag that the SES
//! mailer set, so the award is found without an index on message ids. A
//! resend message about several awards has no such tag, and its awards are
//! found among the recipient's awards by message id. The recording itself
//! is `badges_shared::service::mail_events`, which the local binary's
//! simulated SES events use too.

use std::collections::HashMap;

use aws_lambda_events::event::sns::SnsEvent;
use serde::Deserialize;

use badges_shared::domain::{AwardId, EmailAddress};
use badges_shared::ports::{AwardStore, Clock};
use badges_shared::service::mail_events::{MailEvent, MailEventKind, record_mail_event};

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
    /// Envelope recipients of the message.
    #[serde(default)]
    pub destination: Vec<String>,
    #[serde(default)]
    pub tags: HashMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bounce {
    pub bounce_type: String,
    #[serde(default)]
    pub bounce_sub_type: Option<String>,
    #[serde(default)]
    pub bounced_recipients: Vec<Recipient>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Complaint {
    #[serde(default)]
    pub complaint_feedback_type: Option<String>,
    #[serde(default)]
    pub complained_recipients: Vec<Recipient>,
}

/// A recipient named by a bounce or complaint.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub email_address: String,
}

#[derive(Debug, Deserialize)]
pub struct Reject {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Failure to record an event; Lambda retries the invocation.
pub use badges_shared::service::mail_events::MailEventError as EventError;

/// The ports the consumer needs.
pub struct Context<'a> {
    pub store: &'a dyn AwardStore,
    pub clock: &'a dyn Clock,
}

/// Turns an SES record into the event that the shared service records, or
/// returns `None` for event types that change nothing (Send, Open, Click,
/// DeliveryDelay, …).
pub fn mail_event(event: &SesEvent) -> Option<MailEvent> {
    let (kind, affected) = match event.event_type.as_str() {
        "Delivery" => (MailEventKind::Delivery, Vec::new()),
        "Bounce" => {
            let bounce = event.bounce.as_ref();
            let kind = MailEventKind::Bounce {
                bounce_type: bounce.map_or_else(|| "Undetermined".to_owned(), |bounce| bounce.bounce_type.clone()),
                sub_type: bounce.and_then(|bounce| bounce.bounce_sub_type.clone()),
            };
            let affected = bounce.map(|bounce| bounce.bounced_recipients.iter().map(|r| r.email_address.as_str()).collect());
            (kind, affected.unwrap_or_default())
        }
        "Complaint" => {
            let complaint = event.complaint.as_ref();
            let kind = MailEventKind::Complaint {
                feedback_type: complaint.and_then(|complaint| complaint.complaint_feedback_type.clone()),
            };
            let affected =
                complaint.map(|complaint| complaint.complained_recipients.iter().map(|r| r.email_address.as_str()).collect());
            (kind, affected.unwrap_or_default())
        }
        "Reject" => (
            MailEventKind::Reject { reason: event.reject.as_ref().and_then(|reject| reject.reason.clone()) },
            Vec::new(),
        ),
        _ => return None,
    };
    // The recipients named by the bounce or complaint, else every
    // destination of the message. Addresses SES reports in another form,
    // such as with a display name, are left out.
    let named: Vec<&str> = if affected.is_empty() { event.mail.destination.iter().map(String::as_str).collect() } else { affected };
    let recipients = named.into_iter().filter_map(|raw| EmailAddress::parse(raw).ok()).collect();
    let award_id = event.mail.tags.get("award_id").and_then(|values| values.first()).and_then(|raw| AwardId::parse(raw).ok());
    Some(MailEvent { kind, message_id: event.mail.message_id.clone(), award_id, recipients })
}

/// Records one SES event. Event types that change nothing, and events for
/// unknown awards or for an older message than the award's latest one, are
/// logged and ignored.
pub async fn record_event(context: &Context<'_>, event: &SesEvent) -> Result<(), EventError> {
    let Some(mail_event) = mail_event(event) else {
        tracing::info!(event_type = %event.event_type, message_id = %event.mail.message_id, "SES event type ignored");
        return Ok(());
    };
    if mail_event.award_id.is_none() && mail_event.recipients.is_empty() {
        tracing::warn!(event_type = %event.event_type, message_id = %event.mail.message_id, "SES event without an award_id tag or recipients ignored");
        return Ok(());
    }
    record_mail_event(context.store, context.clock, &mail_event).await?;
    Ok(())
}

/// Handles an SNS delivery of SES events. A message that is not an SES
/// event is logged and skipped, so one bad record does not fail the batch.
/// A store failure fails the invocation, so that Lambda retries it.
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
