//! Award store on one DynamoDB table, in a single-table design.
//!
//! Each badge class and award is kept as its JSON document in a `doc`
//! attribute, beside the key, index and filter attributes that requests
//! need. Every uniqueness rule is a conditional write, and no request is a
//! Scan. `docs/dynamodb.md` describes the items, the indexes and the
//! requests that each operation sends.

use std::collections::{BTreeMap, HashMap};
use std::error::Error as StdError;
use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    self as sdk, AttributeValue, CancellationReason, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::{
    Award, AwardId, AwardStatus, BadgeClass, BadgeId, ClaimToken, EmailAddress, FollowUp, NotificationStatus,
    ResendRequest, StatusIndex, Suppression,
};
use crate::ports::{AwardPage, AwardQuery, AwardStore, Inserted, StatusFilter, StoreError};

/// Name of the index that lists the awards of one recipient.
pub const INDEX_BY_EMAIL: &str = "by_email";
/// Name of the index that lists the awards of one badge class, and the
/// badge classes themselves.
pub const INDEX_BY_BADGE: &str = "by_badge";
/// Name of the sparse index of awards whose notification is `queued`.
pub const INDEX_QUEUED: &str = "queued";

// Key attributes of the table and of its global secondary indexes.
const PK: &str = "pk";
const SK: &str = "sk";
const GSI1PK: &str = "gsi1pk";
const GSI1SK: &str = "gsi1sk";
const GSI2PK: &str = "gsi2pk";
const GSI2SK: &str = "gsi2sk";
const GSI3PK: &str = "gsi3pk";
const GSI3SK: &str = "gsi3sk";

// Other attributes.
const ENTITY: &str = "entity";
const DOC: &str = "doc";
const STATUS: &str = "status";
const NOTIFICATION: &str = "notification";
const EXPIRES_ON: &str = "expires_on";
const VERSION: &str = "version";
const AWARD_ID: &str = "award_id";
const CREATED_AT: &str = "created_at";
const EXPIRES_AT: &str = "expires_at";
const TTL: &str = "ttl";
const EMAIL: &str = "email";
const REQUESTED_AT: &str = "requested_at";
const WINDOW_ENDS: &str = "window_ends";
const STATE: &str = "state";
const KEY: &str = "key";
const NEXT: &str = "next";
const BITS: &str = "bits";

// Fixed key values.
const BADGE_SK: &str = "BADGE";
const AWARD_SK: &str = "AWARD";
const UNIQUE_SK: &str = "UNIQUE";
const TOKEN_SK_PREFIX: &str = "TOKEN#";
/// `gsi2pk` of every badge class item, so that `list_badges` is one Query.
const BADGE_CATALOGUE_PK: &str = "BADGES";
/// `gsi3pk` of every award whose notification is `queued`.
const QUEUED_PK: &str = "QUEUED";
/// `gsi3pk` of the awards waiting for a reminder, sorted by due time.
const REMINDER_PK: &str = "REMINDER";
/// `gsi3pk` of the awards waiting for a survey invitation, sorted by due time.
const SURVEY_PK: &str = "SURVEY";
/// `gsi3pk` of the queued resend requests.
const RESEND_QUEUE_PK: &str = "RESEND";
const SUPPRESSION_SK: &str = "SUPPRESSION";
const RESEND_SK: &str = "RESEND";
const KEY_SK: &str = "KEY";
const SEQUENCE_SK: &str = "SEQUENCE";
/// `pk` of the counter of status-list positions handed out.
const STATUS_INDEX_SEQUENCE_PK: &str = "SEQUENCE#status_index";
/// Bits of one status list per revocation item (`STATUSLIST#{list}`,
/// `REVOKED#{chunk}`). A number set of 16,384 values of at most six digits
/// stays near 70 KB, well under DynamoDB's 400 KB item limit, even if every
/// award of the chunk is revoked.
const REVOKED_BITS_PER_ITEM: u64 = 16_384;
/// `state` of a resend request that waits for the sender, and of one taken.
const RESEND_QUEUED: &str = "queued";
const RESEND_TAKEN: &str = "taken";
/// Days a resend item is kept after its window ends, before the table's
/// TTL deletes it. The window itself is checked on `window_ends`.
const RESEND_RETENTION_DAYS: i64 = 1;

/// Awards per TransactWriteItems request: two items each, and DynamoDB
/// accepts at most 100 items per transaction.
const AWARDS_PER_TRANSACTION: usize = 50;
/// Keys per BatchGetItem request, the DynamoDB maximum.
const KEYS_PER_BATCH_GET: usize = 100;
/// Days a claim token item is kept after the token expires, before the
/// table's TTL deletes it.
const TOKEN_RETENTION_DAYS: i64 = 30;
/// Minimum items evaluated per Query request when a listing has a filter,
/// so that a filter matching few awards does not cost one request per award.
const FILTERED_QUERY_PAGE: usize = 100;
/// Version prefix of the paging cursors this store issues.
const CURSOR_PREFIX: &str = "ddb1.";

/// Attempts per request, the first included, when DynamoDB throttles it,
/// cancels a transaction for a conflicting transaction, or leaves keys
/// unprocessed. The SDK's own retries run inside each attempt.
const MAX_ATTEMPTS: u32 = 8;
const BACKOFF_BASE: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(3);
/// How long `create_table` waits for the table and its indexes to become ACTIVE.
const TABLE_ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

type Item = HashMap<String, AttributeValue>;

/// Award store on one DynamoDB table with the schema of [`table_schema`].
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// Uses the table `table` through `client`; the table must already exist.
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// Returns the name of the table.
    pub fn table(&self) -> &str {
        &self.table
    }
}

// ---------------------------------------------------------------------------
// Table schema
// ---------------------------------------------------------------------------

/// The table's schema, in the shape and field names of the CloudFormation
/// `AWS::DynamoDB::Table` properties, so that it can be compared with a
/// template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableSchema {
    pub attribute_definitions: Vec<AttributeSchema>,
    pub key_schema: Vec<KeySchemaEntry>,
    /// `PAY_PER_REQUEST`.
    pub billing_mode: String,
    pub global_secondary_indexes: Vec<IndexSchema>,
    pub stream_specification: StreamSchema,
    pub time_to_live_specification: TimeToLiveSchema,
}

/// A key attribute and its scalar type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeSchema {
    pub attribute_name: String,
    pub attribute_type: String,
}

/// One element of a key: the attribute and its role (`HASH` or `RANGE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaEntry {
    pub attribute_name: String,
    pub key_type: String,
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexSchema {
    pub index_name: String,
    pub key_schema: Vec<KeySchemaEntry>,
    pub projection: ProjectionSchema,
}

/// Attributes copied into an index (`ALL`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProjectionSchema {
    pub projection_type: String,
}

/// Stream view type of the table (`NEW_AND_OLD_IMAGES`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSchema {
    pub stream_view_type: String,
}

