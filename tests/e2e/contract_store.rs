//! Contract tests of the `AwardStore` port. Each check is a function over
//! `&dyn AwardStore` and runs twice: on `SqliteStore` in a temporary file
//! and on `DynamoStore` in a new table of the AWS emulator.
//!
//! Awards are inserted in creation order with distinct creation times,
//! because the SQLite store orders by insertion and the DynamoDB store by
//! creation time then id.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use badges_shared::adapters::SqliteStore;
use badges_shared::adapters::aws::dynamo::{DynamoStore, create_table};
use badges_shared::domain::{
    Award, AwardId, AwardStatus, BadgeClass, BadgeId, ClaimToken, Criteria, EmailAddress, FollowUp, NotificationStatus,
    Recipient, ResendRequest, StatusIndex, Suppression, SuppressionReason,
};
use badges_shared::ports::{AwardQuery, AwardStore, Inserted, OsRandom, RandomSource, StatusFilter, StoreError};
use chrono::{DateTime, Duration, Utc};

use crate::aws_support::{moto_config, random_name};

// ---------------------------------------------------------------------------
// Stores and fixtures
// ---------------------------------------------------------------------------

fn sqlite_store() -> (SqliteStore, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let store = SqliteStore::open(&folder.path().join("badges.sqlite3")).expect("the SQLite store opens");
    (store, folder)
}

async fn dynamo_client(counter: Option<RequestCounter>) -> aws_sdk_dynamodb::Client {
    let config = moto_config().await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&config);
    if let Some(counter) = counter {
        builder = builder.interceptor(counter);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

/// Creates a new table on the emulator and returns a store on it.
async fn dynamo_store() -> DynamoStore {
    let client = dynamo_client(None).await;
    let table = random_name("badges-contract");
    create_table(&client, &table).await.expect("the table is created");
    DynamoStore::new(client, table)
}

/// 2026-03-01T09:00:00Z plus `seconds`.
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T09:00:00Z").unwrap().with_timezone(&Utc) + Duration::seconds(seconds)
}

fn badge(id: &str) -> BadgeClass {
    BadgeClass {
        id: BadgeId::parse(id).unwrap(),
        name: format!("Badge {id}"),
        description: "Attended the whole session.".into(),
        criteria: Criteria { narrative: Some("Attend for at least 45 minutes.".into()), url: None },
        tags: vec!["cataloging".into()],
        format: Some("Webinar".into()),
        expires_after_days: None,
        images: Vec::new(),
        png_size: None,
        survey_url: None,
        survey_delay_days: None,
        created_at: at(0),
        updated_at: at(0),
    }
}

fn new_id() -> AwardId {
    let mut bytes = [0u8; 16];
    OsRandom.fill(&mut bytes);
    AwardId::from_random(bytes)
}

/// Builds a pending award, queued for its email, created `seconds` after the base time.
fn award(badge_id: &str, email: &str, session: &str, seconds: i64) -> Award {
    Award {
        id: new_id(),
        badge_id: BadgeId::parse(badge_id).unwrap(),
        recipient: Recipient { email: EmailAddress::parse(email).unwrap(), name: "Ada Okafor".into() },
        session: session.into(),
        evidence: None,
        issued_on: at(seconds),
        expires_on: None,
        salt: "c2FsdHNhbHQ".into(),
        status: AwardStatus::Pending,
        revocation_reason: None,
        public: true,
        notification: NotificationStatus::Queued,
        notification_detail: None,
        message_id: None,
        first_sent_at: None,
        responded_at: None,
        reminders_sent: 0,
        last_reminder_at: None,
        next_reminder_at: None,
        survey_due_at: None,
        survey_invited_at: None,
        status_index: None,
        created_at: at(seconds),
        updated_at: at(seconds),
        version: 0,
    }
}

/// Builds `count` awards of one badge to distinct recipients, created one
/// second apart from `first_second` on.
fn awards(badge_id: &str, prefix: &str, count: usize, first_second: i64) -> Vec<Award> {
    (0..count).map(|n| award(badge_id, &format!("{prefix}{n}@example.org"), "", first_second + n as i64)).collect()
}

fn ids(awards: &[Award]) -> Vec<AwardId> {
    awards.iter().map(|award| award.id.clone()).collect()
}

fn query(badge_id: Option<&str>, email: Option<&str>, limit: usize) -> AwardQuery {
    AwardQuery {
        badge_id: badge_id.map(|id| BadgeId::parse(id).unwrap()),
        email: email.map(|email| EmailAddress::parse(email).unwrap()),
        status: None,
        notification: None,
        limit,
        cursor: None,
        now: at(1_000_000),
    }
}

