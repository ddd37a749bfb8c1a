//! Header matching: which column contains the email, name, attendance,
//! duration and role, and which record is the header.

use csv::StringRecord;

use super::duration::DurationUnit;
use super::reader::RecordReader;
use super::{ColumnsUsed, ImportError, ImportOptions};

/// Number of lines searched for the header row, because webinar tools put
/// summary sections before the participant table.
pub const HEADER_SEARCH_LINES: u64 = 100;

/// Normalized header names of the email column.
const EMAIL_HEADERS: &[&str] = &[
    "email",
    "emailaddress",
    "mail",
    "mailaddress",
    "emailofattendee",
    "attendeeemail",
    "attendeeemailaddress",
    "useremail",
    "useremailaddress",
    "registrantemail",
    "registrantemailaddress",
    "participantemail",
    "participantemailaddress",
    "memberemail",
    "contactemail",
];

const NAME_HEADERS: &[&str] = &[
    "name",
    "fullname",
    "nameofattendee",
    "attendeename",
    "attendeefullname",
    "participant",
    "participantname",
    "displayname",
    "username",
    "usernameoriginalname",
    "nameoriginalname",
    "registrantname",
    "membername",
];

const FIRST_NAME_HEADERS: &[&str] = &[
    "firstname",
    "firstnameofattendee",
    "givenname",
    "forename",
    "attendeefirstname",
];

const LAST_NAME_HEADERS: &[&str] = &[
    "lastname",
    "lastnameofattendee",
    "surname",
    "familyname",
    "attendeelastname",
];

const ATTENDED_HEADERS: &[&str] = &["attended", "attendance", "present", "attendedsession"];

/// Normalized duration header names, before an optional unit suffix such
/// as "(minutes)" or "(seconds)".
const DURATION_HEADERS: &[&str] = &[
    "duration",
    "timeinsession",
    "totaltime",
    "totaltimeinsession",
    "attendeetotaltimeinsession",
    "attendanceduration",
    "attendeeduration",
    "inmeetingduration",
    "totalduration",
    "timeattended",
    "attendancetime",
];

/// Normalized unit suffixes of duration headers, longest first so that
/// "minutes" is not read as "min" followed by "utes".
const DURATION_UNIT_SUFFIXES: &[(&str, DurationUnit)] = &[
    ("minutes", DurationUnit::Minutes),
    ("seconds", DurationUnit::Seconds),
    ("hours", DurationUnit::Hours),
    ("mins", DurationUnit::Minutes),
    ("secs", DurationUnit::Seconds),
    ("hrs", DurationUnit::Hours),
    ("min", DurationUnit::Minutes),
    ("sec", DurationUnit::Seconds),
];

const ROLE_HEADERS: &[&str] = &[
    "role",
    "attendeerole",
    "userrole",
    "participantrole",
    "registrantrole",
];

/// Maximum number of header names listed in an error message.
const MAX_LISTED_HEADERS: usize = 40;

/// Yields the characters of `value` that take part in header and role
/// matching: letters and digits, lowercased. So "E-mail Address",
/// "email_address" and " EMAIL ADDRESS " all become "emailaddress".
pub(crate) fn normalized_chars(value: &str) -> impl Iterator<Item = char> + '_ {
    value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
}

pub(crate) fn normalize(value: &str) -> String {
    normalized_chars(value).collect()
}

/// Column indexes of one header row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ColumnMap {
    pub email: usize,
    pub name: Option<usize>,
    pub first_name: Option<usize>,
    pub last_name: Option<usize>,
    pub attended: Option<usize>,
    pub duration: Option<(usize, DurationUnit)>,
    pub role: Option<usize>,
}

/// The header row chosen for one delimiter.
pub(crate) struct HeaderRow {
    pub line: u64,
    /// Number of records before the header, blank ones included.
    pub records_before: usize,
    pub fields: Vec<String>,
    /// Role taken from a section title such as "Host Details" on the
    /// record just before the header.
    pub section_role: Option<String>,
    pub has_name: bool,
}

/// Result of searching the first lines for a header with one delimiter.
pub(crate) struct HeaderSearch {
    pub header: Option<HeaderRow>,
    /// Line and fields of the record with the most fields, listed in the
    /// error message when no header is found.
    pub widest: Option<(u64, Vec<String>)>,
}