/// TTL setting: the attribute that contains each item's expiry time in
/// epoch seconds, and whether TTL is enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLiveSchema {
    pub attribute_name: String,
    pub enabled: bool,
}

fn key_schema(hash: &str, range: &str) -> Vec<KeySchemaEntry> {
    vec![
        KeySchemaEntry { attribute_name: hash.to_owned(), key_type: "HASH".to_owned() },
        KeySchemaEntry { attribute_name: range.to_owned(), key_type: "RANGE".to_owned() },
    ]
}

fn index_schema(name: &str, hash: &str, range: &str) -> IndexSchema {
    IndexSchema {
        index_name: name.to_owned(),
        key_schema: key_schema(hash, range),
        projection: ProjectionSchema { projection_type: "ALL".to_owned() },
    }
}

/// Returns the schema of the award table: the one that [`create_table`]
/// creates and that the deployment template must declare.
pub fn table_schema() -> TableSchema {
    let attribute_definitions = [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK]
        .into_iter()
        .map(|name| AttributeSchema { attribute_name: name.to_owned(), attribute_type: "S".to_owned() })
        .collect();
    TableSchema {
        attribute_definitions,
        key_schema: key_schema(PK, SK),
        billing_mode: "PAY_PER_REQUEST".to_owned(),
        global_secondary_indexes: vec![
            index_schema(INDEX_BY_EMAIL, GSI1PK, GSI1SK),
            index_schema(INDEX_BY_BADGE, GSI2PK, GSI2SK),
            index_schema(INDEX_QUEUED, GSI3PK, GSI3SK),
        ],
        stream_specification: StreamSchema { stream_view_type: "NEW_AND_OLD_IMAGES".to_owned() },
        time_to_live_specification: TimeToLiveSchema { attribute_name: TTL.to_owned(), enabled: true },
    }
}

fn sdk_key_schema(entries: &[KeySchemaEntry]) -> Result<Vec<sdk::KeySchemaElement>, StoreError> {
    entries
        .iter()
        .map(|entry| {
            sdk::KeySchemaElement::builder()
                .attribute_name(&entry.attribute_name)
                .key_type(sdk::KeyType::from(entry.key_type.as_str()))
                .build()
                .map_err(StoreError::backend)
        })
        .collect()
}

