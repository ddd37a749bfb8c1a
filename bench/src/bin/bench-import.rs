//! Imports a generated attendance export into a new embedded store, as
//! `POST /admin/awards/import` does, and prints the timings as one JSON
//! line:
//!
//!   bench-import ROWS
//!
//! The roster is generated in memory first and its time is reported apart.
//! Parsing is timed on its own, then the whole import (parse, awards
//! written, notifications queued) on a new SQLite file in a temporary
//! folder. scripts/bench.sh runs this under `/usr/bin/time -v` for the
//! peak memory, and under hyperfine for the time of the whole process.

use std::time::Instant;

use anyhow::{Context as _, bail};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .context("usage: bench-import ROWS")?
        .parse()
        .context("ROWS must be a whole number of data rows")?;

    let started = Instant::now();
    let csv = badges_bench::attendance_csv(rows);
    let generate_seconds = started.elapsed().as_secs_f64();
    let options = badges_bench::import_options(rows);

    let started = Instant::now();
    let parsed = badges_shared::import::parse_roster(&csv, &options).context("parsing the generated roster")?;
    let parse_seconds = started.elapsed().as_secs_f64();
    let eligible = parsed.rows.len();
    drop(parsed);

    let folder = tempfile::tempdir().context("creating a temporary data folder")?;
    let app = badges_bench::embedded_app(folder.path())?;
    app.store.create_badge(&badges_bench::badge_class()).await.context("creating the badge")?;

    let started = Instant::now();
    let report = badges_shared::service::import::import_roster(&app, &badges_bench::badge_id(), String::new(), &csv, &options)
        .await
        .map_err(|error| anyhow::anyhow!("the import failed: {error:?}"))?;
    let import_seconds = started.elapsed().as_secs_f64();

    if report.totals.created != eligible {
        bail!("the import created {} awards, but {eligible} rows are eligible", report.totals.created);
    }
    // The worker reads the queue 50 awards at a time. Reading the whole
    // queue here would load every award and inflate the peak memory.
    let queued = app.store.queued_awards(50).await.context("reading the notification queue")?.len();
    if queued != eligible.min(50) {
        bail!("the first page of the notification queue has {queued} awards, expected {}", eligible.min(50));
    }

    println!(
        "{}",
        serde_json::json!({
            "rows": rows,
            "csv_bytes": csv.len(),
            "created": report.totals.created,
            "not_awarded": report.totals.not_awarded,
            "queued_first_page": queued,
            "generate_seconds": generate_seconds,
            "parse_seconds": parse_seconds,
            "import_seconds": import_seconds,
        })
    );
    Ok(())
}
