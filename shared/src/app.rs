//! The ports and settings a function works with, bundled for routers.

use std::sync::Arc;

use crate::ports::{AwardStore, Clock, ImageStore, Mailer, RandomSource};
use crate::settings::Settings;

/// Everything a handler may use. Cloning is cheap: every field is shared.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn AwardStore>,
    pub images: Arc<dyn ImageStore>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn RandomSource>,
    pub settings: Arc<Settings>,
    /// Woken when awards are queued for notification. The local binary's
    /// in-process worker waits on it; on AWS the table's stream does this
    /// job and nothing waits here.
    pub notify_queued: Arc<tokio::sync::Notify>,
}

impl App {
    /// Returns `len` random bytes as lowercase hex.
    pub fn random_hex(&self, len: usize) -> String {
        let mut bytes = vec![0u8; len];
        self.random.fill(&mut bytes);
        hex::encode(bytes)
    }

    pub fn new_award_id(&self) -> crate::domain::AwardId {
        let mut bytes = [0u8; 16];
        self.random.fill(&mut bytes);
        crate::domain::AwardId::from_random(bytes)
    }
}
