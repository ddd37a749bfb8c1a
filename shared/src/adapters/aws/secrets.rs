//! Issuer key of Open Badges 3.0 credentials, kept in AWS Secrets Manager.
//!
//! The secret is a string that Secrets Manager generates, so the key never
//! appears in the template, the stack outputs or the function settings. The
//! Ed25519 seed is the SHA-256 digest of the string's UTF-8 bytes, so one
//! secret value always gives the same key and the same issuer DID.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use sha2::{Digest, Sha256};

use crate::ob3::Ed25519Signer;
use crate::ports::{OsRandom, RandomSource};

/// Minimum length of the secret string, in characters. The template
/// generates 64 letters and digits (about 380 bits), so a shorter value is
/// a secret set by hand or the wrong secret.
pub const MIN_SECRET_CHARS: usize = 32;

/// Failure to read or create the issuer key secret. Messages name the
/// secret by the id they were given (an ARN or a name) and never contain
/// its value.
#[derive(thiserror::Error)]
pub enum SecretError {
    /// Secrets Manager returns the same error for a secret that does not
    /// exist and for one without a current value. `reason` contains the
    /// error's message, which differs between the two.
    #[error(
        "the issuer key secret {secret_id:?} or its current value was not found in Secrets Manager ({reason}): \
         check the secret's ARN or name, and that the secret has a value"
    )]
    NotFound { secret_id: String, reason: String },
    #[error("the issuer key secret {secret_id:?} has no string value: store the key as a SecretString")]
    NotAString { secret_id: String },
    #[error(
        "the issuer key secret {secret_id:?} has {length} characters, fewer than the minimum of {MIN_SECRET_CHARS}: \
         store a random string of at least {MIN_SECRET_CHARS} characters"
    )]
    TooShort { secret_id: String, length: usize },
    #[error("Secrets Manager {operation} on the issuer key secret {secret_id:?} failed: {reason}")]
    Backend { operation: &'static str, secret_id: String, reason: String },
}

/// Prints the message itself, because a Lambda `main` that fails at start-up
/// shows its error in `Debug` form.
impl std::fmt::Debug for SecretError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Reads the current version of the secret `secret_id` (an ARN or a name)
/// and builds the issuer's signer from it. The signer's DID is `did:key`,
/// and [`Ed25519Signer::with_did_web`] turns it into a `did:web` identity.
///
/// Logs the secret id and the issuer DID, never the secret value.
pub async fn load_issuer_signer(client: &Client, secret_id: &str) -> Result<Ed25519Signer, SecretError> {
    let output = match client.get_secret_value().secret_id(secret_id).send().await {
        Ok(output) => output,
        Err(error) => {
            if let Some(GetSecretValueError::ResourceNotFoundException(not_found)) = error.as_service_error() {
                let reason = not_found.message().unwrap_or("ResourceNotFoundException").to_owned();
                return Err(SecretError::NotFound { secret_id: secret_id.to_owned(), reason });
            }
            return Err(SecretError::Backend {
                operation: "GetSecretValue",
                secret_id: secret_id.to_owned(),
                reason: DisplayErrorContext(&error).to_string(),
            });
        }
    };
    let secret = output.secret_string().ok_or_else(|| SecretError::NotAString { secret_id: secret_id.to_owned() })?;
    let signer = issuer_signer_from_secret(secret_id, secret)?;
    tracing::info!(secret_id, issuer_did = signer.did(), "loaded the issuer key");
    Ok(signer)
}

/// Builds the signer whose Ed25519 seed is the SHA-256 digest of `secret`.
fn issuer_signer_from_secret(secret_id: &str, secret: &str) -> Result<Ed25519Signer, SecretError> {
    let length = secret.chars().count();
    if length < MIN_SECRET_CHARS {
        return Err(SecretError::TooShort { secret_id: secret_id.to_owned(), length });
    }
    let seed: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    Ok(Ed25519Signer::from_seed(seed))
}

/// Creates the secret `name` with a random value of 64 letters and digits
/// when no secret has that name, for development set-ups on an emulator.
/// Returns `true` when it created the secret. An existing secret is left
/// as it is, whatever its value.
pub async fn create_issuer_secret_if_missing(client: &Client, name: &str) -> Result<bool, SecretError> {
    // 40 random bytes are 64 base32 characters.
    let mut bytes = [0u8; 40];
    OsRandom.fill(&mut bytes);
    let value = crate::encoding::base32_lower(&bytes);

    let request = client
        .create_secret()
        .name(name)
        .description("Issuer key of Open Badges 3.0 credentials: its SHA-256 digest is the Ed25519 seed")
        .secret_string(value);
    match request.send().await {
        Ok(_) => {
            tracing::info!(secret_id = name, "created the issuer key secret");
            Ok(true)
        }
        Err(error) if matches!(error.as_service_error(), Some(CreateSecretError::ResourceExistsException(_))) => Ok(false),
        Err(error) => Err(SecretError::Backend {
            operation: "CreateSecret",
            secret_id: name.to_owned(),
            reason: DisplayErrorContext(&error).to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_secret_rejected() {
        let error = issuer_signer_from_secret("issuer-key", "").unwrap_err();
        assert!(matches!(error, SecretError::TooShort { length: 0, .. }), "{error}");
        assert!(error.to_string().contains("\"issuer-key\""), "{error}");
    }

    #[test]
    fn secret_length_counts_characters() {
        // 31 two-byte characters are 62 bytes but still too short.
        let error = issuer_signer_from_secret("issuer-key", &"é".repeat(31)).unwrap_err();
        assert!(matches!(error, SecretError::TooShort { length: 31, .. }), "{error}");
        assert!(issuer_signer_from_secret("issuer-key", &"é".repeat(32)).is_ok());
    }

    #[test]
    fn seed_is_sha256_of_secret() {
        let secret = "0123456789abcdefghijklmnopqrstuvwxyz";
        let signer = issuer_signer_from_secret("issuer-key", secret).unwrap();
        let expected = Ed25519Signer::from_seed(Sha256::digest(secret.as_bytes()).into());
        assert_eq!(signer.public_key(), expected.public_key());
    }
}
