//! The award decision for one data row.

use std::collections::HashMap;

use csv::StringRecord;

use super::columns::{ColumnMap, normalize, normalized_chars};
use super::duration::parse_seconds;
use super::{ImportOptions, MAX_ECHOED_CHARS, RosterRow, SkipReason, SkippedRow};
use crate::domain::EmailAddress;

/// Attendance values that mean "attended", compared ignoring ASCII case
/// after trimming. Any other value, including an empty cell, means absent.
pub const ATTENDED_VALUES: &[&str] = &[
    "yes", "y", "true", "t", "1", "x", "attended", "present", "checked", "✓", "✔", "☑", "✅",
];

/// Roles awarded when [`ImportOptions::roles`] is not set. Roles are
/// compared ignoring case, spaces and punctuation, so "Attendee" and
/// "ATTENDEES" match.
pub const DEFAULT_ROLES: &[&str] = &["participant", "participants", "attendee", "attendees"];

/// Row rules derived from the options once per import.
pub(crate) struct Rules {
    /// Awarded roles, normalized like header names.
    roles: Vec<String>,
    min_minutes: Option<u32>,
}

impl Rules {
    pub fn new(options: &ImportOptions) -> Self {
        let listed: Vec<String> = options
            .roles
            .iter()
            .flatten()
            .map(|role| normalize(role))
            .filter(|role| !role.is_empty())
            .collect();
        let roles = if listed.is_empty() {
            DEFAULT_ROLES
                .iter()
                .map(|role| (*role).to_owned())
                .collect()
        } else {
            listed
        };
        Self {
            roles,
            min_minutes: options.min_minutes,
        }
    }

    fn awards_role(&self, role: &str) -> bool {
        self.roles
            .iter()
            .any(|awarded| normalized_chars(role).eq(awarded.chars()))
    }
}

/// Checks one row against every rule but the duplicate check, in the order
/// of [`SkipReason`]'s variants. `section_role` is the role from the current
/// section title, used when the header has no role column.
pub(crate) fn decide(
    record: &StringRecord,
    line: u64,
    map: &ColumnMap,
    rules: &Rules,
    section_role: Option<&str>,
) -> Result<RosterRow, SkippedRow> {
    let field = |index: Option<usize>| {
        index
            .and_then(|index| record.get(index))
            .map_or("", str::trim)
    };
    let raw_email = field(Some(map.email));
    let skip = |reason: SkipReason| SkippedRow {
        line,
        reason,
        email: echo(raw_email),
        name: build_name(record, map),
    };

    if raw_email.is_empty() {
        return Err(skip(SkipReason::MissingEmail));
    }
    let email = match EmailAddress::parse(raw_email) {
        Ok(email) => email,
        Err(error) => {
            return Err(skip(SkipReason::InvalidEmail {
                value: echo(raw_email),
                detail: error.to_string(),
            }));
        }
    };

    let role = match map.role {
        Some(index) => Some(field(Some(index))),
        None => section_role,
    };
    if let Some(role) = role
        && !rules.awards_role(role)
    {
        return Err(skip(SkipReason::RoleNotAwarded { role: echo(role) }));
    }

    if map.attended.is_some() {
        let attended = field(map.attended);
        if !means_attended(attended) {
            return Err(skip(SkipReason::NotAttended {
                value: echo(attended),
            }));
        }
    }

    if let (Some(minimum), Some((index, unit))) = (rules.min_minutes, map.duration) {
        let value = field(Some(index));
        let Some(seconds) = parse_seconds(value, unit) else {
            return Err(skip(SkipReason::InvalidDuration { value: echo(value) }));
        };
        if seconds < u64::from(minimum) * 60 {
            let minutes = u32::try_from(seconds / 60).unwrap_or(u32::MAX);
            return Err(skip(SkipReason::BelowMinimumMinutes { minutes, minimum }));
        }
    }

    Ok(RosterRow {
        line,
        email,
        name: build_name(record, map),
    })
}

