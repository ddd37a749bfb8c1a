//! Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite.
//!
//! Signing with `eddsa-rdfc-2022` takes three steps. DCC verifier-core
//! 1.0.0-beta.11 and openbadgeslib 4.6.3 both accept the result.
//!
//! 1. The proof configuration (the proof without `proofValue`, with the
//!    document's `@context`) and the document without `proof` are each
//!    canonicalized with RDFC-1.0 and hashed with SHA-256.
//! 2. The configuration hash followed by the document hash (64 bytes) is
//!    signed with Ed25519.
//! 3. `proofValue` is the signature in multibase base58btc (`z…`).
//!
//! Verification recomputes both hashes. It also accepts the legacy
//! cryptosuite name `eddsa-2022` and the `Ed25519Signature2020` proof type,
//! which hash and sign the same way.

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::{Map, Value};

use super::canon::{self, CanonError, TermPolicy};
use super::did;
use super::signer::{SignError, Signer};

/// Proof type of Data Integrity proofs.
pub const DATA_INTEGRITY_PROOF: &str = "DataIntegrityProof";
/// The cryptosuite this crate signs with.
pub const EDDSA_RDFC_2022: &str = "eddsa-rdfc-2022";
/// Earlier name of `eddsa-rdfc-2022`, still found in older credentials.
pub const EDDSA_2022: &str = "eddsa-2022";
/// Proof type of the Ed25519 Signature 2020 suite.
pub const ED25519_SIGNATURE_2020: &str = "Ed25519Signature2020";
/// Proof purpose of credential proofs.
pub const ASSERTION_METHOD: &str = "assertionMethod";

/// Failure to add or verify a proof.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("the document is not a JSON object")]
    NotAnObject,
    #[error("the document already has a proof; sign the document without it")]
    AlreadySigned,
    #[error(
        "the issuer is {issuer:?}, but the signer's key belongs to {signer:?}; set the issuer id to the signer's DID"
    )]
    IssuerMismatch { issuer: String, signer: String },
    #[error("the proof has no {0:?}")]
    MissingField(&'static str),
    #[error("proof type {proof_type:?} with cryptosuite {cryptosuite:?} is not supported")]
    Unsupported {
        proof_type: String,
        cryptosuite: String,
    },
    #[error("proofValue {0:?} is not a base58btc multibase Ed25519 signature (\"z\" and 64 bytes)")]
    InvalidProofValue(String),
    #[error("the document's @context does not start with the proof's @context")]
    ContextMismatch,
    #[error(
        "the signature does not match the document: the document or the proof was changed, or another key signed it"
    )]
    SignatureMismatch,
    #[error(transparent)]
    Canonicalization(#[from] CanonError),
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Signs `document` and returns a copy with a `proof` property holding a
/// `DataIntegrityProof` (`eddsa-rdfc-2022`, purpose `assertionMethod`).
///
/// The document is expanded with [`TermPolicy::RejectUndefined`], so a key
/// that the contexts do not define fails instead of going unsigned. The
/// issuer id, when present, must be the signer's DID.
pub fn add_proof(
    document: &Value,
    signer: &dyn Signer,
    created: DateTime<Utc>,
) -> Result<Value, ProofError> {
    let object = document.as_object().ok_or(ProofError::NotAnObject)?;
    if object.contains_key("proof") {
        return Err(ProofError::AlreadySigned);
    }
    let method = signer.verification_method();
    let signer_did = did::controller_of(&method);
    let issuer = match object.get("issuer") {
        Some(Value::String(id)) => Some(id.as_str()),
        Some(profile) => profile.get("id").and_then(Value::as_str),
        None => None,
    };
    if let Some(issuer) = issuer.filter(|issuer| *issuer != signer_did) {
        return Err(ProofError::IssuerMismatch {
            issuer: issuer.to_owned(),
            signer: signer_did.to_owned(),
        });
    }

    let mut proof = Map::new();
    proof.insert("type".into(), DATA_INTEGRITY_PROOF.into());
    proof.insert("cryptosuite".into(), EDDSA_RDFC_2022.into());
    proof.insert(
        "created".into(),
        created.to_rfc3339_opts(SecondsFormat::Secs, true).into(),
    );
    proof.insert("verificationMethod".into(), method.clone().into());
    proof.insert("proofPurpose".into(), ASSERTION_METHOD.into());

    let hash_data = hash_data(document, &proof, TermPolicy::RejectUndefined)?;
    let signature = signer.sign(&hash_data)?;
    proof.insert(
        "proofValue".into(),
        format!("z{}", bs58::encode(signature).into_string()).into(),
    );

    let mut secured = object.clone();
    secured.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(secured))
}

