//! Public keys for verification and where they come from.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;
use rsa::BoxedUint;
use rsa::PublicKey as RsaPublicKey;
use serde_json::Value;

use super::did;

/// Smallest RSA modulus accepted for RS256, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// A public key that can check a proof or a JWT signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Ed25519(VerifyingKey),
    Rsa(RsaPublicKey),
}

/// A key that the caller vouches for, such as the deployment's own key or a
/// key read from an issuer's `did:web` document.
#[derive(Clone, Debug)]
pub struct KnownKey {
    /// A verification method id (`did:web:example.org#key-1`), or a DID or
    /// issuer id, which then matches every verification method under it.
    pub id: String,
    pub key: PublicKey,
    /// Origin of the key, as the phrase that verification reports print
    /// after "the key is", such as "this site's issuer key".
    pub description: &'static str,
}

/// How a key was obtained, which decides how far it can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Given by the caller in [`KnownKey`], with its description.
    Known(&'static str),
    /// Decoded from a `did:key` identifier, which is the key itself.
    DidKey,
    /// Decoded from a multikey in the fragment of an `https` verification
    /// method, without fetching the issuer's document.
    Fragment,
    /// Taken from a JWT header's `jwk`, which the token carries itself.
    JwtHeader,
}

impl KeySource {
    /// Returns true when the key is bound to the identifier it claims:
    /// the caller vouched for it, or the identifier is the key.
    pub fn is_bound_to_issuer(self) -> bool {
        matches!(self, KeySource::Known(_) | KeySource::DidKey)
    }

    /// Describes the source in a sentence, for verification reports.
    pub fn describe(self) -> String {
        match self {
            KeySource::Known(description) => format!("the key is {description}"),
            KeySource::DidKey => "the key is the did:key identifier itself, which binds it to the issuer".into(),
            KeySource::Fragment => "the key is the multikey in the verification method's fragment, which the credential \
                                    carries itself, and the issuer's document was not fetched, so the issuer's identity was not confirmed"
                .into(),
            KeySource::JwtHeader => "the key is the jwk in the token header, which the token carries itself, \
                                     so the issuer's identity was not confirmed"
                .into(),
        }
    }
}

/// Finds the key for a verification method id: a known key first, then a
/// `did:key`, then a multikey fragment. Returns a message in words when
/// none applies.
pub fn resolve_verification_method(
    method: &str,
    known: &[KnownKey],
) -> Result<(PublicKey, KeySource), String> {
    let controller = did::controller_of(method);
    if let Some(entry) = known
        .iter()
        .find(|entry| entry.id == method || entry.id == controller)
    {
        return Ok((entry.key.clone(), KeySource::Known(entry.description)));
    }
    if method.starts_with("did:key:") {
        return did::resolve_did_key(method)
            .map(|key| (PublicKey::Ed25519(key), KeySource::DidKey))
            .map_err(|error| error.to_string());
    }
    let fragment_key = method
        .split_once('#')
        .and_then(|(_, fragment)| did::parse_multikey(fragment).ok());
    match fragment_key {
        Some(key) if method.starts_with("https://") || method.starts_with("http://") => {
            Ok((PublicKey::Ed25519(key), KeySource::Fragment))
        }
        _ => Err(format!(
            "no key is available for \"{method}\": offline verification resolves did:key, this site's own keys, \
             and Ed25519 multikeys in the fragment of an http(s) id"
        )),
    }
}

/// Reads a JSON Web Key: an Ed25519 `OKP` key or an `RSA` key of at least
/// [`MIN_RSA_BITS`] bits.
pub fn parse_jwk(jwk: &Value) -> Result<PublicKey, String> {
    let field = |name: &str| -> Result<Vec<u8>, String> {
        let text = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the jwk has no {name:?}"))?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| format!("the jwk's {name:?} is not base64url"))
    };

    match jwk.get("kty").and_then(Value::as_str) {
        Some("OKP") => {
            if jwk.get("crv").and_then(Value::as_str) != Some("Ed25519") {
                return Err("the jwk is an OKP key but not on curve Ed25519".into());
            }
            let bytes: [u8; 32] = field("x")?
                .try_into()
                .map_err(|_| "the jwk's \"x\" is not 32 bytes".to_owned())?;
            VerifyingKey::from_bytes(&bytes)
                .map(PublicKey::Ed25519)
                .map_err(|_| "the jwk's \"x\" is not a valid Ed25519 key".into())
        }
        Some("RSA") => {
            let modulus = field("n")?;
            let exponent = field("e")?;
            let key = RsaPublicKey::new(
                BoxedUint::from_be_slice_vartime(&modulus),
                BoxedUint::from_be_slice_vartime(&exponent),
            )
            .map_err(|error| format!("the jwk is not a valid RSA key: {error}"))?;
            let bits = rsa::traits::PublicKeyParts::n_bits_precision(&key) as usize;
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required"
                ));
            }
            Ok(PublicKey::Rsa(key))
        }
        other => Err(format!(
            "jwk key type {other:?} is not supported; use OKP (Ed25519) or RSA"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use serde_json::json;

    #[test]
    fn known_key_wins_over_did_key() {
        let own = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let method = did::did_web_verification_method("badges.example.org", &own).unwrap();
        let known = [KnownKey {
            id: "did:web:badges.example.org".into(),
            key: PublicKey::Ed25519(own),
            description: "this site's issuer key",
        }];
        let (key, source) = resolve_verification_method(&method, &known).unwrap();
        assert_eq!(key, PublicKey::Ed25519(own));
        assert_eq!(source, KeySource::Known("this site's issuer key"));
        assert!(
            resolve_verification_method(&method, &[]).is_err(),
            "did:web is not resolved offline"
        );
    }

    #[test]
    fn fragment_key_only_for_http_ids() {
        let key = SigningKey::from_bytes(&[2; 32]).verifying_key();
        let multikey = did::multikey(&key);
        let (_, source) =
            resolve_verification_method(&format!("https://example.org/issuer#{multikey}"), &[])
                .unwrap();
        assert_eq!(source, KeySource::Fragment);
        assert!(!source.is_bound_to_issuer());
        assert!(resolve_verification_method(&format!("did:example:1#{multikey}"), &[]).is_err());
        assert!(resolve_verification_method("https://example.org/issuer#key-1", &[]).is_err());
    }

    #[test]
    fn jwk_ed25519_and_errors() {
        let key = SigningKey::from_bytes(&[3; 32]).verifying_key();
        let jwk =
            json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(key.as_bytes())});
        assert_eq!(parse_jwk(&jwk).unwrap(), PublicKey::Ed25519(key));
        assert!(parse_jwk(&json!({"kty": "EC", "crv": "P-256"})).is_err());
        assert!(parse_jwk(&json!({"kty": "OKP", "crv": "X25519", "x": "AA"})).is_err());
        let small_rsa =
            json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc5u8; 64]), "e": "AQAB"});
        assert!(
            parse_jwk(&small_rsa).is_err(),
            "a 512-bit RSA key is rejected"
        );
    }
}