/// Creates the table `name` with the schema of [`table_schema`], waits until
/// it and its indexes are ACTIVE, and enables its TTL.
///
/// Returns `Conflict` when a table of that name exists, whatever its schema.
pub async fn create_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let schema = table_schema();
    let attribute_definitions = schema
        .attribute_definitions
        .iter()
        .map(|attribute| {
            sdk::AttributeDefinition::builder()
                .attribute_name(&attribute.attribute_name)
                .attribute_type(sdk::ScalarAttributeType::from(attribute.attribute_type.as_str()))
                .build()
                .map_err(StoreError::backend)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = schema
        .global_secondary_indexes
        .iter()
        .map(|index| {
            let projection = sdk::Projection::builder()
                .projection_type(sdk::ProjectionType::from(index.projection.projection_type.as_str()))
                .build();
            sdk::GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(sdk_key_schema(&index.key_schema)?))
                .projection(projection)
                .build()
                .map_err(StoreError::backend)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let stream = sdk::StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(sdk::StreamViewType::from(schema.stream_specification.stream_view_type.as_str()))
        .build()
        .map_err(StoreError::backend)?;

    let request = client
        .create_table()
        .table_name(name)
        .billing_mode(sdk::BillingMode::from(schema.billing_mode.as_str()))
        .set_attribute_definitions(Some(attribute_definitions))
        .set_key_schema(Some(sdk_key_schema(&schema.key_schema)?))
        .set_global_secondary_indexes(Some(indexes))
        .stream_specification(stream);
    match send_with_retry(|| request.clone().send()).await {
        Ok(_) => {}
        Err(error) if matches!(error.as_service_error(), Some(CreateTableError::ResourceInUseException(_))) => {
            return Err(StoreError::Conflict);
        }
        Err(error) => return Err(StoreError::backend(error)),
    }

    wait_until_active(client, name).await?;

    let ttl = sdk::TimeToLiveSpecification::builder()
        .attribute_name(&schema.time_to_live_specification.attribute_name)
        .enabled(schema.time_to_live_specification.enabled)
        .build()
        .map_err(StoreError::backend)?;
    let request = client.update_time_to_live().table_name(name).time_to_live_specification(ttl);
    send_with_retry(|| request.clone().send()).await.map_err(StoreError::backend)?;
    tracing::info!(table = name, "created the DynamoDB award table");
    Ok(())
}

/// Polls DescribeTable until the table and every index are ACTIVE.
async fn wait_until_active(client: &Client, name: &str) -> Result<(), StoreError> {
    let started = tokio::time::Instant::now();
    loop {
        let request = client.describe_table().table_name(name);
        let output = send_with_retry(|| request.clone().send()).await.map_err(StoreError::backend)?;
        if let Some(table) = output.table() {
            let table_active = table.table_status() == Some(&sdk::TableStatus::Active);
            let indexes_active = table
                .global_secondary_indexes()
                .iter()
                .all(|index| index.index_status() == Some(&sdk::IndexStatus::Active));
            if table_active && indexes_active {
                return Ok(());
            }
        }
        if started.elapsed() > TABLE_ACTIVE_TIMEOUT {
            return Err(StoreError::Backend(
                format!("the table {name} did not become ACTIVE within {} seconds", TABLE_ACTIVE_TIMEOUT.as_secs())
                    .into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

// ---------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------

/// Checks whether an error code means that DynamoDB throttled the request.
fn is_throttling(code: Option<&str>) -> bool {
    matches!(code, Some("ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded"))
}

/// Sleeps before retry number `attempt + 1`: exponential back-off from
/// 50 ms, at most 3 s, with a random factor between 0.5 and 1 so that
/// concurrent writers do not retry in step.
async fn back_off(attempt: u32) {
    let ceiling = BACKOFF_BASE.saturating_mul(1 << attempt.min(16)).min(BACKOFF_MAX);
    let mut random = [0u8; 2];
    crate::ports::RandomSource::fill(&crate::ports::OsRandom, &mut random);
    let factor = 0.5 + f64::from(u16::from_le_bytes(random)) / f64::from(u16::MAX) / 2.0;
    tokio::time::sleep(ceiling.mul_f64(factor)).await;
}

/// Sends a request, and sends it again with back-off while DynamoDB
/// throttles it, up to `MAX_ATTEMPTS` times.
async fn send_with_retry<T, E, R, F, Fut>(mut send: F) -> Result<T, SdkError<E, R>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
    E: ProvideErrorMetadata,
{
    let mut attempt = 0;
    loop {
        match send().await {
            Err(error) if is_throttling(error.code()) && attempt + 1 < MAX_ATTEMPTS => {
                tracing::warn!(code = error.code(), attempt = attempt + 1, "DynamoDB throttled a request; retrying");
                back_off(attempt).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn backend<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    StoreError::backend(error)
}

/// Sends a Query page after page and returns its items in order: all of
/// them, or at most `limit`. With a limit, each page requests only the
/// items still missing.
async fn query_items(request: QueryFluentBuilder, limit: Option<usize>) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let mut page = request.clone().set_exclusive_start_key(start.take());
        if let Some(limit) = limit {
            if items.len() >= limit {
                break;
            }
            page = page.limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX));
        }
        let output = send_with_retry(|| page.clone().send()).await.map_err(backend)?;
        items.extend(output.items.unwrap_or_default());
        match output.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    if let Some(limit) = limit {
        items.truncate(limit);
    }
    Ok(items)
}

// ---------------------------------------------------------------------------
// Keys and items
// ---------------------------------------------------------------------------

/// Formats a time as fixed-width RFC 3339 in UTC with microseconds, such as
/// `2026-03-01T09:30:00.000000Z`, so that string order is time order for
/// years 0000 to 9999.
fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(raw).map(|time| time.with_timezone(&Utc)).map_err(StoreError::backend)
}

fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn badge_pk(id: &BadgeId) -> String {
    format!("BADGE#{id}")
}

fn award_pk(id: &AwardId) -> String {
    format!("AWARD#{id}")
}

fn email_gsi_pk(award: &Award) -> String {
    format!("EMAIL#{}", award.recipient.email)
}

/// Sort key of an award in the `by_email`, `by_badge` and `queued`
/// indexes: creation time, then id for awards created in the same microsecond.
fn award_gsi_sk(award: &Award) -> String {
    format!("{}#{}", timestamp(award.created_at), award.id)
}

/// Returns the `queued` index keys of an award: the queue while its
/// notification is queued, else the partition of its next follow-up sorted
/// by due time, else none.
fn award_gsi3_keys(award: &Award) -> Option<(&'static str, String)> {
    if award.notification == NotificationStatus::Queued {
        return Some((QUEUED_PK, award_gsi_sk(award)));
    }
    award.next_follow_up().map(|(kind, due)| (follow_up_pk(kind), format!("{}#{}", timestamp(due), award.id)))
}

fn follow_up_pk(kind: FollowUp) -> &'static str {
    match kind {
        FollowUp::Reminder => REMINDER_PK,
        FollowUp::Survey => SURVEY_PK,
    }
}

fn suppression_key(email: &EmailAddress) -> Item {
    key(format!("SUPPRESSION#{email}"), SUPPRESSION_SK)
}

fn resend_key(email: &EmailAddress) -> Item {
    key(format!("RESEND#{email}"), RESEND_SK)
}

fn signing_key_key(name: &str) -> Item {
    key(format!("KEY#{name}"), KEY_SK)
}

fn status_list_pk(list: u32) -> String {
    format!("STATUSLIST#{list}")
}

/// Key of the revocation item whose number set contains the bit of `position`.
fn revoked_status_key(position: StatusIndex) -> Item {
    let chunk = position.index / REVOKED_BITS_PER_ITEM;
    key(status_list_pk(position.list), &format!("REVOKED#{chunk:02}"))
}

/// Escapes `%` and `#` so that joining escaped parts with `#` is reversible.
fn escape_key_part(part: &str) -> String {
    part.replace('%', "%25").replace('#', "%23")
}

/// Partition key of the item that enforces one award per (badge, email, session).
fn unique_pk(award: &Award) -> String {
    format!(
        "UNIQUE#{}#{}#{}",
        escape_key_part(award.badge_id.as_str()),
        escape_key_part(award.recipient.email.as_str()),
        escape_key_part(&award.session)
    )
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), string(pk)), (SK.to_owned(), string(sk))])
}

fn badge_key(id: &BadgeId) -> Item {
    key(badge_pk(id), BADGE_SK)
}

fn award_key(id: &AwardId) -> Item {
    key(award_pk(id), AWARD_SK)
}

fn unique_key(award: &Award) -> Item {
    key(unique_pk(award), UNIQUE_SK)
}

fn badge_item(badge: &BadgeClass) -> Result<Item, StoreError> {
    let mut item = badge_key(&badge.id);
    item.insert(ENTITY.to_owned(), string("badge"));
    item.insert(DOC.to_owned(), string(serde_json::to_string(badge).map_err(StoreError::backend)?));
    item.insert(GSI2PK.to_owned(), string(BADGE_CATALOGUE_PK));
    item.insert(GSI2SK.to_owned(), string(badge.id.as_str()));
    Ok(item)
}

fn award_item(award: &Award) -> Result<Item, StoreError> {
    let mut item = award_key(&award.id);
    item.insert(ENTITY.to_owned(), string("award"));
    item.insert(DOC.to_owned(), string(serde_json::to_string(award).map_err(StoreError::backend)?));
    item.insert(STATUS.to_owned(), string(award.status.as_str()));
    item.insert(NOTIFICATION.to_owned(), string(award.notification.as_str()));
    item.insert(VERSION.to_owned(), AttributeValue::N(award.version.to_string()));
    if let Some(expires_on) = award.expires_on {
        item.insert(EXPIRES_ON.to_owned(), string(timestamp(expires_on)));
    }
    let sort_key = award_gsi_sk(award);
    item.insert(GSI1PK.to_owned(), string(email_gsi_pk(award)));
    item.insert(GSI1SK.to_owned(), string(&sort_key));
    item.insert(GSI2PK.to_owned(), string(badge_pk(&award.badge_id)));
    item.insert(GSI2SK.to_owned(), string(&sort_key));
    if let Some((partition, sort_key)) = award_gsi3_keys(award) {
        item.insert(GSI3PK.to_owned(), string(partition));
        item.insert(GSI3SK.to_owned(), string(sort_key));
    }
    Ok(item)
}

fn unique_item(award: &Award) -> Item {
    let mut item = unique_key(award);
    item.insert(ENTITY.to_owned(), string("unique"));
    item.insert(AWARD_ID.to_owned(), string(award.id.as_str()));
    item
}

fn token_item(token: &ClaimToken) -> Item {
    let mut item = key(award_pk(&token.award_id), &format!("{TOKEN_SK_PREFIX}{}", hex::encode(token.token_hash)));
    item.insert(ENTITY.to_owned(), string("token"));
    item.insert(CREATED_AT.to_owned(), string(timestamp(token.created_at)));
    item.insert(EXPIRES_AT.to_owned(), string(timestamp(token.expires_at)));
    let delete_after = token.expires_at + chrono::Duration::days(TOKEN_RETENTION_DAYS);
    item.insert(TTL.to_owned(), AttributeValue::N(delete_after.timestamp().to_string()));
    item
}

fn string_attribute<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| StoreError::Backend(format!("a stored item has no string attribute {name}").into()))
}

fn parse_doc<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(string_attribute(item, DOC)?).map_err(StoreError::backend)
}