/// Lists every page of `query` and returns the ids in order and the number of pages.
async fn list_all(store: &dyn AwardStore, mut query: AwardQuery) -> (Vec<AwardId>, usize) {
    let mut listed = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.list_awards(&query).await.expect("the listing succeeds");
        pages += 1;
        assert!(page.items.len() <= query.limit, "a page holds at most `limit` awards");
        listed.extend(ids(&page.items));
        match page.next_cursor {
            Some(cursor) => {
                assert_eq!(page.items.len(), query.limit, "a page before the last one is full");
                query.cursor = Some(cursor);
            }
            None => return (listed, pages),
        }
        assert!(pages < 1_000, "the listing does not end");
    }
}

fn created(outcome: &Inserted) -> &Award {
    match outcome {
        Inserted::Created(award) => award,
        Inserted::Existing(award) => panic!("expected a created award, got the existing award {}", award.id),
    }
}

fn existing(outcome: &Inserted) -> &Award {
    match outcome {
        Inserted::Existing(award) => award,
        Inserted::Created(award) => panic!("expected an existing award, got the created award {}", award.id),
    }
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

async fn badge_create_get_list(store: &dyn AwardStore) {
    let webinar = badge("rda-serials-update");
    let course = badge("authority-control");
    store.create_badge(&webinar).await.unwrap();
    store.create_badge(&course).await.unwrap();

    assert_eq!(store.get_badge(&webinar.id).await.unwrap(), Some(webinar.clone()));
    assert_eq!(store.get_badge(&BadgeId::parse("missing").unwrap()).await.unwrap(), None);
    assert_eq!(store.list_badges().await.unwrap(), vec![course, webinar], "listed by id");
}

async fn badge_create_twice_conflicts(store: &dyn AwardStore) {
    let original = badge("rda-serials-update");
    store.create_badge(&original).await.unwrap();
    let mut second = original.clone();
    second.name = "Another name".into();

    let result = store.create_badge(&second).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(store.get_badge(&original.id).await.unwrap(), Some(original));
}

async fn badge_update_and_not_found(store: &dyn AwardStore) {
    let mut webinar = badge("rda-serials-update");
    store.create_badge(&webinar).await.unwrap();
    webinar.description = "Updated description.".into();
    webinar.updated_at = at(60);

    store.update_badge(&webinar).await.unwrap();
    assert_eq!(store.get_badge(&webinar.id).await.unwrap(), Some(webinar));

    let result = store.update_badge(&badge("never-created")).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert_eq!(store.get_badge(&BadgeId::parse("never-created").unwrap()).await.unwrap(), None);
}

async fn insert_mixed_batches(store: &dyn AwardStore) {
    let first = awards("webinar", "first", 60, 0);
    let outcomes = store.insert_awards(&first).await.unwrap();
    assert_eq!(outcomes.len(), 60);
    for (outcome, award) in outcomes.iter().zip(&first) {
        assert_eq!(created(outcome), award);
    }

    // 120 awards: the 60 keys again under new ids, interleaved with 60 new keys.
    let again = awards("webinar", "first", 60, 0);
    let fresh = awards("webinar", "second", 60, 100);
    let mixed: Vec<Award> = again.iter().zip(&fresh).flat_map(|(old, new)| [old.clone(), new.clone()]).collect();
    let outcomes = store.insert_awards(&mixed).await.unwrap();
    assert_eq!(outcomes.len(), 120);
    for (n, outcome) in outcomes.iter().enumerate() {
        if n % 2 == 0 {
            assert_eq!(existing(outcome), &first[n / 2], "outcome {n} reports the stored award");
        } else {
            assert_eq!(created(outcome), &fresh[n / 2], "outcome {n}");
        }
    }
    for award in first.iter().chain(&fresh) {
        assert_eq!(store.get_award(&award.id).await.unwrap().as_ref(), Some(award));
    }
    for award in &again {
        assert_eq!(store.get_award(&award.id).await.unwrap(), None, "a duplicate is not written");
    }
    let (listed, _) = list_all(store, query(Some("webinar"), None, 200)).await;
    assert_eq!(listed.len(), 120);
}

async fn insert_duplicates_within_batch(store: &dyn AwardStore) {
    let first = award("webinar", "ada@example.org", "", 0);
    let same_key = award("webinar", "ada@example.org", "", 1);
    let other = award("webinar", "lin@example.org", "", 2);

    let outcomes = store.insert_awards(&[first.clone(), same_key.clone(), other.clone()]).await.unwrap();
    assert_eq!(created(&outcomes[0]), &first);
    assert_eq!(existing(&outcomes[1]), &first);
    assert_eq!(created(&outcomes[2]), &other);
    assert_eq!(store.get_award(&same_key.id).await.unwrap(), None);
}

async fn insert_keys_by_badge_email_session(store: &dyn AwardStore) {
    // Each differs from the others in exactly one part of the key, and
    // `#` and `%` in a session or address must not make two keys equal.
    let batch = vec![
        award("webinar", "ada@example.org", "", 0),
        award("webinar", "ada@example.org", "2026-03-01", 1),
        award("course", "ada@example.org", "", 2),
        award("webinar", "lin@example.org", "", 3),
        award("webinar", "ada@example.org", "x#y", 4),
        award("webinar", "ada@example.org", "x%23y", 5),
        award("webinar", "ada@example.org", "x", 6),
        award("webinar", "a#b@example.org", "c", 7),
        award("webinar", "a@example.org", "b#c", 8),
    ];
    let outcomes = store.insert_awards(&batch).await.unwrap();
    for (outcome, award) in outcomes.iter().zip(&batch) {
        assert_eq!(created(outcome), award);
    }

    let again: Vec<Award> =
        batch.iter().map(|old| award(old.badge_id.as_str(), old.recipient.email.as_str(), &old.session, 50)).collect();
    let outcomes = store.insert_awards(&again).await.unwrap();
    for (outcome, award) in outcomes.iter().zip(&batch) {
        assert_eq!(existing(outcome), award);
    }
}

async fn insert_reports_current_award(store: &dyn AwardStore) {
    let original = award("webinar", "ada@example.org", "", 0);
    store.insert_awards(std::slice::from_ref(&original)).await.unwrap();
    let mut accepted = original.clone();
    accepted.status = AwardStatus::Accepted;
    accepted.responded_at = Some(at(30));
    let accepted = store.update_award(&accepted).await.unwrap();

    let outcomes = store.insert_awards(&[award("webinar", "ada@example.org", "", 40)]).await.unwrap();
    assert_eq!(existing(&outcomes[0]), &accepted, "the existing award as stored now");
}

async fn insert_empty_batch(store: &dyn AwardStore) {
    assert!(store.insert_awards(&[]).await.unwrap().is_empty());
}

async fn update_award_versions(store: &dyn AwardStore) {
    let original = award("webinar", "ada@example.org", "", 0);
    store.insert_awards(std::slice::from_ref(&original)).await.unwrap();

    let mut sending = original.clone();
    sending.notification = NotificationStatus::Sending;
    let stored = store.update_award(&sending).await.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored, Award { version: 1, ..sending.clone() });
    assert_eq!(store.get_award(&original.id).await.unwrap(), Some(stored.clone()));

    // A writer that read version 0 loses.
    let mut stale = original.clone();
    stale.status = AwardStatus::Revoked;
    let result = store.update_award(&stale).await;
    assert!(matches!(result, Err(StoreError::VersionConflict)), "{result:?}");
    assert_eq!(store.get_award(&original.id).await.unwrap(), Some(stored.clone()));

    let mut sent = stored.clone();
    sent.notification = NotificationStatus::Sent;
    sent.expires_on = Some(at(500));
    let stored = store.update_award(&sent).await.unwrap();
    assert_eq!(stored.version, 2);
    sent.expires_on = None;
    sent.version = 2;
    assert_eq!(store.update_award(&sent).await.unwrap().expires_on, None, "expires_on can be cleared");

    let result = store.update_award(&award("webinar", "nobody@example.org", "", 0)).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

/// Stores one award of each status and expiry, for both listings.
/// Returns them by label.
async fn status_fixture(store: &dyn AwardStore) -> HashMap<&'static str, Award> {
    let now = at(1_000_000);
    let cases: [(&str, AwardStatus, Option<DateTime<Utc>>, NotificationStatus); 9] = [
        ("pending", AwardStatus::Pending, None, NotificationStatus::Queued),
        ("pending_later", AwardStatus::Pending, Some(now + Duration::days(1)), NotificationStatus::Sent),
        ("pending_expired", AwardStatus::Pending, Some(now - Duration::days(1)), NotificationStatus::Sent),
        ("pending_expires_now", AwardStatus::Pending, Some(now), NotificationStatus::Delivered),
        ("accepted", AwardStatus::Accepted, None, NotificationStatus::Delivered),
        ("accepted_expired", AwardStatus::Accepted, Some(now - Duration::seconds(1)), NotificationStatus::Sent),
        ("declined_past_expiry", AwardStatus::Declined, Some(now - Duration::days(1)), NotificationStatus::Sent),
        ("revoked", AwardStatus::Revoked, None, NotificationStatus::Bounced),
        ("other_badge", AwardStatus::Pending, None, NotificationStatus::Queued),
    ];
    let mut stored = HashMap::new();
    let mut batch = Vec::new();
    for (n, (label, status, expires_on, notification)) in cases.into_iter().enumerate() {
        let badge_id = if label == "other_badge" { "course" } else { "webinar" };
        let mut award = award(badge_id, "ada@example.org", label, n as i64);
        award.status = status;
        award.expires_on = expires_on;
        award.notification = notification;
        batch.push(award.clone());
        stored.insert(label, award);
    }
    // Another recipient of the same badge, which email listings leave out.
    batch.push(award("webinar", "lin@example.org", "", 100));
    store.insert_awards(&batch).await.unwrap();
    stored
}

