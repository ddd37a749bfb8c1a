//! Claim links: open, accept, decline.

use crate::app::App;
use crate::domain::{Award, AwardId, AwardStatus, BadgeClass, ImageKind};
use crate::images;
use crate::openbadges::{assertion, badge_image_key, baked_image_key, preferred_image};
use crate::service::ServiceError;
use crate::service::awards::modify_award;
use crate::tokens::{TokenCheck, check_token};

/// Why a claim link cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Unknown award or wrong token: the same answer for both, so a link
    /// cannot be used to probe which award ids exist.
    #[error("this claim link is not valid")]
    Invalid,
    #[error("this claim link has expired")]
    Expired,
    #[error("this award has been revoked")]
    Revoked { award: Box<Award>, badge: Box<BadgeClass> },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A claim link that checked out, with what the claim page shows.
pub struct Claim {
    pub award: Award,
    pub badge: BadgeClass,
}

/// Checks the token of a claim link and loads the award and its badge.
pub async fn open_claim(app: &App, id: &AwardId, token: &str) -> Result<Claim, ClaimError> {
    let award = app.store.get_award(id).await.map_err(ServiceError::from)?.ok_or(ClaimError::Invalid)?;
    let tokens = app.store.claim_tokens(id).await.map_err(ServiceError::from)?;
    match check_token(&tokens, token, app.clock.now()) {
        TokenCheck::Valid => {}
        TokenCheck::Expired => return Err(ClaimError::Expired),
        TokenCheck::Unknown => return Err(ClaimError::Invalid),
    }
    let badge = app
        .store
        .get_badge(&award.badge_id)
        .await
        .map_err(ServiceError::from)?
        .ok_or_else(|| ServiceError::Internal(format!("award {} refers to a missing badge", award.id).into()))?;
    if award.status == AwardStatus::Revoked {
        return Err(ClaimError::Revoked { award: Box::new(award), badge: Box::new(badge) });
    }
    Ok(Claim { award, badge })
}

/// Accepts the award and bakes its images. Accepting twice is harmless.
pub async fn accept(app: &App, id: &AwardId, token: &str) -> Result<Claim, ClaimError> {
    let claim = open_claim(app, id, token).await?;
    let now = app.clock.now();
    let award = if claim.award.status == AwardStatus::Accepted {
        claim.award
    } else {
        // The award's bit in the revocation status lists is allocated with
        // the acceptance, so that its Open Badges 3.0 credential needs no
        // further write.
        let status_index = match claim.award.status_index {
            Some(position) => position,
            None => app.store.next_status_index().await.map_err(ServiceError::from)?,
        };
        modify_award(app, id, |award| match award.status {
            AwardStatus::Revoked => Err(ServiceError::Conflict { code: "revoked", message: "the award was revoked".into() }),
            _ => {
                award.status = AwardStatus::Accepted;
                award.responded_at = Some(now);
                award.next_reminder_at = None;
                award.status_index.get_or_insert(status_index);
                crate::service::followup::schedule_survey(award, &claim.badge);
                Ok(())
            }
        })
        .await?
    };
    bake_award_images(app, &award, &claim.badge).await?;
    tracing::info!(award_id = %award.id, badge_id = %award.badge_id, "award accepted");
    Ok(Claim { award, badge: claim.badge })
}

/// Declines the award: it stops being public until the recipient accepts it.
pub async fn decline(app: &App, id: &AwardId, token: &str) -> Result<Claim, ClaimError> {
    let claim = open_claim(app, id, token).await?;
    let now = app.clock.now();
    let award = modify_award(app, id, |award| match award.status {
        AwardStatus::Revoked => Err(ServiceError::Conflict { code: "revoked", message: "the award was revoked".into() }),
        _ => {
            award.status = AwardStatus::Declined;
            award.responded_at = Some(now);
            Ok(())
        }
    })
    .await?;
    for kind in [ImageKind::Png, ImageKind::Svg] {
        app.images.delete(&baked_image_key(id, kind)).await.map_err(ServiceError::from)?;
    }
    tracing::info!(award_id = %award.id, badge_id = %award.badge_id, "award declined");
    Ok(Claim { award, badge: claim.badge })
}

/// Bakes the award's assertion into each image format of its badge and
/// stores the results under the award's stable keys.
pub async fn bake_award_images(app: &App, award: &Award, badge: &BadgeClass) -> Result<(), ServiceError> {
    // Every baked copy carries the same document as the hosted assertion.
    let document = assertion(&app.settings, award, award_image_url(app, award, badge)).to_string();
    for &kind in &badge.images {
        let Some(source) = app.images.get(&badge_image_key(&badge.id, kind)).await? else {
            tracing::warn!(badge_id = %badge.id, kind = kind.extension(), "badge image missing from the image store");
            continue;
        };
        let baked = match kind {
            ImageKind::Png => images::bake_png(&source.bytes, &document),
            ImageKind::Svg => images::bake_svg(&source.bytes, &document, &app.settings.award_url(&award.id)),
        }
        .map_err(ServiceError::internal)?;
        app.images.put(&baked_image_key(&award.id, kind), baked, kind).await?;
    }
    Ok(())
}

/// Returns the URL of the award's baked image in its preferred format.
pub fn award_image_url(app: &App, award: &Award, badge: &BadgeClass) -> Option<String> {
    preferred_image(badge).map(|kind| app.settings.url(&format!("/awards/{}/badge.{}", award.id, kind.extension())))
}