fn parse_token(award_id: &AwardId, item: &Item) -> Result<ClaimToken, StoreError> {
    let sort_key = string_attribute(item, SK)?;
    let hash_hex = sort_key.strip_prefix(TOKEN_SK_PREFIX).unwrap_or(sort_key);
    let mut token_hash = [0u8; 32];
    hex::decode_to_slice(hash_hex, &mut token_hash)
        .map_err(|_| StoreError::Backend(format!("the claim token key {sort_key} is not a 32-byte hex hash").into()))?;
    Ok(ClaimToken {
        award_id: award_id.clone(),
        token_hash,
        created_at: parse_timestamp(string_attribute(item, CREATED_AT)?)?,
        expires_at: parse_timestamp(string_attribute(item, EXPIRES_AT)?)?,
    })
}

/// Builds a Put that only succeeds when no item has the same key.
fn put_new(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PK)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(StoreError::backend)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

// ---------------------------------------------------------------------------
// Paging cursors
// ---------------------------------------------------------------------------

/// The index that a listing reads and the partition it reads from.
struct Listing {
    index: &'static str,
    pk_attribute: &'static str,
    sk_attribute: &'static str,
    partition: String,
}

/// Encodes the key of the last award of a page: `ddb1.` and the base64url
/// of a JSON object of the four key attributes, all strings.
fn encode_cursor(listing: &Listing, item: &Item) -> Result<String, StoreError> {
    let mut key = BTreeMap::new();
    for name in [PK, SK, listing.pk_attribute, listing.sk_attribute] {
        key.insert(name, string_attribute(item, name)?);
    }
    let json = serde_json::to_vec(&key).map_err(StoreError::backend)?;
    Ok(format!("{CURSOR_PREFIX}{}", URL_SAFE_NO_PAD.encode(json)))
}

/// Decodes a cursor of `listing` into the ExclusiveStartKey of its Query.
/// Returns `InvalidCursor` unless it is the key of an award in the same
/// index partition.
fn decode_cursor(listing: &Listing, cursor: &str) -> Result<Item, StoreError> {
    let encoded = cursor.strip_prefix(CURSOR_PREFIX).ok_or(StoreError::InvalidCursor)?;
    let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| StoreError::InvalidCursor)?;
    let key: BTreeMap<String, String> = serde_json::from_slice(&json).map_err(|_| StoreError::InvalidCursor)?;

    let attribute = |name: &str| key.get(name).map(String::as_str).ok_or(StoreError::InvalidCursor);
    let award_id = attribute(PK)?
        .strip_prefix("AWARD#")
        .and_then(|id| AwardId::parse(id).ok())
        .ok_or(StoreError::InvalidCursor)?;
    let sort_key_matches = attribute(listing.sk_attribute)?
        .strip_suffix(award_id.as_str())
        .and_then(|created| created.strip_suffix('#'))
        .is_some_and(|created| DateTime::parse_from_rfc3339(created).is_ok());
    let valid = key.len() == 4
        && attribute(SK)? == AWARD_SK
        && attribute(listing.pk_attribute)? == listing.partition
        && sort_key_matches;
    if !valid {
        return Err(StoreError::InvalidCursor);
    }
    Ok(key.into_iter().map(|(name, value)| (name, string(value))).collect())
}

// ---------------------------------------------------------------------------
// Reads and writes shared by several operations
// ---------------------------------------------------------------------------

/// Result of a TransactWriteItems request.
enum Transaction {
    Committed,
    /// A condition failed; the reasons are in the order of the items.
    ConditionFailed(Vec<CancellationReason>),
}

/// Cancellation reasons that go away when the transaction is sent again.
fn is_retryable_cancellation(code: &str) -> bool {
    matches!(code, "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded")
}

impl DynamoStore {
    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let request = self.client.get_item().table_name(&self.table).set_key(Some(key)).consistent_read(true);
        let output = send_with_retry(|| request.clone().send()).await.map_err(backend)?;
        Ok(output.item)
    }

    /// Reads items by key with BatchGetItem, 100 keys per request, and
    /// requests unprocessed keys again with back-off. Returns the items found, in
    /// no particular order. The keys must be distinct.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(KEYS_PER_BATCH_GET) {
            let mut pending = KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .build()
                .map_err(StoreError::backend)?;
            let mut attempt = 0;
            loop {
                let request = self.client.batch_get_item().request_items(&self.table, pending);
                let output = send_with_retry(|| request.clone().send()).await.map_err(backend)?;
                if let Some(items) = output.responses.and_then(|mut responses| responses.remove(&self.table)) {
                    found.extend(items);
                }
                let unprocessed = output
                    .unprocessed_keys
                    .and_then(|mut unprocessed| unprocessed.remove(&self.table))
                    .filter(|rest| !rest.keys().is_empty());
                let Some(rest) = unprocessed else { break };
                attempt += 1;
                if attempt >= MAX_ATTEMPTS {
                    return Err(StoreError::Backend(
                        format!(
                            "BatchGetItem left {} keys unprocessed after {MAX_ATTEMPTS} attempts",
                            rest.keys().len()
                        )
                        .into(),
                    ));
                }
                tracing::warn!(
                    unprocessed = rest.keys().len(),
                    attempt,
                    "BatchGetItem left keys unprocessed; retrying"
                );
                back_off(attempt - 1).await;
                pending = rest;
            }
        }
        Ok(found)
    }

    /// Reads awards by id; missing ones are left out of the map.
    async fn get_awards(&self, ids: Vec<AwardId>) -> Result<HashMap<AwardId, Award>, StoreError> {
        let items = self.batch_get(ids.iter().map(award_key).collect()).await?;
        items.iter().map(|item| parse_doc::<Award>(item).map(|award| (award.id.clone(), award))).collect()
    }

    /// Sends a TransactWriteItems request. Sends it again with back-off
    /// while it is cancelled only for throttling or a conflicting
    /// transaction, and reports a failed condition to the caller.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Transaction, StoreError> {
        let mut attempt = 0;
        loop {
            let request = self.client.transact_write_items().set_transact_items(Some(items.clone()));
            let error = match send_with_retry(|| request.clone().send()).await {
                Ok(_) => return Ok(Transaction::Committed),
                Err(error) => error,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error()
            else {
                return Err(backend(error));
            };
            let reasons = cancelled.cancellation_reasons();
            let codes: Vec<&str> =
                reasons.iter().filter_map(|reason| reason.code()).filter(|code| *code != "None").collect();
            if codes.contains(&"ConditionalCheckFailed") {
                return Ok(Transaction::ConditionFailed(reasons.to_vec()));
            }
            let retryable = !codes.is_empty() && codes.iter().all(|code| is_retryable_cancellation(code));
            if !retryable || attempt + 1 >= MAX_ATTEMPTS {
                return Err(backend(error));
            }
            tracing::warn!(reasons = ?codes, attempt = attempt + 1, "DynamoDB cancelled a transaction; retrying");
            back_off(attempt).await;
            attempt += 1;
        }
    }

    /// Writes the award and unique items of each award in one transaction
    /// (at most 50 awards). When another writer created one of the awards
    /// first, writes them one transaction per award instead.
    async fn create_awards(&self, awards: &[&Award]) -> Result<Vec<Inserted>, StoreError> {
        let mut items = Vec::with_capacity(awards.len() * 2);
        for award in awards {
            items.push(put_new(&self.table, award_item(award)?)?);
            items.push(put_new(&self.table, unique_item(award))?);
        }
        match self.transact(items).await? {
            Transaction::Committed => Ok(awards.iter().map(|award| Inserted::Created((*award).clone())).collect()),
            Transaction::ConditionFailed(_) => {
                let mut outcomes = Vec::with_capacity(awards.len());
                for award in awards {
                    outcomes.push(self.create_award(award).await?);
                }
                Ok(outcomes)
            }
        }
    }

    /// Writes one award and its unique item in one transaction, or returns
    /// the award that already has its (badge, email, session).
    async fn create_award(&self, award: &Award) -> Result<Inserted, StoreError> {
        let items = vec![put_new(&self.table, award_item(award)?)?, put_new(&self.table, unique_item(award))?];
        let reasons = match self.transact(items).await? {
            Transaction::Committed => return Ok(Inserted::Created(award.clone())),
            Transaction::ConditionFailed(reasons) => reasons,
        };

        // The unique item is the second write, and its old image names the
        // existing award. Read the item when the reason does not carry it.
        let from_reason = reasons
            .get(1)
            .and_then(CancellationReason::item)
            .and_then(|item| item.get(AWARD_ID))
            .and_then(|value| value.as_s().ok())
            .cloned();
        let existing_id = match from_reason {
            Some(id) => Some(id),
            None => self
                .get_item(unique_key(award))
                .await?
                .map(|item| string_attribute(&item, AWARD_ID).map(str::to_owned))
                .transpose()?,
        };
        let Some(existing_id) = existing_id else {
            // Only the award item's condition failed, so its id is taken.
            return Err(StoreError::Conflict);
        };
        let existing_id = AwardId::parse(&existing_id).map_err(StoreError::backend)?;
        let existing = self.get_item(award_key(&existing_id)).await?.ok_or_else(|| dangling_unique(&existing_id))?;
        Ok(Inserted::Existing(parse_doc(&existing)?))
    }
}

