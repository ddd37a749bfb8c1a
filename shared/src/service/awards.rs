//! Awards: create one, list, revoke and queue a resend.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::app::App;
use crate::domain::{Award, AwardId, AwardStatus, BadgeClass, BadgeId, EmailAddress, NotificationStatus, Recipient};
use crate::openbadges::is_http_url;
use crate::ports::{Inserted, StoreError};
use crate::service::ServiceError;

pub const MAX_RECIPIENT_NAME_CHARS: usize = 200;
pub const MAX_SESSION_CHARS: usize = 120;
pub const MAX_EVIDENCE_CHARS: usize = 2000;
pub const MAX_REVOCATION_REASON_CHARS: usize = 500;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientInput {
    pub email: String,
    #[serde(default)]
    pub name: String,
}

/// One award as staff request it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwardInput {
    pub badge_id: String,
    pub recipient: RecipientInput,
    #[serde(default)]
    pub session: Option<String>,
    /// A URL, or a narrative of what the recipient did.
    #[serde(default)]
    pub evidence: Option<String>,
    #[serde(default)]
    pub issued_on: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expires_on: Option<DateTime<Utc>>,
}

/// Validates a session label: trimmed, at most 120 characters, no control characters.
pub fn session_label(raw: Option<&str>) -> Result<String, ServiceError> {
    let session = raw.unwrap_or("").trim();
    if session.chars().count() > MAX_SESSION_CHARS {
        return Err(ServiceError::invalid("session", format!("session is longer than {MAX_SESSION_CHARS} characters")));
    }
    if session.chars().any(char::is_control) {
        return Err(ServiceError::invalid("session", "session must not contain control characters"));
    }
    Ok(session.to_owned())
}

