//! The ports and settings a function works with, bundled for routers.

use std::sync::Arc;

use ed25519_dalek::VerifyingKey;

use crate::ob3::did::{self, DidError};
use crate::ob3::signer::Signer;
use crate::ports::{AwardStore, Clock, ImageStore, Mailer, RandomSource};
use crate::settings::Settings;

/// Everything a handler may use. Cloning is cheap: every field is shared.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn AwardStore>,
    pub images: Arc<dyn ImageStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn RandomSource>,
    pub settings: Arc<Settings>,
    /// Woken when awards are queued for notification. The local binary's
    /// in-process worker waits on it; on AWS the table's stream does this
    /// job and nothing waits here.
    pub notify_queued: Arc<tokio::sync::Notify>,
    /// The key that signs Open Badges 3.0 credentials and status lists.
    /// Functions that sign nothing run without it, and the credential
    /// routes return 503 when it is missing.
    pub issuer_signer: Option<IssuerSigner>,
}

impl App {
    /// Returns `len` random bytes as lowercase hex.
    pub fn random_hex(&self, len: usize) -> String {
        let mut bytes = vec![0u8; len];
        self.random.fill(&mut bytes);
        hex::encode(bytes)
    }

    pub fn new_award_id(&self) -> crate::domain::AwardId {
        let mut bytes = [0u8; 16];
        self.random.fill(&mut bytes);
        crate::domain::AwardId::from_random(bytes)
    }
}

/// The issuer's Ed25519 signer with the public key and identity that
/// verifiers know it by: its `did:key`, or `did:web` of the deployment's host.
#[derive(Clone)]
pub struct IssuerSigner {
    signer: Arc<dyn Signer>,
    public_key: VerifyingKey,
    /// The host of the `did:web` identity; `None` for `did:key`.
    web_host: Option<String>,
}

impl IssuerSigner {
    /// Wraps a signer whose verification method is the `did:key` of
    /// `public_key`, as `Ed25519Signer::from_seed` and `KeyFileSigner` make it.
    pub fn did_key(signer: Arc<dyn Signer>, public_key: VerifyingKey) -> Self {
        Self { signer, public_key, web_host: None }
    }

    /// Wraps a signer whose verification method is under `did:web:{host}`,
    /// as `Ed25519Signer::with_did_web` and `KeyFileSigner::with_did_web` make it.
    pub fn did_web(signer: Arc<dyn Signer>, public_key: VerifyingKey, host: &str) -> Result<Self, DidError> {
        let expected = did::did_web_verification_method(host, &public_key)?;
        if signer.verification_method() != expected {
            return Err(DidError::InvalidWebHost(format!(
                "{host} (the signer's verification method is {}, not {expected})",
                signer.verification_method()
            )));
        }
        Ok(Self { signer, public_key, web_host: Some(host.to_owned()) })
    }

    pub fn signer(&self) -> &dyn Signer {
        self.signer.as_ref()
    }

    pub fn public_key(&self) -> &VerifyingKey {
        &self.public_key
    }

    /// Returns the issuer's DID: the signer's verification method without its fragment.
    pub fn did(&self) -> String {
        did::controller_of(&self.signer.verification_method()).to_owned()
    }

    /// Returns the host of the `did:web` identity, or `None` for `did:key`.
    pub fn web_host(&self) -> Option<&str> {
        self.web_host.as_deref()
    }
}

impl std::fmt::Debug for IssuerSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerSigner").field("did", &self.did()).finish_non_exhaustive()
    }
}

/// Returns the host (with its port, if any) of a base URL for `did:web`.
/// The base URL must have no path, because this deployment serves its DID
/// document at `/.well-known/did.json` only.
pub fn did_web_host(base_url: &str) -> Result<String, String> {
    let rest = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
        .ok_or_else(|| format!("the base URL {base_url:?} is not an http or https URL"))?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', '@']) {
        return Err(format!(
            "did:web needs a base URL without a path, such as https://badges.example.org, not {base_url:?}"
        ));
    }
    did::did_web(host).map_err(|error| error.to_string())?;
    Ok(host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ob3::signer::Ed25519Signer;

    #[test]
    fn did_web_host_rejects_paths() {
        assert_eq!(did_web_host("https://badges.example.org").unwrap(), "badges.example.org");
        assert_eq!(did_web_host("http://127.0.0.1:3000/").unwrap(), "127.0.0.1:3000");
        assert!(did_web_host("https://example.org/badges").is_err());
        assert!(did_web_host("ftp://example.org").is_err());
    }

    #[test]
    fn issuer_signer_reports_its_did() {
        let key = Ed25519Signer::from_seed([5; 32]);
        let public_key = key.public_key();
        let by_key = IssuerSigner::did_key(Arc::new(key.clone()), public_key);
        assert!(by_key.did().starts_with("did:key:z6Mk"));
        assert_eq!(by_key.web_host(), None);

        let web = key.with_did_web("badges.example.org").unwrap();
        let by_web = IssuerSigner::did_web(Arc::new(web), public_key, "badges.example.org").unwrap();
        assert_eq!(by_web.did(), "did:web:badges.example.org");
        assert!(IssuerSigner::did_web(Arc::new(Ed25519Signer::from_seed([5; 32])), public_key, "x.org").is_err());
    }
}