fn dangling_unique(award_id: &AwardId) -> StoreError {
    StoreError::Backend(format!("a uniqueness item names the award {award_id}, which does not exist").into())
}

// ---------------------------------------------------------------------------
// The port
// ---------------------------------------------------------------------------

#[async_trait]
impl AwardStore for DynamoStore {
    async fn create_badge(&self, badge: &BadgeClass) -> Result<(), StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(badge_item(badge)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        match send_with_retry(|| request.clone().send()).await {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) =>
            {
                Err(StoreError::Conflict)
            }
            Err(error) => Err(backend(error)),
        }
    }

    async fn update_badge(&self, badge: &BadgeClass) -> Result<(), StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(badge_item(badge)?))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        match send_with_retry(|| request.clone().send()).await {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) =>
            {
                Err(StoreError::NotFound)
            }
            Err(error) => Err(backend(error)),
        }
    }

    async fn get_badge(&self, id: &BadgeId) -> Result<Option<BadgeClass>, StoreError> {
        self.get_item(badge_key(id)).await?.map(|item| parse_doc(&item)).transpose()
    }

    /// Lists the badge classes by id, with Query on the `by_badge` index.
    async fn list_badges(&self) -> Result<Vec<BadgeClass>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_BY_BADGE)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI2PK)
            .expression_attribute_values(":pk", string(BADGE_CATALOGUE_PK));
        query_items(request, None).await?.iter().map(parse_doc).collect()
    }

    async fn insert_awards(&self, awards: &[Award]) -> Result<Vec<Inserted>, StoreError> {
        // Awards of the batch that share a (badge, email, session) all report
        // the first of them, which is inserted or found.
        let mut first_with_key: HashMap<String, usize> = HashMap::new();
        let mut first_of: Vec<usize> = Vec::with_capacity(awards.len());
        for (index, award) in awards.iter().enumerate() {
            first_of.push(*first_with_key.entry(unique_pk(award)).or_insert(index));
        }
        let firsts: Vec<usize> = (0..awards.len()).filter(|&index| first_of[index] == index).collect();
        let mut outcomes: Vec<Option<Inserted>> = vec![None; awards.len()];

        // Awards that exist already: read their unique items, then the awards.
        let unique_items = self.batch_get(firsts.iter().map(|&index| unique_key(&awards[index])).collect()).await?;
        let mut existing_ids: HashMap<String, AwardId> = HashMap::new();
        for item in &unique_items {
            let award_id = AwardId::parse(string_attribute(item, AWARD_ID)?).map_err(StoreError::backend)?;
            existing_ids.insert(string_attribute(item, PK)?.to_owned(), award_id);
        }
        let mut existing = self.get_awards(existing_ids.values().cloned().collect()).await?;
        let mut to_create = Vec::new();
        for &index in &firsts {
            match existing_ids.get(&unique_pk(&awards[index])) {
                Some(award_id) => {
                    let award = existing.remove(award_id).ok_or_else(|| dangling_unique(award_id))?;
                    outcomes[index] = Some(Inserted::Existing(award));
                }
                None => to_create.push(index),
            }
        }

        // New awards: one transaction per 50 awards.
        for chunk in to_create.chunks(AWARDS_PER_TRANSACTION) {
            let batch: Vec<&Award> = chunk.iter().map(|&index| &awards[index]).collect();
            let created = self.create_awards(&batch).await?;
            for (&index, outcome) in chunk.iter().zip(created) {
                outcomes[index] = Some(outcome);
            }
        }

        // Later awards with the key of an earlier one.
        for index in 0..awards.len() {
            if first_of[index] != index {
                let first = match &outcomes[first_of[index]] {
                    Some(Inserted::Created(award) | Inserted::Existing(award)) => award.clone(),
                    None => unreachable!("every first award of a key has an outcome"),
                };
                outcomes[index] = Some(Inserted::Existing(first));
            }
        }
        Ok(outcomes.into_iter().map(|outcome| outcome.expect("every award has an outcome")).collect())
    }

    async fn get_award(&self, id: &AwardId) -> Result<Option<Award>, StoreError> {
        self.get_item(award_key(id)).await?.map(|item| parse_doc(&item)).transpose()
    }

    /// Updates the award with UpdateItem under the condition
    /// `version = :expected`. The key attributes and the `by_email` and
    /// `by_badge` index keys keep their stored values, as in the SQLite store.
    async fn update_award(&self, award: &Award) -> Result<Award, StoreError> {
        let mut updated = award.clone();
        updated.version = award.version + 1;

        let mut set = vec!["#doc = :doc", "#status = :status", "#notification = :notification", "#version = :next"];
        let mut remove = Vec::new();
        let mut values = HashMap::from([
            (":doc".to_owned(), string(serde_json::to_string(&updated).map_err(StoreError::backend)?)),
            (":status".to_owned(), string(updated.status.as_str())),
            (":notification".to_owned(), string(updated.notification.as_str())),
            (":next".to_owned(), AttributeValue::N(updated.version.to_string())),
            (":expected".to_owned(), AttributeValue::N(award.version.to_string())),
        ]);
        match updated.expires_on {
            Some(expires_on) => {
                set.push("#expires_on = :expires_on");
                values.insert(":expires_on".to_owned(), string(timestamp(expires_on)));
            }
            None => remove.push("#expires_on"),
        }
        // The `queued` index is sparse: its keys exist only while the award
        // is queued or waits for a follow-up.
        if let Some((partition, sort_key)) = award_gsi3_keys(&updated) {
            set.push("#gsi3pk = :queued, #gsi3sk = :queued_sk");
            values.insert(":queued".to_owned(), string(partition));
            values.insert(":queued_sk".to_owned(), string(sort_key));
        } else {
            remove.push("#gsi3pk, #gsi3sk");
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let names = HashMap::from([
            ("#doc".to_owned(), DOC.to_owned()),
            ("#status".to_owned(), STATUS.to_owned()),
            ("#notification".to_owned(), NOTIFICATION.to_owned()),
            ("#version".to_owned(), VERSION.to_owned()),
            ("#expires_on".to_owned(), EXPIRES_ON.to_owned()),
            ("#gsi3pk".to_owned(), GSI3PK.to_owned()),
            ("#gsi3sk".to_owned(), GSI3SK.to_owned()),
        ]);

        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(award_key(&award.id)))
            .update_expression(expression)
            .condition_expression("#version = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let error = match send_with_retry(|| request.clone().send()).await {
            Ok(_) => return Ok(updated),
            Err(error) => error,
        };
        let Some(UpdateItemError::ConditionalCheckFailedException(failed)) = error.as_service_error() else {
            return Err(backend(error));
        };
        // The old image is returned when the award exists. Read it when the
        // response has none, for services that do not return it.
        let exists = match failed.item() {
            Some(_) => true,
            None => self.get_item(award_key(&award.id)).await?.is_some(),
        };
        Err(if exists { StoreError::VersionConflict } else { StoreError::NotFound })
    }

    /// Lists awards with Query on `by_badge` or `by_email`, filtering on the
    /// stored status, notification and `expires_on`. The cursor is the key
    /// of the last award returned, so a page never repeats or skips one.
    async fn list_awards(&self, query: &AwardQuery) -> Result<AwardPage, StoreError> {
        let listing = match (&query.badge_id, &query.email) {
            (Some(badge_id), _) => Listing {
                index: INDEX_BY_BADGE,
                pk_attribute: GSI2PK,
                sk_attribute: GSI2SK,
                partition: badge_pk(badge_id),
            },
            (None, Some(email)) => Listing {
                index: INDEX_BY_EMAIL,
                pk_attribute: GSI1PK,
                sk_attribute: GSI1SK,
                partition: format!("EMAIL#{email}"),
            },
            (None, None) => {
                return Err(StoreError::Backend(
                    "listing awards requires a badge id or an email address, because the DynamoDB store never scans the table"
                        .into(),
                ));
            }
        };
        let mut start = query.cursor.as_deref().map(|cursor| decode_cursor(&listing, cursor)).transpose()?;
        if query.limit == 0 {
            return Ok(AwardPage { items: Vec::new(), next_cursor: None });
        }

        let mut names = HashMap::from([("#pk".to_owned(), listing.pk_attribute.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), string(&listing.partition))]);
        let mut filters: Vec<&str> = Vec::new();
        if let (Some(_), Some(email)) = (&query.badge_id, &query.email) {
            names.insert("#email_pk".to_owned(), GSI1PK.to_owned());
            values.insert(":email_pk".to_owned(), string(format!("EMAIL#{email}")));
            filters.push("#email_pk = :email_pk");
        }
        match query.status {
            Some(StatusFilter::Is(status)) => {
                names.insert("#status".to_owned(), STATUS.to_owned());
                values.insert(":status".to_owned(), string(status.as_str()));
                filters.push("#status = :status");
                // Pending and accepted awards past `expires_on` are listed as expired only.
                if matches!(status, AwardStatus::Pending | AwardStatus::Accepted) {
                    names.insert("#expires_on".to_owned(), EXPIRES_ON.to_owned());
                    values.insert(":now".to_owned(), string(timestamp(query.now)));
                    filters.push("(attribute_not_exists(#expires_on) OR #expires_on > :now)");
                }
            }
            Some(StatusFilter::Expired) => {
                names.insert("#status".to_owned(), STATUS.to_owned());
                names.insert("#expires_on".to_owned(), EXPIRES_ON.to_owned());
                values.insert(":pending".to_owned(), string(AwardStatus::Pending.as_str()));
                values.insert(":accepted".to_owned(), string(AwardStatus::Accepted.as_str()));
                values.insert(":now".to_owned(), string(timestamp(query.now)));
                filters.push("#status IN (:pending, :accepted) AND #expires_on <= :now");
            }
            None => {}
        }
        if let Some(notification) = query.notification {
            names.insert("#notification".to_owned(), NOTIFICATION.to_owned());
            values.insert(":notification".to_owned(), string(notification.as_str()));
            filters.push("#notification = :notification");
        }
        let filter = (!filters.is_empty()).then(|| filters.join(" AND "));

        // Reading one award more than the limit shows whether another page exists.
        let needed = query.limit + 1;
        let mut items: Vec<Item> = Vec::with_capacity(needed);
        loop {
            let missing = needed - items.len();
            let page_size = if filter.is_some() { missing.max(FILTERED_QUERY_PAGE) } else { missing };
            let request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(listing.index)
                .key_condition_expression("#pk = :pk")
                .set_filter_expression(filter.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .limit(i32::try_from(page_size).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            let output = send_with_retry(|| request.clone().send()).await.map_err(backend)?;
            let page = output.items.unwrap_or_default();
            items.extend(page.into_iter().take(needed - items.len()));
            match output.last_evaluated_key {
                Some(key) if items.len() < needed => start = Some(key),
                _ => break,
            }
        }

        let has_more = items.len() > query.limit;
        items.truncate(query.limit);
        let next_cursor = match items.last() {
            Some(last) if has_more => Some(encode_cursor(&listing, last)?),
            _ => None,
        };
        let awards = items.iter().map(parse_doc).collect::<Result<_, _>>()?;
        Ok(AwardPage { items: awards, next_cursor })
    }

    /// Reads the sparse `queued` index, oldest award first.
    ///
    /// The index is eventually consistent, so an award that a worker took a
    /// moment ago can still be listed. The worker's versioned update of that
    /// award then fails, and the worker skips it.
    async fn queued_awards(&self, limit: usize) -> Result<Vec<Award>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_QUEUED)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI3PK)
            .expression_attribute_values(":pk", string(QUEUED_PK));
        query_items(request, Some(limit)).await?.iter().map(parse_doc).collect()
    }

    /// Stores the token in its award's partition. Returns `Conflict` when
    /// the award already has a token with the same hash.
    async fn add_claim_token(&self, token: &ClaimToken) -> Result<(), StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(token_item(token)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        match send_with_retry(|| request.clone().send()).await {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) =>
            {
                Err(StoreError::Conflict)
            }
            Err(error) => Err(backend(error)),
        }
    }

    /// Returns the award's tokens in the order of their hashes.
    ///
    /// NOTE: the table's TTL deletes a token item at some point after 30
    /// days past its expiry, so older expired tokens may be missing.
    async fn claim_tokens(&self, award_id: &AwardId) -> Result<Vec<ClaimToken>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :token)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", string(award_pk(award_id)))
            .expression_attribute_values(":token", string(TOKEN_SK_PREFIX))
            .consistent_read(true);
        let items = query_items(request, None).await?;
        items.iter().map(|item| parse_token(award_id, item)).collect()
    }

    /// Queries the follow-up partition of the `queued` index up to `now`.
    /// The sort key is the due time then the award id, and `~` sorts after
    /// every id character, so awards due exactly at `now` are included.
    async fn due_follow_ups(&self, kind: FollowUp, now: DateTime<Utc>, limit: usize) -> Result<Vec<Award>, StoreError> {
        let upper = format!("{}#~", timestamp(now));
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_QUEUED)
            .key_condition_expression("#pk = :pk AND #sk <= :upper")
            .expression_attribute_names("#pk", GSI3PK)
            .expression_attribute_names("#sk", GSI3SK)
            .expression_attribute_values(":pk", string(follow_up_pk(kind)))
            .expression_attribute_values(":upper", string(&upper));
        query_items(request, Some(limit)).await?.iter().map(parse_doc).collect()
    }

    async fn add_suppression(&self, suppression: &Suppression) -> Result<bool, StoreError> {
        let mut item = suppression_key(&suppression.email);
        item.insert(ENTITY.to_owned(), string("suppression"));
        item.insert(DOC.to_owned(), string(serde_json::to_string(suppression).map_err(StoreError::backend)?));
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        match send_with_retry(|| request.clone().send()).await {
            Ok(_) => Ok(true),
            Err(error)
                if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) =>
            {
                Ok(false)
            }
            Err(error) => Err(backend(error)),
        }
    }

    /// Reads the suppression items with BatchGetItem, 100 addresses per request.
    async fn suppressions(&self, emails: &[EmailAddress]) -> Result<Vec<Suppression>, StoreError> {
        let distinct: std::collections::BTreeSet<&EmailAddress> = emails.iter().collect();
        let items = self.batch_get(distinct.into_iter().map(suppression_key).collect()).await?;
        items.iter().map(parse_doc).collect()
    }

    /// Writes the resend item with a condition that the stored window has
    /// ended, so concurrent requests for one address queue at most one.
    async fn request_resend(&self, request: &ResendRequest, window_ends: DateTime<Utc>) -> Result<bool, StoreError> {
        let requested_at = timestamp(request.requested_at);
        let mut item = resend_key(&request.email);
        item.insert(ENTITY.to_owned(), string("resend"));
        item.insert(EMAIL.to_owned(), string(request.email.as_str()));
        item.insert(REQUESTED_AT.to_owned(), string(&requested_at));
        item.insert(WINDOW_ENDS.to_owned(), string(timestamp(window_ends)));
        item.insert(STATE.to_owned(), string(RESEND_QUEUED));
        item.insert(GSI3PK.to_owned(), string(RESEND_QUEUE_PK));
        item.insert(GSI3SK.to_owned(), string(format!("{requested_at}#{}", request.email)));
        let delete_after = window_ends + chrono::Duration::days(RESEND_RETENTION_DAYS);
        item.insert(TTL.to_owned(), AttributeValue::N(delete_after.timestamp().to_string()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #window_ends <= :requested_at")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#window_ends", WINDOW_ENDS)
            .expression_attribute_values(":requested_at", string(&requested_at));
        match send_with_retry(|| put.clone().send()).await {
            Ok(_) => Ok(true),
            Err(error)
                if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) =>
            {
                Ok(false)
            }
            Err(error) => Err(backend(error)),
        }
    }

    async fn queued_resends(&self, limit: usize) -> Result<Vec<ResendRequest>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX_QUEUED)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI3PK)
            .expression_attribute_values(":pk", string(RESEND_QUEUE_PK));
        let items = query_items(request, Some(limit)).await?;
        items
            .iter()
            .map(|item| {
                Ok(ResendRequest {
                    email: EmailAddress::parse(string_attribute(item, EMAIL)?).map_err(StoreError::backend)?,
                    requested_at: parse_timestamp(string_attribute(item, REQUESTED_AT)?)?,
                })
            })
            .collect()
    }

    /// Marks the request taken and removes it from the index, on condition
    /// that it is still the queued request of that time.
    async fn take_resend(&self, request: &ResendRequest) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(resend_key(&request.email)))
            .update_expression("SET #state = :taken REMOVE #gsi3pk, #gsi3sk")
            .condition_expression("#state = :queued AND #requested_at = :requested_at")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_names("#requested_at", REQUESTED_AT)
            .expression_attribute_names("#gsi3pk", GSI3PK)
            .expression_attribute_names("#gsi3sk", GSI3SK)
            .expression_attribute_values(":taken", string(RESEND_TAKEN))
            .expression_attribute_values(":queued", string(RESEND_QUEUED))
            .expression_attribute_values(":requested_at", string(timestamp(request.requested_at)));
        match send_with_retry(|| update.clone().send()).await {
            Ok(_) => Ok(true),
            Err(error)
                if matches!(error.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) =>
            {
                Ok(false)
            }
            Err(error) => Err(backend(error)),
        }
    }

    async fn signing_key(&self, name: &str, candidate: [u8; 32]) -> Result<[u8; 32], StoreError> {
        if let Some(item) = self.get_item(signing_key_key(name)).await? {
            return parse_signing_key(name, &item);
        }
        let mut item = signing_key_key(name);
        item.insert(ENTITY.to_owned(), string("key"));
        item.insert(KEY.to_owned(), AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(candidate.to_vec())));
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        match send_with_retry(|| request.clone().send()).await {
            Ok(_) => return Ok(candidate),
            // Another process stored its key first: use that one.
            Err(error)
                if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {}
            Err(error) => return Err(backend(error)),
        }
        let item = self
            .get_item(signing_key_key(name))
            .await?
            .ok_or_else(|| StoreError::Backend(format!("the key {name:?} vanished after a conflicting write").into()))?;
        parse_signing_key(name, &item)
    }

    /// Adds one to the counter item with UpdateItem `ADD`, which DynamoDB
    /// applies atomically, so concurrent callers never get the same value.
    async fn next_status_index(&self) -> Result<StatusIndex, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(STATUS_INDEX_SEQUENCE_PK.to_owned(), SEQUENCE_SK)))
            .update_expression("SET #entity = :entity ADD #next :one")
            .expression_attribute_names("#entity", ENTITY)
            .expression_attribute_names("#next", NEXT)
            .expression_attribute_values(":entity", string("sequence"))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .return_values(sdk::ReturnValue::UpdatedNew);
        let output = send_with_retry(|| request.clone().send()).await.map_err(backend)?;
        // `next` counts the positions handed out, so the new position is `next - 1`.
        let next = output
            .attributes()
            .and_then(|attributes| attributes.get(NEXT))
            .and_then(|value| value.as_n().ok())
            .and_then(|number| number.parse::<u64>().ok())
            .filter(|next| *next > 0)
            .ok_or_else(|| StoreError::Backend("the status index counter returned no number".into()))?;
        Ok(StatusIndex::from_sequence(next - 1))
    }

    /// Adds the bit to the number set of its revocation item with
    /// UpdateItem `ADD`, which creates the item when needed and ignores a
    /// bit already in the set.
    async fn revoke_status_index(&self, position: StatusIndex) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(revoked_status_key(position)))
            .update_expression("SET #entity = :entity ADD #bits :bit")
            .expression_attribute_names("#entity", ENTITY)
            .expression_attribute_names("#bits", BITS)
            .expression_attribute_values(":entity", string("status_list"))
            .expression_attribute_values(":bit", AttributeValue::Ns(vec![position.index.to_string()]));
        send_with_retry(|| request.clone().send()).await.map_err(backend)?;
        Ok(())
    }

    /// Reads every revocation item of the list with one strongly consistent
    /// Query on its partition (paged when DynamoDB pages it).
    async fn revoked_status_indexes(&self, list: u32) -> Result<Vec<u64>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :revoked)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", string(status_list_pk(list)))
            .expression_attribute_values(":revoked", string("REVOKED#"));
        let mut bits = Vec::new();
        for item in query_items(request, None).await? {
            let Some(values) = item.get(BITS).and_then(|value| value.as_ns().ok()) else { continue };
            for value in values {
                let bit = value
                    .parse::<u64>()
                    .map_err(|_| StoreError::Backend(format!("status list {list} has an invalid bit {value:?}").into()))?;
                bits.push(bit);
            }
        }
        bits.sort_unstable();
        bits.dedup();
        Ok(bits)
    }
}

