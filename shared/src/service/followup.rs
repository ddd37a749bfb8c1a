//! Emails that follow the claim email, sent by a scheduled job: at most
//! one reminder per configured age for an unclaimed award, and one
//! follow-up survey invitation for an accepted award of a badge that has
//! a survey.
//!
//! Each award stores when its next follow-up is due (`next_reminder_at`,
//! `survey_due_at`), and the stores index awards by that time, so a run
//! reads only the awards that are due. A run takes each award with a
//! versioned write before it sends, so two runs never send the same
//! follow-up, and it never sends to a suppressed address.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::app::App;
use crate::domain::{Award, AwardId, AwardStatus, BadgeClass, BadgeId, ClaimToken, EmailAddress, FollowUp, NotificationStatus};
use crate::email::{Reminder, SurveyInvitation, reminder_email, survey_email};
use crate::ports::{AwardQuery, MailError, StatusFilter, StoreError};
use crate::service::ServiceError;
use crate::service::awards::modify_award;
use crate::service::mail_events::suppression_of;
use crate::service::unsubscribe;
use crate::tokens::new_token;

/// Due awards read per store call.
const BATCH: usize = 50;

/// One follow-up email sent by a run.
#[derive(Debug, Clone, Serialize)]
pub struct SentFollowUp {
    pub award_id: AwardId,
    pub badge_id: BadgeId,
    pub email: EmailAddress,
    /// Number of the reminder, 1 or 2; `None` for a survey invitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminder: Option<u32>,
    pub message_id: String,
}

/// Summary of one run of the job.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpReport {
    /// The time the run compared due times with.
    pub now: DateTime<Utc>,
    pub reminders: Vec<SentFollowUp>,
    pub surveys: Vec<SentFollowUp>,
    /// Due follow-ups not sent, because the address is suppressed, the
    /// award changed, or the badge no longer has a survey.
    pub skipped: usize,
    /// Follow-ups that the mail provider rejected for good.
    pub failed: usize,
    /// The provider throttled or failed, or the run ran out of time, and
    /// the rest waits for the next run.
    pub stopped_early: bool,
}

impl FollowUpReport {
    fn new(now: DateTime<Utc>) -> Self {
        Self { now, reminders: Vec::new(), surveys: Vec::new(), skipped: 0, failed: 0, stopped_early: false }
    }

    /// Describes the run in lines for an operator's console.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for sent in &self.reminders {
            lines.push(format!(
                "reminder {} sent to {} for award {} ({})",
                sent.reminder.unwrap_or(0),
                sent.email,
                sent.award_id,
                sent.badge_id
            ));
        }
        for sent in &self.surveys {
            lines.push(format!("survey invitation sent to {} for award {} ({})", sent.email, sent.award_id, sent.badge_id));
        }
        lines.push(format!(
            "{} reminders and {} survey invitations sent at {}; {} skipped, {} failed{}",
            self.reminders.len(),
            self.surveys.len(),
            self.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            self.skipped,
            self.failed,
            if self.stopped_early { "; the run stopped early, and the rest waits for the next run" } else { "" }
        ));
        lines
    }
}

/// Outcome of one due follow-up.
enum Outcome {
    Sent(SentFollowUp),
    Skipped,
    Failed,
    /// The provider throttled or failed; the follow-up is due again.
    Retry,
}

/// Returns when the next reminder of an award is due under `ages`, or
/// `None` when none is left. Reminder `n` is due at the `n`-th age after
/// the first successful send, and never sooner after the previous reminder
/// than the gap between the two ages, so a late run does not send two
/// reminders in a row.
pub fn next_reminder_due(award: &Award, ages: &[Duration]) -> Option<DateTime<Utc>> {
    if award.status != AwardStatus::Pending {
        return None;
    }
    let first_sent = award.first_sent_at?;
    let done = award.reminders_sent as usize;
    let age = *ages.get(done)?;
    let mut due = first_sent + age;
    if let (Some(previous_age), Some(last)) = (done.checked_sub(1).and_then(|index| ages.get(index)), award.last_reminder_at) {
        due = due.max(last + (age - *previous_age));
    }
    Some(due)
}

/// Sets `next_reminder_at` from the award's current state.
pub fn schedule_reminder(award: &mut Award, ages: &[Duration]) {
    award.next_reminder_at = next_reminder_due(award, ages);
}

