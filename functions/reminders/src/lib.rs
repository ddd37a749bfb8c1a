//! Scheduled job: sends the reminders of unclaimed awards and the survey
//! invitations of accepted awards that are due. An EventBridge schedule
//! invokes it on AWS; `badges-local` runs the same job on a timer and as
//! `badges-local run reminders`.

use std::time::{Duration, Instant};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::Serialize;

use badges_shared::App;
use badges_shared::service::ServiceError;
use badges_shared::service::followup::{FollowUpReport, run_follow_ups_until};

/// Counts of one run. The result of the invocation carries no addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub reminders: usize,
    pub surveys: usize,
    pub skipped: usize,
    pub failed: usize,
    /// The provider throttled or failed, and the rest waits for the next run.
    pub stopped_early: bool,
}

impl From<&FollowUpReport> for RunSummary {
    fn from(report: &FollowUpReport) -> Self {
        Self {
            reminders: report.reminders.len(),
            surveys: report.surveys.len(),
            skipped: report.skipped,
            failed: report.failed,
            stopped_early: report.stopped_early,
        }
    }
}

/// Time kept free before the invocation's deadline: no new email starts
/// later, so that the one in flight can finish and be recorded.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(30);

/// Handles one scheduled event: sends everything due at the clock's time,
/// starting no email after `stop_by`. A store failure fails the
/// invocation. A run that Lambda retries skips what the failed run already
/// sent, because each follow-up is taken with a versioned write before it
/// is sent.
pub async fn handle_schedule(
    app: &App,
    event: &EventBridgeEvent,
    stop_by: Option<Instant>,
) -> Result<RunSummary, ServiceError> {
    let now = app.clock.now();
    tracing::info!(detail_type = %event.detail_type, scheduled_time = ?event.time, "follow-up run started");
    let report = run_follow_ups_until(app, now, stop_by).await?;
    let summary = RunSummary::from(&report);
    if report.stopped_early {
        tracing::warn!(?summary, "follow-up run stopped early; the rest waits for the next run");
    }
    Ok(summary)
}

/// Returns when a run must stop starting emails: `DEADLINE_MARGIN` before
/// the invocation's deadline, given in milliseconds since the Unix epoch.
pub fn stop_by(deadline_epoch_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    let remaining = Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
    Instant::now() + remaining.saturating_sub(DEADLINE_MARGIN)
}