fn parse_signing_key(name: &str, item: &Item) -> Result<[u8; 32], StoreError> {
    item.get(KEY)
        .and_then(|value| value.as_b().ok())
        .and_then(|blob| <[u8; 32]>::try_from(blob.as_ref()).ok())
        .ok_or_else(|| StoreError::Backend(format!("the stored key {name:?} is not 32 bytes").into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing() -> Listing {
        Listing { index: INDEX_BY_BADGE, pk_attribute: GSI2PK, sk_attribute: GSI2SK, partition: "BADGE#rda".to_owned() }
    }

    fn award_index_item(id: &str) -> Item {
        HashMap::from([
            (PK.to_owned(), string(format!("AWARD#{id}"))),
            (SK.to_owned(), string(AWARD_SK)),
            (GSI2PK.to_owned(), string("BADGE#rda")),
            (GSI2SK.to_owned(), string(format!("2026-03-01T09:30:00.000000Z#{id}"))),
            (DOC.to_owned(), string("{}")),
        ])
    }

    #[test]
    fn cursor_round_trips_the_key() {
        let id = "a".repeat(AwardId::LEN);
        let item = award_index_item(&id);
        let cursor = encode_cursor(&listing(), &item).unwrap();
        assert!(cursor.starts_with(CURSOR_PREFIX));
        let key = decode_cursor(&listing(), &cursor).unwrap();
        assert_eq!(key.len(), 4);
        assert_eq!(key[PK], item[PK]);
        assert_eq!(key[GSI2SK], item[GSI2SK]);
    }

    #[test]
    fn cursor_of_another_partition_is_invalid() {
        let cursor = encode_cursor(&listing(), &award_index_item(&"a".repeat(AwardId::LEN))).unwrap();
        let other = Listing { partition: "BADGE#other".to_owned(), ..listing() };
        assert!(matches!(decode_cursor(&other, &cursor), Err(StoreError::InvalidCursor)));
    }

    #[test]
    fn malformed_cursors_are_invalid() {
        let not_json = format!("{CURSOR_PREFIX}{}", URL_SAFE_NO_PAD.encode("seq:4"));
        let wrong_key = format!("{CURSOR_PREFIX}{}", URL_SAFE_NO_PAD.encode(r#"{"pk":"BADGE#rda","sk":"BADGE"}"#));
        for cursor in ["", "ddb1.", "ddb1.!!!", "c2VxOjQ", not_json.as_str(), wrong_key.as_str()] {
            assert!(matches!(decode_cursor(&listing(), cursor), Err(StoreError::InvalidCursor)), "{cursor:?}");
        }
    }

    #[test]
    fn unique_key_parts_cannot_collide() {
        assert_eq!(escape_key_part("a#b%c"), "a%23b%25c");
        assert_ne!(
            format!("{}#{}", escape_key_part("x#y"), escape_key_part("z")),
            format!("{}#{}", escape_key_part("x"), escape_key_part("y#z"))
        );
    }

    #[test]
    fn timestamps_have_a_fixed_width() {
        let whole = DateTime::parse_from_rfc3339("2026-03-01T09:30:00Z").unwrap().with_timezone(&Utc);
        let fraction = DateTime::parse_from_rfc3339("2026-03-01T09:30:00.5+02:00").unwrap().with_timezone(&Utc);
        assert_eq!(timestamp(whole), "2026-03-01T09:30:00.000000Z");
        assert_eq!(timestamp(fraction), "2026-03-01T07:30:00.500000Z");
    }

    #[test]
    fn schema_lists_every_key_attribute() {
        let schema = table_schema();
        assert_eq!(schema.attribute_definitions.len(), 8);
        let index_names: Vec<&str> =
            schema.global_secondary_indexes.iter().map(|index| index.index_name.as_str()).collect();
        assert_eq!(index_names, [INDEX_BY_EMAIL, INDEX_BY_BADGE, INDEX_QUEUED]);
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(json["TimeToLiveSpecification"]["AttributeName"], "ttl");
        assert_eq!(json["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
        assert_eq!(json["KeySchema"][0]["KeyType"], "HASH");
    }
}
