//! The resolver port: how verification gets the published copy of a
//! document, and its adapter on this deployment's own store.

use async_trait::async_trait;
use serde_json::Value;

use crate::app::App;
use crate::domain::{AwardId, AwardStatus, BadgeId};
use crate::openbadges::{assertion, badge_class, badge_image_key, issuer_profile, preferred_image, revoked_assertion};
use crate::ob3::{KnownKey, PublicKey};
use crate::ports::StoreError;
use crate::service::ServiceError;
use crate::service::credentials::{parse_status_list_url, status_list_credential};
use crate::service::claims::award_image_url;
use crate::settings::Settings;

/// A document as its URL publishes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub body: Value,
    /// The URL returns 410 with an Open Badges revocation body.
    pub revoked: bool,
    /// The recipient's name, when the publisher shows it on the award page.
    pub recipient_name: Option<String>,
}

/// Outcome of resolving a URL.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    Document(Document),
    /// The URL is this deployment's, but nothing is published there.
    NotFound,
    /// The URL is not under this deployment's base URL. Resolvers never
    /// fetch such URLs.
    OutsideDeployment,
}

/// Looks up the published copy of Open Badges documents.
#[async_trait]
pub trait Resolver: Send + Sync {
    async fn resolve(&self, url: &str) -> Result<Resolved, StoreError>;

    /// Returns the signed status-list credential that this deployment
    /// publishes at `url`, or `None` when `url` is not one of its status
    /// lists or it publishes none.
    async fn status_list(&self, _url: &str) -> Result<Option<Value>, StoreError> {
        Ok(None)
    }

    /// Returns the keys of this deployment's issuer, which verify its
    /// `did:web` credentials without fetching its DID document.
    fn issuer_keys(&self) -> Vec<KnownKey> {
        Vec::new()
    }
}

/// A URL of this deployment that publishes an Open Badges document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalUrl {
    Assertion(AwardId),
    BadgeClass(BadgeId),
    Issuer,
}

/// Paths under an award's URL that are checked as the award itself.
const AWARD_URL_SUFFIXES: [&str; 5] =
    ["/badge.png", "/badge.svg", "/credential.json", "/credential.png", "/credential.svg"];

/// Parses a URL of this deployment: `{base}/awards/{id}` (also with
/// `/badge.png` or `/badge.svg`, the baked images, and `/credential.json`,
/// `/credential.png` or `/credential.svg`, the award's Open Badges 3.0
/// credential, which all identify the award), `{base}/badges/{id}`
/// and `{base}/issuer`, each with or without one trailing slash. Anything
/// else, including other hosts, look-alike hosts such as
/// `{base}.example.com`, queries and fragments, is `None`.
pub fn parse_local_url(settings: &Settings, url: &str) -> Option<LocalUrl> {
    let path = url.trim().strip_prefix(settings.base_url.as_str())?;
    let path = path.strip_suffix('/').unwrap_or(path);
    if path == "/issuer" {
        return Some(LocalUrl::Issuer);
    }
    if let Some(rest) = path.strip_prefix("/awards/") {
        let id = AWARD_URL_SUFFIXES.iter().find_map(|suffix| rest.strip_suffix(suffix)).unwrap_or(rest);
        return AwardId::parse(id).ok().map(LocalUrl::Assertion);
    }
    if let Some(id) = path.strip_prefix("/badges/") {
        return BadgeId::parse(id).ok().map(LocalUrl::BadgeClass);
    }
    None
}

/// Resolves this deployment's URLs from its store, exactly as the public
/// routes publish them, and nothing else: it makes no network request.
pub struct StoreResolver<'a> {
    pub app: &'a App,
}

#[async_trait]
impl Resolver for StoreResolver<'_> {
    async fn resolve(&self, url: &str) -> Result<Resolved, StoreError> {
        let app = self.app;
        let settings = &app.settings;
        let Some(local) = parse_local_url(settings, url) else {
            return Ok(Resolved::OutsideDeployment);
        };
        let document = match local {
            LocalUrl::Issuer => Document { body: issuer_profile(settings), revoked: false, recipient_name: None },
            LocalUrl::BadgeClass(id) => {
                let Some(badge) = app.store.get_badge(&id).await? else {
                    return Ok(Resolved::NotFound);
                };
                let image = preferred_image(&badge).map(|kind| app.images.public_url(&badge_image_key(&badge.id, kind)));
                Document { body: badge_class(settings, &badge, image), revoked: false, recipient_name: None }
            }
            LocalUrl::Assertion(id) => {
                let Some(award) = app.store.get_award(&id).await? else {
                    return Ok(Resolved::NotFound);
                };
                let name = Some(award.recipient.name.clone()).filter(|name| !name.is_empty());
                match award.status {
                    AwardStatus::Revoked => {
                        Document { body: revoked_assertion(settings, &award), revoked: true, recipient_name: name }
                    }
                    AwardStatus::Accepted => {
                        let Some(badge) = app.store.get_badge(&award.badge_id).await? else {
                            return Ok(Resolved::NotFound);
                        };
                        let body = assertion(settings, &award, award_image_url(app, &award, &badge));
                        Document { body, revoked: false, recipient_name: name }
                    }
                    AwardStatus::Pending | AwardStatus::Declined => return Ok(Resolved::NotFound),
                }
            }
        };
        Ok(Resolved::Document(document))
    }

    async fn status_list(&self, url: &str) -> Result<Option<Value>, StoreError> {
        let Some(list) = parse_status_list_url(&self.app.settings, url) else {
            return Ok(None);
        };
        match status_list_credential(self.app, list).await {
            Ok(credential) => Ok(Some(credential)),
            Err(ServiceError::Internal(source)) => Err(StoreError::Backend(source)),
            // No issuer key: this deployment publishes no status lists.
            Err(_) => Ok(None),
        }
    }

    fn issuer_keys(&self) -> Vec<KnownKey> {
        let Some(signer) = &self.app.issuer_signer else {
            return Vec::new();
        };
        vec![KnownKey {
            id: signer.did(),
            key: PublicKey::Ed25519(*signer.public_key()),
            description: "this site's issuer key",
        }]
    }
}