/// Checks every filter of one listing. `extra` labels the pending, queued
/// award that is in this listing only: the other recipient's award (`?`) in
/// the badge listing, the other badge's award in the email listing.
async fn list_filters(store: &dyn AwardStore, badge_id: Option<&str>, email: Option<&str>, extra: &'static str) {
    let fixture = status_fixture(store).await;
    let labels_of = |listed: &[AwardId]| -> Vec<&'static str> {
        listed
            .iter()
            .map(|id| *fixture.iter().find(|(_, award)| &award.id == id).map(|(label, _)| label).unwrap_or(&"?"))
            .collect()
    };
    let list = |status: Option<StatusFilter>, notification: Option<NotificationStatus>| {
        let mut query = query(badge_id, email, 50);
        query.status = status;
        query.notification = notification;
        query
    };
    let with_extra = |mut labels: Vec<&'static str>| {
        labels.push(extra);
        labels
    };

    let (all, _) = list_all(store, list(None, None)).await;
    assert_eq!(all.len(), 9, "eight awards of the fixture and the extra one");
    assert_eq!(
        labels_of(&all)[..8],
        [
            "pending",
            "pending_later",
            "pending_expired",
            "pending_expires_now",
            "accepted",
            "accepted_expired",
            "declined_past_expiry",
            "revoked"
        ]
    );
    assert_eq!(labels_of(&all)[8], extra, "the newest award is last");

    let cases: Vec<(Option<StatusFilter>, Option<NotificationStatus>, Vec<&'static str>)> = vec![
        (Some(StatusFilter::Is(AwardStatus::Pending)), None, with_extra(vec!["pending", "pending_later"])),
        (Some(StatusFilter::Is(AwardStatus::Accepted)), None, vec!["accepted"]),
        (Some(StatusFilter::Is(AwardStatus::Declined)), None, vec!["declined_past_expiry"]),
        (Some(StatusFilter::Is(AwardStatus::Revoked)), None, vec!["revoked"]),
        (Some(StatusFilter::Expired), None, vec!["pending_expired", "pending_expires_now", "accepted_expired"]),
        (
            None,
            Some(NotificationStatus::Sent),
            vec!["pending_later", "pending_expired", "accepted_expired", "declined_past_expiry"],
        ),
        (None, Some(NotificationStatus::Failed), vec![]),
        (Some(StatusFilter::Expired), Some(NotificationStatus::Sent), vec!["pending_expired", "accepted_expired"]),
        (Some(StatusFilter::Is(AwardStatus::Pending)), Some(NotificationStatus::Queued), with_extra(vec!["pending"])),
    ];
    for (status, notification, expected) in cases {
        let (listed, _) = list_all(store, list(status, notification)).await;
        assert_eq!(labels_of(&listed), expected, "status {status:?}, notification {notification:?}");
    }
}