/// Finds the header row among the records that start within the first
/// [`HEADER_SEARCH_LINES`] lines.
///
/// The header is the first record with an email column (the one named by
/// `email_column`, if set) and a name, first name or last name column. If
/// no record has both, the first record with an email column is used. This
/// skips summary tables such as the meeting line of a Zoom participant
/// report, which has a "User Email" column for the host but no name.
pub(crate) fn find_header(
    text: &str,
    delimiter: u8,
    options: &ImportOptions,
) -> Result<HeaderSearch, ImportError> {
    let mut reader = RecordReader::new(text, delimiter);
    let mut search = HeaderSearch {
        header: None,
        widest: None,
    };
    let mut records_before = 0;
    let mut previous_title: Option<String> = None;

    loop {
        let line = match reader.next_record() {
            Ok(Some(line)) if line <= HEADER_SEARCH_LINES => line,
            Ok(_) => break,
            // An unclosed quote after the header is reported by the main
            // pass, with the line where the rows are read.
            Err(_) if search.header.is_some() => break,
            Err(error) => return Err(error),
        };
        let record = reader.record();
        if reader.record_is_blank() {
            records_before += 1;
            continue;
        }
        if search
            .widest
            .as_ref()
            .is_none_or(|(_, fields)| record.len() > fields.len())
        {
            search.widest = Some((line, record_fields(record)));
        }

        if has_email_column(record, options) {
            let has_name = has_name_column(record, options);
            let title_role = previous_title.as_deref().and_then(section_role);
            let header = HeaderRow {
                line,
                records_before,
                fields: record_fields(record),
                section_role: title_role,
                has_name,
            };
            let first_header = search.header.is_none();
            if first_header || has_name {
                search.header = Some(header);
            }
            if has_name {
                break;
            }
        }

        previous_title = single_field(record).map(str::to_owned);
        records_before += 1;
    }
    Ok(search)
}

fn record_fields(record: &StringRecord) -> Vec<String> {
    record.iter().map(|field| field.trim().to_owned()).collect()
}

/// Returns the only non-empty field of the record, if it has exactly one.
pub(crate) fn single_field(record: &StringRecord) -> Option<&str> {
    let mut non_empty = record
        .iter()
        .map(str::trim)
        .filter(|field| !field.is_empty());
    let first = non_empty.next()?;
    non_empty.next().is_none().then_some(first)
}

/// Returns the role named by a Zoom-style section title such as
/// "Host Details", "Panelist Details" or "Attendee Details".
pub(crate) fn section_role(title: &str) -> Option<String> {
    let title = title.trim().trim_end_matches(':').trim_end();
    let split = title.len().checked_sub("details".len())?;
    let suffix = title.get(split..)?;
    if !suffix.eq_ignore_ascii_case("details") {
        return None;
    }
    let role = title[..split].trim();
    (!role.is_empty()).then(|| role.to_owned())
}

/// Returns whether the record contains the email header: the mapped
/// `email_column` if set, otherwise any known email header.
pub(crate) fn has_email_column(record: &StringRecord, options: &ImportOptions) -> bool {
    match option_value(&options.email_column) {
        Some(mapped) => find_mapped(record.iter(), mapped).is_some(),
        None => record.iter().any(|field| matches_any(field, EMAIL_HEADERS)),
    }
}

fn has_name_column(record: &StringRecord, options: &ImportOptions) -> bool {
    let mapped = [
        &options.name_column,
        &options.first_name_column,
        &options.last_name_column,
    ];
    if mapped.iter().any(|option| option_value(option).is_some()) {
        return mapped
            .iter()
            .filter_map(|option| option_value(option))
            .any(|name| find_mapped(record.iter(), name).is_some());
    }
    record.iter().any(|field| {
        matches_any(field, NAME_HEADERS)
            || matches_any(field, FIRST_NAME_HEADERS)
            || matches_any(field, LAST_NAME_HEADERS)
    })
}

/// Returns the option's value, treating an empty or blank string as unset
/// because HTML forms send empty fields.
pub(crate) fn option_value(option: &Option<String>) -> Option<&str> {
    option
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn matches_any(field: &str, normalized_names: &[&str]) -> bool {
    normalized_names
        .iter()
        .any(|name| normalized_chars(field).eq(name.chars()))
}

fn find_known<'a>(
    fields: impl Iterator<Item = &'a str>,
    normalized_names: &[&str],
) -> Option<usize> {
    fields
        .into_iter()
        .position(|field| matches_any(field, normalized_names))
}

fn find_mapped<'a>(fields: impl Iterator<Item = &'a str>, mapped: &str) -> Option<usize> {
    let expected = normalize(mapped);
    fields
        .into_iter()
        .position(|field| normalized_chars(field).eq(expected.chars()))
}

