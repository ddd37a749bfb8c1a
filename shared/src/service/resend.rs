//! New claim links on request: the learner's "Where's my badge?" form, and
//! the staff resend of every pending award of a badge.
//!
//! A learner's request is queued in the store and gets the same response
//! whether or not the address has awards, so the form cannot be used to
//! find out who has badges. The store opens a resend window per address at
//! the same time, and a request while the window is open queues nothing,
//! so an address gets at most one email per interval. The sender (the
//! notification worker) takes each queued request and sends one email
//! with a new claim link for every pending award of the address.

use std::collections::HashMap;

use serde::Serialize;

use crate::app::App;
use crate::domain::{Award, AwardStatus, BadgeClass, BadgeId, ClaimToken, EmailAddress, NotificationStatus, ResendRequest};
use crate::email::{ResendItem, resend_email};
use crate::ports::{AwardQuery, MailError, StatusFilter};
use crate::service::ServiceError;
use crate::service::awards::modify_award;
use crate::service::followup::schedule_reminder;
use crate::service::mail_events::suppression_of;
use crate::tokens::new_token;

/// Most awards listed in one resend email. Older awards beyond it wait
/// for the next request.
pub const MAX_AWARDS_PER_EMAIL: usize = 50;
/// Queued requests read per store call.
const BATCH: usize = 50;

/// Queues a learner's request for new claim links of `raw_email`, unless
/// the address's resend window is still open. Returns the same for a known
/// and an unknown address; only an address that is not well formed is an
/// error.
pub async fn request_links(app: &App, raw_email: &str) -> Result<(), ServiceError> {
    let email = EmailAddress::parse(raw_email).map_err(|error| ServiceError::invalid("email", error.to_string()))?;
    let now = app.clock.now();
    let request = ResendRequest { email, requested_at: now };
    let queued = app.store.request_resend(&request, now + app.settings.mail.resend_interval).await?;
    if queued {
        app.notify_queued.notify_one();
    }
    // The address is not logged: it is personal data, and the log would
    // show which addresses asked.
    tracing::info!(queued, "resend requested");
    Ok(())
}

/// Outcome of one queued request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResendOutcome {
    /// One email with this many claim links was sent.
    Sent { awards: usize, message_id: String },
    /// The address has no pending award, is suppressed, or another sender
    /// took the request first.
    NothingSent,
    /// The provider throttled or failed; the request is dropped and the
    /// learner can ask again once the window has ended.
    Failed,
}

/// Sends the email of every queued request. Returns the number of emails
/// sent; stops early when the provider throttles.
pub async fn send_queued(app: &App) -> Result<usize, ServiceError> {
    let mut sent = 0;
    loop {
        let batch = app.store.queued_resends(BATCH).await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        let mut progress = false;
        for request in batch {
            match send_links(app, &request).await? {
                ResendOutcome::Sent { .. } => {
                    sent += 1;
                    progress = true;
                }
                ResendOutcome::NothingSent => progress = true,
                ResendOutcome::Failed => return Ok(sent),
            }
        }
        if !progress {
            return Ok(sent);
        }
    }
}

/// Takes one request and sends its email.
pub async fn send_links(app: &App, request: &ResendRequest) -> Result<ResendOutcome, ServiceError> {
    if !app.store.take_resend(request).await? {
        return Ok(ResendOutcome::NothingSent);
    }
    if let Some(suppression) = suppression_of(app.store.as_ref(), &request.email).await? {
        tracing::info!(reason = suppression.reason.as_str(), "resend not sent: the address is suppressed");
        return Ok(ResendOutcome::NothingSent);
    }
    let awards = pending_awards(app, &request.email).await?;
    if awards.is_empty() {
        tracing::info!("resend not sent: the address has no pending award");
        return Ok(ResendOutcome::NothingSent);
    }

    let mut badges: HashMap<BadgeId, BadgeClass> = HashMap::new();
    for award in &awards {
        if !badges.contains_key(&award.badge_id) {
            if let Some(badge) = app.store.get_badge(&award.badge_id).await? {
                badges.insert(badge.id.clone(), badge);
            }
        }
    }
    let now = app.clock.now();
    let mut items = Vec::with_capacity(awards.len());
    for award in &awards {
        let Some(badge) = badges.get(&award.badge_id) else {
            tracing::error!(award_id = %award.id, badge_id = %award.badge_id, "award refers to a missing badge; left out of the resend");
            continue;
        };
        let (token, token_hash) = new_token(app.random.as_ref());
        app.store
            .add_claim_token(&ClaimToken {
                award_id: award.id.clone(),
                token_hash,
                created_at: now,
                expires_at: now + app.settings.claim_token_ttl,
            })
            .await?;
        let claim_url = app.settings.url(&format!("/claim/{}?token={token}", award.id));
        items.push(ResendItem { award, badge, claim_url });
    }
    if items.is_empty() {
        return Ok(ResendOutcome::NothingSent);
    }

    let email = resend_email(&app.settings, &request.email, &items, &app.random_hex(8)).map_err(ServiceError::internal)?;
    let message_id = match app.mailer.send(&email).await {
        Ok(message_id) => message_id,
        Err(MailError::Rejected(reason)) => {
            tracing::warn!(reason = %reason, "resend email rejected by the provider");
            return Ok(ResendOutcome::Failed);
        }
        Err(error) => {
            tracing::warn!(error = %error, "resend email not sent");
            return Ok(ResendOutcome::Failed);
        }
    };

    // The message is now the latest claim email of each award it lists.
    let ages = app.settings.mail.reminder_ages.clone();
    for item in &items {
        modify_award(app, &item.award.id, |award| {
            award.message_id = Some(message_id.clone());
            // An award that a worker is sending keeps that status, and the
            // worker records its own outcome.
            if award.notification != NotificationStatus::Sending {
                award.notification = NotificationStatus::Sent;
                award.notification_detail = Some(message_id.clone());
            }
            award.first_sent_at.get_or_insert(now);
            schedule_reminder(award, &ages);
            Ok(())
        })
        .await?;
    }
    app.mailer.message_recorded(&message_id).await;
    tracing::info!(awards = items.len(), message_id = %message_id, "resend email sent");
    Ok(ResendOutcome::Sent { awards: items.len(), message_id })
}