async fn list_by_badge_filters(store: &dyn AwardStore) {
    list_filters(store, Some("webinar"), None, "?").await;
}

async fn list_by_email_filters(store: &dyn AwardStore) {
    list_filters(store, None, Some("ada@example.org"), "other_badge").await;
}

async fn list_paging_many_pages(store: &dyn AwardStore) {
    let webinar = awards("webinar", "learner", 230, 0);
    let course = awards("course", "learner", 20, 1_000);
    for chunk in webinar.chunks(25).chain(course.chunks(25)) {
        store.insert_awards(chunk).await.unwrap();
    }

    let (listed, pages) = list_all(store, query(Some("webinar"), None, 7)).await;
    assert_eq!(listed, ids(&webinar), "every award once, oldest first");
    assert_eq!(pages, 33);
    let unique: HashSet<&AwardId> = listed.iter().collect();
    assert_eq!(unique.len(), 230, "no duplicates");

    // A last page that is exactly full has no cursor.
    let (listed, pages) = list_all(store, query(Some("course"), None, 10)).await;
    assert_eq!(listed, ids(&course));
    assert_eq!(pages, 2);
    let page = store.list_awards(&query(Some("course"), None, 20)).await.unwrap();
    assert_eq!(page.items.len(), 20);
    assert_eq!(page.next_cursor, None);

    // Paging with a filter that matches one award in three.
    let mut sent = Vec::new();
    for award in webinar.iter().step_by(3) {
        let mut update = award.clone();
        update.notification = NotificationStatus::Sent;
        sent.push(store.update_award(&update).await.unwrap().id);
    }
    let mut filtered = query(Some("webinar"), None, 9);
    filtered.notification = Some(NotificationStatus::Sent);
    let (listed, _) = list_all(store, filtered).await;
    assert_eq!(listed, sent);

    let (listed, _) = list_all(store, query(None, Some("learner7@example.org"), 1)).await;
    assert_eq!(listed, vec![webinar[7].id.clone(), course[7].id.clone()]);
}

async fn list_invalid_cursor(store: &dyn AwardStore) {
    store.insert_awards(&awards("webinar", "learner", 3, 0)).await.unwrap();
    for cursor in ["", "not a cursor", "bm90LWEtY3Vyc29y", "seq:4", "{}", "%%%"] {
        let mut request = query(Some("webinar"), None, 2);
        request.cursor = Some(cursor.to_owned());
        let result = store.list_awards(&request).await;
        assert!(matches!(result, Err(StoreError::InvalidCursor)), "cursor {cursor:?}: {result:?}");
    }
}

