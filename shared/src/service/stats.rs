//! Counts of one badge's awards for staff: by status, by notification
//! status, and the claim rate.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::app::App;
use crate::domain::{AwardStatus, BadgeId, NotificationStatus};
use crate::ports::AwardQuery;
use crate::service::ServiceError;

/// Awards read per listing page.
const PAGE_SIZE: usize = 200;

/// The statuses shown to people, `expired` included, in listing order.
const DISPLAY_STATUSES: [&str; 5] = ["pending", "accepted", "declined", "revoked", "expired"];

#[derive(Debug, Clone, Serialize)]
pub struct BadgeStats {
    pub badge_id: BadgeId,
    pub total: usize,
    /// Awards by the status shown to people: pending, accepted, declined,
    /// revoked, or expired for a pending or accepted award past its expiry.
    pub by_status: BTreeMap<&'static str, usize>,
    /// Awards by notification status, every status listed.
    pub by_notification: BTreeMap<&'static str, usize>,
    /// Awards whose claim email was sent successfully at least once.
    pub notified: usize,
    /// Notified awards whose stored status is accepted, expired ones
    /// included.
    pub claimed: usize,
    /// `claimed / notified`, or `None` when nothing was notified.
    pub claim_rate: Option<f64>,
    /// Reminders sent, over all awards.
    pub reminders_sent: u64,
    /// Awards whose recipient was invited to the follow-up survey.
    pub survey_invitations: usize,
}

/// Counts the awards of a badge. Reads every award of the badge, one
/// listing page of 200 at a time.
pub async fn badge_stats(app: &App, badge_id: &BadgeId) -> Result<BadgeStats, ServiceError> {
    crate::service::badges::load_badge(app, badge_id).await?;
    let now = app.clock.now();
    let mut stats = BadgeStats {
        badge_id: badge_id.clone(),
        total: 0,
        by_status: DISPLAY_STATUSES.iter().map(|status| (*status, 0)).collect(),
        by_notification: NotificationStatus::ALL.iter().map(|status| (status.as_str(), 0)).collect(),
        notified: 0,
        claimed: 0,
        claim_rate: None,
        reminders_sent: 0,
        survey_invitations: 0,
    };
    let mut cursor = None;
    loop {
        let query = AwardQuery {
            badge_id: Some(badge_id.clone()),
            email: None,
            status: None,
            notification: None,
            limit: PAGE_SIZE,
            cursor,
            now,
        };
        let page = app.store.list_awards(&query).await?;
        for award in &page.items {
            stats.total += 1;
            *stats.by_status.entry(award.display_status(now)).or_default() += 1;
            *stats.by_notification.entry(award.notification.as_str()).or_default() += 1;
            if award.first_sent_at.is_some() {
                stats.notified += 1;
                if award.status == AwardStatus::Accepted {
                    stats.claimed += 1;
                }
            }
            stats.reminders_sent += u64::from(award.reminders_sent);
            if award.survey_invited_at.is_some() {
                stats.survey_invitations += 1;
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    stats.claim_rate = (stats.notified > 0).then(|| stats.claimed as f64 / stats.notified as f64);
    Ok(stats)
}
