//! Open Badges 3.0 `OpenBadgeCredential` documents (VC Data Model 2.0).
//!
//! [`build_credential`] writes only terms that the VC 2.0 context and the
//! Open Badges 3.0.3 context define, so that verifiers which reject
//! undefined terms accept the credential. Sign the result with
//! [`super::proof::add_proof`].

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::contexts::{CREDENTIALS_V2, OPEN_BADGES_V3};

/// The issuing organisation, as the credential's `issuer` Profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerProfile {
    /// The issuer's DID, which must be the controller of the signing key
    /// (`did:key:…` or `did:web:…`).
    pub id: String,
    pub name: String,
    /// The organisation's homepage.
    pub url: String,
    pub email: Option<String>,
}

/// The badge class, as the subject's `achievement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AchievementInput {
    /// Stable URL of the badge class.
    pub id: String,
    pub name: String,
    pub description: String,
    /// Criteria for earning the badge, as text (Markdown is allowed).
    pub criteria_narrative: Option<String>,
    /// Page that describes the criteria.
    pub criteria_url: Option<String>,
    /// Public URL of the badge image.
    pub image_url: Option<String>,
}

/// The hashed, salted recipient email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientIdentity {
    /// `sha256$` and the lowercase hex SHA-256 of the email followed by the
    /// salt, as [`hash_email`] returns it.
    pub identity_hash: String,
    pub salt: String,
}

/// The credential's position in a Bitstring Status List.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusEntry {
    /// URL of the `BitstringStatusListCredential`.
    pub list_url: String,
    /// Bit position in the list, allocated once per award.
    pub index: u64,
}

/// Everything an `OpenBadgeCredential` is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialInput {
    /// Stable URL of the credential (the award's URL).
    pub id: String,
    /// Display name of the credential, usually the badge name.
    pub name: String,
    pub issuer: IssuerProfile,
    pub achievement: AchievementInput,
    pub recipient: RecipientIdentity,
    /// When the award was issued.
    pub valid_from: DateTime<Utc>,
    /// When the award expires, if it does.
    pub valid_until: Option<DateTime<Utc>>,
    pub status: Option<StatusEntry>,
}

/// An input value that cannot go into a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} contains a control character; only tab and line breaks are allowed in text")]
    ControlCharacter { field: &'static str },
    #[error("{field} must be an absolute URL without spaces, not {value:?}")]
    NotAbsoluteUrl { field: &'static str, value: String },
    #[error("the issuer id must be a DID (did:key:… or did:web:…), not {0:?}")]
    IssuerNotDid(String),
    #[error("the identity hash must be \"sha256$\" and 64 lowercase hex digits, not {0:?}")]
    InvalidIdentityHash(String),
    #[error("the badge needs criteria: a narrative, a URL or both")]
    MissingCriteria,
    #[error("validUntil ({until}) is not after validFrom ({from})")]
    ExpiresBeforeIssued { from: String, until: String },
}

/// Returns `sha256$` and the hex SHA-256 of the trimmed, lowercased email
/// followed by the salt: the hashed identity that Open Badges 2.0 and 3.0
/// both use for email recipients.
pub fn hash_email(email: &str, salt: &str) -> String {
    let folded = email.trim().to_lowercase();
    let digest = Sha256::new()
        .chain_update(folded.as_bytes())
        .chain_update(salt.as_bytes())
        .finalize();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256${hex}")
}

/// Formats a time as an `xsd:dateTime` in UTC with seconds and `Z`.
pub fn xsd_date_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Builds the unsigned `OpenBadgeCredential` of one award.
pub fn build_credential(input: &CredentialInput) -> Result<Value, CredentialError> {
    validate(input)?;

    let mut issuer = Map::new();
    issuer.insert("id".into(), input.issuer.id.clone().into());
    issuer.insert("type".into(), json!(["Profile"]));
    issuer.insert("name".into(), input.issuer.name.clone().into());
    issuer.insert("url".into(), input.issuer.url.clone().into());
    if let Some(email) = &input.issuer.email {
        issuer.insert("email".into(), email.clone().into());
    }

    let mut credential = Map::new();
    credential.insert("@context".into(), json!([CREDENTIALS_V2, OPEN_BADGES_V3]));
    credential.insert("id".into(), input.id.clone().into());
    credential.insert(
        "type".into(),
        json!(["VerifiableCredential", "OpenBadgeCredential"]),
    );
    credential.insert("name".into(), input.name.clone().into());
    credential.insert("issuer".into(), Value::Object(issuer));
    credential.insert("validFrom".into(), xsd_date_time(input.valid_from).into());
    if let Some(until) = input.valid_until {
        credential.insert("validUntil".into(), xsd_date_time(until).into());
    }
    credential.insert(
        "credentialSubject".into(),
        json!({
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "identityHash": input.recipient.identity_hash,
                "identityType": "emailAddress",
                "hashed": true,
                "salt": input.recipient.salt,
            }],
            "achievement": achievement(&input.achievement),
        }),
    );
    if let Some(status) = &input.status {
        credential.insert("credentialStatus".into(), status_entry(status));
    }
    Ok(Value::Object(credential))
}