async fn queued_oldest_first_and_sparse(store: &dyn AwardStore) {
    let mut batch = awards("webinar", "learner", 12, 0);
    for award in batch.iter_mut().skip(1).step_by(4) {
        award.notification = NotificationStatus::Sent;
    }
    store.insert_awards(&batch).await.unwrap();
    let queued: Vec<AwardId> =
        batch.iter().filter(|award| award.notification == NotificationStatus::Queued).map(|a| a.id.clone()).collect();
    assert_eq!(queued.len(), 9);

    assert_eq!(ids(&store.queued_awards(50).await.unwrap()), queued, "oldest first");
    assert_eq!(ids(&store.queued_awards(4).await.unwrap()), queued[..4], "at most `limit`");
    assert!(store.queued_awards(0).await.unwrap().is_empty());

    // Taking the oldest award removes it from the queue.
    let mut taking = store.get_award(&queued[0]).await.unwrap().unwrap();
    taking.notification = NotificationStatus::Sending;
    let taken = store.update_award(&taking).await.unwrap();
    assert_eq!(ids(&store.queued_awards(50).await.unwrap()), queued[1..]);

    // Any other status change keeps a queued award in the queue.
    let mut revoked = store.get_award(&queued[1]).await.unwrap().unwrap();
    revoked.status = AwardStatus::Revoked;
    let revoked = store.update_award(&revoked).await.unwrap();
    let listed = store.queued_awards(50).await.unwrap();
    assert_eq!(ids(&listed), queued[1..]);
    assert_eq!(listed[0], revoked, "the queue returns the current award");

    // Queued again, it is back at its place by creation.
    let mut requeued = taken.clone();
    requeued.notification = NotificationStatus::Queued;
    store.update_award(&requeued).await.unwrap();
    assert_eq!(ids(&store.queued_awards(50).await.unwrap()), queued);
}

async fn claim_tokens_per_award(store: &dyn AwardStore) {
    let first = award("webinar", "ada@example.org", "", 0);
    let second = award("webinar", "lin@example.org", "", 1);
    store.insert_awards(&[first.clone(), second.clone()]).await.unwrap();
    let token = |award: &Award, byte: u8, created: i64, lifetime_days: i64| ClaimToken {
        award_id: award.id.clone(),
        token_hash: [byte; 32],
        created_at: at(created),
        expires_at: at(created) + Duration::days(lifetime_days),
    };
    let expired = token(&first, 0xa1, 0, -1);
    let valid = token(&first, 0x0b, 60, 180);
    let other = token(&second, 0xc3, 0, 180);
    for token in [&expired, &valid, &other] {
        store.add_claim_token(token).await.unwrap();
    }

    let mut stored = store.claim_tokens(&first.id).await.unwrap();
    stored.sort_by_key(|token| token.token_hash);
    assert_eq!(stored, vec![valid.clone(), expired.clone()], "expired tokens included");
    assert_eq!(store.claim_tokens(&second.id).await.unwrap(), vec![other]);
    assert!(store.claim_tokens(&new_id()).await.unwrap().is_empty());

    let result = store.add_claim_token(&valid).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
}

fn email(address: &str) -> EmailAddress {
    EmailAddress::parse(address).unwrap()
}

fn suppression(address: &str, reason: SuppressionReason, seconds: i64) -> Suppression {
    Suppression { email: email(address), reason, detail: Some(format!("{reason:?}")), created_at: at(seconds) }
}

async fn suppression_keeps_first_reason(store: &dyn AwardStore) {
    let bounce = suppression("ada@example.org", SuppressionReason::HardBounce, 0);
    assert!(store.add_suppression(&bounce).await.unwrap(), "the first record is created");
    let complaint = suppression("ada@example.org", SuppressionReason::Complaint, 60);
    assert!(!store.add_suppression(&complaint).await.unwrap(), "a second record is not");

    let found = store.suppressions(&[email("ada@example.org")]).await.unwrap();
    assert_eq!(found, vec![bounce.clone()], "the first reason and time are kept");
    assert!(store.suppressions(&[]).await.unwrap().is_empty());
    assert!(store.suppressions(&[email("lin@example.org")]).await.unwrap().is_empty());

    let repeated = store.suppressions(&[email("ada@example.org"), email("lin@example.org"), email("ada@example.org")]).await.unwrap();
    assert_eq!(repeated, vec![bounce], "an address asked for twice is returned once");
}

