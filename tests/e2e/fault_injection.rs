//! An import that fails part-way and is run again leaves exactly one award
//! and at most one email per recipient.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use badges_shared::App;
use badges_shared::adapters::{OutboxMailer, SqliteStore};
use badges_shared::domain::{
    Award, AwardId, BadgeClass, BadgeId, ClaimToken, EmailAddress, FollowUp, Issuer, ResendRequest, StatusIndex,
    Suppression,
};
use badges_shared::import::ImportOptions;
use badges_shared::ports::{
    AwardPage, AwardQuery, AwardStore, Inserted, OsRandom, RandomSource, StoreError, SystemClock,
};
use badges_shared::service::badges::{BadgeInput, CriteriaInput, create_badge};
use badges_shared::service::import::import_roster;
use badges_shared::settings::Settings;
use chrono::{DateTime, Utc};

const REGISTRATIONS: &[u8] = include_bytes!("../fixtures/webinar-registrations.csv");

/// An award store that fails every `insert_awards` call after the first
/// `healthy_inserts` calls, as a crash or an outage part-way would.
struct FailingStore {
    inner: SqliteStore,
    healthy_inserts: usize,
    inserts: AtomicUsize,
}

#[async_trait]
impl AwardStore for FailingStore {
    async fn create_badge(&self, badge: &BadgeClass) -> Result<(), StoreError> {
        self.inner.create_badge(badge).await
    }
    async fn update_badge(&self, badge: &BadgeClass) -> Result<(), StoreError> {
        self.inner.update_badge(badge).await
    }
    async fn get_badge(&self, id: &BadgeId) -> Result<Option<BadgeClass>, StoreError> {
        self.inner.get_badge(id).await
    }
    async fn list_badges(&self) -> Result<Vec<BadgeClass>, StoreError> {
        self.inner.list_badges().await
    }
    async fn insert_awards(&self, awards: &[Award]) -> Result<Vec<Inserted>, StoreError> {
        if self.inserts.fetch_add(1, Ordering::SeqCst) >= self.healthy_inserts {
            return Err(StoreError::Backend("injected fault: the store went away".into()));
        }
        self.inner.insert_awards(awards).await
    }
    async fn get_award(&self, id: &AwardId) -> Result<Option<Award>, StoreError> {
        self.inner.get_award(id).await
    }
    async fn update_award(&self, award: &Award) -> Result<Award, StoreError> {
        self.inner.update_award(award).await
    }
    async fn list_awards(&self, query: &AwardQuery) -> Result<AwardPage, StoreError> {
        self.inner.list_awards(query).await
    }
    async fn queued_awards(&self, limit: usize) -> Result<Vec<Award>, StoreError> {
        self.inner.queued_awards(limit).await
    }
    async fn add_claim_token(&self, token: &ClaimToken) -> Result<(), StoreError> {
        self.inner.add_claim_token(token).await
    }
    async fn claim_tokens(&self, award_id: &AwardId) -> Result<Vec<ClaimToken>, StoreError> {
        self.inner.claim_tokens(award_id).await
    }
    async fn due_follow_ups(&self, kind: FollowUp, now: DateTime<Utc>, limit: usize) -> Result<Vec<Award>, StoreError> {
        self.inner.due_follow_ups(kind, now, limit).await
    }
    async fn add_suppression(&self, suppression: &Suppression) -> Result<bool, StoreError> {
        self.inner.add_suppression(suppression).await
    }
    async fn suppressions(&self, emails: &[EmailAddress]) -> Result<Vec<Suppression>, StoreError> {
        self.inner.suppressions(emails).await
    }
    async fn request_resend(&self, request: &ResendRequest, window_ends: DateTime<Utc>) -> Result<bool, StoreError> {
        self.inner.request_resend(request, window_ends).await
    }
    async fn queued_resends(&self, limit: usize) -> Result<Vec<ResendRequest>, StoreError> {
        self.inner.queued_resends(limit).await
    }
    async fn take_resend(&self, request: &ResendRequest) -> Result<bool, StoreError> {
        self.inner.take_resend(request).await
    }
    async fn signing_key(&self, name: &str, candidate: [u8; 32]) -> Result<[u8; 32], StoreError> {
        self.inner.signing_key(name, candidate).await
    }
    async fn next_status_index(&self) -> Result<StatusIndex, StoreError> {
        self.inner.next_status_index().await
    }
    async fn revoke_status_index(&self, position: StatusIndex) -> Result<(), StoreError> {
        self.inner.revoke_status_index(position).await
    }
    async fn revoked_status_indexes(&self, list: u32) -> Result<Vec<u64>, StoreError> {
        self.inner.revoked_status_indexes(list).await
    }
}