/// Moves rows whose email equals that of an earlier row in `rows` to
/// `skipped` as duplicates, keeping both lists in line order.
///
/// This runs once after all rows are read, so that the map can borrow the
/// addresses and be sized up front instead of copying every address.
pub(crate) fn move_duplicates(rows: &mut Vec<RosterRow>, skipped: &mut Vec<SkippedRow>) {
    let mut first_lines: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
    let mut duplicates: Vec<(usize, u64)> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let first_line = *first_lines.entry(row.email.as_str()).or_insert(row.line);
        if first_line != row.line {
            duplicates.push((index, first_line));
        }
    }
    drop(first_lines);
    if duplicates.is_empty() {
        return;
    }

    let mut duplicate_rows = Vec::with_capacity(duplicates.len());
    let mut is_duplicate = vec![false; rows.len()];
    for &(index, first_line) in &duplicates {
        let row = &rows[index];
        is_duplicate[index] = true;
        duplicate_rows.push(SkippedRow {
            line: row.line,
            reason: SkipReason::DuplicateOf { line: first_line },
            email: row.email.as_str().to_owned(),
            name: row.name.clone(),
        });
    }
    let mut flags = is_duplicate.into_iter();
    rows.retain(|_| !flags.next().unwrap_or(false));

    let earlier = std::mem::take(skipped);
    *skipped = merge_by_line(earlier, duplicate_rows);
}

fn merge_by_line(left: Vec<SkippedRow>, right: Vec<SkippedRow>) -> Vec<SkippedRow> {
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => l.line <= r.line,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_left { left.next() } else { right.next() };
        merged.extend(next);
    }
    merged
}

fn means_attended(value: &str) -> bool {
    ATTENDED_VALUES
        .iter()
        .any(|yes| value.eq_ignore_ascii_case(yes))
}

/// Returns the name column, or first and last name joined by a space when
/// the name column is missing or empty. Each part is trimmed and otherwise
/// kept as written.
fn build_name(record: &StringRecord, map: &ColumnMap) -> String {
    let field = |index: Option<usize>| {
        index
            .and_then(|index| record.get(index))
            .map_or("", str::trim)
    };
    let full = field(map.name);
    if !full.is_empty() {
        return full.to_owned();
    }
    let first = field(map.first_name);
    let last = field(map.last_name);
    match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{first} {last}"),
        (false, true) => first.to_owned(),
        (true, _) => last.to_owned(),
    }
}

/// Returns the value cut to [`MAX_ECHOED_CHARS`] characters.
fn echo(value: &str) -> String {
    match value.char_indices().nth(MAX_ECHOED_CHARS) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attended_values_are_case_insensitive() {
        for value in [
            "Yes", "YES", "y", "True", "1", "X", "Attended", "present", "✓", "✔",
        ] {
            assert!(means_attended(value), "{value}");
        }
    }

    #[test]
    fn other_attendance_values_mean_absent() {
        for value in [
            "No",
            "n",
            "false",
            "0",
            "",
            "-",
            "absent",
            "registered",
            "yes!",
        ] {
            assert!(!means_attended(value), "{value}");
        }
    }

    #[test]
    fn default_roles_match_close_variants() {
        let rules = Rules::new(&ImportOptions::default());
        for role in ["Participant", "ATTENDEE", "Attendees", " participant "] {
            assert!(rules.awards_role(role), "{role}");
        }
        for role in ["Moderator", "Presenter", "Host", "Panelist", ""] {
            assert!(!rules.awards_role(role), "{role}");
        }
    }

    #[test]
    fn custom_roles_replace_defaults() {
        let options = ImportOptions {
            roles: Some(vec!["Co-Host".to_owned()]),
            ..ImportOptions::default()
        };
        let rules = Rules::new(&options);
        assert!(rules.awards_role("cohost"));
        assert!(!rules.awards_role("Participant"));
    }

    #[test]
    fn empty_role_list_means_defaults() {
        let options = ImportOptions {
            roles: Some(vec![" ".to_owned()]),
            ..ImportOptions::default()
        };
        let rules = Rules::new(&options);
        assert!(rules.awards_role("Participant"));
        assert!(!rules.awards_role("Moderator"));
    }

    #[test]
    fn echo_cuts_long_values() {
        let long = "é".repeat(MAX_ECHOED_CHARS + 5);
        let echoed = echo(&long);
        assert_eq!(echoed.chars().count(), MAX_ECHOED_CHARS + 1);
        assert!(echoed.ends_with('…'));
        assert_eq!(echo("short"), "short");
    }
}
