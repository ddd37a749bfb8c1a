//! Decentralized identifiers for the issuer's Ed25519 key: `did:key`, which
//! is derived from the key itself, and `did:web`, whose DID document the
//! deployment serves at `https://{host}/.well-known/did.json`.

use ed25519_dalek::VerifyingKey;
use serde_json::{Value, json};

/// Multicodec prefix of an Ed25519 public key (code 0xed as a varint).
const ED25519_PUB_MULTICODEC: [u8; 2] = [0xed, 0x01];

/// Context of DID documents (DID Core 1.0).
pub const DID_V1_CONTEXT: &str = "https://www.w3.org/ns/did/v1";
/// Context that defines the `Multikey` verification method type.
pub const MULTIKEY_V1_CONTEXT: &str = "https://w3id.org/security/multikey/v1";

/// A malformed DID, multikey or verification method id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DidError {
    #[error("{0:?} is not a base58btc multibase value (it must start with 'z')")]
    NotBase58Btc(String),
    #[error("{0:?} is not an Ed25519 multikey (multicodec 0xed01 followed by 32 bytes)")]
    NotEd25519Multikey(String),
    #[error("{0:?} is not a valid Ed25519 public key")]
    InvalidPublicKey(String),
    #[error("{0:?} is not a did:key identifier")]
    NotDidKey(String),
    #[error("the fragment of {0:?} does not match its did:key")]
    FragmentMismatch(String),
    #[error(
        "{0:?} is not a host name for did:web: use letters, digits, dots, hyphens and an optional :port"
    )]
    InvalidWebHost(String),
}

