//! Use cases shared by the HTTP functions and the workers. Each takes the
//! `App` and validated domain values, and returns a `ServiceError` for
//! every expected failure.

pub mod awards;
pub mod badges;
pub mod claims;
pub mod credentials;
pub mod followup;
pub mod import;
pub mod mail_events;
pub mod resend;
pub mod sharing;
pub mod stats;
pub mod unsubscribe;

use crate::ports::StoreError;

/// An expected failure of a use case, or a fault of a backing service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A referenced item does not exist. `field` names the request field
    /// that referenced it, when there is one.
    #[error("{message}")]
    NotFound { message: String, field: Option<&'static str> },
    /// A request value is invalid.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// A request value is invalid, with a specific error code.
    #[error("{message}")]
    Rejected { code: &'static str, field: String, message: String },
    /// The request conflicts with the current state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The deployment lacks what the request needs, such as a signing key.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// A backing service failed.
    #[error("internal failure: {0}")]
    Internal(#[from] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::Invalid { field: field.into(), message: message.into() }
    }

    pub fn not_found(message: impl Into<String>, field: Option<&'static str>) -> Self {
        ServiceError::NotFound { message: message.into(), field }
    }

    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServiceError::Internal(Box::new(error))
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::InvalidCursor => ServiceError::invalid("cursor", "the paging cursor is invalid; use the next_cursor of the previous page"),
            other => ServiceError::Internal(Box::new(other)),
        }
    }
}
