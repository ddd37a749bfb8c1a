//! Embedded adapters: everything the local binary needs, on the local disk.

pub mod aws;
pub mod folder;
pub mod outbox;
pub mod sqlite;

pub use folder::FolderImageStore;
pub use outbox::OutboxMailer;
pub use sqlite::SqliteStore;
