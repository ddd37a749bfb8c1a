//! Ports: the traits the core needs from the outside world. Each has an
//! embedded adapter (SQLite file, local folder, outbox folder) and an AWS
//! adapter (DynamoDB, S3, SES v2).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    Award, AwardId, AwardStatus, BadgeClass, BadgeId, ClaimToken, EmailAddress, FollowUp, ImageKind,
    NotificationStatus, ResendRequest, StatusIndex, Suppression,
};

/// Failure of a store or image-store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule rejected the write (for example a badge id that exists).
    #[error("the item already exists")]
    Conflict,
    /// The item changed since it was read; reload and try again.
    #[error("the item was changed by another request")]
    VersionConflict,
    #[error("the item does not exist")]
    NotFound,
    /// A paging cursor that this store did not issue.
    #[error("the paging cursor is invalid")]
    InvalidCursor,
    /// The backing service failed; the source says why.
    #[error("the storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(error))
    }
}

/// Result of inserting an award under the one-award-per-(badge, recipient,
/// session) rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    Created(Award),
    /// The rule matched an award that already exists; nothing was written.
    Existing(Award),
}

/// Status filter of an award listing; `Expired` is derived from `expires_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Is(AwardStatus),
    Expired,
}

/// Which awards to list. Exactly one of `badge_id` and `email` is set.
#[derive(Debug, Clone)]
pub struct AwardQuery {
    pub badge_id: Option<BadgeId>,
    pub email: Option<EmailAddress>,
    pub status: Option<StatusFilter>,
    pub notification: Option<NotificationStatus>,
    pub limit: usize,
    pub cursor: Option<String>,
    /// The time against which `expires_on` is compared for `Expired`.
    pub now: DateTime<Utc>,
}

/// One page of a listing, oldest award first.
#[derive(Debug, Clone)]
pub struct AwardPage {
    pub items: Vec<Award>,
    /// Opaque cursor of the next page, `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Persistent storage of badge classes, awards and claim tokens.
#[async_trait]
pub trait AwardStore: Send + Sync {
    /// Stores a new badge class; `Conflict` when the id is taken.
    async fn create_badge(&self, badge: &BadgeClass) -> Result<(), StoreError>;
    /// Replaces a badge class; `NotFound` when it does not exist.
    async fn update_badge(&self, badge: &BadgeClass) -> Result<(), StoreError>;
    async fn get_badge(&self, id: &BadgeId) -> Result<Option<BadgeClass>, StoreError>;
    async fn list_badges(&self) -> Result<Vec<BadgeClass>, StoreError>;

    /// Inserts each award unless its (badge, email, session) already has
    /// one, in order. Each award is decided on its own: a conflict on one
    /// never stops the others.
    async fn insert_awards(&self, awards: &[Award]) -> Result<Vec<Inserted>, StoreError>;
    async fn get_award(&self, id: &AwardId) -> Result<Option<Award>, StoreError>;
    /// Writes `award` if the stored version still equals `award.version`,
    /// and returns it with the incremented version. `VersionConflict`
    /// otherwise, `NotFound` when the award does not exist.
    async fn update_award(&self, award: &Award) -> Result<Award, StoreError>;
    async fn list_awards(&self, query: &AwardQuery) -> Result<AwardPage, StoreError>;
    /// Returns up to `limit` awards whose notification is `Queued`, oldest first.
    async fn queued_awards(&self, limit: usize) -> Result<Vec<Award>, StoreError>;

    async fn add_claim_token(&self, token: &ClaimToken) -> Result<(), StoreError>;
    /// Returns every stored token of an award, expired ones included.
    async fn claim_tokens(&self, award_id: &AwardId) -> Result<Vec<ClaimToken>, StoreError>;

    /// Returns up to `limit` awards whose follow-up of this kind is due at
    /// `now`, as `Award::next_follow_up` gives it, earliest due first.
    async fn due_follow_ups(&self, kind: FollowUp, now: DateTime<Utc>, limit: usize) -> Result<Vec<Award>, StoreError>;

    /// Records that no more email goes to an address. An existing record
    /// is kept as it is. Returns whether this call created the record.
    async fn add_suppression(&self, suppression: &Suppression) -> Result<bool, StoreError>;
    /// Returns the records of those `emails` that are suppressed, in no
    /// particular order.
    async fn suppressions(&self, emails: &[EmailAddress]) -> Result<Vec<Suppression>, StoreError>;

