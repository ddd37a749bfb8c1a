//! Attendance and registration CSV import.
//!
//! Programme staff upload exports from webinar tools, registration systems
//! and Excel. [`parse_roster`] turns the bytes into one [`RosterRow`] per
//! person to award and one [`SkippedRow`] per row that is not awarded,
//! with the reason. It does no I/O.
//!
//! Limits:
//! - The header must start within the first [`HEADER_SEARCH_LINES`] lines.
//! - At most [`ImportOptions::max_rows`] data rows, [`DEFAULT_MAX_ROWS`]
//!   by default. A larger file is rejected whole.
//! - Values echoed in skip reasons are cut to [`MAX_ECHOED_CHARS`]
//!   characters, and error messages list at most 40 header names.
//!
//! The caller limits the upload size. Memory use is about the size of the
//! decoded text (copied only for Windows-1252 and UTF-16 input) plus the
//! accepted rows.

mod columns;
mod decode;
mod duration;
mod reader;
mod rows;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::Serialize;

use crate::domain::EmailAddress;

pub use columns::HEADER_SEARCH_LINES;
pub use rows::{ATTENDED_VALUES, DEFAULT_ROLES};

use columns::{ColumnMap, HeaderRow};
use reader::RecordReader;
use rows::Rules;

/// Default maximum number of data rows.
pub const DEFAULT_MAX_ROWS: usize = 100_000;

/// Maximum number of characters of a cell value repeated in a skip reason.
/// Longer values are cut and end with "…".
pub const MAX_ECHOED_CHARS: usize = 200;

/// Import settings, usually taken from query parameters.
///
/// Column options name a header. They are compared ignoring case, spaces
/// and punctuation, and override detection. An empty or blank string is
/// treated as unset, because HTML forms send empty fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    pub email_column: Option<String>,
    /// Column with the full name. Used before first and last names.
    pub name_column: Option<String>,
    pub first_name_column: Option<String>,
    pub last_name_column: Option<String>,
    pub attended_column: Option<String>,
    pub duration_column: Option<String>,
    pub role_column: Option<String>,
    /// Roles that are awarded, compared like header names. `None` means
    /// [`DEFAULT_ROLES`], and so does a list of only blank names.
    pub roles: Option<Vec<String>>,
    /// Minimum attendance in minutes. Requires a duration column.
    pub min_minutes: Option<u32>,
    /// Maximum number of data rows. Blank rows, the header, and repeated
    /// headers with their section titles do not count.
    pub max_rows: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            email_column: None,
            name_column: None,
            first_name_column: None,
            last_name_column: None,
            attended_column: None,
            duration_column: None,
            role_column: None,
            roles: None,
            min_minutes: None,
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

/// Result of a successful import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParsedRoster {
    /// Rows to award, in file order.
    pub rows: Vec<RosterRow>,
    /// Rows not awarded, in file order.
    pub skipped: Vec<SkippedRow>,
    /// Number of data rows after the header: `rows.len() + skipped.len()`.
    pub data_rows: usize,
    /// Encoding used to read the file: "UTF-8", "UTF-16LE", "UTF-16BE" or
    /// "windows-1252".
    pub encoding: &'static str,
    pub delimiter: char,
    /// Line of the header row, 1 for the first line of the file.
    pub header_line: u64,
    /// Header names used for each column role, from the header row.
    pub columns: ColumnsUsed,
    /// Lines where a later header row replaced the column mapping, as at
    /// the start of each section of a Zoom attendee report.
    pub repeated_header_lines: Vec<u64>,
}

/// Header names, as written in the file, that were used for each role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ColumnsUsed {
    pub email: String,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub attended: Option<String>,
    pub duration: Option<String>,
    pub role: Option<String>,
}

/// A person to award.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RosterRow {
    /// Line where the row starts, 1 for the first line of the file.
    pub line: u64,
    pub email: EmailAddress,
    /// Name as written, trimmed: the name column, otherwise first and last
    /// name joined by a space. Empty when the file has none. Not escaped.
    pub name: String,
}

/// A data row that is not awarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedRow {
    /// Line where the row starts, 1 for the first line of the file.
    pub line: u64,
    pub reason: SkipReason,
    /// Email cell as written, trimmed and cut to [`MAX_ECHOED_CHARS`]. For
    /// a duplicate, the address as compared: trimmed and case-folded.
    pub email: String,
    /// Name as in [`RosterRow::name`].
    pub name: String,
}

