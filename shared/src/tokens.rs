//! Claim-link tokens: 256 random bits, sent once in the email, stored only
//! as a SHA-256 hash and compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::ClaimToken;
use crate::ports::RandomSource;

/// Length of a token in the URL: 32 bytes in unpadded base64url.
pub const TOKEN_LEN: usize = 43;

/// Creates a token; returns the text for the link and its hash for the store.
pub fn new_token(random: &dyn RandomSource) -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    random.fill(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Outcome of checking a presented token against an award's stored tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid,
    /// The token was issued for this award but has expired.
    Expired,
    /// No stored token matches.
    Unknown,
}

/// Checks `presented` against every stored token. Every hash is compared
/// in constant time, and all of them are compared, so the time taken does
/// not tell which token matched.
pub fn check_token(stored: &[ClaimToken], presented: &str, now: DateTime<Utc>) -> TokenCheck {
    if presented.len() != TOKEN_LEN {
        return TokenCheck::Unknown;
    }
    let presented_hash = hash_token(presented);
    let mut outcome = TokenCheck::Unknown;
    for token in stored {
        if bool::from(token.token_hash.ct_eq(&presented_hash)) {
            outcome = if token.expires_at > now { TokenCheck::Valid } else { TokenCheck::Expired };
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AwardId;
    use chrono::Duration;

    struct Counter(std::sync::atomic::AtomicU8);

    impl RandomSource for Counter {
        fn fill(&self, buffer: &mut [u8]) {
            let seed = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            buffer.fill(seed);
        }
    }

    fn stored(hash: [u8; 32], expires_at: DateTime<Utc>) -> ClaimToken {
        ClaimToken { award_id: AwardId::from_random([1; 16]), token_hash: hash, created_at: expires_at, expires_at }
    }

    #[test]
    fn token_is_256_bits_of_base64url() {
        let (token, hash) = new_token(&Counter(0.into()));
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(hash, hash_token(&token));
    }

    #[test]
    fn token_check_outcomes() {
        let random = Counter(0.into());
        let now = Utc::now();
        let (old, old_hash) = new_token(&random);
        let (fresh, fresh_hash) = new_token(&random);
        let tokens = [stored(old_hash, now - Duration::days(1)), stored(fresh_hash, now + Duration::days(1))];

        assert_eq!(check_token(&tokens, &fresh, now), TokenCheck::Valid);
        assert_eq!(check_token(&tokens, &old, now), TokenCheck::Expired);
        assert_eq!(check_token(&tokens, "not-a-token", now), TokenCheck::Unknown);
        assert_eq!(check_token(&tokens, &"B".repeat(TOKEN_LEN), now), TokenCheck::Unknown);
    }
}
