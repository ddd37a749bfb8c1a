//! Open Badges 3.0 credentials of awards: the signed `OpenBadgeCredential`
//! of an accepted award, its baked images, the signed
//! `BitstringStatusListCredential` of each revocation status list, and the
//! issuer's `did:web` document.
//!
//! Only accepted awards have a credential. Pending and declined awards are
//! not public under the award lifecycle, and a revoked award's credential
//! is withdrawn: its bit in the status list is set, and its routes return
//! 410 as the Open Badges 2.0 routes do.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::Value;

use crate::app::{App, IssuerSigner};
use crate::domain::{Award, AwardId, AwardStatus, BadgeClass, ImageKind, StatusIndex};
use crate::images::{self, BakedPayload, Spec};
use crate::ob3::credential::{AchievementInput, CredentialInput, IssuerProfile, RecipientIdentity, StatusEntry};
use crate::ob3::{StatusList, add_proof, build_credential, build_status_list_credential, did, hash_email};
use crate::openbadges::{badge_image_key, preferred_image};
use crate::ports::StoreError;
use crate::service::ServiceError;
use crate::service::awards::load_award;
use crate::settings::Settings;

/// Path under the base URL at which the status lists are served, followed
/// by `/{list}`.
pub const STATUS_LIST_PATH: &str = "/credentials/status";

/// How long before the request a status list is dated (its `validFrom`
/// and proof time), so that verifiers whose clocks run up to five minutes
/// behind this server's still accept it.
const STATUS_LIST_BACKDATE: TimeDelta = TimeDelta::minutes(5);

/// Attempts at storing a newly allocated status index before giving up,
/// when other requests keep changing the award.
const INDEX_ATTEMPTS: usize = 5;

/// Returns the URL of an award's credential, which is also its `id`.
pub fn credential_url(settings: &Settings, award_id: &AwardId) -> String {
    settings.url(&format!("/awards/{award_id}/credential.json"))
}

/// Returns the URL of status list `list`.
pub fn status_list_url(settings: &Settings, list: u32) -> String {
    settings.url(&format!("{STATUS_LIST_PATH}/{list}"))
}

/// Returns the list number of one of this deployment's status-list URLs,
/// or `None` for any other URL.
pub fn parse_status_list_url(settings: &Settings, url: &str) -> Option<u32> {
    let path = url.trim().strip_prefix(settings.base_url.as_str())?;
    let number = path.strip_prefix(STATUS_LIST_PATH)?.strip_prefix('/')?;
    parse_list_number(number)
}

/// Parses a list number as it appears in a URL: a decimal number from 1,
/// without sign or leading zeros, so each list has exactly one URL.
pub fn parse_list_number(text: &str) -> Option<u32> {
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u32>().ok().filter(|list| *list >= 1)
}

/// Returns the issuer signer, or 503 when this function has none.
pub fn require_signer(app: &App) -> Result<&IssuerSigner, ServiceError> {
    app.issuer_signer.as_ref().ok_or_else(|| ServiceError::Unavailable {
        code: "credentials_unavailable",
        message: "this deployment has no issuer key configured, so it serves no Open Badges 3.0 credentials".into(),
    })
}

