//! One-click unsubscribe (RFC 8058) for reminders and survey invitations.
//!
//! A token is `{award_id}.{mac}`, where `mac` is the unpadded base64url
//! HMAC-SHA256 of the award id and the recipient address under a key that
//! the award store keeps, so every function instance signs and checks with
//! the same key. The token names the award rather than the address, so the
//! address never appears in the URL.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::domain::{Award, AwardId, Suppression, SuppressionReason};
use crate::service::ServiceError;

/// Name of the signing key in the award store.
pub const KEY_NAME: &str = "unsubscribe";
/// Length of the MAC part of a token: 32 bytes in unpadded base64url.
const MAC_LEN: usize = 43;

/// Reason an unsubscribe link cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UnsubscribeError {
    /// Malformed token, unknown award or wrong MAC: the same response for each.
    #[error("this unsubscribe link is not valid")]
    Invalid,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Returns the signing key, creating it on first use.
pub async fn signing_key(app: &App) -> Result<[u8; 32], ServiceError> {
    let mut candidate = [0u8; 32];
    app.random.fill(&mut candidate);
    Ok(app.store.signing_key(KEY_NAME, candidate).await?)
}

fn mac(key: &[u8; 32], award: &Award) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(b"unsubscribe\n");
    mac.update(award.id.as_str().as_bytes());
    mac.update(b"\n");
    mac.update(award.recipient.email.as_str().as_bytes());
    mac.finalize().into_bytes().into()
}

/// Returns the unsubscribe token of an award's recipient.
pub fn token(key: &[u8; 32], award: &Award) -> String {
    format!("{}.{}", award.id, URL_SAFE_NO_PAD.encode(mac(key, award)))
}

/// Returns the unsubscribe URL that reminders and invitations carry.
pub fn url(app: &App, key: &[u8; 32], award: &Award) -> String {
    app.settings.url(&format!("/unsubscribe?token={}", token(key, award)))
}

/// Checks a token and returns the award it was made for.
pub async fn check(app: &App, token: &str) -> Result<Award, UnsubscribeError> {
    let (raw_id, raw_mac) = token.split_once('.').ok_or(UnsubscribeError::Invalid)?;
    let award_id = AwardId::parse(raw_id).map_err(|_| UnsubscribeError::Invalid)?;
    if raw_mac.len() != MAC_LEN {
        return Err(UnsubscribeError::Invalid);
    }
    let presented = URL_SAFE_NO_PAD.decode(raw_mac).map_err(|_| UnsubscribeError::Invalid)?;
    let award = app.store.get_award(&award_id).await.map_err(ServiceError::from)?.ok_or(UnsubscribeError::Invalid)?;
    let key = signing_key(app).await?;
    let expected = mac(&key, &award);
    if bool::from(expected.as_slice().ct_eq(presented.as_slice())) {
        Ok(award)
    } else {
        Err(UnsubscribeError::Invalid)
    }
}

/// Suppresses the recipient of the token's award, so that no more email
/// goes to the address. Unsubscribing twice is harmless; an address that
/// is already suppressed keeps its first reason.
pub async fn unsubscribe(app: &App, token: &str) -> Result<Award, UnsubscribeError> {
    let award = check(app, token).await?;
    let suppression = Suppression {
        email: award.recipient.email.clone(),
        reason: SuppressionReason::Unsubscribed,
        detail: Some(format!("unsubscribe link of award {}", award.id)),
        created_at: app.clock.now(),
    };
    let created = app.store.add_suppression(&suppression).await.map_err(ServiceError::from)?;
    tracing::info!(award_id = %award.id, newly_suppressed = created, "recipient unsubscribed");
    Ok(award)
}

/// Masks an address for pages that anyone holding a link can open, such
/// as `l•••@example.org`.
pub fn masked_email(award: &Award) -> String {
    let email = award.recipient.email.as_str();
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}\u{2022}\u{2022}\u{2022}@{domain}")
        }
        None => "\u{2022}\u{2022}\u{2022}".to_owned(),
    }
}