    /// Queues a learner's request for new claim links and opens the
    /// address's resend window until `window_ends`, unless the address has
    /// a window still open at `request.requested_at`. Returns whether the
    /// request was queued. Works across processes, so the window holds for
    /// every function instance.
    async fn request_resend(&self, request: &ResendRequest, window_ends: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Returns up to `limit` queued resend requests, oldest first.
    async fn queued_resends(&self, limit: usize) -> Result<Vec<ResendRequest>, StoreError>;
    /// Takes a queued request for sending. Returns false when it is no
    /// longer queued (another sender took it) or a newer request replaced it.
    async fn take_resend(&self, request: &ResendRequest) -> Result<bool, StoreError>;

    /// Returns the secret key stored under `name`, storing `candidate`
    /// first when there is none, so that every process uses the same key.
    async fn signing_key(&self, name: &str, candidate: [u8; 32]) -> Result<[u8; 32], StoreError>;

    /// Returns the next position of the revocation status lists. Each call
    /// returns a position that no earlier call returned, in any process.
    /// A position that is never stored on an award stays clear.
    async fn next_status_index(&self) -> Result<StatusIndex, StoreError>;
    /// Sets the revocation bit at `position`. Setting a set bit is not an error.
    async fn revoke_status_index(&self, position: StatusIndex) -> Result<(), StoreError>;
    /// Returns the set bits of status list `list`, in ascending order.
    async fn revoked_status_indexes(&self, list: u32) -> Result<Vec<u64>, StoreError>;
}

/// An image as stored, with its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub bytes: Vec<u8>,
    pub kind: ImageKind,
}

/// Storage of badge images and baked award images under stable keys such
/// as `badges/{badge_id}.svg` and `awards/{award_id}/badge.png`.
#[async_trait]
pub trait ImageStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, kind: ImageKind) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<StoredImage>, StoreError>;
    /// Deletes the image; deleting a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Returns the absolute URL at which websites can embed the image.
    fn public_url(&self, key: &str) -> String;
}

/// What an email is for. SES tags each message with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// The claim email of one award.
    Claim,
    /// The claim links of every pending award of an address, on the
    /// learner's request.
    Resend,
    /// A reminder of the claim email.
    Reminder,
    /// The follow-up survey invitation.
    Survey,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Claim => "claim",
            MailKind::Resend => "resend",
            MailKind::Reminder => "reminder",
            MailKind::Survey => "survey",
        }
    }
}

/// A complete RFC 5322 message ready to send.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub kind: MailKind,
    pub to: EmailAddress,
    /// The award the message is about. SES tags the message with it, so
    /// delivery, bounce and complaint events name the award. A resend
    /// message about several awards has none; its events are matched to
    /// the awards of the recipient by message id.
    pub award_id: Option<AwardId>,
    pub raw: Vec<u8>,
    /// Claim links in the message. Only the development outbox prints them;
    /// other mailers must not log them.
    pub claim_links: Vec<String>,
}

/// Failure of a send.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The provider asked to slow down; retry later.
    #[error("the mail provider throttled the request")]
    Throttled,
    /// The provider refused this message; retrying will not help.
    #[error("the mail provider rejected the message: {0}")]
    Rejected(String),
    /// The provider or the outbox failed; retrying may help.
    #[error("sending failed: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Sends email.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends the message and returns the provider's message id.
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError>;

    /// Called by the sender once the message id of a sent message is stored
    /// on the awards the message is about. A mailer that simulates the
    /// provider's delivery events reports them here, so that they find the
    /// message on its awards, as events that arrive later from SES do.
    async fn message_recorded(&self, _message_id: &str) {}
}

/// The current time, injectable for tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Source of cryptographically secure random bytes, injectable for tests.
pub trait RandomSource: Send + Sync {
    fn fill(&self, buffer: &mut [u8]);
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one time, for tests and for jobs run "as of" a time.
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The operating system's random number generator.
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, buffer: &mut [u8]) {
        // Without an OS random source no token can be made safely: stop.
        getrandom::fill(buffer).expect("the operating system's random number generator failed");
    }
}