async fn suppressions_of_many_addresses(store: &dyn AwardStore) {
    // More addresses than one DynamoDB BatchGetItem request holds.
    let addresses: Vec<EmailAddress> = (0..230).map(|n| email(&format!("learner{n}@example.org"))).collect();
    for (n, address) in addresses.iter().enumerate().filter(|(n, _)| n % 3 == 0) {
        let record = suppression(address.as_str(), SuppressionReason::Unsubscribed, n as i64);
        assert!(store.add_suppression(&record).await.unwrap());
    }
    let mut found: Vec<EmailAddress> =
        store.suppressions(&addresses).await.unwrap().into_iter().map(|record| record.email).collect();
    found.sort();
    let mut expected: Vec<EmailAddress> = addresses.iter().step_by(3).cloned().collect();
    expected.sort();
    assert_eq!(found, expected);
}

async fn resend_window_per_address(store: &dyn AwardStore) {
    let window = Duration::minutes(15);
    let request = |address: &str, seconds: i64| ResendRequest { email: email(address), requested_at: at(seconds) };
    let first = request("ada@example.org", 0);
    assert!(store.request_resend(&first, at(0) + window).await.unwrap(), "the first request is queued");
    assert!(!store.request_resend(&request("ada@example.org", 300), at(300) + window).await.unwrap(), "inside the window");
    let other = request("lin@example.org", 300);
    assert!(store.request_resend(&other, at(300) + window).await.unwrap(), "another address has its own window");
    assert!(!store.request_resend(&request("ada@example.org", 899), at(899) + window).await.unwrap(), "one second before the end");
    let after = request("ada@example.org", 900);
    assert!(store.request_resend(&after, at(900) + window).await.unwrap(), "the window has ended");

    assert_eq!(store.queued_resends(10).await.unwrap(), vec![other.clone(), after.clone()], "oldest first");
    assert_eq!(store.queued_resends(1).await.unwrap(), vec![other.clone()], "at most `limit`");

    assert!(!store.take_resend(&first).await.unwrap(), "a replaced request cannot be taken");
    assert!(store.take_resend(&after).await.unwrap(), "the queued request is taken once");
    assert!(!store.take_resend(&after).await.unwrap(), "and only once");
    assert_eq!(store.queued_resends(10).await.unwrap(), vec![other]);
    assert!(!store.request_resend(&request("ada@example.org", 1000), at(1000) + window).await.unwrap(), "taking keeps the window");
}

async fn follow_ups_due_in_order(store: &dyn AwardStore) {
    let mut batch = Vec::new();
    let mut labelled = HashMap::new();
    let cases: [(&str, AwardStatus, NotificationStatus, Option<i64>, Option<i64>); 7] = [
        ("reminder_late", AwardStatus::Pending, NotificationStatus::Sent, Some(200), None),
        ("reminder_early", AwardStatus::Pending, NotificationStatus::Delivered, Some(100), None),
        ("reminder_queued", AwardStatus::Pending, NotificationStatus::Queued, Some(50), None),
        ("reminder_declined", AwardStatus::Declined, NotificationStatus::Sent, Some(50), None),
        ("reminder_future", AwardStatus::Pending, NotificationStatus::Sent, Some(5_000), None),
        ("survey", AwardStatus::Accepted, NotificationStatus::Delivered, Some(10), Some(150)),
        ("nothing", AwardStatus::Pending, NotificationStatus::Sent, None, None),
    ];
    for (n, (label, status, notification, reminder, survey)) in cases.into_iter().enumerate() {
        let mut award = award("webinar", &format!("{label}@example.org"), "", n as i64);
        award.status = status;
        award.notification = notification;
        award.next_reminder_at = reminder.map(at);
        award.survey_due_at = survey.map(at);
        labelled.insert(label, award.id.clone());
        batch.push(award);
    }
    store.insert_awards(&batch).await.unwrap();
    let labels = |awards: Vec<Award>| -> Vec<&'static str> {
        awards.iter().map(|award| *labelled.iter().find(|(_, id)| **id == award.id).unwrap().0).collect()
    };

    assert_eq!(labels(store.due_follow_ups(FollowUp::Reminder, at(1_000), 50).await.unwrap()), ["reminder_early", "reminder_late"]);
    assert_eq!(labels(store.due_follow_ups(FollowUp::Reminder, at(1_000), 1).await.unwrap()), ["reminder_early"]);
    assert_eq!(labels(store.due_follow_ups(FollowUp::Reminder, at(200), 50).await.unwrap()), ["reminder_early", "reminder_late"], "due exactly now");
    assert_eq!(labels(store.due_follow_ups(FollowUp::Reminder, at(199), 50).await.unwrap()), ["reminder_early"]);
    assert_eq!(labels(store.due_follow_ups(FollowUp::Survey, at(1_000), 50).await.unwrap()), ["survey"]);
    assert!(store.due_follow_ups(FollowUp::Survey, at(149), 50).await.unwrap().is_empty());

    // An update moves the award in or out of the schedule.
    let early = store.get_award(&labelled["reminder_early"]).await.unwrap().unwrap();
    let mut done = early.clone();
    done.next_reminder_at = None;
    store.update_award(&done).await.unwrap();
    let queued = store.get_award(&labelled["reminder_queued"]).await.unwrap().unwrap();
    let mut sent = queued.clone();
    sent.notification = NotificationStatus::Sent;
    store.update_award(&sent).await.unwrap();
    let late = store.get_award(&labelled["reminder_late"]).await.unwrap().unwrap();
    let mut accepted = late.clone();
    accepted.status = AwardStatus::Accepted;
    store.update_award(&accepted).await.unwrap();
    assert_eq!(labels(store.due_follow_ups(FollowUp::Reminder, at(1_000), 50).await.unwrap()), ["reminder_queued"]);
    assert_eq!(ids(&store.queued_awards(50).await.unwrap()), Vec::<AwardId>::new(), "the queue is unchanged by follow-ups");
}