/// Returns when the survey invitation of an award is due: the badge's
/// delay after acceptance, for an accepted award not yet invited to a
/// badge that has a survey.
pub fn survey_due(award: &Award, badge: &BadgeClass) -> Option<DateTime<Utc>> {
    let accepted = award.status == AwardStatus::Accepted && award.survey_invited_at.is_none();
    if !accepted || badge.survey_url.is_none() {
        return None;
    }
    let accepted_at = award.responded_at.unwrap_or(award.updated_at);
    Some(accepted_at + Duration::days(i64::from(badge.survey_delay_days.unwrap_or(0))))
}

/// Sets `survey_due_at` from the award's current state and its badge.
pub fn schedule_survey(award: &mut Award, badge: &BadgeClass) {
    award.survey_due_at = survey_due(award, badge);
}

/// Reschedules the survey invitation of every accepted award of a badge
/// whose survey or delay changed, so that a survey added later reaches the
/// recipients who accepted before.
pub async fn reschedule_surveys(app: &App, badge: &BadgeClass) -> Result<usize, ServiceError> {
    let mut changed = 0;
    let mut cursor = None;
    loop {
        let query = AwardQuery {
            badge_id: Some(badge.id.clone()),
            email: None,
            status: Some(StatusFilter::Is(AwardStatus::Accepted)),
            notification: None,
            limit: 200,
            cursor,
            now: app.clock.now(),
        };
        let page = app.store.list_awards(&query).await?;
        for award in &page.items {
            if award.survey_due_at != survey_due(award, badge) {
                modify_award(app, &award.id, |award| {
                    schedule_survey(award, badge);
                    Ok(())
                })
                .await?;
                changed += 1;
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // Expired accepted awards are left out of the accepted listing above,
    // so a survey added later does not reach them.
    if changed > 0 {
        tracing::info!(badge_id = %badge.id, awards = changed, "survey invitations rescheduled");
    }
    Ok(changed)
}

/// Sends every reminder and survey invitation due at `now`.
pub async fn run_follow_ups(app: &App, now: DateTime<Utc>) -> Result<FollowUpReport, ServiceError> {
    run_follow_ups_until(app, now, None).await
}

/// Sends every reminder and survey invitation due at `now`, and starts no
/// new one after `stop_by`, so that a run with a time limit (a Lambda
/// invocation) ends between two emails rather than in the middle of one.
pub async fn run_follow_ups_until(
    app: &App,
    now: DateTime<Utc>,
    stop_by: Option<std::time::Instant>,
) -> Result<FollowUpReport, ServiceError> {
    let mut report = FollowUpReport::new(now);
    for kind in [FollowUp::Reminder, FollowUp::Survey] {
        let mut seen: HashSet<AwardId> = HashSet::new();
        loop {
            // Awards handled in this run can still be listed for a moment
            // (DynamoDB indexes are eventually consistent), so ask for
            // enough to reach the ones not seen yet.
            let due = app.store.due_follow_ups(kind, now, seen.len() + BATCH).await?;
            let fresh: Vec<Award> = due.into_iter().filter(|award| seen.insert(award.id.clone())).collect();
            if fresh.is_empty() {
                break;
            }
            for award in fresh {
                if stop_by.is_some_and(|stop_by| std::time::Instant::now() >= stop_by) {
                    tracing::warn!("follow-up run out of time; the rest waits for the next run");
                    report.stopped_early = true;
                    return Ok(report);
                }
                let outcome = match kind {
                    FollowUp::Reminder => send_reminder(app, award, now).await?,
                    FollowUp::Survey => send_survey(app, award, now).await?,
                };
                match outcome {
                    Outcome::Sent(sent) if kind == FollowUp::Reminder => report.reminders.push(sent),
                    Outcome::Sent(sent) => report.surveys.push(sent),
                    Outcome::Skipped => report.skipped += 1,
                    Outcome::Failed => report.failed += 1,
                    Outcome::Retry => {
                        report.stopped_early = true;
                        return Ok(report);
                    }
                }
            }
        }
    }
    tracing::info!(
        reminders = report.reminders.len(),
        surveys = report.surveys.len(),
        skipped = report.skipped,
        failed = report.failed,
        "follow-up run finished"
    );
    Ok(report)
}

/// Writes `change` on the award as it was read, once. Another writer that
/// changed the award first wins, and the next run reads the result.
async fn update_once(app: &App, award: &Award, change: impl FnOnce(&mut Award)) -> Result<Option<Award>, ServiceError> {
    let mut updated = award.clone();
    change(&mut updated);
    updated.updated_at = app.clock.now();
    match app.store.update_award(&updated).await {
        Ok(stored) => Ok(Some(stored)),
        Err(StoreError::VersionConflict | StoreError::NotFound) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

async fn send_reminder(app: &App, award: Award, now: DateTime<Utc>) -> Result<Outcome, ServiceError> {
    let ages = app.settings.mail.reminder_ages.clone();
    let due = next_reminder_due(&award, &ages);
    match due {
        None => {
            update_once(app, &award, |award| award.next_reminder_at = None).await?;
            return Ok(Outcome::Skipped);
        }
        // The ages changed since the award was scheduled.
        Some(due) if due > now => {
            update_once(app, &award, |award| award.next_reminder_at = Some(due)).await?;
            return Ok(Outcome::Skipped);
        }
        Some(_) => {}
    }
    // Only a claim email that went out (and did not bounce) is reminded of.
    let sendable = matches!(award.notification, NotificationStatus::Sent | NotificationStatus::Delivered);
    if !sendable || suppression_of(app.store.as_ref(), &award.recipient.email).await?.is_some() {
        update_once(app, &award, |award| award.next_reminder_at = None).await?;
        return Ok(Outcome::Skipped);
    }
    let Some(badge) = app.store.get_badge(&award.badge_id).await? else {
        tracing::error!(award_id = %award.id, badge_id = %award.badge_id, "award refers to a missing badge; no reminder");
        update_once(app, &award, |award| award.next_reminder_at = None).await?;
        return Ok(Outcome::Skipped);
    };

    // Take the reminder before sending: a second run loses this write.
    let number = award.reminders_sent + 1;
    let previous_reminder_at = award.last_reminder_at;
    let taken = update_once(app, &award, |award| {
        award.reminders_sent = number;
        award.last_reminder_at = Some(now);
        schedule_reminder(award, &ages);
    })
    .await?;
    let Some(taken) = taken else { return Ok(Outcome::Skipped) };

    let (token, token_hash) = new_token(app.random.as_ref());
    app.store
        .add_claim_token(&ClaimToken {
            award_id: taken.id.clone(),
            token_hash,
            created_at: now,
            expires_at: now + app.settings.claim_token_ttl,
        })
        .await?;
    let claim_url = app.settings.url(&format!("/claim/{}?token={token}", taken.id));
    let key = unsubscribe::signing_key(app).await?;
    let unsubscribe_url = unsubscribe::url(app, &key, &taken);
    let reminder = Reminder {
        award: &taken,
        badge: &badge,
        claim_url: &claim_url,
        last: taken.next_reminder_at.is_none(),
        unsubscribe_url: &unsubscribe_url,
    };
    let email = match reminder_email(&app.settings, &reminder, &app.random_hex(8)) {
        Ok(email) => email,
        Err(error) => {
            tracing::error!(award_id = %taken.id, error = %error, "reminder could not be built");
            return Ok(Outcome::Failed);
        }
    };

    match app.mailer.send(&email).await {
        Ok(message_id) => {
            // The reminder is now the award's latest message, which SES
            // events are matched with.
            modify_award(app, &taken.id, |award| {
                award.message_id = Some(message_id.clone());
                award.notification = NotificationStatus::Sent;
                award.notification_detail = Some(message_id.clone());
                Ok(())
            })
            .await?;
            app.mailer.message_recorded(&message_id).await;
            tracing::info!(award_id = %taken.id, reminder = number, message_id = %message_id, "reminder sent");
            Ok(Outcome::Sent(SentFollowUp {
                award_id: taken.id.clone(),
                badge_id: taken.badge_id.clone(),
                email: taken.recipient.email.clone(),
                reminder: Some(number),
                message_id,
            }))
        }
        Err(MailError::Rejected(reason)) => {
            tracing::warn!(award_id = %taken.id, reminder = number, reason = %reason, "reminder rejected by the provider");
            Ok(Outcome::Failed)
        }
        Err(error) => {
            tracing::warn!(award_id = %taken.id, reminder = number, error = %error, "reminder not sent; due again at the next run");
            modify_award(app, &taken.id, |award| {
                if award.reminders_sent == number {
                    award.reminders_sent = number - 1;
                    award.last_reminder_at = previous_reminder_at;
                    award.next_reminder_at = Some(now);
                }
                Ok(())
            })
            .await?;
            Ok(Outcome::Retry)
        }
    }
}

async fn send_survey(app: &App, award: Award, now: DateTime<Utc>) -> Result<Outcome, ServiceError> {
    let badge = app.store.get_badge(&award.badge_id).await?;
    let due = badge.as_ref().and_then(|badge| survey_due(&award, badge));
    let (Some(badge), Some(due)) = (badge, due) else {
        update_once(app, &award, |award| award.survey_due_at = None).await?;
        return Ok(Outcome::Skipped);
    };
    if due > now {
        update_once(app, &award, |award| award.survey_due_at = Some(due)).await?;
        return Ok(Outcome::Skipped);
    }
    if suppression_of(app.store.as_ref(), &award.recipient.email).await?.is_some() {
        update_once(app, &award, |award| award.survey_due_at = None).await?;
        return Ok(Outcome::Skipped);
    }
    let Some(survey_url) = badge.survey_url.clone() else { return Ok(Outcome::Skipped) };

    // Take the invitation before sending: a second run loses this write.
    let taken = update_once(app, &award, |award| {
        award.survey_invited_at = Some(now);
        award.survey_due_at = None;
    })
    .await?;
    let Some(taken) = taken else { return Ok(Outcome::Skipped) };

    let key = unsubscribe::signing_key(app).await?;
    let unsubscribe_url = unsubscribe::url(app, &key, &taken);
    let invitation = SurveyInvitation { award: &taken, badge: &badge, survey_url: &survey_url, unsubscribe_url: &unsubscribe_url };
    let email = match survey_email(&app.settings, &invitation, &app.random_hex(8)) {
        Ok(email) => email,
        Err(error) => {
            tracing::error!(award_id = %taken.id, error = %error, "survey invitation could not be built");
            return Ok(Outcome::Failed);
        }
    };

    match app.mailer.send(&email).await {
        Ok(message_id) => {
            // The invitation does not replace the claim email as the
            // award's latest message, so its events only suppress.
            app.mailer.message_recorded(&message_id).await;
            tracing::info!(award_id = %taken.id, message_id = %message_id, "survey invitation sent");
            Ok(Outcome::Sent(SentFollowUp {
                award_id: taken.id.clone(),
                badge_id: taken.badge_id.clone(),
                email: taken.recipient.email.clone(),
                reminder: None,
                message_id,
            }))
        }
        Err(MailError::Rejected(reason)) => {
            tracing::warn!(award_id = %taken.id, reason = %reason, "survey invitation rejected by the provider");
            Ok(Outcome::Failed)
        }
        Err(error) => {
            tracing::warn!(award_id = %taken.id, error = %error, "survey invitation not sent; due again at the next run");
            modify_award(app, &taken.id, |award| {
                if award.survey_invited_at == Some(now) {
                    award.survey_invited_at = None;
                    award.survey_due_at = Some(now);
                }
                Ok(())
            })
            .await?;
            Ok(Outcome::Retry)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn award_sent_at(first_sent: DateTime<Utc>) -> Award {
        serde_json::from_value(serde_json::json!({
            "id": "abcdefghijklmnopqrstuvwxyz",
            "badge_id": "webinar",
            "recipient": { "email": "ada@example.org", "name": "Ada" },
            "session": "",
            "issued_on": first_sent,
            "salt": "00",
            "status": "pending",
            "notification": "sent",
            "first_sent_at": first_sent,
            "created_at": first_sent,
            "updated_at": first_sent,
            "version": 1,
        }))
        .unwrap()
    }

    fn ages() -> Vec<Duration> {
        vec![Duration::days(7), Duration::days(30)]
    }

    #[test]
    fn reminders_are_due_at_each_age() {
        let sent = Utc::now();
        let mut award = award_sent_at(sent);
        assert_eq!(next_reminder_due(&award, &ages()), Some(sent + Duration::days(7)));

        award.reminders_sent = 1;
        award.last_reminder_at = Some(sent + Duration::days(7));
        assert_eq!(next_reminder_due(&award, &ages()), Some(sent + Duration::days(30)));

        award.reminders_sent = 2;
        assert_eq!(next_reminder_due(&award, &ages()), None, "never a third");
    }

    #[test]
    fn late_first_reminder_delays_the_second() {
        let sent = Utc::now();
        let mut award = award_sent_at(sent);
        award.reminders_sent = 1;
        award.last_reminder_at = Some(sent + Duration::days(40));
        assert_eq!(next_reminder_due(&award, &ages()), Some(sent + Duration::days(63)));
    }

    #[test]
    fn no_reminder_without_send_or_answer() {
        let mut award = award_sent_at(Utc::now());
        award.first_sent_at = None;
        assert_eq!(next_reminder_due(&award, &ages()), None);
        let mut accepted = award_sent_at(Utc::now());
        accepted.status = AwardStatus::Accepted;
        assert_eq!(next_reminder_due(&accepted, &ages()), None);
        assert_eq!(next_reminder_due(&award_sent_at(Utc::now()), &[]), None);
    }
}
