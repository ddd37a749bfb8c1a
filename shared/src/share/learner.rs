//! Learner ids: the address of a learner's public badge page.
//!
//! A learner id is the recipient's case-folded email encrypted with
//! AES-SIV (RFC 5297, deterministic authenticated encryption) under a key
//! derived from the server key, in unpadded base64url. The server can
//! decrypt it to list the learner's awards by email, while the id:
//!
//! - is stable: the same email always gives the same id, so feed readers
//!   and links keep working;
//! - cannot be guessed or made from an email without the server key, and
//!   a changed id fails authentication instead of naming another learner;
//! - does not show the email. The email is padded to a multiple of 16
//!   bytes (at least 32), so the id only shows that length bucket.
//!
//! A new server key gives every learner a new id.

use aes_siv::KeyInit as _;
use aes_siv::siv::Aes128Siv;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{EmailAddress, MAX_EMAIL_LEN};
use crate::share::ServerKey;

const PURPOSE: &str = "badges learner id v1";
/// Associated data of every learner id, so the same key used for another
/// message type could never produce a valid id.
const ASSOCIATED_DATA: &[u8] = b"learner-id";
/// Maximum length of an id: a 16-byte tag and the longest padded email,
/// in base64url.
const MAX_ID_LEN: usize = (16 + MAX_EMAIL_LEN + 16) * 4 / 3 + 4;

fn cipher(key: &ServerKey) -> Aes128Siv {
    // AES-128-SIV takes two 128-bit keys: one for S2V (CMAC) and one for CTR.
    Aes128Siv::new(&key.derive(PURPOSE).into())
}

/// Pads with one 0x80 byte and zero bytes to a multiple of 16, at least 32.
fn pad(email: &str) -> Vec<u8> {
    let mut bytes = email.as_bytes().to_vec();
    bytes.push(0x80);
    let target = bytes.len().div_ceil(16).max(2) * 16;
    bytes.resize(target, 0);
    bytes
}

fn unpad(mut bytes: Vec<u8>) -> Option<Vec<u8>> {
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    (bytes.pop() == Some(0x80)).then_some(bytes)
}

/// Returns the learner id of `email`.
pub fn learner_id(key: &ServerKey, email: &EmailAddress) -> String {
    let sealed = cipher(key)
        .encrypt([ASSOCIATED_DATA], &pad(email.as_str()))
        .expect("AES-SIV encrypts any padded email");
    URL_SAFE_NO_PAD.encode(sealed)
}

/// Returns the email of a learner id, or `None` when the id was not made
/// with this key.
pub fn learner_email(key: &ServerKey, id: &str) -> Option<EmailAddress> {
    if id.len() > MAX_ID_LEN {
        return None;
    }
    let sealed = URL_SAFE_NO_PAD.decode(id).ok()?;
    let padded = cipher(key).decrypt([ASSOCIATED_DATA], &sealed).ok()?;
    let email = String::from_utf8(unpad(padded)?).ok()?;
    EmailAddress::parse(&email).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fill: &str) -> ServerKey {
        ServerKey::from_secret(&fill.repeat(40)).unwrap()
    }

    #[test]
    fn id_round_trips_and_is_stable() {
        let email = EmailAddress::parse("Lin.Wei+CE@Univ.Example.edu").unwrap();
        let id = learner_id(&key("k"), &email);
        assert_eq!(id, learner_id(&key("k"), &email));
        assert_eq!(learner_email(&key("k"), &id), Some(email));
        assert!(!id.to_lowercase().contains("lin.wei"), "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");
    }

    #[test]
    fn non_latin_address_round_trips() {
        let email = EmailAddress::parse("li.hua@例子.中国").unwrap();
        let id = learner_id(&key("k"), &email);
        assert_eq!(learner_email(&key("k"), &id), Some(email));
    }

    #[test]
    fn other_key_or_changed_id_fails() {
        let email = EmailAddress::parse("a@example.org").unwrap();
        let id = learner_id(&key("k"), &email);
        assert_eq!(learner_email(&key("j"), &id), None);
        let mut changed = id.clone().into_bytes();
        changed[5] = if changed[5] == b'A' { b'B' } else { b'A' };
        assert_eq!(learner_email(&key("k"), &String::from_utf8(changed).unwrap()), None);
        assert_eq!(learner_email(&key("k"), "not base64!"), None);
        assert_eq!(learner_email(&key("k"), ""), None);
        assert_eq!(learner_email(&key("k"), &"A".repeat(2000)), None);
    }

    #[test]
    fn short_addresses_share_length() {
        let short = learner_id(&key("k"), &EmailAddress::parse("a@b.co").unwrap());
        let longer = learner_id(&key("k"), &EmailAddress::parse("someone.else@example.org").unwrap());
        assert_eq!(short.len(), longer.len());
    }
}
