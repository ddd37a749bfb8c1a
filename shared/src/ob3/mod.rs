//! Open Badges 3.0 credentials: building, signing, revoking and verifying.
//!
//! An award becomes an `OpenBadgeCredential` (W3C VC Data Model 2.0) with a
//! Data Integrity proof in the `eddsa-rdfc-2022` cryptosuite:
//!
//! 1. [`credential::build_credential`] turns plain inputs into the JSON
//!    credential.
//! 2. [`proof::add_proof`] signs it through a [`signer::Signer`], such as
//!    [`signer::KeyFileSigner`]. The issuer id is the signer's DID:
//!    [`did::did_key`] by default, or [`did::did_web`] for the deployment's
//!    host, whose document [`did::did_web_document`] builds.
//! 3. [`status_list`] keeps one revocation bit per award and builds the
//!    `BitstringStatusListCredential`, which is signed the same way.
//! 4. [`verify::verify`] checks credentials from any issuer, as JSON or
//!    VC-JWT, and returns a report of checks in words.
//!
//! Canonicalization ([`canon`]) uses only the contexts bundled in
//! [`contexts`], so nothing here makes network requests.
//!
//! `service::credentials` builds the credentials of awards with this
//! module, and `POST /verify` checks Open Badges 3.0 input with [`verify()`].

pub mod canon;
pub mod contexts;
pub mod credential;
pub mod did;
pub mod jwt;
pub mod keys;
pub mod proof;
pub mod report;
pub mod signer;
mod status_check;
pub mod status_list;
pub mod verify;

#[cfg(test)]
mod tests;

pub use credential::{
    AchievementInput, CredentialError, CredentialInput, IssuerProfile, RecipientIdentity,
    StatusEntry, build_credential, hash_email,
};
pub use keys::{KnownKey, PublicKey};
pub use proof::{ProofError, add_proof, verify_proof};
pub use signer::{Ed25519Signer, KeyFileSigner, SignError, Signer};
pub use status_check::check_list_credential;
pub use status_list::{StatusList, build_status_list_credential};
pub use verify::{
    Check, CheckKind, Outcome, StatusResult, VerificationReport, VerifyOptions, verify,
};

/// Media type of a credential served as JSON-LD with an embedded proof.
pub const MEDIA_TYPE_VC_LD_JSON: &str = "application/vc+ld+json";