/// Returns the pending, unexpired awards of an address, oldest first, at
/// most `MAX_AWARDS_PER_EMAIL`.
async fn pending_awards(app: &App, email: &EmailAddress) -> Result<Vec<Award>, ServiceError> {
    let query = AwardQuery {
        badge_id: None,
        email: Some(email.clone()),
        status: Some(StatusFilter::Is(AwardStatus::Pending)),
        notification: None,
        limit: MAX_AWARDS_PER_EMAIL,
        cursor: None,
        now: app.clock.now(),
    };
    Ok(app.store.list_awards(&query).await?.items)
}

/// Result of a staff resend of every pending award of a badge.
#[derive(Debug, Clone, Serialize)]
pub struct BadgeResend {
    pub badge_id: BadgeId,
    /// Awards queued for a new claim email.
    pub queued: usize,
    /// Awards already waiting for their claim email.
    pub already_queued: usize,
    /// Awards whose address is suppressed; nothing is sent to them.
    pub suppressed: usize,
}

/// Queues a new claim email for every pending, unexpired award of a badge,
/// except awards already queued and awards whose address is suppressed.
pub async fn resend_badge(app: &App, badge_id: &BadgeId) -> Result<BadgeResend, ServiceError> {
    crate::service::badges::load_badge(app, badge_id).await?;
    let mut report = BadgeResend { badge_id: badge_id.clone(), queued: 0, already_queued: 0, suppressed: 0 };
    let mut cursor = None;
    loop {
        let query = AwardQuery {
            badge_id: Some(badge_id.clone()),
            email: None,
            status: Some(StatusFilter::Is(AwardStatus::Pending)),
            notification: None,
            limit: 200,
            cursor,
            now: app.clock.now(),
        };
        let page = app.store.list_awards(&query).await?;
        let emails: Vec<EmailAddress> = page.items.iter().map(|award| award.recipient.email.clone()).collect();
        let suppressed: Vec<EmailAddress> =
            app.store.suppressions(&emails).await?.into_iter().map(|suppression| suppression.email).collect();
        for award in &page.items {
            if suppressed.contains(&award.recipient.email) {
                report.suppressed += 1;
                continue;
            }
            if matches!(award.notification, NotificationStatus::Queued | NotificationStatus::Sending) {
                report.already_queued += 1;
                continue;
            }
            let queued = modify_award(app, &award.id, |award| {
                if award.status != AwardStatus::Pending {
                    return Err(ServiceError::Conflict { code: "not_pending", message: "the award was accepted, declined or revoked meanwhile".into() });
                }
                award.notification = NotificationStatus::Queued;
                award.notification_detail = None;
                Ok(())
            })
            .await;
            match queued {
                Ok(_) => report.queued += 1,
                // Accepted, declined or revoked since it was listed.
                Err(ServiceError::Conflict { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if report.queued > 0 {
        app.notify_queued.notify_one();
    }
    tracing::info!(
        badge_id = %badge_id,
        queued = report.queued,
        already_queued = report.already_queued,
        suppressed = report.suppressed,
        "claim emails of the badge queued again"
    );
    Ok(report)
}