fn achievement(input: &AchievementInput) -> Value {
    let mut criteria = Map::new();
    if let Some(url) = &input.criteria_url {
        criteria.insert("id".into(), url.clone().into());
    }
    if let Some(narrative) = &input.criteria_narrative {
        criteria.insert("narrative".into(), narrative.clone().into());
    }

    let mut achievement = Map::new();
    achievement.insert("id".into(), input.id.clone().into());
    achievement.insert("type".into(), json!(["Achievement"]));
    achievement.insert("name".into(), input.name.clone().into());
    achievement.insert("description".into(), input.description.clone().into());
    achievement.insert("criteria".into(), Value::Object(criteria));
    if let Some(url) = &input.image_url {
        achievement.insert("image".into(), json!({"id": url, "type": "Image"}));
    }
    Value::Object(achievement)
}

/// Builds a `BitstringStatusListEntry` for revocation. The index is written
/// as a string, as the Bitstring Status List specification requires.
pub fn status_entry(status: &StatusEntry) -> Value {
    json!({
        "id": format!("{}#{}", status.list_url, status.index),
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": status.index.to_string(),
        "statusListCredential": status.list_url,
    })
}

fn validate(input: &CredentialInput) -> Result<(), CredentialError> {
    absolute_url("id", &input.id)?;
    text("name", &input.name)?;

    let issuer = &input.issuer;
    if !(issuer.id.starts_with("did:key:") || issuer.id.starts_with("did:web:"))
        || has_space_or_control(&issuer.id)
    {
        return Err(CredentialError::IssuerNotDid(issuer.id.clone()));
    }
    text("issuer.name", &issuer.name)?;
    absolute_url("issuer.url", &issuer.url)?;
    if let Some(email) = &issuer.email {
        text("issuer.email", email)?;
    }

    let achievement = &input.achievement;
    absolute_url("achievement.id", &achievement.id)?;
    text("achievement.name", &achievement.name)?;
    text("achievement.description", &achievement.description)?;
    match (&achievement.criteria_narrative, &achievement.criteria_url) {
        (None, None) => return Err(CredentialError::MissingCriteria),
        (narrative, url) => {
            if let Some(narrative) = narrative {
                text("achievement.criteria.narrative", narrative)?;
            }
            if let Some(url) = url {
                absolute_url("achievement.criteria.id", url)?;
            }
        }
    }
    if let Some(url) = &achievement.image_url {
        absolute_url("achievement.image.id", url)?;
    }

    let hash_ok = input
        .recipient
        .identity_hash
        .strip_prefix("sha256$")
        .is_some_and(|hex| {
            hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
    if !hash_ok {
        return Err(CredentialError::InvalidIdentityHash(
            input.recipient.identity_hash.clone(),
        ));
    }
    text("recipient.salt", &input.recipient.salt)?;

    if let Some(until) = input.valid_until
        && until <= input.valid_from
    {
        return Err(CredentialError::ExpiresBeforeIssued {
            from: xsd_date_time(input.valid_from),
            until: xsd_date_time(until),
        });
    }
    if let Some(status) = &input.status {
        absolute_url("status.list_url", &status.list_url)?;
    }
    Ok(())
}

fn text(field: &'static str, value: &str) -> Result<(), CredentialError> {
    if value.trim().is_empty() {
        return Err(CredentialError::Empty { field });
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(CredentialError::ControlCharacter { field });
    }
    Ok(())
}

/// Accepts `http`, `https` and `urn` URLs without whitespace or controls.
fn absolute_url(field: &'static str, value: &str) -> Result<(), CredentialError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .filter(|rest| !rest.is_empty() && !rest.starts_with('/'))
        .or_else(|| value.strip_prefix("urn:").filter(|rest| rest.contains(':')));
    if rest.is_none() || has_space_or_control(value) {
        return Err(CredentialError::NotAbsoluteUrl {
            field,
            value: value.to_owned(),
        });
    }
    Ok(())
}

fn has_space_or_control(value: &str) -> bool {
    value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Returns a complete input, which the tests of other modules use too.
    pub(crate) fn sample_input(issuer_did: &str) -> CredentialInput {
        CredentialInput {
            id: "https://badges.example.org/awards/abcdefghijklmnopqrstuvwxyz".into(),
            name: "RDA Serials Cataloging Update".into(),
            issuer: IssuerProfile {
                id: issuer_did.into(),
                name: "Example Library Association".into(),
                url: "https://library.example.org/".into(),
                email: Some("badges@library.example.org".into()),
            },
            achievement: AchievementInput {
                id: "https://badges.example.org/badges/rda-serials-cataloging-update".into(),
                name: "RDA Serials Cataloging Update".into(),
                description: "Attended the 90-minute webinar on serials cataloging.".into(),
                criteria_narrative: Some("Attend at least 45 minutes of the live session.".into()),
                criteria_url: None,
                image_url: Some(
                    "https://badges.example.org/images/badges/rda-serials-cataloging-update.png"
                        .into(),
                ),
            },
            recipient: RecipientIdentity {
                identity_hash: hash_email(
                    "learner@example.org",
                    "0123456789abcdef0123456789abcdef",
                ),
                salt: "0123456789abcdef0123456789abcdef".into(),
            },
            valid_from: Utc.with_ymd_and_hms(2025, 3, 14, 15, 9, 26).unwrap(),
            valid_until: Some(Utc.with_ymd_and_hms(2030, 3, 14, 0, 0, 0).unwrap()),
            status: Some(StatusEntry {
                list_url: "https://badges.example.org/status/1".into(),
                index: 94_567,
            }),
        }
    }

    #[test]
    fn hash_email_matches_open_badges_vector() {
        // The Open Badges 2.0 validator's test recipient: nobody@example.org, salt "deadsea".
        assert_eq!(
            hash_email(" Nobody@Example.org", "deadsea"),
            "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942"
        );
    }

    #[test]
    fn credential_has_required_shape() {
        let credential = build_credential(&sample_input("did:key:z6MkExample")).unwrap();
        assert_eq!(
            credential["@context"],
            json!([CREDENTIALS_V2, OPEN_BADGES_V3])
        );
        assert_eq!(
            credential["type"],
            json!(["VerifiableCredential", "OpenBadgeCredential"])
        );
        assert_eq!(credential["issuer"]["type"], json!(["Profile"]));
        assert_eq!(credential["validFrom"], "2025-03-14T15:09:26Z");
        assert_eq!(credential["validUntil"], "2030-03-14T00:00:00Z");

        let identifier = &credential["credentialSubject"]["identifier"][0];
        assert_eq!(identifier["type"], "IdentityObject");
        assert_eq!(identifier["hashed"], true);
        assert_eq!(identifier["identityType"], "emailAddress");

        let achievement = &credential["credentialSubject"]["achievement"];
        assert_eq!(
            achievement["criteria"],
            json!({"narrative": "Attend at least 45 minutes of the live session."})
        );
        assert_eq!(achievement["image"]["type"], "Image");

        let status = &credential["credentialStatus"];
        assert_eq!(status["statusListIndex"], "94567");
        assert_eq!(status["statusPurpose"], "revocation");
    }

    #[test]
    fn credential_uses_only_defined_terms() {
        let credential = build_credential(&sample_input("did:key:z6MkExample")).unwrap();
        crate::ob3::canon::canonicalize(
            &credential,
            crate::ob3::canon::TermPolicy::RejectUndefined,
        )
        .unwrap();
    }

    #[test]
    fn credential_without_optional_parts() {
        let mut input = sample_input("did:web:badges.example.org");
        input.valid_until = None;
        input.status = None;
        input.issuer.email = None;
        input.achievement.image_url = None;
        input.achievement.criteria_narrative = None;
        input.achievement.criteria_url = Some("https://library.example.org/criteria".into());
        let credential = build_credential(&input).unwrap();
        assert!(credential.get("validUntil").is_none());
        assert!(credential.get("credentialStatus").is_none());
        assert!(credential["issuer"].get("email").is_none());
        assert_eq!(
            credential["credentialSubject"]["achievement"]["criteria"],
            json!({"id": "https://library.example.org/criteria"})
        );
    }

    #[test]
    fn invalid_inputs_rejected() {
        let base = sample_input("did:key:z6MkExample");

        let mut input = base.clone();
        input.issuer.id = "https://library.example.org/".into();
        assert!(matches!(
            build_credential(&input),
            Err(CredentialError::IssuerNotDid(_))
        ));

        let mut input = base.clone();
        input.id = "/awards/1".into();
        assert!(matches!(
            build_credential(&input),
            Err(CredentialError::NotAbsoluteUrl { field: "id", .. })
        ));

        let mut input = base.clone();
        input.name = "  ".into();
        assert_eq!(
            build_credential(&input),
            Err(CredentialError::Empty { field: "name" })
        );

        let mut input = base.clone();
        input.achievement.name = "Bad\u{7}bell".into();
        assert_eq!(
            build_credential(&input),
            Err(CredentialError::ControlCharacter {
                field: "achievement.name"
            })
        );

        let mut input = base.clone();
        input.achievement.criteria_narrative = None;
        assert_eq!(
            build_credential(&input),
            Err(CredentialError::MissingCriteria)
        );

        let mut input = base.clone();
        input.recipient.identity_hash = "md5$abc".into();
        assert!(matches!(
            build_credential(&input),
            Err(CredentialError::InvalidIdentityHash(_))
        ));

        let mut input = base;
        input.valid_until = Some(input.valid_from);
        assert!(matches!(
            build_credential(&input),
            Err(CredentialError::ExpiresBeforeIssued { .. })
        ));
    }
}
