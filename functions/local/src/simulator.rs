//! SES mailbox simulator addresses for the local binary.
//!
//! SES responds to mail sent to `success@`, `bounce@`, `complaint@` and
//! `suppressionlist@simulator.amazonses.com` (with an optional `+label`
//! before the `@`) with a delivery, a hard bounce, a complaint or an
//! account suppression-list bounce event. This mailer wraps the outbox
//! mailer and records the same events through the code that handles SES
//! events on AWS, so the whole delivery lifecycle, suppression included,
//! can be tried without AWS. Mail to other addresses gets no event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use badges_shared::domain::EmailAddress;
use badges_shared::ports::{AwardStore, Clock, MailError, Mailer, OutgoingEmail};
use badges_shared::service::mail_events::{MailEvent, MailEventKind, record_mail_event};

/// Domain of the SES mailbox simulator.
pub const SIMULATOR_DOMAIN: &str = "simulator.amazonses.com";

/// Returns the events SES reports for a message to `to`, in order.
pub fn simulated_events(to: &EmailAddress) -> Vec<MailEventKind> {
    let Some((local, domain)) = to.as_str().split_once('@') else { return Vec::new() };
    if domain != SIMULATOR_DOMAIN {
        return Vec::new();
    }
    let mailbox = local.split('+').next().unwrap_or(local);
    let permanent = |sub_type: &str| MailEventKind::Bounce {
        bounce_type: "Permanent".to_owned(),
        sub_type: Some(sub_type.to_owned()),
    };
    match mailbox {
        "success" => vec![MailEventKind::Delivery],
        "bounce" => vec![permanent("General")],
        // The receiving server accepts the message, then the recipient
        // reports it as spam.
        "complaint" => {
            vec![MailEventKind::Delivery, MailEventKind::Complaint { feedback_type: Some("abuse".to_owned()) }]
        }
        "suppressionlist" => vec![permanent("OnAccountSuppressionList")],
        _ => Vec::new(),
    }
}

/// Mailer that sends through `inner` and records the simulated events of
/// each message once its sender has stored the message id on its awards.
pub struct SimulatedSesEvents {
    inner: Arc<dyn Mailer>,
    store: Arc<dyn AwardStore>,
    clock: Arc<dyn Clock>,
    /// Events of sent messages, by message id, until the sender reports
    /// that it recorded the message.
    pending: Mutex<HashMap<String, Vec<MailEvent>>>,
}

impl SimulatedSesEvents {
    pub fn new(inner: Arc<dyn Mailer>, store: Arc<dyn AwardStore>, clock: Arc<dyn Clock>) -> Self {
        Self { inner, store, clock, pending: Mutex::new(HashMap::new()) }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<MailEvent>>> {
        // The map contains plain values, so a panic elsewhere cannot leave
        // it half updated.
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl Mailer for SimulatedSesEvents {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let message_id = self.inner.send(email).await?;
        let events: Vec<MailEvent> = simulated_events(&email.to)
            .into_iter()
            .map(|kind| MailEvent {
                kind,
                message_id: message_id.clone(),
                award_id: email.award_id.clone(),
                recipients: vec![email.to.clone()],
            })
            .collect();
        if !events.is_empty() {
            self.pending().insert(message_id.clone(), events);
        }
        Ok(message_id)
    }

    async fn message_recorded(&self, message_id: &str) {
        let events = self.pending().remove(message_id).unwrap_or_default();
        for event in events {
            if let Err(error) = record_mail_event(self.store.as_ref(), self.clock.as_ref(), &event).await {
                tracing::error!(message_id, error = %error, "recording a simulated SES event failed");
            }
        }
        self.inner.message_recorded(message_id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(address: &str) -> Vec<MailEventKind> {
        simulated_events(&EmailAddress::parse(address).unwrap())
    }

    #[test]
    fn simulator_addresses_map_to_events() {
        assert_eq!(events("success@simulator.amazonses.com"), vec![MailEventKind::Delivery]);
        assert!(matches!(events("bounce+award1@simulator.amazonses.com")[..], [MailEventKind::Bounce { .. }]));
        assert!(matches!(
            events("complaint@simulator.amazonses.com")[..],
            [MailEventKind::Delivery, MailEventKind::Complaint { .. }]
        ));
        let suppressed = events("suppressionlist@simulator.amazonses.com");
        assert_eq!(
            suppressed,
            vec![MailEventKind::Bounce {
                bounce_type: "Permanent".into(),
                sub_type: Some("OnAccountSuppressionList".into())
            }]
        );
    }

    #[test]
    fn other_addresses_get_no_event() {
        assert!(events("learner@example.org").is_empty());
        assert!(events("ooto@simulator.amazonses.com").is_empty());
        assert!(events("success@example.org").is_empty());
    }
}