/// Encodes a public key as a multikey: `z` and the base58btc encoding of
/// the multicodec prefix 0xed01 followed by the 32 key bytes (`z6Mk…`).
pub fn multikey(public_key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(34);
    bytes.extend_from_slice(&ED25519_PUB_MULTICODEC);
    bytes.extend_from_slice(public_key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Decodes an Ed25519 multikey such as `z6Mk…`.
pub fn parse_multikey(value: &str) -> Result<VerifyingKey, DidError> {
    let encoded = value
        .strip_prefix('z')
        .ok_or_else(|| DidError::NotBase58Btc(value.to_owned()))?;
    let bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|_| DidError::NotBase58Btc(value.to_owned()))?;
    let key_bytes: [u8; 32] = bytes
        .strip_prefix(&ED25519_PUB_MULTICODEC)
        .and_then(|rest| rest.try_into().ok())
        .ok_or_else(|| DidError::NotEd25519Multikey(value.to_owned()))?;
    VerifyingKey::from_bytes(&key_bytes).map_err(|_| DidError::InvalidPublicKey(value.to_owned()))
}

/// Returns the `did:key` identifier of a public key.
pub fn did_key(public_key: &VerifyingKey) -> String {
    format!("did:key:{}", multikey(public_key))
}

/// Returns the verification method id of a `did:key`: the DID, `#`, and
/// the multikey again (`did:key:z6Mk…#z6Mk…`).
pub fn did_key_verification_method(public_key: &VerifyingKey) -> String {
    let key = multikey(public_key);
    format!("did:key:{key}#{key}")
}

/// Returns the public key of a `did:key` identifier or of one of its
/// verification method ids. A fragment, when present, must repeat the key.
pub fn resolve_did_key(did_or_method: &str) -> Result<VerifyingKey, DidError> {
    let rest = did_or_method
        .strip_prefix("did:key:")
        .ok_or_else(|| DidError::NotDidKey(did_or_method.to_owned()))?;
    let (key, fragment) = match rest.split_once('#') {
        Some((key, fragment)) => (key, Some(fragment)),
        None => (rest, None),
    };
    if fragment.is_some_and(|fragment| fragment != key) {
        return Err(DidError::FragmentMismatch(did_or_method.to_owned()));
    }
    parse_multikey(key)
}

/// Returns the DID part of a verification method id (everything before `#`).
pub fn controller_of(verification_method: &str) -> &str {
    verification_method
        .split_once('#')
        .map_or(verification_method, |(did, _)| did)
}

/// Returns the `did:web` identifier of a host, with the optional port's
/// colon percent-encoded as did:web requires (`localhost:3000` becomes
/// `did:web:localhost%3A3000`). Paths are not supported, so the DID
/// document is always at `/.well-known/did.json`.
pub fn did_web(host: &str) -> Result<String, DidError> {
    let (name, port) = match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let port_ok = port.is_none_or(|port| port.parse::<u16>().is_ok_and(|number| number > 0));
    if !name_ok || !port_ok {
        return Err(DidError::InvalidWebHost(host.to_owned()));
    }
    let name = name.to_ascii_lowercase();
    Ok(match port {
        Some(port) => format!("did:web:{name}%3A{port}"),
        None => format!("did:web:{name}"),
    })
}

/// Returns the verification method id of a key in a `did:web` document:
/// the DID, `#`, and the key's multikey, so that each key has its own id.
pub fn did_web_verification_method(
    host: &str,
    public_key: &VerifyingKey,
) -> Result<String, DidError> {
    Ok(format!("{}#{}", did_web(host)?, multikey(public_key)))
}

/// Builds the DID document that `https://{host}/.well-known/did.json`
/// serves, with one `Multikey` verification method per key.
///
/// Every key listed may sign credentials (`assertionMethod`). Keep a
/// rotated-out key in the list for as long as credentials it signed
/// should still verify, because verifiers resolve the key through this
/// document. The first key is also listed under `authentication`.
pub fn did_web_document(host: &str, public_keys: &[VerifyingKey]) -> Result<Value, DidError> {
    let did = did_web(host)?;
    let methods: Vec<Value> = public_keys
        .iter()
        .map(|key| {
            json!({
                "id": format!("{did}#{}", multikey(key)),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey(key),
            })
        })
        .collect();
    let ids: Vec<Value> = methods.iter().map(|method| method["id"].clone()).collect();
    Ok(json!({
        "@context": [DID_V1_CONTEXT, MULTIKEY_V1_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids.first().cloned().into_iter().collect::<Vec<_>>(),
    }))
}

/// Returns the public key that a `did:web` document lists under
/// `verification_method`, if the method is a `Multikey` (or an
/// `Ed25519VerificationKey2020`) with `publicKeyMultibase` and is allowed
/// to make assertions.
pub fn key_from_did_document(document: &Value, verification_method: &str) -> Option<VerifyingKey> {
    let did = document.get("id")?.as_str()?;
    let matches_id =
        |id: &str| id == verification_method || format!("{did}{id}") == verification_method;

    let listed_for_assertion = document
        .get("assertionMethod")?
        .as_array()?
        .iter()
        .any(|entry| match entry {
            Value::String(id) => matches_id(id),
            Value::Object(_) => entry
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(matches_id),
            _ => false,
        });
    if !listed_for_assertion {
        return None;
    }

    let embedded = document["assertionMethod"]
        .as_array()?
        .iter()
        .filter(|entry| entry.is_object());
    let listed = document
        .get("verificationMethod")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    listed
        .chain(embedded)
        .find(|method| {
            method
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(matches_id)
        })
        .filter(|method| {
            matches!(
                method.get("type").and_then(Value::as_str),
                Some("Multikey" | "Ed25519VerificationKey2020")
            )
        })
        .and_then(|method| method.get("publicKeyMultibase")?.as_str())
        .and_then(|multibase| parse_multikey(multibase).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    /// Issuer of the Digital Credentials Consortium credentials in testdata.
    const SPEC_DID: &str = "did:key:z6MknNQD1WHLGGraFi6zcbGevuAgkVfdyCdtZnQTGWVVvR5Q";

    #[test]
    fn did_key_round_trip() {
        let key = SigningKey::from_bytes(&[3; 32]).verifying_key();
        let did = did_key(&key);
        assert!(did.starts_with("did:key:z6Mk"), "{did}");
        assert_eq!(resolve_did_key(&did).unwrap(), key);
        let method = did_key_verification_method(&key);
        assert_eq!(method, format!("{did}#{}", multikey(&key)));
        assert_eq!(resolve_did_key(&method).unwrap(), key);
        assert_eq!(controller_of(&method), did);
    }

    #[test]
    fn did_key_of_third_party_issuer_decodes() {
        let key = resolve_did_key(SPEC_DID).unwrap();
        assert_eq!(did_key(&key), SPEC_DID);
    }

    #[test]
    fn did_key_rejects_malformed_values() {
        assert!(matches!(
            resolve_did_key("did:web:example.org"),
            Err(DidError::NotDidKey(_))
        ));
        assert!(matches!(
            resolve_did_key("did:key:6Mk"),
            Err(DidError::NotBase58Btc(_))
        ));
        assert!(matches!(
            resolve_did_key("did:key:z0OIl"),
            Err(DidError::NotBase58Btc(_))
        ));
        // A secp256k1 did:key (multicodec 0xe7) is not an Ed25519 key.
        assert!(matches!(
            resolve_did_key("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"),
            Err(DidError::NotEd25519Multikey(_))
        ));
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key();
        let mismatched = format!("{SPEC_DID}#{}", multikey(&other));
        assert!(matches!(
            resolve_did_key(&mismatched),
            Err(DidError::FragmentMismatch(_))
        ));
    }

    #[test]
    fn did_web_encodes_port() {
        assert_eq!(
            did_web("Badges.Example.org").unwrap(),
            "did:web:badges.example.org"
        );
        assert_eq!(
            did_web("localhost:3000").unwrap(),
            "did:web:localhost%3A3000"
        );
        for bad in [
            "",
            "exa mple.org",
            "example.org/path",
            "example.org:0",
            "example.org:x",
            "-a.org",
        ] {
            assert!(did_web(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn did_web_document_lists_every_key() {
        let current = SigningKey::from_bytes(&[5; 32]).verifying_key();
        let retired = SigningKey::from_bytes(&[6; 32]).verifying_key();
        let document = did_web_document("badges.example.org", &[current, retired]).unwrap();
        assert_eq!(document["id"], "did:web:badges.example.org");
        assert_eq!(document["verificationMethod"].as_array().unwrap().len(), 2);

        let method = did_web_verification_method("badges.example.org", &retired).unwrap();
        assert_eq!(key_from_did_document(&document, &method), Some(retired));
        let unknown = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let missing = did_web_verification_method("badges.example.org", &unknown).unwrap();
        assert_eq!(key_from_did_document(&document, &missing), None);
    }
}