/// Validates a recipient name: trimmed, at most 200 characters, no control characters.
pub fn recipient_name(raw: &str, field: &str) -> Result<String, ServiceError> {
    let name = raw.trim();
    if name.chars().count() > MAX_RECIPIENT_NAME_CHARS {
        return Err(ServiceError::invalid(field, format!("{field} is longer than {MAX_RECIPIENT_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(field, format!("{field} must not contain control characters")));
    }
    Ok(name.to_owned())
}

/// Builds a new pending award, queued for its claim email.
pub fn new_award(
    app: &App,
    badge: &BadgeClass,
    recipient: Recipient,
    session: String,
    evidence: Option<String>,
    issued_on: DateTime<Utc>,
    expires_on: Option<DateTime<Utc>>,
) -> Award {
    let now = app.clock.now();
    let expires_on = expires_on.or_else(|| {
        badge.expires_after_days.map(|days| issued_on + Duration::days(i64::from(days)))
    });
    Award {
        id: app.new_award_id(),
        badge_id: badge.id.clone(),
        recipient,
        session,
        evidence,
        issued_on,
        expires_on,
        salt: app.random_hex(16),
        status: AwardStatus::Pending,
        revocation_reason: None,
        public: true,
        notification: NotificationStatus::Queued,
        notification_detail: None,
        message_id: None,
        first_sent_at: None,
        responded_at: None,
        reminders_sent: 0,
        last_reminder_at: None,
        next_reminder_at: None,
        survey_due_at: None,
        survey_invited_at: None,
        status_index: None,
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

/// Creates one award, or returns the existing one for the same badge,
/// recipient and session.
pub async fn create_award(app: &App, input: &AwardInput) -> Result<Inserted, ServiceError> {
    let badge_id = BadgeId::parse(&input.badge_id).map_err(|error| ServiceError::invalid("badge_id", error.to_string()))?;
    let email = EmailAddress::parse(&input.recipient.email)
        .map_err(|error| ServiceError::invalid("recipient.email", error.to_string()))?;
    let name = recipient_name(&input.recipient.name, "recipient.name")?;
    let session = session_label(input.session.as_deref())?;
    let evidence = input.evidence.as_deref().map(str::trim).filter(|text| !text.is_empty()).map(str::to_owned);
    if let Some(evidence) = &evidence {
        if evidence.chars().count() > MAX_EVIDENCE_CHARS {
            return Err(ServiceError::invalid("evidence", format!("evidence is longer than {MAX_EVIDENCE_CHARS} characters")));
        }
        if evidence.contains("://") && !is_http_url(evidence) {
            return Err(ServiceError::invalid("evidence", "evidence must be an http(s) URL or a plain-text narrative"));
        }
    }
    let issued_on = input.issued_on.unwrap_or_else(|| app.clock.now());
    if let Some(expires_on) = input.expires_on {
        if expires_on <= issued_on {
            return Err(ServiceError::invalid("expires_on", "expires_on must be later than issued_on"));
        }
    }

    let badge = app
        .store
        .get_badge(&badge_id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("no badge has id {:?}", badge_id.as_str()), Some("badge_id")))?;
    let award = new_award(app, &badge, Recipient { email, name }, session, evidence, issued_on, input.expires_on);

    let outcome = app
        .store
        .insert_awards(std::slice::from_ref(&award))
        .await?
        .pop()
        .ok_or_else(|| ServiceError::Internal("the store returned no outcome for the insert".into()))?;
    if let Inserted::Created(award) = &outcome {
        tracing::info!(award_id = %award.id, badge_id = %award.badge_id, "award created");
        app.notify_queued.notify_one();
    }
    Ok(outcome)
}

pub async fn load_award(app: &App, id: &AwardId) -> Result<Award, ServiceError> {
    app.store
        .get_award(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("no award has id {:?}", id.as_str()), None))
}

/// Applies `change` to the stored award, retrying when another request
/// changed it in between.
pub async fn modify_award<F>(app: &App, id: &AwardId, mut change: F) -> Result<Award, ServiceError>
where
    F: FnMut(&mut Award) -> Result<(), ServiceError> + Send,
{
    for _ in 0..5 {
        let mut award = load_award(app, id).await?;
        change(&mut award)?;
        award.updated_at = app.clock.now();
        match app.store.update_award(&award).await {
            Ok(updated) => return Ok(updated),
            Err(StoreError::VersionConflict) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ServiceError::Conflict {
        code: "concurrent_update",
        message: "the award is being changed by other requests; try again".into(),
    })
}

pub async fn revoke_award(app: &App, id: &AwardId, reason: &str) -> Result<Award, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid("reason", "reason is required: it is shown to anyone who checks the badge"));
    }
    if reason.chars().count() > MAX_REVOCATION_REASON_CHARS {
        return Err(ServiceError::invalid("reason", format!("reason is longer than {MAX_REVOCATION_REASON_CHARS} characters")));
    }
    let award = modify_award(app, id, |award| {
        award.status = AwardStatus::Revoked;
        award.revocation_reason = Some(reason.to_owned());
        Ok(())
    })
    .await?;
    // Verifiers of the Open Badges 3.0 credential learn of the revocation
    // from its status list. Revoking again sets the bit again, so a retry
    // after a failure here completes the revocation.
    if let Some(position) = award.status_index {
        app.store.revoke_status_index(position).await?;
    }
    // The public image URLs must stop serving the badge too.
    for kind in [crate::domain::ImageKind::Png, crate::domain::ImageKind::Svg] {
        app.images.delete(&crate::openbadges::baked_image_key(id, kind)).await?;
    }
    tracing::info!(award_id = %award.id, badge_id = %award.badge_id, "award revoked");
    Ok(award)
}

/// Queues a new claim email for a pending or declined award whose address
/// is not suppressed.
pub async fn queue_resend(app: &App, id: &AwardId) -> Result<Award, ServiceError> {
    let current = load_award(app, id).await?;
    if let Some(suppression) = crate::service::mail_events::suppression_of(app.store.as_ref(), &current.recipient.email).await? {
        return Err(ServiceError::Conflict {
            code: "suppressed",
            message: format!(
                "mail to this address is suppressed since {}: {}",
                suppression.created_at.format("%Y-%m-%d"),
                suppression.reason.describe()
            ),
        });
    }
    let award = modify_award(app, id, |award| match award.status {
        AwardStatus::Accepted => Err(ServiceError::Conflict {
            code: "already_accepted",
            message: "the recipient has already accepted this award; there is nothing to claim".into(),
        }),
        AwardStatus::Revoked => Err(ServiceError::Conflict {
            code: "revoked",
            message: "the award is revoked; a claim email cannot be sent".into(),
        }),
        AwardStatus::Pending | AwardStatus::Declined => {
            award.notification = NotificationStatus::Queued;
            award.notification_detail = None;
            Ok(())
        }
    })
    .await?;
    tracing::info!(award_id = %award.id, "claim email queued again");
    app.notify_queued.notify_one();
    Ok(award)
}
