//! The signer port: the component that keeps the issuer's Ed25519 key.
//!
//! Proofs are made through [`Signer`], so the key can live in a local file
//! ([`KeyFileSigner`]), in memory ([`Ed25519Signer`]), or in a service that
//! signs without revealing the key, such as a key management service.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use super::did;

/// Failure of a signer to sign.
#[derive(Debug, thiserror::Error)]
#[error("signing failed: {0}")]
pub struct SignError(pub String);

/// Signs proof data with the issuer's Ed25519 key.
pub trait Signer: Send + Sync {
    /// Returns the verification method id that verifiers resolve to the
    /// public key, such as `did:key:z6Mk…#z6Mk…`. The part before `#` is
    /// the issuer's DID.
    fn verification_method(&self) -> String;

    /// Signs `bytes` with Ed25519 (RFC 8032, no prehash) and returns the
    /// 64-byte signature.
    fn sign(&self, bytes: &[u8]) -> Result<[u8; 64], SignError>;
}

/// An Ed25519 key held in memory.
#[derive(Clone)]
pub struct Ed25519Signer {
    key: SigningKey,
    verification_method: String,
}

impl Ed25519Signer {
    /// Builds a signer from a 32-byte seed (the RFC 8032 private key). Its
    /// verification method is the key's `did:key`.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let verification_method = did::did_key_verification_method(&key.verifying_key());
        Self {
            key,
            verification_method,
        }
    }

    /// Uses the key under a `did:web` identity for `host` instead of its
    /// `did:key`. The host must then serve [`did::did_web_document`].
    pub fn with_did_web(mut self, host: &str) -> Result<Self, did::DidError> {
        self.verification_method = did::did_web_verification_method(host, &self.public_key())?;
        Ok(self)
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Returns the issuer's DID: the verification method without its fragment.
    pub fn did(&self) -> &str {
        did::controller_of(&self.verification_method)
    }
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("verification_method", &self.verification_method)
            .finish_non_exhaustive()
    }
}

impl Signer for Ed25519Signer {
    fn verification_method(&self) -> String {
        self.verification_method.clone()
    }

    fn sign(&self, bytes: &[u8]) -> Result<[u8; 64], SignError> {
        Ok(self.key.sign(bytes).to_bytes())
    }
}

/// Failure to read or create a key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the key file {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the key file {path} has {len} bytes; it must contain exactly the 32-byte Ed25519 seed. \
         Restore the file from a backup, or move it away to create a new key, which gives the issuer a new DID"
    )]
    WrongLength { path: PathBuf, len: usize },
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
}

/// An Ed25519 key kept in a file as its raw 32-byte seed.
#[derive(Debug, Clone)]
pub struct KeyFileSigner {
    signer: Ed25519Signer,
    path: PathBuf,
    created: bool,
}

impl KeyFileSigner {
    /// Reads the key from `path`, or creates the file with a new random key
    /// when it does not exist. On Unix a new file gets mode 0600. Two
    /// processes starting at once end up with the same key, because the
    /// file is created exclusively and the loser reads the winner's file.
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<Self, KeyFileError> {
        let path = path.as_ref().to_path_buf();
        match read_seed(&path) {
            Ok(seed) => return Ok(Self::new(seed, path, false)),
            Err(KeyFileError::Read { source, .. }) if source.kind() == ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }

        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|error| KeyFileError::Random(error.to_string()))?;
        match create_exclusive(&path) {
            Ok(mut file) => {
                let written = file.write_all(&seed).and_then(|()| file.sync_all());
                written.map_err(|source| KeyFileError::Create {
                    path: path.clone(),
                    source,
                })?;
                Ok(Self::new(seed, path, true))
            }
            Err(source) if source.kind() == ErrorKind::AlreadyExists => {
                let seed = read_seed(&path)?;
                Ok(Self::new(seed, path, false))
            }
            Err(source) => Err(KeyFileError::Create { path, source }),
        }
    }

    fn new(seed: [u8; 32], path: PathBuf, created: bool) -> Self {
        Self {
            signer: Ed25519Signer::from_seed(seed),
            path,
            created,
        }
    }

    /// Uses the key under a `did:web` identity; see [`Ed25519Signer::with_did_web`].
    pub fn with_did_web(mut self, host: &str) -> Result<Self, did::DidError> {
        self.signer = self.signer.with_did_web(host)?;
        Ok(self)
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.signer.public_key()
    }

    /// Returns the issuer's DID.
    pub fn did(&self) -> &str {
        self.signer.did()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns true when [`Self::open_or_create`] created the file.
    pub fn was_created(&self) -> bool {
        self.created
    }
}

impl Signer for KeyFileSigner {
    fn verification_method(&self) -> String {
        self.signer.verification_method()
    }

    fn sign(&self, bytes: &[u8]) -> Result<[u8; 64], SignError> {
        self.signer.sign(bytes)
    }
}

fn read_seed(path: &Path) -> Result<[u8; 32], KeyFileError> {
    let mut bytes = Vec::with_capacity(32);
    File::open(path)
        .and_then(|file| file.take(33).read_to_end(&mut bytes))
        .map_err(|source| KeyFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyFileError::WrongLength {
            path: path.to_path_buf(),
            len: bytes.len(),
        })
}

fn create_exclusive(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier};

    #[test]
    fn key_file_created_once_and_reused() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("issuer.key");

        let first = KeyFileSigner::open_or_create(&path).unwrap();
        assert!(first.was_created());
        assert_eq!(std::fs::read(&path).unwrap().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        let second = KeyFileSigner::open_or_create(&path).unwrap();
        assert!(!second.was_created());
        assert_eq!(second.public_key(), first.public_key());
        assert_eq!(second.verification_method(), first.verification_method());
    }

    #[test]
    fn key_file_of_wrong_length_is_rejected() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("issuer.key");
        std::fs::write(&path, b"not a key").unwrap();
        let error = KeyFileSigner::open_or_create(&path).unwrap_err();
        assert!(
            matches!(error, KeyFileError::WrongLength { len: 9, .. }),
            "{error}"
        );
    }

    #[test]
    fn signature_verifies_with_public_key() {
        let signer = Ed25519Signer::from_seed([9; 32]);
        let signature = signer.sign(b"data").unwrap();
        signer
            .public_key()
            .verify(b"data", &Signature::from_bytes(&signature))
            .unwrap();
        assert!(signer.verification_method().starts_with(signer.did()));
        assert!(signer.did().starts_with("did:key:z6Mk"));
    }

    #[test]
    fn did_web_signer_uses_host_identity() {
        let signer = Ed25519Signer::from_seed([9; 32])
            .with_did_web("badges.example.org")
            .unwrap();
        assert_eq!(signer.did(), "did:web:badges.example.org");
        assert!(
            signer
                .verification_method()
                .starts_with("did:web:badges.example.org#z6Mk")
        );
    }
}