/// Returns the unit of plain numbers in a duration column, or `None` if
/// the header is not a known duration header.
fn duration_header_unit(field: &str) -> Option<DurationUnit> {
    let normalized = normalize(field);
    if DURATION_HEADERS.contains(&normalized.as_str()) {
        return Some(DurationUnit::Minutes);
    }
    DURATION_UNIT_SUFFIXES.iter().find_map(|(suffix, unit)| {
        let base = normalized.strip_suffix(suffix)?;
        DURATION_HEADERS.contains(&base).then_some(*unit)
    })
}

/// Returns the unit of a mapped duration column: the unit its header
/// names, such as "Duration (seconds)", or minutes.
fn mapped_duration_unit(field: &str) -> DurationUnit {
    let normalized = normalize(field);
    DURATION_UNIT_SUFFIXES
        .iter()
        .find(|(suffix, _)| normalized.ends_with(suffix))
        .map_or(DurationUnit::Minutes, |(_, unit)| *unit)
}

/// Maps each column role to an index in `fields`.
///
/// Explicit options win over detection and must name a column of the
/// header. Fails with [`ImportError::UnknownColumn`] for a mapped column
/// that is missing, [`ImportError::NoEmailColumn`] when no email column is
/// found, and [`ImportError::MissingDurationColumn`] when `min_minutes` is
/// set and no duration column is found.
pub(crate) fn map_columns(
    fields: &[String],
    header_line: u64,
    options: &ImportOptions,
) -> Result<ColumnMap, ImportError> {
    let fields_iter = || fields.iter().map(String::as_str);
    let resolve = |parameter: &'static str,
                   option: &Option<String>,
                   known: &[&str]|
     -> Result<Option<usize>, ImportError> {
        match option_value(option) {
            Some(mapped) => match find_mapped(fields_iter(), mapped) {
                Some(index) => Ok(Some(index)),
                None => Err(ImportError::UnknownColumn {
                    parameter,
                    column: mapped.to_owned(),
                    headers: list_headers(fields),
                }),
            },
            None => Ok(find_known(fields_iter(), known)),
        }
    };

    let Some(email) = resolve("email_column", &options.email_column, EMAIL_HEADERS)? else {
        return Err(ImportError::NoEmailColumn {
            line: header_line,
            headers: list_headers(fields),
        });
    };
    let name = resolve("name_column", &options.name_column, NAME_HEADERS)?;
    let first_name = resolve(
        "first_name_column",
        &options.first_name_column,
        FIRST_NAME_HEADERS,
    )?;
    let last_name = resolve(
        "last_name_column",
        &options.last_name_column,
        LAST_NAME_HEADERS,
    )?;
    let attended = resolve(
        "attended_column",
        &options.attended_column,
        ATTENDED_HEADERS,
    )?;
    let role = resolve("role_column", &options.role_column, ROLE_HEADERS)?;

    let duration = match option_value(&options.duration_column) {
        Some(_) => resolve("duration_column", &options.duration_column, &[])?
            .map(|index| (index, mapped_duration_unit(&fields[index]))),
        None => fields
            .iter()
            .enumerate()
            .find_map(|(index, field)| duration_header_unit(field).map(|unit| (index, unit))),
    };
    if options.min_minutes.is_some() && duration.is_none() {
        return Err(ImportError::MissingDurationColumn {
            headers: list_headers(fields),
        });
    }

    // An explicit name column replaces detected first and last names only
    // when those were detected, not when they were mapped too.
    let explicit_split_name = option_value(&options.first_name_column).is_some()
        || option_value(&options.last_name_column).is_some();
    let name = if explicit_split_name && option_value(&options.name_column).is_none() {
        None
    } else {
        name
    };

    Ok(ColumnMap {
        email,
        name,
        first_name,
        last_name,
        attended,
        duration,
        role,
    })
}

/// Returns the header names used for each role, for the import report.
pub(crate) fn columns_used(fields: &[String], map: &ColumnMap) -> ColumnsUsed {
    let header = |index: Option<usize>| index.map(|index| fields[index].clone());
    ColumnsUsed {
        email: fields[map.email].clone(),
        name: header(map.name),
        first_name: header(map.first_name),
        last_name: header(map.last_name),
        attended: header(map.attended),
        duration: header(map.duration.map(|(index, _)| index)),
        role: header(map.role),
    }
}

/// Returns whether a record after the header repeats a header, as Zoom
/// reports do at the start of each section. Only records whose email field
/// has no '@' are checked, so ordinary rows cost no extra work.
pub(crate) fn is_repeated_header(
    record: &StringRecord,
    map: &ColumnMap,
    options: &ImportOptions,
) -> bool {
    let email_field = record.get(map.email).unwrap_or("");
    !email_field.contains('@') && has_email_column(record, options)
}

