//! Counts the DynamoDB requests of a roster import, first import and
//! re-import of the same file, and prints them as one JSON line:
//!
//!   bench-dynamo-requests ROWS
//!
//! Runs against the endpoint in `AWS_ENDPOINT_URL` (moto, started by
//! scripts/bench.sh) with the credentials and region of the environment,
//! in a new table. Only requests are counted, because moto does not
//! throttle and its response times do not predict DynamoDB's.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use badges_bench::{OperationCount, RequestCounter, WRITE_OPERATIONS};
use badges_shared::App;
use badges_shared::adapters::FolderImageStore;
use badges_shared::adapters::aws::dynamo::{DynamoStore, create_table};
use badges_shared::aws::NoMailer;
use badges_shared::ports::{OsRandom, SystemClock};
use serde_json::{Value, json};

/// Sums the requests and items of the write operations.
fn writes(counts: &HashMap<String, OperationCount>) -> OperationCount {
    let mut total = OperationCount::default();
    for operation in WRITE_OPERATIONS {
        if let Some(count) = counts.get(operation) {
            total.requests += count.requests;
            total.items += count.items;
        }
    }
    total
}

/// Describes the requests of one import, per operation, per award (created
/// on a first import, found on a re-import) and per data row.
fn summary(counts: &HashMap<String, OperationCount>, rows: usize, awards: usize) -> Value {
    let operations: serde_json::Map<String, Value> = counts
        .iter()
        .map(|(name, count)| (name.clone(), json!({ "requests": count.requests, "items": count.items })))
        .collect();
    let writes = writes(counts);
    let reads: usize = counts.values().map(|count| count.requests).sum::<usize>() - writes.requests;
    json!({
        "awards": awards,
        "operations": operations,
        "write_requests": writes.requests,
        "write_items": writes.items,
        "read_requests": reads,
        "write_requests_per_award": writes.requests as f64 / awards.max(1) as f64,
        "write_items_per_award": writes.items as f64 / awards.max(1) as f64,
        "read_requests_per_award": reads as f64 / awards.max(1) as f64,
        "write_requests_per_row": writes.requests as f64 / rows as f64,
        "read_requests_per_row": reads as f64 / rows as f64,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .context("usage: bench-dynamo-requests ROWS")?
        .parse()
        .context("ROWS must be a whole number of data rows")?;
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        bail!("AWS_ENDPOINT_URL is not set: point it at the moto server that scripts/bench.sh starts");
    }

    let config = aws_config::load_from_env().await;
    let counter = RequestCounter::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config).interceptor(counter.clone()).build(),
    );
    let table = format!("badges-bench-{}", std::process::id());
    create_table(&client, &table).await.with_context(|| format!("creating the table {table}"))?;
    let folder = tempfile::tempdir().context("creating a temporary image folder")?;
    let app = App {
        store: Arc::new(DynamoStore::new(client, table)),
        images: Arc::new(FolderImageStore::new(folder.path().join("images"), "http://127.0.0.1:3000/images")),
        mailer: Arc::new(NoMailer),
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        settings: Arc::new(badges_bench::settings()),
        notify_queued: Arc::new(tokio::sync::Notify::new()),
        issuer_signer: None,
    };
    app.store.create_badge(&badges_bench::badge_class()).await.context("creating the badge")?;

    let csv = badges_bench::attendance_csv(rows);
    let options = badges_bench::import_options(rows);
    let badge_id = badges_bench::badge_id();
    let mut imports = Vec::new();
    for _ in 0..2 {
        counter.take();
        let report = badges_shared::service::import::import_roster(&app, &badge_id, String::new(), &csv, &options)
            .await
            .map_err(|error| anyhow::anyhow!("the import failed: {error:?}"))?;
        imports.push((counter.take(), report.totals.created, report.totals.already_awarded));
    }
    let (first_counts, created, _) = &imports[0];
    let (again_counts, created_again, already_awarded) = &imports[1];
    if *created == 0 || *created_again != 0 || already_awarded != created {
        bail!("unexpected import totals: created {created}, then created {created_again} and found {already_awarded}");
    }

    println!(
        "{}",
        json!({
            "rows": rows,
            "first_import": summary(first_counts, rows, *created),
            "re_import": summary(again_counts, rows, *already_awarded),
        })
    );
    Ok(())
}
