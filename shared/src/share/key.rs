//! The deployment's secret key.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::ports::RandomSource;

/// Secret text from which the keys of owner cookies and learner ids are
/// derived. Locally it is a file in the data folder; on AWS it comes from
/// Secrets Manager through `BADGES_COOKIE_SECRET`.
///
/// Changing it signs every owner out and changes every learner page address.
#[derive(Clone)]
pub struct ServerKey {
    secret: Arc<[u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server key must be at least {min} characters long, and it has {found}", min = ServerKey::MIN_LEN)]
pub struct InvalidServerKey {
    pub found: usize,
}

impl ServerKey {
    /// Minimum length of the secret text, in bytes.
    pub const MIN_LEN: usize = 32;

    /// Wraps the secret text, trimmed of surrounding white space.
    pub fn from_secret(text: &str) -> Result<Self, InvalidServerKey> {
        let text = text.trim();
        if text.len() < Self::MIN_LEN {
            return Err(InvalidServerKey { found: text.len() });
        }
        Ok(Self { secret: Arc::from(text.as_bytes()) })
    }

    /// Generates new secret text: 32 random bytes as 64 hex characters.
    pub fn generate_secret(random: &dyn RandomSource) -> String {
        let mut bytes = [0u8; 32];
        random.fill(&mut bytes);
        hex::encode(bytes)
    }

    /// Derives a 32-byte key for one purpose as HMAC-SHA256(secret,
    /// purpose), so that cookies and learner ids never share a key.
    pub(crate) fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC accepts keys of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secret_rejected() {
        assert_eq!(ServerKey::from_secret("  short  ").unwrap_err(), InvalidServerKey { found: 5 });
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let key = ServerKey::from_secret(&"k".repeat(40)).unwrap();
        assert_ne!(key.derive("a"), key.derive("b"));
        assert_eq!(key.derive("a"), key.derive("a"));
    }

    #[test]
    fn debug_hides_secret() {
        let key = ServerKey::from_secret(&"s".repeat(40)).unwrap();
        assert_eq!(format!("{key:?}"), "ServerKey(redacted)");
    }
}
