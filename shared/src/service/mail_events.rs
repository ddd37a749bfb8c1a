//! Delivery, bounce and complaint events of sent messages: the notification
//! status of the awards a message was about, and the suppression of
//! addresses that bounce permanently or complain.
//!
//! The SES event consumer (`functions/ses-events`) turns SES records into
//! `MailEvent`s, and the local binary's simulated SES mailer builds the same
//! events for the SES mailbox simulator addresses, so both go through
//! `record_mail_event`.

use crate::domain::{Award, AwardId, EmailAddress, NotificationStatus, Suppression, SuppressionReason};
use crate::ports::{AwardQuery, AwardStore, Clock, StoreError};

/// Attempts of a versioned write before an event gives up on an award.
const MAX_ATTEMPTS: usize = 5;
/// Awards read per listing page when an event is matched by address.
const PAGE_SIZE: usize = 200;

/// Kind of a provider event about a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailEventKind {
    Delivery,
    Bounce {
        /// `Permanent`, `Transient` or `Undetermined`, as SES names them.
        bounce_type: String,
        sub_type: Option<String>,
    },
    Complaint {
        feedback_type: Option<String>,
    },
    /// The provider refused to send the message.
    Reject {
        reason: Option<String>,
    },
}

/// One provider event about a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailEvent {
    pub kind: MailEventKind,
    /// Provider message id, as the mailer returned it.
    pub message_id: String,
    /// The award the message names in its tags. `None` for a resend
    /// message about several awards.
    pub award_id: Option<AwardId>,
    /// The recipients the event is about: those that bounced or
    /// complained, or every recipient of a delivery.
    pub recipients: Vec<EmailAddress>,
}

/// Change that an event makes to an award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: NotificationStatus,
    pub detail: Option<String>,
}

