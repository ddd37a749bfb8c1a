//! Award store on an SQLite file (rusqlite, bundled SQLite).
//!
//! Each record is kept as its JSON document beside the columns that queries
//! and uniqueness rules need. The (badge, email, session) rule is a UNIQUE
//! constraint, so concurrent imports cannot create two awards.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::{
    Award, AwardId, BadgeClass, BadgeId, ClaimToken, EmailAddress, FollowUp, ResendRequest, StatusIndex, Suppression,
};
use crate::ports::{AwardPage, AwardQuery, AwardStore, Inserted, StatusFilter, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS badges (
    id  TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS awards (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    badge_id     TEXT NOT NULL,
    email        TEXT NOT NULL,
    session      TEXT NOT NULL,
    status       TEXT NOT NULL,
    notification TEXT NOT NULL,
    expires_on   TEXT,
    version      INTEGER NOT NULL,
    doc          TEXT NOT NULL,
    UNIQUE (badge_id, email, session)
);
CREATE INDEX IF NOT EXISTS awards_by_badge ON awards (badge_id, seq);
CREATE INDEX IF NOT EXISTS awards_by_email ON awards (email, seq);
CREATE INDEX IF NOT EXISTS awards_queued ON awards (seq) WHERE notification = 'queued';
CREATE TABLE IF NOT EXISTS claim_tokens (
    token_hash BLOB PRIMARY KEY,
    award_id   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claim_tokens_by_award ON claim_tokens (award_id);
CREATE TABLE IF NOT EXISTS suppressions (
    email TEXT PRIMARY KEY,
    doc   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resend_requests (
    email        TEXT PRIMARY KEY,
    requested_at TEXT NOT NULL,
    window_ends  TEXT NOT NULL,
    queued       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS resend_requests_queued ON resend_requests (requested_at) WHERE queued = 1;
CREATE TABLE IF NOT EXISTS signing_keys (
    name TEXT PRIMARY KEY,
    key  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_status (
    list INTEGER NOT NULL,
    bit  INTEGER NOT NULL,
    PRIMARY KEY (list, bit)
) WITHOUT ROWID;
";

/// Columns added to `awards` after the first release, with their types.
/// A database created before them gets them when it is opened.
const ADDED_AWARD_COLUMNS: [(&str, &str); 2] = [("follow_up", "TEXT"), ("follow_up_at", "TEXT")];

/// Index of the follow-up schedule, created once its columns exist.
const FOLLOW_UP_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS awards_follow_up ON awards (follow_up, follow_up_at) WHERE follow_up IS NOT NULL;";

/// Maximum values bound in one `IN (…)` list, below SQLite's default limit
/// of 32,766 host parameters.
const MAX_IN_LIST: usize = 500;

/// Name of the sequence in `sequences` that numbers status-list positions.
const STATUS_INDEX_SEQUENCE: &str = "status_index";

/// Award store backed by one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (and creates when missing) the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(StoreError::backend)?;
        Self::init(connection)
    }

    /// Opens a private in-memory database, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(StoreError::backend)?)
    }

    fn init(connection: Connection) -> Result<Self, StoreError> {
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(StoreError::backend)?;
        connection.execute_batch(SCHEMA).map_err(StoreError::backend)?;
        add_missing_columns(&connection)?;
        connection.execute_batch(FOLLOW_UP_INDEX).map_err(StoreError::backend)?;
        Ok(Self { connection: Arc::new(Mutex::new(connection)) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave a half-applied SQL
        // transaction behind (SQLite rolls it back), so the poison is ignored.
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a one-row lookup by key that returns a JSON document. The
    /// statement stays in the connection's cache, because pages and Open
    /// Badges documents run these lookups on every request.
    fn read_doc(&self, sql: &str, key: &str) -> Result<Option<String>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare_cached(sql).map_err(StoreError::backend)?;
        statement.query_row([key], |row| row.get(0)).optional().map_err(StoreError::backend)
    }
}

/// Adds the columns of `ADDED_AWARD_COLUMNS` that the `awards` table lacks.
fn add_missing_columns(connection: &Connection) -> Result<(), StoreError> {
    let mut statement = connection.prepare("SELECT name FROM pragma_table_info('awards')").map_err(StoreError::backend)?;
    let existing = statement
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(StoreError::backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::backend)?;
    for (name, kind) in ADDED_AWARD_COLUMNS {
        if !existing.iter().any(|column| column == name) {
            connection
                .execute_batch(&format!("ALTER TABLE awards ADD COLUMN {name} {kind};"))
                .map_err(StoreError::backend)?;
        }
    }
    Ok(())
}

/// Returns the `follow_up` and `follow_up_at` column values of an award.
fn follow_up_columns(award: &Award) -> (Option<&'static str>, Option<String>) {
    match award.next_follow_up() {
        Some((kind, due)) => (Some(kind.as_str()), Some(timestamp(due))),
        None => (None, None),
    }
}

fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|time| time.with_timezone(&Utc))
        .map_err(StoreError::backend)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(StoreError::backend)
}

fn from_json<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(StoreError::backend)
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

fn decode_cursor(cursor: &str) -> Result<i64, StoreError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)?;
    text.strip_prefix("seq:")
        .and_then(|seq| seq.parse().ok())
        .ok_or(StoreError::InvalidCursor)
}

fn find_existing(
    connection: &Connection,
    badge_id: &BadgeId,
    email: &EmailAddress,
    session: &str,
) -> Result<Option<Award>, StoreError> {
    let doc: Option<String> = connection
        .query_row(
            "SELECT doc FROM awards WHERE badge_id = ?1 AND email = ?2 AND session = ?3",
            params![badge_id.as_str(), email.as_str(), session],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::backend)?;
    doc.map(|doc| from_json(&doc)).transpose()
}

#[async_trait]
impl AwardStore for SqliteStore {
    async fn create_badge(&self, badge: &BadgeClass) -> Result<(), StoreError> {
        let doc = to_json(badge)?;
        let result = self.lock().execute(
            "INSERT INTO badges (id, doc) VALUES (?1, ?2)",
            params![badge.id.as_str(), doc],
        );
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict),
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    async fn update_badge(&self, badge: &BadgeClass) -> Result<(), StoreError> {
        let doc = to_json(badge)?;
        let changed = self
            .lock()
            .execute("UPDATE badges SET doc = ?2 WHERE id = ?1", params![badge.id.as_str(), doc])
            .map_err(StoreError::backend)?;
        if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn get_badge(&self, id: &BadgeId) -> Result<Option<BadgeClass>, StoreError> {
        let doc = self.read_doc("SELECT doc FROM badges WHERE id = ?1", id.as_str())?;
        doc.map(|doc| from_json(&doc)).transpose()
    }

    async fn list_badges(&self) -> Result<Vec<BadgeClass>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare("SELECT doc FROM badges ORDER BY id")
            .map_err(StoreError::backend)?;
        let docs = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(StoreError::backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;
        docs.iter().map(|doc| from_json(doc)).collect()
    }

    async fn insert_awards(&self, awards: &[Award]) -> Result<Vec<Inserted>, StoreError> {
        let mut connection = self.lock();
        // One transaction for the whole batch: a large import commits once
        // instead of once per row, and a crash leaves none of the batch.
        let transaction = connection.transaction().map_err(StoreError::backend)?;
        let mut outcomes = Vec::with_capacity(awards.len());
        {
            let mut insert = transaction
                .prepare_cached(
                    "INSERT INTO awards (id, badge_id, email, session, status, notification, expires_on, version, doc,
                                         follow_up, follow_up_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                     ON CONFLICT (badge_id, email, session) DO NOTHING",
                )
                .map_err(StoreError::backend)?;
            for award in awards {
                let (follow_up, follow_up_at) = follow_up_columns(award);
                let inserted = insert
                    .execute(params![
                        award.id.as_str(),
                        award.badge_id.as_str(),
                        award.recipient.email.as_str(),
                        award.session,
                        award.status.as_str(),
                        award.notification.as_str(),
                        award.expires_on.map(timestamp),
                        award.version as i64,
                        to_json(award)?,
                        follow_up,
                        follow_up_at,
                    ])
                    .map_err(StoreError::backend)?;
                if inserted == 1 {
                    outcomes.push(Inserted::Created(award.clone()));
                } else {
                    let existing = find_existing(
                        &transaction,
                        &award.badge_id,
                        &award.recipient.email,
                        &award.session,
                    )?
                    .ok_or(StoreError::NotFound)?;
                    outcomes.push(Inserted::Existing(existing));
                }
            }
        }
        transaction.commit().map_err(StoreError::backend)?;
        Ok(outcomes)
    }

    async fn get_award(&self, id: &AwardId) -> Result<Option<Award>, StoreError> {
        let doc = self.read_doc("SELECT doc FROM awards WHERE id = ?1", id.as_str())?;
        doc.map(|doc| from_json(&doc)).transpose()
    }

    async fn update_award(&self, award: &Award) -> Result<Award, StoreError> {
        let mut updated = award.clone();
        updated.version = award.version + 1;
        let doc = to_json(&updated)?;
        let (follow_up, follow_up_at) = follow_up_columns(&updated);
        let connection = self.lock();
        let changed = connection
            .execute(
                "UPDATE awards SET status = ?3, notification = ?4, expires_on = ?5, version = ?6, doc = ?7,
                                   follow_up = ?8, follow_up_at = ?9
                 WHERE id = ?1 AND version = ?2",
                params![
                    award.id.as_str(),
                    award.version as i64,
                    updated.status.as_str(),
                    updated.notification.as_str(),
                    updated.expires_on.map(timestamp),
                    updated.version as i64,
                    doc,
                    follow_up,
                    follow_up_at,
                ],
            )
            .map_err(StoreError::backend)?;
        if changed == 1 {
            return Ok(updated);
        }
        let exists: bool = connection
            .query_row("SELECT EXISTS (SELECT 1 FROM awards WHERE id = ?1)", [award.id.as_str()], |row| {
                row.get(0)
            })
            .map_err(StoreError::backend)?;
        Err(if exists { StoreError::VersionConflict } else { StoreError::NotFound })
    }

    async fn list_awards(&self, query: &AwardQuery) -> Result<AwardPage, StoreError> {
        let after = query.cursor.as_deref().map(decode_cursor).transpose()?.unwrap_or(0);
        let mut sql = String::from("SELECT seq, doc FROM awards WHERE seq > ?1");
        let mut values: Vec<rusqlite::types::Value> = vec![after.into()];
        if let Some(badge_id) = &query.badge_id {
            values.push(badge_id.as_str().to_owned().into());
            sql.push_str(&format!(" AND badge_id = ?{}", values.len()));
        }
        if let Some(email) = &query.email {
            values.push(email.as_str().to_owned().into());
            sql.push_str(&format!(" AND email = ?{}", values.len()));
        }
        match query.status {
            Some(StatusFilter::Is(status)) => {
                values.push(status.as_str().to_owned().into());
                sql.push_str(&format!(" AND status = ?{}", values.len()));
                if matches!(status, crate::domain::AwardStatus::Pending | crate::domain::AwardStatus::Accepted) {
                    values.push(timestamp(query.now).into());
                    sql.push_str(&format!(" AND (expires_on IS NULL OR expires_on > ?{})", values.len()));
                }
            }
            Some(StatusFilter::Expired) => {
                values.push(timestamp(query.now).into());
                sql.push_str(&format!(
                    " AND status IN ('pending', 'accepted') AND expires_on IS NOT NULL AND expires_on <= ?{}",
                    values.len()
                ));
            }
            None => {}
        }
        if let Some(notification) = query.notification {
            values.push(notification.as_str().to_owned().into());
            sql.push_str(&format!(" AND notification = ?{}", values.len()));
        }
        // One row more than asked for tells whether another page exists.
        values.push(((query.limit + 1) as i64).into());
        sql.push_str(&format!(" ORDER BY seq LIMIT ?{}", values.len()));

        let connection = self.lock();
        let mut statement = connection.prepare(&sql).map_err(StoreError::backend)?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values), |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(StoreError::backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;

        let has_more = rows.len() > query.limit;
        let rows = &rows[..rows.len().min(query.limit)];
        let next_cursor = if has_more { rows.last().map(|(seq, _)| encode_cursor(*seq)) } else { None };
        let items = rows.iter().map(|(_, doc)| from_json(doc)).collect::<Result<_, _>>()?;
        Ok(AwardPage { items, next_cursor })
    }

    async fn queued_awards(&self, limit: usize) -> Result<Vec<Award>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare_cached("SELECT doc FROM awards WHERE notification = 'queued' ORDER BY seq LIMIT ?1")
            .map_err(StoreError::backend)?;
        let docs = statement
            .query_map([limit as i64], |row| row.get::<_, String>(0))
            .map_err(StoreError::backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;
        docs.iter().map(|doc| from_json(doc)).collect()
    }

    async fn add_claim_token(&self, token: &ClaimToken) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "INSERT INTO claim_tokens (token_hash, award_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    token.token_hash.as_slice(),
                    token.award_id.as_str(),
                    timestamp(token.created_at),
                    timestamp(token.expires_at),
                ],
            )
            .map_err(|error| {
                if is_unique_violation(&error) { StoreError::Conflict } else { StoreError::backend(error) }
            })?;
        Ok(())
    }

    async fn claim_tokens(&self, award_id: &AwardId) -> Result<Vec<ClaimToken>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare_cached("SELECT token_hash, created_at, expires_at FROM claim_tokens WHERE award_id = ?1")
            .map_err(StoreError::backend)?;
        let rows = statement
            .query_map([award_id.as_str()], |row| {
                Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
            })
            .map_err(StoreError::backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;
        rows.into_iter()
            .map(|(hash, created_at, expires_at)| {
                let token_hash: [u8; 32] = hash
                    .try_into()
                    .map_err(|_| StoreError::Backend("a stored token hash is not 32 bytes".into()))?;
                Ok(ClaimToken {
                    award_id: award_id.clone(),
                    token_hash,
                    created_at: parse_timestamp(&created_at)?,
                    expires_at: parse_timestamp(&expires_at)?,
                })
            })
            .collect()
    }

    async fn due_follow_ups(&self, kind: FollowUp, now: DateTime<Utc>, limit: usize) -> Result<Vec<Award>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare_cached(
                "SELECT doc FROM awards WHERE follow_up = ?1 AND follow_up_at <= ?2 ORDER BY follow_up_at, seq LIMIT ?3",
            )
            .map_err(StoreError::backend)?;
        let docs = statement
            .query_map(params![kind.as_str(), timestamp(now), limit as i64], |row| row.get::<_, String>(0))
            .map_err(StoreError::backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;
        docs.iter().map(|doc| from_json(doc)).collect()
    }

    async fn add_suppression(&self, suppression: &Suppression) -> Result<bool, StoreError> {
        let doc = to_json(suppression)?;
        let changed = self
            .lock()
            .execute(
                "INSERT INTO suppressions (email, doc) VALUES (?1, ?2) ON CONFLICT (email) DO NOTHING",
                params![suppression.email.as_str(), doc],
            )
            .map_err(StoreError::backend)?;
        Ok(changed == 1)
    }

    async fn suppressions(&self, emails: &[EmailAddress]) -> Result<Vec<Suppression>, StoreError> {
        let connection = self.lock();
        let mut found = Vec::new();
        for chunk in emails.chunks(MAX_IN_LIST) {
            let placeholders = vec!["?"; chunk.len()].join(", ");
            let mut statement = connection
                .prepare(&format!("SELECT doc FROM suppressions WHERE email IN ({placeholders})"))
                .map_err(StoreError::backend)?;
            let docs = statement
                .query_map(rusqlite::params_from_iter(chunk.iter().map(EmailAddress::as_str)), |row| {
                    row.get::<_, String>(0)
                })
                .map_err(StoreError::backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(StoreError::backend)?;
            for doc in docs {
                found.push(from_json(&doc)?);
            }
        }
        Ok(found)
    }

    async fn request_resend(&self, request: &ResendRequest, window_ends: DateTime<Utc>) -> Result<bool, StoreError> {
        // The upsert changes no row while the stored window is still open.
        let changed = self
            .lock()
            .execute(
                "INSERT INTO resend_requests (email, requested_at, window_ends, queued) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (email) DO UPDATE
                 SET requested_at = excluded.requested_at, window_ends = excluded.window_ends, queued = 1
                 WHERE resend_requests.window_ends <= excluded.requested_at",
                params![request.email.as_str(), timestamp(request.requested_at), timestamp(window_ends)],
            )
            .map_err(StoreError::backend)?;
        Ok(changed == 1)
    }

    async fn queued_resends(&self, limit: usize) -> Result<Vec<ResendRequest>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare_cached(
                "SELECT email, requested_at FROM resend_requests WHERE queued = 1 ORDER BY requested_at LIMIT ?1",
            )
            .map_err(StoreError::backend)?;
        let rows = statement
            .query_map([limit as i64], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .map_err(StoreError::backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;
        rows.into_iter()
            .map(|(email, requested_at)| {
                Ok(ResendRequest {
                    email: EmailAddress::parse(&email).map_err(StoreError::backend)?,
                    requested_at: parse_timestamp(&requested_at)?,
                })
            })
            .collect()
    }

    async fn take_resend(&self, request: &ResendRequest) -> Result<bool, StoreError> {
        let changed = self
            .lock()
            .execute(
                "UPDATE resend_requests SET queued = 0 WHERE email = ?1 AND requested_at = ?2 AND queued = 1",
                params![request.email.as_str(), timestamp(request.requested_at)],
            )
            .map_err(StoreError::backend)?;
        Ok(changed == 1)
    }

    async fn signing_key(&self, name: &str, candidate: [u8; 32]) -> Result<[u8; 32], StoreError> {
        let connection = self.lock();
        connection
            .execute(
                "INSERT INTO signing_keys (name, key) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                params![name, candidate.as_slice()],
            )
            .map_err(StoreError::backend)?;
        let key: Vec<u8> = connection
            .query_row("SELECT key FROM signing_keys WHERE name = ?1", [name], |row| row.get(0))
            .map_err(StoreError::backend)?;
        key.try_into().map_err(|_| StoreError::Backend(format!("the stored key {name:?} is not 32 bytes").into()))
    }

    async fn next_status_index(&self) -> Result<StatusIndex, StoreError> {
        // `next` counts the positions handed out, so the new position is `next - 1`.
        let next: i64 = self
            .lock()
            .query_row(
                "INSERT INTO sequences (name, next) VALUES (?1, 1)
                 ON CONFLICT (name) DO UPDATE SET next = next + 1
                 RETURNING next",
                [STATUS_INDEX_SEQUENCE],
                |row| row.get(0),
            )
            .map_err(StoreError::backend)?;
        let sequence = u64::try_from(next - 1).map_err(StoreError::backend)?;
        Ok(StatusIndex::from_sequence(sequence))
    }

    async fn revoke_status_index(&self, position: StatusIndex) -> Result<(), StoreError> {
        let bit = i64::try_from(position.index).map_err(StoreError::backend)?;
        self.lock()
            .execute(
                "INSERT INTO revoked_status (list, bit) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![position.list, bit],
            )
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn revoked_status_indexes(&self, list: u32) -> Result<Vec<u64>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare("SELECT bit FROM revoked_status WHERE list = ?1 ORDER BY bit")
            .map_err(StoreError::backend)?;
        let bits = statement
            .query_map([list], |row| row.get::<_, i64>(0))
            .map_err(StoreError::backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::backend)?;
        bits.into_iter().map(|bit| u64::try_from(bit).map_err(StoreError::backend)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AwardStatus, NotificationStatus, Recipient};

    /// The `awards` table as the first release created it.
    const FIRST_AWARDS_TABLE: &str = "
        CREATE TABLE awards (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, badge_id TEXT NOT NULL,
            email TEXT NOT NULL, session TEXT NOT NULL, status TEXT NOT NULL, notification TEXT NOT NULL,
            expires_on TEXT, version INTEGER NOT NULL, doc TEXT NOT NULL, UNIQUE (badge_id, email, session)
        );";

    #[tokio::test]
    async fn old_database_gets_follow_up_columns() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("badges.sqlite3");
        Connection::open(&path).unwrap().execute_batch(FIRST_AWARDS_TABLE).unwrap();

        let store = SqliteStore::open(&path).expect("the old database opens");
        let now = Utc::now();
        let award = Award {
            id: AwardId::from_random([3; 16]),
            badge_id: BadgeId::parse("webinar").unwrap(),
            recipient: Recipient { email: EmailAddress::parse("ada@example.org").unwrap(), name: String::new() },
            session: String::new(),
            evidence: None,
            issued_on: now,
            expires_on: None,
            salt: "00".into(),
            status: AwardStatus::Pending,
            revocation_reason: None,
            public: true,
            notification: NotificationStatus::Sent,
            notification_detail: None,
            message_id: None,
            first_sent_at: Some(now),
            responded_at: None,
            reminders_sent: 0,
            last_reminder_at: None,
            next_reminder_at: Some(now),
            survey_due_at: None,
            survey_invited_at: None,
            status_index: None,
            created_at: now,
            updated_at: now,
            version: 0,
        };
        store.insert_awards(std::slice::from_ref(&award)).await.unwrap();
        let due = store.due_follow_ups(FollowUp::Reminder, now, 10).await.unwrap();
        assert_eq!(due, vec![award]);
        drop(store);
        SqliteStore::open(&path).expect("opening it again changes nothing");
    }
}
