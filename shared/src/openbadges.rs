//! Open Badges 2.0 documents for hosted verification: Issuer Profile,
//! BadgeClass and Assertion as JSON-LD.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::domain::{Award, BadgeClass, EmailAddress, ImageKind};
use crate::settings::Settings;

pub const CONTEXT_V2: &str = "https://w3id.org/openbadges/v2";

/// Key of a badge class image in the image store.
pub fn badge_image_key(badge: &crate::domain::BadgeId, kind: ImageKind) -> String {
    format!("badges/{badge}.{}", kind.extension())
}

/// Key of an award's baked image in the image store.
pub fn baked_image_key(award: &crate::domain::AwardId, kind: ImageKind) -> String {
    format!("awards/{award}/badge.{}", kind.extension())
}

/// Formats a timestamp as ISO 8601 in UTC with a `Z` suffix.
pub fn iso8601(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Returns `sha256$` and the hex SHA-256 of the case-folded email followed
/// by the salt, the hashed recipient identity of Open Badges 2.0.
pub fn hashed_identity(email: &EmailAddress, salt: &str) -> String {
    let digest = Sha256::new()
        .chain_update(email.as_str().as_bytes())
        .chain_update(salt.as_bytes())
        .finalize();
    format!("sha256${}", hex::encode(digest))
}

/// The image format an award is baked in first: PNG when the badge has one.
pub fn preferred_image(badge: &BadgeClass) -> Option<ImageKind> {
    if badge.images.contains(&ImageKind::Png) {
        Some(ImageKind::Png)
    } else {
        badge.images.first().copied()
    }
}

pub fn issuer_profile(settings: &Settings) -> Value {
    json!({
        "@context": CONTEXT_V2,
        "type": "Issuer",
        "id": settings.issuer_url(),
        "name": settings.issuer.name,
        "url": settings.issuer.url,
        "email": settings.issuer.email,
    })
}

/// Builds the BadgeClass; `image_url` is the public URL of its image.
pub fn badge_class(settings: &Settings, badge: &BadgeClass, image_url: Option<String>) -> Value {
    let mut criteria = Map::new();
    if let Some(url) = &badge.criteria.url {
        criteria.insert("id".into(), json!(url));
    }
    if let Some(narrative) = &badge.criteria.narrative {
        criteria.insert("narrative".into(), json!(narrative));
    }

    let mut doc = json!({
        "@context": CONTEXT_V2,
        "type": "BadgeClass",
        "id": settings.badge_url(&badge.id),
        "name": badge.name,
        "description": badge.description,
        "criteria": criteria,
        "issuer": settings.issuer_url(),
    });
    if let Some(url) = image_url {
        doc["image"] = json!(url);
    }
    if !badge.tags.is_empty() {
        doc["tags"] = json!(badge.tags);
    }
    doc
}

/// Builds the hosted Assertion of an award. `image_url` is the URL of its
/// baked image, when the badge has an image.
pub fn assertion(settings: &Settings, award: &Award, image_url: Option<String>) -> Value {
    let mut doc = json!({
        "@context": CONTEXT_V2,
        "type": "Assertion",
        "id": settings.award_url(&award.id),
        "recipient": {
            "type": "email",
            "hashed": true,
            "salt": award.salt,
            "identity": hashed_identity(&award.recipient.email, &award.salt),
        },
        "badge": settings.badge_url(&award.badge_id),
        "issuedOn": iso8601(award.issued_on),
        "verification": { "type": "hosted" },
    });
    if let Some(url) = image_url {
        doc["image"] = json!(url);
    }
    if let Some(expires) = award.expires_on {
        doc["expires"] = json!(iso8601(expires));
    }
    if let Some(evidence) = &award.evidence {
        doc["evidence"] = if is_http_url(evidence) {
            json!(evidence)
        } else {
            json!({ "narrative": evidence })
        };
    }
    doc
}

/// The 410 body of a revoked assertion, in the shape Open Badges defines.
pub fn revoked_assertion(settings: &Settings, award: &Award) -> Value {
    json!({
        "id": settings.award_url(&award.id),
        "revoked": true,
        "revocationReason": award.revocation_reason.as_deref().unwrap_or("Revoked by the issuer"),
    })
}

/// Returns true for an absolute `http` or `https` URL with a host.
pub fn is_http_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !value.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_identity_matches_known_vector() {
        // The Open Badges 2.0 validator's test data: nobody@example.org with salt "deadsea".
        let email = EmailAddress::parse("Nobody@Example.org").unwrap();
        assert_eq!(
            hashed_identity(&email, "deadsea"),
            "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942"
        );
    }

    #[test]
    fn http_url_check() {
        assert!(is_http_url("https://example.org/x"));
        assert!(is_http_url("http://127.0.0.1:3000"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https:///path"));
        assert!(!is_http_url("https://exa mple.org"));
    }
}
