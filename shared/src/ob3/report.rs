//! The verification report: one [`Check`] per finding, with an outcome
//! and a sentence in words.

use serde::Serialize;
use serde_json::Value;

/// Result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    /// The credential must not be accepted.
    Failed,
    /// Accepted, but the reader should know.
    Warning,
    /// Not checked, because nothing was given to check it with.
    Skipped,
}

/// Aspect of the credential that a check covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// JSON or JWT structure, contexts and types.
    Format,
    /// One embedded proof, or the JWT signature.
    Signature,
    /// Whether the key that signed belongs to the issuer.
    IssuerKey,
    /// Whether every property is defined by the contexts, and so signed.
    Terms,
    ValidFrom,
    ValidUntil,
    /// Revocation or suspension through a status list.
    Status,
    Recipient,
}

/// One finding of a verification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub kind: CheckKind,
    pub outcome: Outcome,
    pub message: String,
}

/// Format in which the credential is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialFormat {
    /// JSON with embedded proofs.
    DataIntegrity,
    /// A compact JWS whose payload is the credential.
    VcJwt,
    /// Neither JSON nor a compact JWS.
    Unknown,
}

/// Status found in a status list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusResult {
    /// The credential has no status entry.
    NotListed,
    /// A status entry exists but could not be checked.
    Unknown,
    /// Every status bit is clear.
    Active,
    Revoked,
    Suspended,
}

/// The result of [`super::verify::verify`].
#[derive(Clone, Debug, Serialize)]
pub struct VerificationReport {
    pub format: CredentialFormat,
    /// The credential: the JSON document, or the JWT payload (its `vc`
    /// claim when it has one).
    pub credential: Option<Value>,
    pub credential_id: Option<String>,
    pub issuer: Option<String>,
    pub status: StatusResult,
    pub checks: Vec<Check>,
}

impl VerificationReport {
    /// Returns true when no check failed and at least one signature passed.
    pub fn is_valid(&self) -> bool {
        let signed = self
            .checks
            .iter()
            .any(|check| check.kind == CheckKind::Signature && check.outcome == Outcome::Passed);
        signed && self.failures().next().is_none()
    }

    pub fn is_revoked(&self) -> bool {
        self.status == StatusResult::Revoked
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|check| check.outcome == Outcome::Failed)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|check| check.outcome == Outcome::Warning)
    }

    pub(crate) fn new(format: CredentialFormat) -> Self {
        Self {
            format,
            credential: None,
            credential_id: None,
            issuer: None,
            status: StatusResult::NotListed,
            checks: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, kind: CheckKind, outcome: Outcome, message: impl Into<String>) {
        self.checks.push(Check {
            kind,
            outcome,
            message: message.into(),
        });
    }
}