async fn signing_key_first_wins(store: &dyn AwardStore) {
    assert_eq!(store.signing_key("unsubscribe", [1; 32]).await.unwrap(), [1; 32]);
    assert_eq!(store.signing_key("unsubscribe", [2; 32]).await.unwrap(), [1; 32], "the stored key is kept");
    assert_eq!(store.signing_key("other", [3; 32]).await.unwrap(), [3; 32], "each name has its own key");
}

async fn status_indexes_never_repeat(store: &dyn AwardStore) {
    let first = store.next_status_index().await.unwrap();
    assert_eq!(first, StatusIndex { list: 1, index: 0 }, "a new store starts at the first bit of list 1");

    // Concurrent callers each get their own position.
    let (a, b, c, d) = tokio::join!(
        store.next_status_index(),
        store.next_status_index(),
        store.next_status_index(),
        store.next_status_index()
    );
    let mut seen = HashSet::from([first]);
    for position in [a, b, c, d] {
        let position = position.unwrap();
        assert_eq!(position.list, 1);
        assert!(seen.insert(position), "{position:?} was handed out twice");
    }
    let indexes: HashSet<u64> = seen.iter().map(|position| position.index).collect();
    assert_eq!(indexes, HashSet::from([0, 1, 2, 3, 4]), "positions come from one sequence without gaps");
}

async fn status_index_stored_on_award(store: &dyn AwardStore) {
    store.create_badge(&badge("webinar")).await.unwrap();
    let inserted = store.insert_awards(&[award("webinar", "ada@example.org", "", 1)]).await.unwrap();
    let mut stored = created(&inserted[0]).clone();
    assert_eq!(stored.status_index, None, "a new award has no status index");

    stored.status_index = Some(store.next_status_index().await.unwrap());
    let updated = store.update_award(&stored).await.unwrap();
    let read = store.get_award(&stored.id).await.unwrap().unwrap();
    assert_eq!(read.status_index, updated.status_index);
    assert_eq!(read.status_index, Some(StatusIndex { list: 1, index: 0 }));
}

async fn revoked_status_bits_per_list(store: &dyn AwardStore) {
    assert_eq!(store.revoked_status_indexes(1).await.unwrap(), Vec::<u64>::new(), "a new list has no bit set");

    let last = StatusIndex::LIST_BITS - 1;
    for (list, index) in [(1, 131_071), (1, 5), (1, 20_000), (2, 3), (1, 5)] {
        store.revoke_status_index(StatusIndex { list, index }).await.unwrap();
    }
    assert_eq!(
        store.revoked_status_indexes(1).await.unwrap(),
        vec![5, 20_000, last],
        "bits are returned once each, in order, from every part of the list"
    );
    assert_eq!(store.revoked_status_indexes(2).await.unwrap(), vec![3], "each list has its own bits");
    assert_eq!(store.revoked_status_indexes(3).await.unwrap(), Vec::<u64>::new());
}

/// Defines one test per check and store: `sqlite::CHECK` and `dynamo::CHECK`.
macro_rules! contract_tests {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let (store, _folder) = super::sqlite_store();
                    super::$check(&store).await;
                }
            )+
        }

        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let store = super::dynamo_store().await;
                    super::$check(&store).await;
                }
            )+
        }
    };
}

contract_tests!(
    badge_create_get_list,
    badge_create_twice_conflicts,
    badge_update_and_not_found,
    insert_mixed_batches,
    insert_duplicates_within_batch,
    insert_keys_by_badge_email_session,
    insert_reports_current_award,
    insert_empty_batch,
    update_award_versions,
    list_by_badge_filters,
    list_by_email_filters,
    list_paging_many_pages,
    list_invalid_cursor,
    queued_oldest_first_and_sparse,
    claim_tokens_per_award,
    suppression_keeps_first_reason,
    suppressions_of_many_addresses,
    resend_window_per_address,
    follow_ups_due_in_order,
    signing_key_first_wins,
    status_indexes_never_repeat,
    status_index_stored_on_award,
    revoked_status_bits_per_list,
);

// ---------------------------------------------------------------------------
// DynamoDB request counts
// ---------------------------------------------------------------------------

const WRITE_OPERATIONS: [&str; 5] = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"];

