//! Roster import: one award per eligible row of an attendance export.

use serde::Serialize;
use serde_json::Value;

use crate::app::App;
use crate::domain::{AwardId, BadgeId, Recipient};
use crate::import::{ImportOptions, parse_roster};
use crate::ports::Inserted;
use crate::service::ServiceError;
use crate::service::awards::{new_award, recipient_name};

/// Awards written per store call. Bounds the memory of one batch and, on
/// DynamoDB, matches the batch size of one write request.
const INSERT_BATCH: usize = 25;

#[derive(Debug, Serialize)]
pub struct ImportTotals {
    /// Data rows in the file, after the header.
    pub rows: usize,
    pub created: usize,
    pub already_awarded: usize,
    /// Rows skipped for a reason in the file itself.
    pub not_awarded: usize,
}

/// One row that did not create an award.
#[derive(Debug, Serialize)]
pub struct RowReport {
    pub line: u64,
    /// Stable code: missing_email, invalid_email, duplicate, not_attended,
    /// below_minimum_minutes, invalid_duration, role_not_awarded,
    /// invalid_name or already_awarded.
    pub reason: String,
    /// The same in plain words.
    pub message: String,
    #[serde(flatten)]
    pub details: serde_json::Map<String, Value>,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub badge_id: BadgeId,
    pub session: String,
    pub encoding: &'static str,
    pub delimiter: String,
    pub header_line: u64,
    pub columns: Value,
    pub totals: ImportTotals,
    /// Awards created by this import, in file order.
    pub created: Vec<CreatedRow>,
    /// Rows not awarded, in file order.
    pub rows: Vec<RowReport>,
}

#[derive(Debug, Serialize)]
pub struct CreatedRow {
    pub line: u64,
    pub award_id: AwardId,
}

/// Parses the whole file first, so a file that cannot be parsed writes
/// nothing; then inserts the eligible rows. Rows whose (badge, email,
/// session) already has an award are reported, not written again, which
/// makes a re-import of the same file a no-op.
pub async fn import_roster(
    app: &App,
    badge_id: &BadgeId,
    session: String,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportReport, ServiceError> {
    let badge = app
        .store
        .get_badge(badge_id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("no badge has id {:?}", badge_id.as_str()), Some("badge_id")))?;
    let roster = parse_roster(bytes, options).map_err(|error| ServiceError::Rejected {
        code: error.code(),
        field: error.field().unwrap_or("body").to_owned(),
        message: error.to_string(),
    })?;

    let mut rows: Vec<RowReport> = roster.skipped.iter().map(row_report).collect();

    let issued_on = app.clock.now();
    let mut pending = Vec::with_capacity(roster.rows.len());
    for row in &roster.rows {
        match recipient_name(&row.name, "name") {
            Ok(name) => pending.push((
                row.line,
                new_award(app, &badge, Recipient { email: row.email.clone(), name }, session.clone(), None, issued_on, None),
            )),
            Err(error) => {
                let mut details = serde_json::Map::new();
                details.insert("email".into(), Value::String(row.email.to_string()));
                details.insert("name".into(), Value::String(row.name.chars().take(200).collect()));
                rows.push(RowReport { line: row.line, reason: "invalid_name".into(), message: error.to_string(), details });
            }
        }
    }
    let not_awarded = rows.len();

    let mut created = Vec::new();
    let mut already_awarded = 0;
    for chunk in pending.chunks(INSERT_BATCH) {
        let awards: Vec<_> = chunk.iter().map(|(_, award)| award.clone()).collect();
        let outcomes = app.store.insert_awards(&awards).await?;
        for ((line, _), outcome) in chunk.iter().zip(outcomes) {
            match outcome {
                Inserted::Created(award) => created.push(CreatedRow { line: *line, award_id: award.id }),
                Inserted::Existing(award) => {
                    already_awarded += 1;
                    let mut details = serde_json::Map::new();
                    details.insert("award_id".into(), Value::String(award.id.to_string()));
                    rows.push(RowReport {
                        line: *line,
                        reason: "already_awarded".into(),
                        message: format!("already awarded (award {})", award.id),
                        details,
                    });
                }
            }
        }
    }
    rows.sort_by_key(|row| row.line);

    if !created.is_empty() {
        app.notify_queued.notify_one();
    }
    tracing::info!(
        badge_id = %badge_id,
        rows = roster.data_rows,
        created = created.len(),
        already_awarded,
        not_awarded,
        "roster imported"
    );
    Ok(ImportReport {
        badge_id: badge_id.clone(),
        session,
        encoding: roster.encoding,
        delimiter: roster.delimiter.to_string(),
        header_line: roster.header_line,
        columns: serde_json::to_value(&roster.columns).unwrap_or(Value::Null),
        totals: ImportTotals { rows: roster.data_rows, created: created.len(), already_awarded, not_awarded },
        created,
        rows,
    })
}

/// Turns a skipped row into its report entry: the reason fields, plus the
/// email and name as the file gave them.
fn row_report(skipped: &crate::import::SkippedRow) -> RowReport {
    let mut details = match serde_json::to_value(skipped) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let mut take = |key: &str| details.remove(key).and_then(|value| value.as_str().map(str::to_owned));
    let reason = take("reason").unwrap_or_else(|| skipped.reason.code().to_owned());
    let message = take("message").unwrap_or_else(|| skipped.reason.message());
    details.remove("line");
    RowReport { line: skipped.line, reason, message, details }
}