/// Result of recording an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailEventOutcome {
    /// Awards whose notification status changed.
    pub awards_updated: usize,
    /// Addresses suppressed by this event that were not suppressed before.
    pub newly_suppressed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum MailEventError {
    #[error("updating award {award_id} failed: {source}")]
    Update { award_id: AwardId, source: StoreError },
    #[error("award {0} kept changing while the event was recorded")]
    Contended(AwardId),
    #[error("the award store failed: {0}")]
    Store(#[from] StoreError),
}

impl MailEventKind {
    /// Returns the change to the notification status of the message's awards.
    pub fn status_change(&self) -> StatusChange {
        match self {
            MailEventKind::Delivery => StatusChange { status: NotificationStatus::Delivered, detail: None },
            MailEventKind::Bounce { bounce_type, sub_type } => {
                let detail = match sub_type {
                    Some(sub_type) => format!("{bounce_type} bounce ({sub_type})"),
                    None => format!("{bounce_type} bounce"),
                };
                StatusChange { status: NotificationStatus::Bounced, detail: Some(detail) }
            }
            MailEventKind::Complaint { feedback_type } => StatusChange {
                status: NotificationStatus::Complained,
                detail: feedback_type.as_ref().map(|kind| format!("complaint ({kind})")),
            },
            MailEventKind::Reject { reason } => StatusChange {
                status: NotificationStatus::Failed,
                detail: Some(format!("rejected by SES: {}", reason.as_deref().unwrap_or("no reason given"))),
            },
        }
    }

    /// Returns why the event suppresses its recipients: a permanent bounce
    /// or a complaint. Transient and undetermined bounces suppress nothing.
    pub fn suppression(&self) -> Option<(SuppressionReason, String)> {
        match self {
            MailEventKind::Bounce { bounce_type, .. } if bounce_type == "Permanent" => {
                Some((SuppressionReason::HardBounce, self.status_change().detail.unwrap_or_default()))
            }
            MailEventKind::Complaint { .. } => Some((
                SuppressionReason::Complaint,
                self.status_change().detail.unwrap_or_else(|| "complaint".to_owned()),
            )),
            _ => None,
        }
    }
}

/// Returns the suppression record of an address, if it has one.
pub async fn suppression_of(store: &dyn AwardStore, email: &EmailAddress) -> Result<Option<Suppression>, StoreError> {
    Ok(store.suppressions(std::slice::from_ref(email)).await?.into_iter().next())
}

/// Records one event: suppresses its recipients when it is a permanent
/// bounce or a complaint, then updates the notification status of every
/// award whose latest message is this one. Events about older messages
/// than an award's latest change nothing on that award, but still suppress.
pub async fn record_mail_event(
    store: &dyn AwardStore,
    clock: &dyn Clock,
    event: &MailEvent,
) -> Result<MailEventOutcome, MailEventError> {
    let mut outcome = MailEventOutcome::default();
    if let Some((reason, detail)) = event.kind.suppression() {
        for email in &event.recipients {
            let suppression =
                Suppression { email: email.clone(), reason, detail: Some(detail.clone()), created_at: clock.now() };
            if store.add_suppression(&suppression).await? {
                outcome.newly_suppressed += 1;
            }
        }
        if outcome.newly_suppressed > 0 {
            tracing::info!(
                message_id = %event.message_id,
                reason = reason.as_str(),
                addresses = outcome.newly_suppressed,
                "addresses suppressed"
            );
        }
    }

    let change = event.kind.status_change();
    let award_ids = match &event.award_id {
        Some(award_id) => vec![award_id.clone()],
        None => awards_with_message(store, event).await?,
    };
    if award_ids.is_empty() {
        tracing::info!(message_id = %event.message_id, "no award has this message as its latest; event not recorded on an award");
    }
    for award_id in award_ids {
        if apply_to_award(store, clock, &award_id, &event.message_id, &change).await? {
            outcome.awards_updated += 1;
        }
    }
    Ok(outcome)
}

/// Returns the awards of the event's recipients whose latest message is
/// the event's message.
async fn awards_with_message(store: &dyn AwardStore, event: &MailEvent) -> Result<Vec<AwardId>, StoreError> {
    let mut found = Vec::new();
    for email in &event.recipients {
        let mut cursor = None;
        loop {
            let query = AwardQuery {
                badge_id: None,
                email: Some(email.clone()),
                status: None,
                notification: None,
                limit: PAGE_SIZE,
                cursor,
                now: chrono::Utc::now(),
            };
            let page = store.list_awards(&query).await?;
            found.extend(
                page.items
                    .into_iter()
                    .filter(|award| award.message_id.as_deref() == Some(event.message_id.as_str()))
                    .map(|award| award.id),
            );
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(found)
}

/// Applies the change to one award when the message is its latest.
/// Returns whether the award changed.
async fn apply_to_award(
    store: &dyn AwardStore,
    clock: &dyn Clock,
    award_id: &AwardId,
    message_id: &str,
    change: &StatusChange,
) -> Result<bool, MailEventError> {
    let failed = |source| MailEventError::Update { award_id: award_id.clone(), source };
    for _ in 0..MAX_ATTEMPTS {
        let Some(mut award) = store.get_award(award_id).await.map_err(failed)? else {
            tracing::warn!(award_id = %award_id, message_id, "mail event for an unknown award ignored");
            return Ok(false);
        };
        if award.message_id.as_deref() != Some(message_id) {
            tracing::info!(award_id = %award_id, message_id, "mail event for an older message ignored");
            return Ok(false);
        }
        if !apply(&mut award, change) {
            return Ok(false);
        }
        award.updated_at = clock.now();
        match store.update_award(&award).await {
            Ok(award) => {
                tracing::info!(award_id = %award_id, message_id, notification = award.notification.as_str(), "mail event recorded");
                return Ok(true);
            }
            Err(StoreError::VersionConflict) => continue,
            Err(source) => return Err(failed(source)),
        }
    }
    Err(MailEventError::Contended(award_id.clone()))
}

/// Applies a change unless it would hide a worse outcome: a bounce or a
/// complaint is never replaced by a later delivery event of the same
/// message. Returns whether the award changed.
fn apply(award: &mut Award, change: &StatusChange) -> bool {
    let keeps_worse = matches!(award.notification, NotificationStatus::Bounced | NotificationStatus::Complained)
        && change.status == NotificationStatus::Delivered;
    if keeps_worse {
        return false;
    }
    award.notification = change.status;
    if change.detail.is_some() {
        award.notification_detail = change.detail.clone();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounce(bounce_type: &str, sub_type: Option<&str>) -> MailEventKind {
        MailEventKind::Bounce { bounce_type: bounce_type.into(), sub_type: sub_type.map(str::to_owned) }
    }

    #[test]
    fn permanent_bounces_and_complaints_suppress() {
        let permanent = bounce("Permanent", Some("General")).suppression();
        assert_eq!(permanent, Some((SuppressionReason::HardBounce, "Permanent bounce (General)".to_owned())));
        let complaint = MailEventKind::Complaint { feedback_type: Some("abuse".into()) }.suppression();
        assert_eq!(complaint, Some((SuppressionReason::Complaint, "complaint (abuse)".to_owned())));
    }

    #[test]
    fn soft_bounces_and_deliveries_do_not_suppress() {
        assert_eq!(bounce("Transient", Some("MailboxFull")).suppression(), None);
        assert_eq!(bounce("Undetermined", None).suppression(), None);
        assert_eq!(MailEventKind::Delivery.suppression(), None);
        assert_eq!(MailEventKind::Reject { reason: None }.suppression(), None);
    }
}