/// Counts the HTTP requests that a DynamoDB client sends, by operation
/// name (the `X-Amz-Target` header), retries included.
#[derive(Debug, Clone, Default)]
struct RequestCounter {
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl RequestCounter {
    fn take(&self) -> HashMap<String, usize> {
        std::mem::take(&mut *self.counts.lock().unwrap())
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        *self.counts.lock().unwrap().entry(operation).or_default() += 1;
        Ok(())
    }
}

fn writes(counts: &HashMap<String, usize>) -> usize {
    WRITE_OPERATIONS.iter().map(|operation| counts.get(*operation).copied().unwrap_or(0)).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_import_request_counts() {
    const AWARDS: usize = 500;
    const BATCH: usize = 100;
    let counter = RequestCounter::default();
    let client = dynamo_client(Some(counter.clone())).await;
    let table = random_name("badges-requests");
    create_table(&client, &table).await.expect("the table is created");
    let store = DynamoStore::new(client, table);
    counter.take();

    let first = awards("webinar", "learner", AWARDS, 0);
    for chunk in first.chunks(BATCH) {
        let outcomes = store.insert_awards(chunk).await.unwrap();
        assert!(outcomes.iter().all(|outcome| matches!(outcome, Inserted::Created(_))));
    }
    let counts = counter.take();
    eprintln!("first import of {AWARDS} awards in calls of {BATCH}: {counts:?}");
    assert!(writes(&counts) as f64 <= 1.1 * AWARDS as f64, "{counts:?}");
    assert_eq!(counts.get("TransactWriteItems"), Some(&AWARDS.div_ceil(50)), "one transaction per 50 awards");
    assert_eq!(writes(&counts), AWARDS.div_ceil(50), "no other writes: {counts:?}");

    let again = awards("webinar", "learner", AWARDS, 0);
    for chunk in again.chunks(BATCH) {
        let outcomes = store.insert_awards(chunk).await.unwrap();
        assert!(outcomes.iter().all(|outcome| matches!(outcome, Inserted::Existing(_))));
    }
    let counts = counter.take();
    eprintln!("second import of the same {AWARDS} awards: {counts:?}");
    assert_eq!(writes(&counts), 0, "{counts:?}");
    assert_eq!(
        counts.get("BatchGetItem"),
        Some(&(2 * AWARDS.div_ceil(100))),
        "one read of the unique items and one of the awards per 100 awards"
    );
    assert_eq!(counts.len(), 1, "only BatchGetItem: {counts:?}");
}

/// Runs a hook once, just before the first TransactWriteItems request is
/// sent: a stand-in for an import that runs at the same moment.
#[derive(Clone, Default)]
struct BeforeFirstTransaction {
    hook: Arc<Mutex<Option<Hook>>>,
}

type Hook = Box<dyn FnOnce() + Send>;

impl std::fmt::Debug for BeforeFirstTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeforeFirstTransaction")
    }
}

impl Intercept for BeforeFirstTransaction {
    fn name(&self) -> &'static str {
        "BeforeFirstTransaction"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or("");
        if !target.ends_with(".TransactWriteItems") {
            return Ok(());
        }
        let hook = self.hook.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_concurrent_import_falls_back() {
    let plain = dynamo_client(None).await;
    let table = random_name("badges-concurrent");
    create_table(&plain, &table).await.expect("the table is created");
    let other_import = DynamoStore::new(plain, table.clone());

    // After this store has read the unique items and before its first
    // transaction, another import creates the awards of keys 3 and 55.
    let batch = awards("webinar", "learner", 60, 0);
    let rivals =
        vec![award("webinar", "learner3@example.org", "", 500), award("webinar", "learner55@example.org", "", 501)];
    let injector = BeforeFirstTransaction::default();
    let rivals_for_hook = rivals.clone();
    *injector.hook.lock().unwrap() = Some(Box::new(move || {
        // The hook runs inside the SDK's synchronous interceptor, so the
        // other import runs to completion on a thread of its own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let outcomes = runtime.block_on(other_import.insert_awards(&rivals_for_hook)).unwrap();
            assert!(outcomes.iter().all(|outcome| matches!(outcome, Inserted::Created(_))));
        })
        .join()
        .expect("the other import succeeds");
    }));
    let config = moto_config().await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config).interceptor(injector.clone()).build(),
    );
    let store = DynamoStore::new(client, table);

    let outcomes = store.insert_awards(&batch).await.unwrap();
    assert!(injector.hook.lock().unwrap().is_none(), "the other import ran");
    assert_eq!(outcomes.len(), 60);
    for (n, outcome) in outcomes.iter().enumerate() {
        match n {
            3 => assert_eq!(existing(outcome), &rivals[0]),
            55 => assert_eq!(existing(outcome), &rivals[1]),
            _ => assert_eq!(created(outcome), &batch[n], "outcome {n}"),
        }
    }
    let (listed, _) = list_all(&store, query(Some("webinar"), None, 100)).await;
    assert_eq!(listed.len(), 60, "one award per key");
    assert_eq!(store.get_award(&batch[3].id).await.unwrap(), None);
}