/// Returns the award with its status index, allocating and storing one
/// first when it has none. The award must be accepted.
///
/// Concurrent calls cannot give an award two indexes: the index is stored
/// with a versioned write, and a caller that loses the race reads the
/// winner's index. The loser's index is never used, so its bit stays clear.
pub async fn ensure_status_index(app: &App, award: &Award) -> Result<Award, ServiceError> {
    if award.status_index.is_some() {
        return Ok(award.clone());
    }
    let candidate = app.store.next_status_index().await?;
    let mut current = award.clone();
    for _ in 0..INDEX_ATTEMPTS {
        if current.status_index.is_some() {
            return Ok(current);
        }
        if current.status != AwardStatus::Accepted {
            return Err(not_accepted(&current));
        }
        let mut changed = current.clone();
        changed.status_index = Some(candidate);
        changed.updated_at = app.clock.now();
        match app.store.update_award(&changed).await {
            Ok(updated) => {
                tracing::info!(award_id = %updated.id, list = candidate.list, index = candidate.index, "status index allocated");
                return Ok(updated);
            }
            Err(StoreError::VersionConflict) => current = load_award(app, &award.id).await?,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ServiceError::Conflict {
        code: "concurrent_update",
        message: "the award is being changed by other requests; try again".into(),
    })
}

fn not_accepted(award: &Award) -> ServiceError {
    match award.status {
        AwardStatus::Revoked => ServiceError::Conflict { code: "revoked", message: "this award has been revoked".into() },
        _ => ServiceError::not_found("no public award has this id", None),
    }
}

/// Builds and signs the `OpenBadgeCredential` of an accepted award. The
/// award's status index is allocated first when it has none.
///
/// The proof's `created` time is the issue time, so the same award and
/// badge data always give the same bytes: baked images and repeated downloads
/// carry identical credentials.
pub async fn award_credential(app: &App, award: &Award, badge: &BadgeClass) -> Result<Value, ServiceError> {
    let signer = require_signer(app)?;
    if award.status != AwardStatus::Accepted {
        return Err(not_accepted(award));
    }
    let award = ensure_status_index(app, award).await?;
    let Some(position) = award.status_index else {
        return Err(ServiceError::internal(StoreError::Backend("the status index was not stored".into())));
    };
    let input = credential_input(app, signer, &award, badge, position);
    let unsigned = build_credential(&input).map_err(ServiceError::internal)?;
    add_proof(&unsigned, signer.signer(), award.issued_on).map_err(ServiceError::internal)
}

fn credential_input(
    app: &App,
    signer: &IssuerSigner,
    award: &Award,
    badge: &BadgeClass,
    position: StatusIndex,
) -> CredentialInput {
    let settings = &app.settings;
    let badge_url = settings.badge_url(&badge.id);
    // A badge class always has criteria; the badge page describes them if
    // a stored class somehow has neither a narrative nor a URL.
    let criteria_url = match (&badge.criteria.narrative, &badge.criteria.url) {
        (None, None) => Some(badge_url.clone()),
        (_, url) => url.clone(),
    };
    CredentialInput {
        id: credential_url(settings, &award.id),
        name: badge.name.clone(),
        issuer: IssuerProfile {
            id: signer.did(),
            name: settings.issuer.name.clone(),
            url: settings.issuer.url.clone(),
            email: Some(settings.issuer.email.clone()).filter(|email| !email.trim().is_empty()),
        },
        achievement: AchievementInput {
            id: badge_url,
            name: badge.name.clone(),
            description: badge.description.clone(),
            criteria_narrative: badge.criteria.narrative.clone(),
            criteria_url,
            image_url: preferred_image(badge).map(|kind| app.images.public_url(&badge_image_key(&badge.id, kind))),
        },
        recipient: RecipientIdentity {
            identity_hash: hash_email(award.recipient.email.as_str(), &award.salt),
            salt: award.salt.clone(),
        },
        valid_from: award.issued_on,
        valid_until: award.expires_on,
        status: Some(StatusEntry { list_url: status_list_url(settings, position.list), index: position.index }),
    }
}

/// Bakes the award's credential into the badge's own image of `kind`: the
/// PNG `iTXt` keyword `openbadgecredential`, or the SVG element
/// `openbadges:credential` with the credential URL in `verify`. Returns
/// `None` when the badge has no image of that kind.
pub async fn baked_credential_image(
    app: &App,
    award: &Award,
    badge: &BadgeClass,
    kind: ImageKind,
) -> Result<Option<Vec<u8>>, ServiceError> {
    if !badge.images.contains(&kind) {
        return Ok(None);
    }
    let credential = award_credential(app, award, badge).await?;
    let Some(source) = app.images.get(&badge_image_key(&badge.id, kind)).await? else {
        tracing::warn!(badge_id = %badge.id, kind = kind.extension(), "badge image missing from the image store");
        return Ok(None);
    };
    let payload = BakedPayload::Json(credential.to_string());
    let baked = match kind {
        ImageKind::Png => images::bake_png_with_spec(Spec::V3, &source.bytes, &payload),
        ImageKind::Svg => {
            let url = credential_url(&app.settings, &award.id);
            images::bake_svg_with_spec(Spec::V3, &source.bytes, &payload, Some(&url))
        }
    }
    .map_err(ServiceError::internal)?;
    Ok(Some(baked))
}

/// Builds and signs the `BitstringStatusListCredential` of status list
/// `list` from the revoked indexes in the store. It is dated five minutes
/// before the start of the current minute, so requests within one minute
/// get the same document unless a revocation comes between them.
///
/// The verifier of `POST /verify` resolves this deployment's own
/// status-list URLs through this function, so it checks the same list that
/// `GET /credentials/status/{list}` serves.
pub async fn status_list_credential(app: &App, list: u32) -> Result<Value, ServiceError> {
    let signer = require_signer(app)?;
    let now: DateTime<Utc> = app.clock.now();
    let dated = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now) - STATUS_LIST_BACKDATE;
    let revoked = app.store.revoked_status_indexes(list).await?;
    let bits = usize::try_from(StatusIndex::LIST_BITS).map_err(ServiceError::internal)?;
    let mut bitstring = StatusList::new(bits).map_err(ServiceError::internal)?;
    for index in revoked {
        bitstring.set(index, true).map_err(ServiceError::internal)?;
    }
    let unsigned = build_status_list_credential(&status_list_url(&app.settings, list), &signer.did(), dated, &bitstring);
    add_proof(&unsigned, signer.signer(), dated).map_err(ServiceError::internal)
}

/// Returns the DID document of the issuer's `did:web` identity, or `None`
/// when the issuer uses `did:key`.
pub fn did_document(app: &App) -> Option<Value> {
    let signer = app.issuer_signer.as_ref()?;
    let host = signer.web_host()?;
    match did::did_web_document(host, &[*signer.public_key()]) {
        Ok(document) => Some(document),
        Err(error) => {
            tracing::error!(error = %error, host, "building the DID document failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Issuer;

    fn settings() -> Settings {
        let issuer = Issuer { name: "Test".into(), url: "https://example.org".into(), email: "b@example.org".into() };
        Settings::new("https://badges.example.org", issuer)
    }

    #[test]
    fn status_list_urls_round_trip() {
        let settings = settings();
        let url = status_list_url(&settings, 2);
        assert_eq!(url, "https://badges.example.org/credentials/status/2");
        assert_eq!(parse_status_list_url(&settings, &url), Some(2));
        for other in [
            "https://badges.example.org/credentials/status/0",
            "https://badges.example.org/credentials/status/02",
            "https://badges.example.org/credentials/status/",
            "https://badges.example.org/credentials/status/1/x",
            "https://other.example.org/credentials/status/1",
            "https://badges.example.org.evil.example/credentials/status/1",
        ] {
            assert_eq!(parse_status_list_url(&settings, other), None, "{other}");
        }
    }

    #[test]
    fn status_index_sequence_fills_lists_in_turn() {
        assert_eq!(StatusIndex::from_sequence(0), StatusIndex { list: 1, index: 0 });
        assert_eq!(StatusIndex::from_sequence(131_071), StatusIndex { list: 1, index: 131_071 });
        assert_eq!(StatusIndex::from_sequence(131_072), StatusIndex { list: 2, index: 0 });
    }
}