/// Serializes as `{"line": 12, "reason": "duplicate", "duplicate_of": 3,
/// "email": "...", "name": "...", "message": "duplicate of line 3"}`.
impl Serialize for SkippedRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct SkippedRowJson<'a> {
            line: u64,
            #[serde(flatten)]
            reason: &'a SkipReason,
            email: &'a str,
            name: &'a str,
            message: String,
        }
        SkippedRowJson {
            line: self.line,
            reason: &self.reason,
            email: &self.email,
            name: &self.name,
            message: self.reason.message(),
        }
        .serialize(serializer)
    }
}

/// Reason a data row is not awarded. The reasons are checked in the order
/// of the variants.
///
/// Serializes with a stable snake_case code in `reason`, such as
/// `{"reason": "duplicate", "duplicate_of": 12}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    MissingEmail,
    InvalidEmail {
        value: String,
        /// Reason from [`crate::domain::InvalidEmail`].
        detail: String,
    },
    /// The role column or section title names a role that is not awarded.
    RoleNotAwarded {
        role: String,
    },
    /// The attendance column does not contain a yes value from
    /// [`ATTENDED_VALUES`].
    NotAttended {
        value: String,
    },
    BelowMinimumMinutes {
        minutes: u32,
        minimum: u32,
    },
    InvalidDuration {
        value: String,
    },
    /// Same email, compared case-folded, as the awarded row on `line`.
    #[serde(rename = "duplicate")]
    DuplicateOf {
        #[serde(rename = "duplicate_of")]
        line: u64,
    },
}

impl SkipReason {
    /// Returns the code serialized in `reason`.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::MissingEmail => "missing_email",
            SkipReason::InvalidEmail { .. } => "invalid_email",
            SkipReason::RoleNotAwarded { .. } => "role_not_awarded",
            SkipReason::NotAttended { .. } => "not_attended",
            SkipReason::BelowMinimumMinutes { .. } => "below_minimum_minutes",
            SkipReason::InvalidDuration { .. } => "invalid_duration",
            SkipReason::DuplicateOf { .. } => "duplicate",
        }
    }

    /// Returns the reason in plain English, such as "duplicate of line 12".
    pub fn message(&self) -> String {
        match self {
            SkipReason::MissingEmail => "email is missing".to_owned(),
            SkipReason::InvalidEmail { value, detail } => {
                // The domain messages start with "the email address", which
                // reads better here as "it".
                let detail = match detail.strip_prefix("the email address ") {
                    Some(rest) => format!("it {rest}"),
                    None => detail.clone(),
                };
                format!("email '{value}' is invalid: {detail}")
            }
            SkipReason::RoleNotAwarded { role } if role.is_empty() => {
                "role is empty, and only listed roles are awarded".to_owned()
            }
            SkipReason::RoleNotAwarded { role } => {
                format!("role '{role}' is not an awarded role; list the roles to award with the roles parameter")
            }
            SkipReason::NotAttended { value } if value.is_empty() => {
                "attendance is empty, so the person is counted as absent".to_owned()
            }
            SkipReason::NotAttended { value } => {
                format!("attendance is '{value}', which does not mean attended")
            }
            SkipReason::BelowMinimumMinutes { minutes, minimum } => {
                format!("attended {minutes} minutes, less than the minimum of {minimum}")
            }
            SkipReason::InvalidDuration { value } if value.is_empty() => {
                "duration is empty".to_owned()
            }
            SkipReason::InvalidDuration { value } => format!(
                "duration '{value}' is invalid: use minutes such as 75 or 75.5, or hours such as 1:15 or 1:15:00"
            ),
            SkipReason::DuplicateOf { line } => format!("duplicate of line {line}"),
        }
    }
}

/// Kind of binary file uploaded in place of CSV text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryKind {
    /// ZIP archive, the container of .xlsx workbooks.
    Xlsx,
    /// OLE2 compound file, the container of Excel 97-2003 .xls workbooks.
    Xls,
    Pdf,
    Image,
    /// Other data containing NUL bytes, including UTF-16 without a byte
    /// order mark.
    Other,
}

impl fmt::Display for BinaryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BinaryKind::Xlsx => {
                "the file looks like an Excel workbook (.xlsx), not CSV text, so open it in Excel and save it as CSV UTF-8"
            }
            BinaryKind::Xls => {
                "the file looks like an Excel 97-2003 workbook (.xls), not CSV text, so open it in Excel and save it as CSV UTF-8"
            }
            BinaryKind::Pdf => "the file is a PDF document, not CSV text, so export the attendance list as CSV",
            BinaryKind::Image => "the file is a PNG image, not CSV text, so export the attendance list as CSV",
            BinaryKind::Other => {
                "the file contains NUL bytes and is not CSV text, so export the attendance list as CSV (UTF-16 text needs a byte order mark)"
            }
        })
    }
}

