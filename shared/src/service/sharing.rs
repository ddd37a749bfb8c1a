//! Sharing use cases: an owner's privacy choice, and the public awards of
//! a learner.

use crate::app::App;
use crate::domain::{Award, AwardId, AwardStatus, BadgeClass, EmailAddress};
use crate::ports::{AwardQuery, StatusFilter};
use crate::service::ServiceError;
use crate::service::awards::modify_award;

/// Most awards listed on one learner page or feed, newest first.
pub const MAX_LEARNER_AWARDS: usize = 500;

/// Makes an accepted award public or private. Only accepted awards have
/// this choice: a revoked award answers 409 `revoked`, others 404.
pub async fn set_public(app: &App, id: &AwardId, public: bool) -> Result<Award, ServiceError> {
    let award = modify_award(app, id, |award| match award.status {
        AwardStatus::Accepted => {
            award.public = public;
            Ok(())
        }
        AwardStatus::Revoked => Err(ServiceError::Conflict {
            code: "revoked",
            message: "the award is revoked, so it cannot be shared".into(),
        }),
        AwardStatus::Pending | AwardStatus::Declined => {
            Err(ServiceError::not_found(format!("no public award has id {:?}", id.as_str()), None))
        }
    })
    .await?;
    tracing::info!(award_id = %award.id, public, "award visibility changed");
    Ok(award)
}

/// Returns the accepted, public awards of `email` with their badge
/// classes, newest issue first, at most [`MAX_LEARNER_AWARDS`]. Expired
/// awards are included; pages show them as expired.
pub async fn public_awards_of(app: &App, email: &EmailAddress) -> Result<Vec<(Award, BadgeClass)>, ServiceError> {
    let mut awards = Vec::new();
    let mut cursor = None;
    loop {
        let query = AwardQuery {
            badge_id: None,
            email: Some(email.clone()),
            status: Some(StatusFilter::Is(AwardStatus::Accepted)),
            notification: None,
            limit: app.settings.limits.page_size_max,
            cursor,
            now: app.clock.now(),
        };
        let page = app.store.list_awards(&query).await?;
        awards.extend(page.items.into_iter().filter(|award| award.public));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    awards.sort_by(|a, b| b.issued_on.cmp(&a.issued_on).then_with(|| a.id.cmp(&b.id)));
    awards.truncate(MAX_LEARNER_AWARDS);

    let mut listed = Vec::with_capacity(awards.len());
    let mut badges: Vec<BadgeClass> = Vec::new();
    for award in awards {
        let badge = match badges.iter().find(|badge| badge.id == award.badge_id) {
            Some(badge) => badge.clone(),
            None => {
                let Some(badge) = app.store.get_badge(&award.badge_id).await? else {
                    tracing::warn!(award_id = %award.id, badge_id = %award.badge_id, "award refers to a missing badge");
                    continue;
                };
                badges.push(badge.clone());
                badge
            }
        };
        listed.push((award, badge));
    }
    Ok(listed)
}