/// Returns the header names as they appear, up to [`MAX_LISTED_HEADERS`].
pub(crate) fn list_headers(fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .filter(|field| !field.is_empty())
        .take(MAX_LISTED_HEADERS)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn normalize_ignores_case_spacing_and_punctuation() {
        assert_eq!(normalize(" E-mail Address "), "emailaddress");
        assert_eq!(normalize("Attended?"), "attended");
        assert_eq!(
            normalize("\u{feff}User Name (Original Name)"),
            "usernameoriginalname"
        );
    }

    #[test]
    fn email_header_variants_are_detected() {
        for name in [
            "Email",
            "E-mail",
            "E-mail Address",
            "Email Address",
            "EmailOfAttendee",
            "Attendee Email",
            "User Email",
            "Registrant Email",
            "Mail",
            "EMAIL_ADDRESS",
        ] {
            let map = map_columns(&header(&["Name", name]), 1, &ImportOptions::default());
            assert_eq!(map.map(|map| map.email), Ok(1), "{name}");
        }
    }

    #[test]
    fn name_header_variants_are_detected() {
        for name in [
            "Name",
            "Full Name",
            "NameOfAttendee",
            "Attendee Name",
            "Participant",
            "Display Name",
            "User Name (Original Name)",
        ] {
            let map = map_columns(&header(&["Email", name]), 1, &ImportOptions::default()).unwrap();
            assert_eq!(map.name, Some(1), "{name}");
        }
    }

    #[test]
    fn split_name_header_variants_are_detected() {
        for (first, last) in [
            ("First Name", "Last Name"),
            ("FirstNameOfAttendee", "LastNameOfAttendee"),
            ("Given Name", "Surname"),
            ("first_name", "Family Name"),
        ] {
            let map = map_columns(
                &header(&["Email", first, last]),
                1,
                &ImportOptions::default(),
            )
            .unwrap();
            assert_eq!(map.first_name, Some(1), "{first}");
            assert_eq!(map.last_name, Some(2), "{last}");
        }
    }

    #[test]
    fn attended_and_role_variants_are_detected() {
        for attended in ["Attended", "Attendance", "Attended?", "Present"] {
            let map =
                map_columns(&header(&["Email", attended]), 1, &ImportOptions::default()).unwrap();
            assert_eq!(map.attended, Some(1), "{attended}");
        }
        for role in [
            "Role",
            "AttendeeRole",
            "Attendee Role",
            "User Role",
            "Participant Role",
        ] {
            let map = map_columns(&header(&["Email", role]), 1, &ImportOptions::default()).unwrap();
            assert_eq!(map.role, Some(1), "{role}");
        }
    }

    #[test]
    fn duration_variants_are_detected_with_unit() {
        for (name, unit) in [
            ("Duration", DurationUnit::Minutes),
            ("Duration (Minutes)", DurationUnit::Minutes),
            ("Time in Session", DurationUnit::Minutes),
            ("Total Time", DurationUnit::Minutes),
            ("AttendeeTotalTimeInSession", DurationUnit::Minutes),
            ("Time in Session (minutes)", DurationUnit::Minutes),
            ("Attendance Duration", DurationUnit::Minutes),
            ("Duration (seconds)", DurationUnit::Seconds),
            ("Duration (hrs)", DurationUnit::Hours),
        ] {
            let map = map_columns(&header(&["Email", name]), 1, &ImportOptions::default()).unwrap();
            assert_eq!(map.duration, Some((1, unit)), "{name}");
        }
    }

    #[test]
    fn unrelated_headers_are_not_detected() {
        let fields = header(&[
            "Email",
            "SessionName",
            "AttendeeType",
            "Country/Region Name",
            "Join Time",
        ]);
        let map = map_columns(&fields, 1, &ImportOptions::default()).unwrap();
        assert_eq!(map.name, None);
        assert_eq!(map.role, None);
        assert_eq!(map.duration, None);
    }

    #[test]
    fn section_role_reads_details_titles() {
        assert_eq!(section_role("Host Details"), Some("Host".to_owned()));
        assert_eq!(
            section_role("Attendee Details:"),
            Some("Attendee".to_owned())
        );
        assert_eq!(section_role("Details"), None);
        assert_eq!(section_role("Attendee Report"), None);
        assert_eq!(section_role("Éé"), None);
    }
}