/// Returns the proofs of a secured document: its `proof` value as a list,
/// or an empty list when it has none.
pub fn proofs_of(document: &Value) -> Vec<&Value> {
    match document.get("proof") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

/// Returns true when [`verify_proof`] can check this proof's type and
/// cryptosuite.
pub fn is_supported(proof: &Value) -> bool {
    let proof_type = proof.get("type").and_then(Value::as_str);
    let cryptosuite = proof.get("cryptosuite").and_then(Value::as_str);
    matches!(
        (proof_type, cryptosuite),
        (
            Some(DATA_INTEGRITY_PROOF),
            Some(EDDSA_RDFC_2022 | EDDSA_2022)
        ) | (Some(ED25519_SIGNATURE_2020), None)
    )
}

/// Verifies one proof of `secured` (the document with its `proof`) with
/// `public_key`. Each proof of a proof set is checked against the document
/// without any proof, so the proofs are independent of each other.
///
/// This checks the signature only. The caller checks that the key belongs
/// to the issuer and that the proof purpose fits.
pub fn verify_proof(
    secured: &Value,
    proof: &Value,
    public_key: &VerifyingKey,
) -> Result<(), ProofError> {
    let mut unsecured = secured.as_object().ok_or(ProofError::NotAnObject)?.clone();
    unsecured.remove("proof");
    let mut options = proof.as_object().ok_or(ProofError::NotAnObject)?.clone();

    if !is_supported(proof) {
        return Err(ProofError::Unsupported {
            proof_type: text_field(proof, "type"),
            cryptosuite: text_field(proof, "cryptosuite"),
        });
    }
    let proof_value = options
        .remove("proofValue")
        .ok_or(ProofError::MissingField("proofValue"))?;
    let signature = decode_signature(&proof_value)?;

    // A proof that carries its own @context signed the document under it,
    // and the document's list must start with that one.
    if let Some(proof_context) = options.remove("@context") {
        let document_context = as_list(unsecured.get("@context").unwrap_or(&Value::Null));
        let proof_context = as_list(&proof_context);
        if !document_context.starts_with(&proof_context) {
            return Err(ProofError::ContextMismatch);
        }
        unsecured.insert("@context".into(), Value::Array(proof_context));
    }

    let hash_data = hash_data(
        &Value::Object(unsecured),
        &options,
        TermPolicy::DropUndefined,
    )?;
    public_key
        .verify(&hash_data, &signature)
        .map_err(|_| ProofError::SignatureMismatch)
}

/// Returns SHA-256(canonical proof configuration) followed by
/// SHA-256(canonical document without proof).
fn hash_data(
    unsecured: &Value,
    options: &Map<String, Value>,
    policy: TermPolicy,
) -> Result<[u8; 64], CanonError> {
    let mut config = options.clone();
    if let Some(context) = unsecured.get("@context") {
        config.insert("@context".into(), context.clone());
    }
    let config_hash = canon::canonical_hash(&Value::Object(config), policy)?;
    let document_hash = canon::canonical_hash(unsecured, policy)?;

    let mut data = [0u8; 64];
    data[..32].copy_from_slice(&config_hash);
    data[32..].copy_from_slice(&document_hash);
    Ok(data)
}

fn decode_signature(proof_value: &Value) -> Result<Signature, ProofError> {
    let text = proof_value.as_str().unwrap_or_default();
    let invalid = || ProofError::InvalidProofValue(text.to_owned());
    let encoded = text.strip_prefix('z').ok_or_else(invalid)?;
    let bytes = bs58::decode(encoded).into_vec().map_err(|_| invalid())?;
    let bytes: [u8; 64] = bytes.try_into().map_err(|_| invalid())?;
    Ok(Signature::from_bytes(&bytes))
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn text_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