/// A failure that rejects the whole file. The caller responds with a 4xx
/// status, [`ImportError::code`], [`ImportError::field`] and the message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty or contains only blank lines")]
    Empty,
    #[error("{kind}")]
    NotText { kind: BinaryKind },
    /// `headers` lists the fields of the record on `line` that has the most
    /// fields among those searched, which is most likely the header.
    #[error(
        "no email column was found in the first {HEADER_SEARCH_LINES} lines ({}), so name the email column with the email_column parameter",
        describe_headers(Some(*line), headers)
    )]
    NoEmailColumn { line: u64, headers: Vec<String> },
    /// A column option names a column that is not in the header.
    #[error(
        "{parameter} names the column '{column}', which is not in the header ({})",
        describe_headers(None, headers)
    )]
    UnknownColumn {
        parameter: &'static str,
        column: String,
        headers: Vec<String>,
    },
    #[error(
        "min_minutes is set, but no duration column was found ({}), so name it with the duration_column parameter or remove min_minutes",
        describe_headers(None, headers)
    )]
    MissingDurationColumn { headers: Vec<String> },
    #[error(
        "the file has more than {max_rows} data rows, so split it into files of at most {max_rows} rows"
    )]
    TooManyRows { max_rows: usize },
    #[error("invalid CSV on line {line}: {message}")]
    InvalidCsv { line: u64, message: String },
}

impl ImportError {
    /// Returns the request field to blame: a query parameter name, or
    /// "body" for the file itself.
    pub fn field(&self) -> Option<&str> {
        match self {
            ImportError::Empty
            | ImportError::NotText { .. }
            | ImportError::TooManyRows { .. }
            | ImportError::InvalidCsv { .. } => Some("body"),
            ImportError::NoEmailColumn { .. } => Some("email_column"),
            ImportError::MissingDurationColumn { .. } => Some("duration_column"),
            ImportError::UnknownColumn { parameter, .. } => Some(parameter),
        }
    }

    /// Returns a stable snake_case code for the failure.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Empty => "empty_file",
            ImportError::NotText { .. } => "not_text",
            ImportError::NoEmailColumn { .. } => "no_email_column",
            ImportError::UnknownColumn { .. } => "unknown_column",
            ImportError::MissingDurationColumn { .. } => "missing_duration_column",
            ImportError::TooManyRows { .. } => "too_many_rows",
            ImportError::InvalidCsv { .. } => "invalid_csv",
        }
    }
}

fn describe_headers(line: Option<u64>, headers: &[String]) -> String {
    let names: Vec<String> = headers.iter().map(|name| format!("'{name}'")).collect();
    match (line, names.is_empty()) {
        (_, true) => "the header has no column names".to_owned(),
        (Some(line), false) => format!("line {line} has the columns {}", names.join(", ")),
        (None, false) => format!("the header has the columns {}", names.join(", ")),
    }
}

