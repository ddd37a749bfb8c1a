//! Development mailer: writes each message as an `.eml` file and prints
//! its claim links to the console.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::ports::{MailError, Mailer, OutgoingEmail, RandomSource};

/// Mailer that writes RFC 5322 files under `dir`, named
/// `{time}-{random}.eml` so they sort by sending time.
pub struct OutboxMailer {
    dir: PathBuf,
    random: std::sync::Arc<dyn RandomSource>,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>, random: std::sync::Arc<dyn RandomSource>) -> Self {
        Self { dir: dir.into(), random }
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|error| MailError::Unavailable(Box::new(error)))?;

        let mut suffix = [0u8; 5];
        self.random.fill(&mut suffix);
        let message_id = format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
            crate::encoding::base32_lower(&suffix)
        );
        let path = self.dir.join(format!("{message_id}.eml"));
        let temporary = path.with_extension("partial");
        tokio::fs::write(&temporary, &email.raw)
            .await
            .map_err(|error| MailError::Unavailable(Box::new(error)))?;
        tokio::fs::rename(&temporary, &path)
            .await
            .map_err(|error| MailError::Unavailable(Box::new(error)))?;

        // Printing claim links is this development mailer's purpose; the
        // AWS mailer never logs them.
        for link in &email.claim_links {
            println!("claim link for {}: {link}", email.to);
        }
        tracing::info!(message_id = %message_id, file = %path.display(), "email written to the outbox");
        Ok(message_id)
    }
}