fn app_on(store: Arc<dyn AwardStore>, folder: &std::path::Path) -> App {
    let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
    let issuer = Issuer { name: "Test Association".into(), url: "https://www.example.org".into(), email: "badges@example.org".into() };
    App {
        store,
        images: Arc::new(badges_shared::adapters::FolderImageStore::new(folder.join("images"), "http://127.0.0.1:9/images")),
        mailer: Arc::new(OutboxMailer::new(folder.join("outbox"), random.clone())),
        clock: Arc::new(SystemClock),
        random,
        settings: Arc::new(Settings::new("http://127.0.0.1:9", issuer)),
        notify_queued: Arc::new(tokio::sync::Notify::new()),
        issuer_signer: None,
    }
}

/// Counts outbox messages per recipient from their `To:` headers.
fn emails_per_recipient(folder: &std::path::Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for entry in std::fs::read_dir(folder.join("outbox")).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let email = crate::support::Email::parse(&raw);
        *counts.entry(email.to).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_interrupted_then_rerun() {
    let folder = tempfile::tempdir().unwrap();
    let database = folder.path().join("badges.sqlite3");
    let badge_id = BadgeId::parse("fault-test").unwrap();

    // GIVEN a store that fails after the first batch of inserts.
    let failing = Arc::new(FailingStore {
        inner: SqliteStore::open(&database).unwrap(),
        healthy_inserts: 1,
        inserts: AtomicUsize::new(0),
    });
    let app = app_on(failing, folder.path());
    let input = BadgeInput {
        id: Some(badge_id.to_string()),
        name: "Fault test".into(),
        description: "A badge for the fault-injection test.".into(),
        criteria: CriteriaInput::Narrative("Attended.".into()),
        tags: vec![],
        format: None,
        expires_after_days: None,
        survey_url: None,
        survey_delay_days: None,
    };
    create_badge(&app, &input).await.unwrap();
    let options = ImportOptions { max_rows: 100_000, ..Default::default() };

    // WHEN the import fails part-way, and the worker sends what was written.
    let failed = import_roster(&app, &badge_id, String::new(), REGISTRATIONS, &options).await;
    assert!(failed.is_err(), "the injected fault stops the import");
    badges_notify::drain_queue(&app).await.unwrap();
    let sent_before_rerun: usize = emails_per_recipient(folder.path()).values().sum();
    assert!(sent_before_rerun > 0, "the first batch was written and notified");
    assert!(sent_before_rerun < 42, "the import stopped before the end");

    // AND the same file is imported again on a healthy store.
    let healthy: Arc<dyn AwardStore> = Arc::new(SqliteStore::open(&database).unwrap());
    let app = app_on(healthy.clone(), folder.path());
    let report = import_roster(&app, &badge_id, String::new(), REGISTRATIONS, &options).await.unwrap();
    assert_eq!(report.totals.created + report.totals.already_awarded, 42);
    assert_eq!(report.totals.already_awarded, sent_before_rerun);
    badges_notify::drain_queue(&app).await.unwrap();

    // THEN every recipient has exactly one award and one email.
    let mut awards = Vec::new();
    let mut cursor = None;
    loop {
        let page = healthy
            .list_awards(&AwardQuery {
                badge_id: Some(badge_id.clone()),
                email: None,
                status: None,
                notification: None,
                limit: 200,
                cursor,
                now: chrono::Utc::now(),
            })
            .await
            .unwrap();
        awards.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(awards.len(), 42);
    let mut recipients: Vec<_> = awards.iter().map(|award| award.recipient.email.to_string()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 42, "one award per recipient");

    let emails = emails_per_recipient(folder.path());
    assert_eq!(emails.len(), 42, "every recipient got an email");
    for (recipient, count) in &emails {
        assert_eq!(*count, 1, "{recipient} got {count} emails");
    }
}