/// Parses an attendance or registration export.
///
/// Steps: decode the bytes (see [`ParsedRoster::encoding`]), pick the
/// delimiter and header row, map the columns, then decide each data row in
/// the order of [`SkipReason`]. One row's problem never stops the others.
/// Whole-file problems, and more than `options.max_rows` data rows, return
/// an [`ImportError`] and no rows.
///
/// The delimiter is the one named by an Excel `sep=` first line, otherwise
/// the one of comma, semicolon and tab that finds a header row with the
/// most fields. Records may have more or fewer fields than the header.
///
/// Zoom attendee reports repeat the header for each section ("Host
/// Details", "Panelist Details", "Attendee Details"). A later record with
/// an email header replaces the column mapping. A one-field title such as
/// "Host Details" just before a header sets the role "Host" for that
/// section's rows when the header has no role column.
///
/// NOTE: durations are checked per row and not summed per person. Exports
/// that list each rejoin on its own row (Zoom without "unique users") can
/// therefore skip people whose total time reaches `min_minutes`.
pub fn parse_roster(bytes: &[u8], options: &ImportOptions) -> Result<ParsedRoster, ImportError> {
    let rules = Rules::new(options);
    let decoded = decode::decode(bytes)?;
    let text: &str = &decoded.text;
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }

    let (delimiter, header) = choose_header(text, options)?;
    let mut map = columns::map_columns(&header.fields, header.line, options)?;
    let mut roster = ParsedRoster {
        rows: Vec::new(),
        skipped: Vec::new(),
        data_rows: 0,
        encoding: decoded.encoding,
        delimiter: char::from(delimiter),
        header_line: header.line,
        columns: columns::columns_used(&header.fields, &map),
        repeated_header_lines: Vec::new(),
    };

    let mut reader = RecordReader::new(text, delimiter);
    for _ in 0..=header.records_before {
        reader.next_record()?;
    }

    let mut section_role = header.section_role;
    // A record with one non-empty field outside the email column, held back
    // because it is a section title if a repeated header follows it.
    let mut pending_title_row: Option<(SkippedRow, String)> = None;

    while let Some(line) = reader.next_record()? {
        if reader.record_is_blank() {
            continue;
        }
        let record = reader.record();

        if columns::is_repeated_header(record, &map, options) {
            let fields: Vec<String> = record.iter().map(|field| field.trim().to_owned()).collect();
            map = columns::map_columns(&fields, line, options)?;
            section_role = pending_title_row
                .take()
                .and_then(|(_, title)| columns::section_role(&title));
            roster.repeated_header_lines.push(line);
            continue;
        }
        if let Some((row, _)) = pending_title_row.take() {
            add_skipped(&mut roster, row, options)?;
        }

        let outcome = rows::decide(record, line, &map, &rules, section_role.as_deref());
        match outcome {
            Err(skipped) if possible_section_title(record, &map, &skipped) => {
                let title = columns::single_field(record).unwrap_or_default().to_owned();
                pending_title_row = Some((skipped, title));
            }
            Err(skipped) => add_skipped(&mut roster, skipped, options)?,
            Ok(row) => {
                count_data_row(&mut roster, options)?;
                roster.rows.push(row);
            }
        }
    }
    if let Some((row, _)) = pending_title_row {
        add_skipped(&mut roster, row, options)?;
    }
    rows::move_duplicates(&mut roster.rows, &mut roster.skipped);
    Ok(roster)
}

fn possible_section_title(
    record: &csv::StringRecord,
    map: &ColumnMap,
    skipped: &SkippedRow,
) -> bool {
    skipped.reason == SkipReason::MissingEmail
        && columns::single_field(record).is_some()
        && record
            .get(map.email)
            .is_none_or(|email| email.trim().is_empty())
}

fn add_skipped(
    roster: &mut ParsedRoster,
    row: SkippedRow,
    options: &ImportOptions,
) -> Result<(), ImportError> {
    count_data_row(roster, options)?;
    roster.skipped.push(row);
    Ok(())
}

fn count_data_row(roster: &mut ParsedRoster, options: &ImportOptions) -> Result<(), ImportError> {
    roster.data_rows += 1;
    if roster.data_rows > options.max_rows {
        return Err(ImportError::TooManyRows {
            max_rows: options.max_rows,
        });
    }
    Ok(())
}

/// Picks the delimiter and header row. See [`parse_roster`].
fn choose_header(text: &str, options: &ImportOptions) -> Result<(u8, HeaderRow), ImportError> {
    let separator = decode::excel_separator(text);
    let candidates: &[u8] = match &separator {
        Some(separator) => std::slice::from_ref(separator),
        None => b",;\t",
    };

    let mut best: Option<(u8, HeaderRow)> = None;
    let mut widest: Option<(u64, Vec<String>)> = None;
    let mut first_error = None;
    for &delimiter in candidates {
        let search = match columns::find_header(text, delimiter, options) {
            Ok(search) => search,
            Err(error) => {
                first_error.get_or_insert(error);
                continue;
            }
        };
        if let Some((line, fields)) = search.widest
            && widest
                .as_ref()
                .is_none_or(|(_, known)| fields.len() > known.len())
        {
            widest = Some((line, fields));
        }
        if let Some(header) = search.header {
            let rank = (header.fields.len(), header.has_name);
            if best
                .as_ref()
                .is_none_or(|(_, known)| rank > (known.fields.len(), known.has_name))
            {
                best = Some((delimiter, header));
            }
        }
    }

    if let Some(best) = best {
        return Ok(best);
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    let Some((line, fields)) = widest else {
        return Err(ImportError::Empty);
    };
    let headers = columns::list_headers(&fields);
    match columns::option_value(&options.email_column) {
        Some(column) => Err(ImportError::UnknownColumn {
            parameter: "email_column",
            column: column.to_owned(),
            headers,
        }),
        None => Err(ImportError::NoEmailColumn { line, headers }),
    }
}
