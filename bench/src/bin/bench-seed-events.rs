//! Seeds the AWS emulator with the records that the sample events in
//! `events/` name, so that the cold-start runs of scripts/bench.sh answer
//! each event as on a live stack:
//!
//!   bench-seed-events setup   creates the table, bucket, sender identity and
//!                             issuer key secret, the badge
//!                             rda-serials-cataloging-update and the pending
//!                             award aaaa… with the events' claim token
//!   bench-seed-events queue   puts award aaaa… back in the notification queue,
//!                             so that the next stream event sends its email again
//!
//! Reads the resource names from `BADGES_TABLE`, `BADGES_BUCKET`,
//! `BADGES_SENDER` and `BADGES_ISSUER_KEY_SECRET`, and the endpoint from
//! `AWS_ENDPOINT_URL`.

use anyhow::{Context as _, bail};
use badges_shared::adapters::aws::dynamo::{DynamoStore, create_table};
use badges_shared::adapters::aws::{s3, ses};
use badges_shared::domain::{AwardId, ClaimToken, NotificationStatus};
use badges_shared::ports::{AwardStore as _, StoreError};

/// Award id and claim token of the sample events.
const EVENT_AWARD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaa";
const EVENT_TOKEN: &str = "q3ABJr-2bocIo1uR9oppIpknhP_peQkODpKQrdqfJYA";
/// Message id of the sample SES events.
const EVENT_MESSAGE_ID: &str = "0100019a7c2f4e1b-5d3c8a2e-91f7-4b6d-a0e3-7c9d1f2b4e6a-000000";

async fn setup(config: &aws_config::SdkConfig, store: &DynamoStore) -> anyhow::Result<()> {
    let bucket = badges_shared::aws::required("BADGES_BUCKET")?;
    let sender = badges_shared::aws::required("BADGES_SENDER")?;
    let issuer_key_secret = badges_shared::aws::issuer_key_secret_from_env()?;
    match create_table(&aws_sdk_dynamodb::Client::new(config), store.table()).await {
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(error) => return Err(error).context("creating the table"),
    }
    s3::create_bucket(&s3::s3_client(config), &bucket).await.context("creating the bucket")?;
    ses::create_sender_identity(&aws_sdk_sesv2::Client::new(config), &sender)
        .await
        .context("creating the sender identity")?;
    badges_shared::adapters::aws::secrets::create_issuer_secret_if_missing(
        &aws_sdk_secretsmanager::Client::new(config),
        &issuer_key_secret,
    )
    .await
    .context("creating the issuer key secret")?;

    match store.create_badge(&badges_bench::badge_class()).await {
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(error) => return Err(error).context("creating the badge"),
    }
    let mut award = badges_bench::sample_award();
    award.id = AwardId::parse(EVENT_AWARD).context("the event award id")?;
    award.recipient.email = badges_shared::domain::EmailAddress::parse("learner.one@example.org")?;
    award.status = badges_shared::domain::AwardStatus::Pending;
    award.notification = NotificationStatus::Sent;
    award.message_id = Some(EVENT_MESSAGE_ID.into());
    award.version = 0;
    store.insert_awards(&[award]).await.context("inserting the event award")?;
    let now = chrono::Utc::now();
    let token = ClaimToken {
        award_id: AwardId::parse(EVENT_AWARD)?,
        token_hash: badges_shared::tokens::hash_token(EVENT_TOKEN),
        created_at: now,
        expires_at: now + chrono::Duration::days(1),
    };
    match store.add_claim_token(&token).await {
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(error) => Err(error).context("adding the event claim token"),
    }
}

async fn queue(store: &DynamoStore) -> anyhow::Result<()> {
    let id = AwardId::parse(EVENT_AWARD)?;
    let mut award = store.get_award(&id).await?.context("the event award is missing: run `bench-seed-events setup` first")?;
    award.notification = NotificationStatus::Queued;
    store.update_award(&award).await.context("queueing the event award")?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1).unwrap_or_default();
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        bail!("AWS_ENDPOINT_URL is not set: point it at the moto server that scripts/bench.sh starts");
    }
    let config = aws_config::load_from_env().await;
    let table = badges_shared::aws::required("BADGES_TABLE")?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table);
    match command.as_str() {
        "setup" => setup(&config, &store).await,
        "queue" => queue(&store).await,
        _ => bail!("usage: bench-seed-events setup|queue"),
    }
}
