use super::*;

const WEBINAR_REGISTRATIONS: &[u8] = include_bytes!("testdata/webinar-registrations.csv");
const COLLABORATE_ATTENDANCE: &[u8] = include_bytes!("testdata/collaborate-attendance.csv");

fn parse(bytes: &[u8]) -> ParsedRoster {
    parse_with(bytes, &ImportOptions::default())
}

fn parse_with(bytes: &[u8], options: &ImportOptions) -> ParsedRoster {
    match parse_roster(bytes, options) {
        Ok(roster) => roster,
        Err(error) => panic!("import failed: {error}"),
    }
}

fn parse_error(bytes: &[u8], options: &ImportOptions) -> ImportError {
    match parse_roster(bytes, options) {
        Ok(roster) => panic!("import succeeded with {} rows", roster.rows.len()),
        Err(error) => error,
    }
}

/// Lines of the skipped rows with the given reason code.
fn skipped_lines(roster: &ParsedRoster, code: &str) -> Vec<u64> {
    roster
        .skipped
        .iter()
        .filter(|row| row.reason.code() == code)
        .map(|row| row.line)
        .collect()
}

fn skipped_on(roster: &ParsedRoster, line: u64) -> &SkippedRow {
    match roster.skipped.iter().find(|row| row.line == line) {
        Some(row) => row,
        None => panic!("no skipped row on line {line}"),
    }
}

fn name_of(roster: &ParsedRoster, email: &str) -> String {
    match roster.rows.iter().find(|row| row.email.as_str() == email) {
        Some(row) => row.name.clone(),
        None => panic!("{email} is not awarded"),
    }
}

fn emails(roster: &ParsedRoster) -> Vec<&str> {
    roster.rows.iter().map(|row| row.email.as_str()).collect()
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

// Webinar registration export: UTF-8 with BOM, CRLF, "Attended" Yes/No.

#[test]
fn webinar_sample_format_is_detected() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    assert_eq!(roster.encoding, "UTF-8");
    assert_eq!(roster.delimiter, ',');
    assert_eq!(roster.header_line, 1);
    assert_eq!(roster.data_rows, 51);
}

#[test]
fn webinar_sample_columns_are_reported() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    let expected = ColumnsUsed {
        email: "Email".to_owned(),
        first_name: Some("First Name".to_owned()),
        last_name: Some("Last Name".to_owned()),
        attended: Some("Attended".to_owned()),
        ..ColumnsUsed::default()
    };
    assert_eq!(roster.columns, expected);
}

#[test]
fn webinar_sample_awards_42_rows() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    assert_eq!(roster.rows.len(), 42);
    assert_eq!(roster.skipped.len(), 9);
    let skipped: Vec<u64> = roster.skipped.iter().map(|row| row.line).collect();
    assert_eq!(skipped, [2, 16, 26, 30, 31, 38, 46, 48, 49]);
    assert_eq!(roster.rows[0].line, 3);
    assert_eq!(roster.rows[0].email.as_str(), "jschmidt@county.example.gov");
    assert_eq!(roster.rows[0].name, "Jordan Schmidt");
}

#[test]
fn webinar_sample_skips_absent_rows() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    assert_eq!(
        skipped_lines(&roster, "not_attended"),
        [2, 16, 26, 30, 31, 38]
    );
    assert_eq!(
        skipped_on(&roster, 30).reason,
        SkipReason::NotAttended {
            value: "No".to_owned()
        }
    );
    assert_eq!(skipped_on(&roster, 30).name, "Fatima Müller");
}

#[test]
fn webinar_sample_finds_case_folded_duplicate() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    assert_eq!(skipped_lines(&roster, "duplicate"), [46]);
    assert_eq!(
        skipped_on(&roster, 46).reason,
        SkipReason::DuplicateOf { line: 45 }
    );
    assert_eq!(
        skipped_on(&roster, 46).reason.message(),
        "duplicate of line 45"
    );
    assert_eq!(
        name_of(&roster, "aokafor@library.example.org"),
        "Avery Okafor"
    );
}

#[test]
fn webinar_sample_keeps_similar_addresses_apart() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    let awarded = emails(&roster);
    assert!(awarded.contains(&"aokafor@univ.example.edu"));
    assert!(awarded.contains(&"sschmidt@library.example.org"));
    assert!(awarded.contains(&"sschmidt@univ.example.edu"));
    assert!(awarded.contains(&"lin.wei+ce@univ.example.edu"));
}

#[test]
fn webinar_sample_reports_invalid_email() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    assert_eq!(skipped_lines(&roster, "invalid_email"), [48]);
    let expected = SkipReason::InvalidEmail {
        value: "bob.keller(at)example.com".to_owned(),
        detail: "the email address must contain exactly one '@'".to_owned(),
    };
    assert_eq!(skipped_on(&roster, 48).reason, expected);
    assert_eq!(
        skipped_on(&roster, 48).reason.message(),
        "email 'bob.keller(at)example.com' is invalid: it must contain exactly one '@'"
    );
}

#[test]
fn webinar_sample_reports_missing_email() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    assert_eq!(skipped_lines(&roster, "missing_email"), [49]);
    assert_eq!(skipped_on(&roster, 49).name, "Nomail Person");
}

#[test]
fn webinar_sample_keeps_names_verbatim() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    assert_eq!(
        name_of(&roster, "hsmithjr@citylib.example.net"),
        "Harold Smith, Jr."
    );
    assert_eq!(
        name_of(&roster, "eve.tester@example.com"),
        "Eve <script>alert(1)</script>"
    );
    assert_eq!(name_of(&roster, "li.hua@univ.example.edu"), "李 华");
    assert_eq!(
        name_of(&roster, "jalvarez@county.example.gov"),
        "José Álvarez-Ñúñez"
    );
    assert_eq!(
        name_of(&roster, "kobrien@univ.example.edu"),
        "Kwame O'Brien"
    );
    assert_eq!(
        name_of(&roster, "zfischer@library.example.org"),
        "Zoë Fischer"
    );
}

#[test]
fn webinar_sample_report_serializes() {
    let roster = parse(WEBINAR_REGISTRATIONS);
    let json = serde_json::to_value(skipped_on(&roster, 46)).unwrap();
    let expected = serde_json::json!({
        "line": 46,
        "reason": "duplicate",
        "duplicate_of": 45,
        "email": "aokafor@library.example.org",
        "name": "avery okafor",
        "message": "duplicate of line 45",
    });
    assert_eq!(json, expected);
}

// Blackboard Collaborate attendance report: roles and HH:MM:SS durations.

fn collaborate_options() -> ImportOptions {
    ImportOptions {
        min_minutes: Some(45),
        ..ImportOptions::default()
    }
}

#[test]
fn collaborate_sample_columns_are_reported() {
    let roster = parse_with(COLLABORATE_ATTENDANCE, &collaborate_options());
    let expected = ColumnsUsed {
        email: "EmailOfAttendee".to_owned(),
        name: Some("NameOfAttendee".to_owned()),
        first_name: Some("FirstNameOfAttendee".to_owned()),
        last_name: Some("LastNameOfAttendee".to_owned()),
        attended: None,
        duration: Some("AttendeeTotalTimeInSession".to_owned()),
        role: Some("AttendeeRole".to_owned()),
    };
    assert_eq!(roster.columns, expected);
}

#[test]
fn collaborate_sample_awards_18_rows() {
    let roster = parse_with(COLLABORATE_ATTENDANCE, &collaborate_options());
    assert_eq!(roster.data_rows, 28);
    assert_eq!(roster.rows.len(), 18);
    assert_eq!(roster.skipped.len(), 10);
    assert_eq!(
        name_of(&roster, "june.jovanovic@citylib.example.net"),
        "June Jovanovic"
    );
}

#[test]
fn collaborate_sample_excludes_moderator_and_presenter() {
    let roster = parse_with(COLLABORATE_ATTENDANCE, &collaborate_options());
    assert_eq!(skipped_lines(&roster, "role_not_awarded"), [2, 3]);
    assert_eq!(
        skipped_on(&roster, 2).reason,
        SkipReason::RoleNotAwarded {
            role: "Moderator".to_owned()
        }
    );
    assert_eq!(
        skipped_on(&roster, 3).reason,
        SkipReason::RoleNotAwarded {
            role: "Presenter".to_owned()
        }
    );
    assert_eq!(
        skipped_on(&roster, 3).reason.message(),
        "role 'Presenter' is not an awarded role; list the roles to award with the roles parameter"
    );
}

#[test]
fn collaborate_sample_excludes_short_attendance() {
    let roster = parse_with(COLLABORATE_ATTENDANCE, &collaborate_options());
    assert_eq!(
        skipped_lines(&roster, "below_minimum_minutes"),
        [4, 12, 14, 15, 21, 22, 27, 29]
    );
    let minutes: Vec<u32> = roster
        .skipped
        .iter()
        .filter_map(|row| match row.reason {
            SkipReason::BelowMinimumMinutes {
                minutes,
                minimum: 45,
            } => Some(minutes),
            _ => None,
        })
        .collect();
    assert_eq!(minutes, [7, 12, 12, 12, 9, 30, 12, 30]);
    assert_eq!(
        skipped_on(&roster, 4).reason.message(),
        "attended 7 minutes, less than the minimum of 45"
    );
}

#[test]
fn collaborate_sample_without_minimum_checks_roles_only() {
    let roster = parse(COLLABORATE_ATTENDANCE);
    assert_eq!(roster.rows.len(), 26);
    assert_eq!(skipped_lines(&roster, "role_not_awarded"), [2, 3]);
}

#[test]
fn collaborate_sample_awards_listed_roles() {
    let options = ImportOptions {
        roles: Some(vec!["Participant".to_owned(), "presenter".to_owned()]),
        ..collaborate_options()
    };
    let roster = parse_with(COLLABORATE_ATTENDANCE, &options);
    assert_eq!(skipped_lines(&roster, "role_not_awarded"), [2]);
    assert_eq!(name_of(&roster, "tbenali@univ.example.edu"), "Tariq Benali");
}

// Encodings and delimiters.

#[test]
fn windows_1252_is_decoded() {
    let roster = parse(b"Name,Email\r\nJ\xFCrgen M\xFCller,jm@example.org\r\n");
    assert_eq!(roster.encoding, "windows-1252");
    assert_eq!(roster.rows[0].name, "Jürgen Müller");
}

#[test]
fn utf16le_tab_separated_is_decoded() {
    let bytes = utf16le_with_bom(
        "Full Name\tE-mail Address\r\nZoë Weiß\tzoe@example.org\r\n李华\tli@example.org\r\n",
    );
    let roster = parse(&bytes);
    assert_eq!(roster.encoding, "UTF-16LE");
    assert_eq!(roster.delimiter, '\t');
    assert_eq!(roster.header_line, 1);
    assert_eq!(emails(&roster), ["zoe@example.org", "li@example.org"]);
    assert_eq!(roster.rows[0].name, "Zoë Weiß");
    assert_eq!(roster.rows[1].line, 3);
}

#[test]
fn semicolon_file_is_detected() {
    let text = "Nom;Name;Email;Duration (Minutes)\n1;Dupont, Marie;marie@example.fr;75,5\n";
    let options = ImportOptions {
        min_minutes: Some(60),
        ..ImportOptions::default()
    };
    let roster = parse_with(text.as_bytes(), &options);
    assert_eq!(roster.delimiter, ';');
    assert_eq!(roster.rows[0].name, "Dupont, Marie");
}

#[test]
fn excel_sep_line_sets_delimiter() {
    let roster = parse(b"sep=;\r\nName;Email\r\nAda, Countess;ada@example.org\r\n");
    assert_eq!(roster.delimiter, ';');
    assert_eq!(roster.header_line, 2);
    assert_eq!(roster.rows[0].line, 3);
    assert_eq!(roster.rows[0].name, "Ada, Countess");
}

#[test]
fn bom_does_not_shift_lines() {
    let roster = parse(b"\xEF\xBB\xBF\r\nEmail\r\na@example.org\r\n");
    assert_eq!(roster.header_line, 2);
    assert_eq!(roster.rows[0].line, 3);
}

// Line numbers and record layout.

#[test]
fn multiline_field_reports_start_line() {
    let text = "Name,Email,Comment\n\
                Ada,ada@example.org,\"two\nlines\"\n\
                \n\
                \"Grace\nHopper\",grace@example.org,\n\
                Alan,,\"a, b\"\n";
    let roster = parse(text.as_bytes());
    let lines: Vec<u64> = roster.rows.iter().map(|row| row.line).collect();
    assert_eq!(lines, [2, 5]);
    assert_eq!(roster.rows[1].name, "Grace\nHopper");
    assert_eq!(skipped_lines(&roster, "missing_email"), [7]);
}

#[test]
fn quoted_fields_keep_delimiters_and_quotes() {
    let text = "Name,Email\r\n\"Smith, \"\"Jay\"\" Jr.\",jay@example.org\r\n";
    let roster = parse(text.as_bytes());
    assert_eq!(roster.rows[0].name, "Smith, \"Jay\" Jr.");
}

#[test]
fn blank_and_empty_rows_are_not_data_rows() {
    let roster = parse(b"Email,Name\n\n,,\n a@example.org ,A\n , \n");
    assert_eq!(roster.data_rows, 1);
    assert_eq!(roster.rows[0].line, 4);
}

#[test]
fn ragged_rows_are_accepted() {
    let roster =
        parse(b"Name,Email,Attended\nAda,ada@example.org,yes,extra\nBob,bob@example.org\n");
    assert_eq!(emails(&roster), ["ada@example.org"]);
    assert_eq!(
        skipped_on(&roster, 3).reason,
        SkipReason::NotAttended {
            value: String::new()
        }
    );
}

#[test]
fn unclosed_quote_is_invalid_csv() {
    let error = parse_error(
        b"Name,Email\nAda,ada@example.org\n\"Bob,bob@example.org\nCy,cy@example.org\n",
        &ImportOptions::default(),
    );
    assert_eq!(error.code(), "invalid_csv");
    assert!(
        matches!(error, ImportError::InvalidCsv { line: 3, .. }),
        "{error:?}"
    );
    assert_eq!(error.field(), Some("body"));
}

// Header search.

const ZOOM_ATTENDEE_REPORT: &str = "\
Attendee Report\r
Report Generated:,\"11/18/2026 08:10 PM\"\r
Topic,Webinar ID,Actual Start Time,Actual Duration (minutes),# Registered,Unique Viewers\r
RDA Serials Update,812 3456 7890,\"Nov 18, 2026 05:58 PM\",72,120,85\r
Host Details\r
Attended,User Name (Original Name),Email,Join Time,Leave Time,Time in Session (minutes),Country/Region Name\r
Yes,Program Staff,staff@association.example.org,\"Nov 18, 2026 05:50 PM\",\"Nov 18, 2026 07:10 PM\",80,United States\r
Panelist Details\r
Attended,User Name (Original Name),Email,Join Time,Leave Time,Time in Session (minutes),Country/Region Name\r
Yes,Tariq Benali,tbenali@univ.example.edu,\"Nov 18, 2026 05:55 PM\",\"Nov 18, 2026 07:05 PM\",70,Canada\r
Attendee Details\r
Attended,User Name (Original Name),First Name,Last Name,Email,Registration Time,Approval Status,Join Time,Leave Time,Time in Session (minutes),Country/Region Name\r
Yes,Ada (Ada Abbott),Ada,Abbott,ada.abbott@citylib.example.net,\"Nov 1, 2026\",approved,\"Nov 18, 2026 06:00 PM\",\"Nov 18, 2026 07:10 PM\",70,United States\r
No,Ben Brandt,Ben,Brandt,ben.brandt@univ.example.edu,\"Nov 2, 2026\",approved,--,--,--,Germany\r
Yes,Cleo Castillo,Cleo,Castillo,cleo.castillo@univ.example.edu,\"Nov 3, 2026\",approved,\"Nov 18, 2026 06:05 PM\",\"Nov 18, 2026 06:20 PM\",15,Spain\r
";

#[test]
fn zoom_preamble_is_skipped() {
    let roster = parse(ZOOM_ATTENDEE_REPORT.as_bytes());
    assert_eq!(roster.header_line, 6);
    assert_eq!(
        roster.columns.name.as_deref(),
        Some("User Name (Original Name)")
    );
    assert_eq!(
        roster.columns.duration.as_deref(),
        Some("Time in Session (minutes)")
    );
}

#[test]
fn zoom_sections_remap_columns_and_set_roles() {
    let roster = parse(ZOOM_ATTENDEE_REPORT.as_bytes());
    assert_eq!(roster.repeated_header_lines, [9, 12]);
    assert_eq!(roster.data_rows, 5);
    assert_eq!(
        skipped_on(&roster, 7).reason,
        SkipReason::RoleNotAwarded {
            role: "Host".to_owned()
        }
    );
    assert_eq!(
        skipped_on(&roster, 10).reason,
        SkipReason::RoleNotAwarded {
            role: "Panelist".to_owned()
        }
    );
    assert_eq!(skipped_lines(&roster, "not_attended"), [14]);
    assert_eq!(
        emails(&roster),
        [
            "ada.abbott@citylib.example.net",
            "cleo.castillo@univ.example.edu"
        ]
    );
    assert_eq!(roster.rows[0].name, "Ada (Ada Abbott)");
}

#[test]
fn zoom_minimum_uses_minutes_column() {
    let options = ImportOptions {
        min_minutes: Some(45),
        ..ImportOptions::default()
    };
    let roster = parse_with(ZOOM_ATTENDEE_REPORT.as_bytes(), &options);
    assert_eq!(emails(&roster), ["ada.abbott@citylib.example.net"]);
    assert_eq!(
        skipped_on(&roster, 15).reason,
        SkipReason::BelowMinimumMinutes {
            minutes: 15,
            minimum: 45
        }
    );
}

#[test]
fn header_search_skips_summary_table() {
    let text = "Meeting ID,Topic,Start Time,User Email,Duration (Minutes),Participants\n\
                812,RDA update,11/18/2026,host@example.org,72,2\n\
                \n\
                Name (Original Name),User Email,Join Time,Duration (Minutes),Guest\n\
                Ada Abbott,ada@example.org,11/18/2026,70,No\n";
    let roster = parse(text.as_bytes());
    assert_eq!(roster.header_line, 4);
    assert_eq!(emails(&roster), ["ada@example.org"]);
}

#[test]
fn header_after_search_window_is_not_found() {
    let text = format!(
        "{}Email\na@example.org\n",
        "note\n".repeat(HEADER_SEARCH_LINES as usize)
    );
    let error = parse_error(text.as_bytes(), &ImportOptions::default());
    assert_eq!(error.code(), "no_email_column");
}

// Column options.

#[test]
fn explicit_mapping_overrides_detection() {
    let text = "Email,Contact,Given,Family,Was There,Mins,Kind\n\
                old@example.org,ada@example.org,Ada,Lovelace,ok,50,learner\n\
                old@example.org,bob@example.org,Bob,Byron,ok,20,learner\n";
    let options = ImportOptions {
        email_column: Some("contact".to_owned()),
        first_name_column: Some("GIVEN".to_owned()),
        last_name_column: Some("family".to_owned()),
        duration_column: Some("Mins".to_owned()),
        role_column: Some("Kind".to_owned()),
        roles: Some(vec!["Learner".to_owned()]),
        min_minutes: Some(45),
        ..ImportOptions::default()
    };
    let roster = parse_with(text.as_bytes(), &options);
    assert_eq!(emails(&roster), ["ada@example.org"]);
    assert_eq!(roster.rows[0].name, "Ada Lovelace");
    assert_eq!(roster.columns.email, "Contact");
    assert_eq!(
        skipped_on(&roster, 3).reason,
        SkipReason::BelowMinimumMinutes {
            minutes: 20,
            minimum: 45
        }
    );
}

#[test]
fn explicit_attended_column_is_used() {
    let text = "Email,Was There\nada@example.org,x\nbob@example.org,\n";
    let options = ImportOptions {
        attended_column: Some("was there".to_owned()),
        ..ImportOptions::default()
    };
    let roster = parse_with(text.as_bytes(), &options);
    assert_eq!(emails(&roster), ["ada@example.org"]);
    assert_eq!(skipped_lines(&roster, "not_attended"), [3]);
}

#[test]
fn blank_options_count_as_unset() {
    let options = ImportOptions {
        email_column: Some("  ".to_owned()),
        ..ImportOptions::default()
    };
    let roster = parse_with(b"Email\nada@example.org\n", &options);
    assert_eq!(roster.rows.len(), 1);
}

#[test]
fn mapping_to_unknown_column_names_parameter() {
    let options = ImportOptions {
        name_column: Some("Attendee Full Name".to_owned()),
        ..ImportOptions::default()
    };
    let error = parse_error(WEBINAR_REGISTRATIONS, &options);
    assert_eq!(error.code(), "unknown_column");
    assert_eq!(error.field(), Some("name_column"));
    assert_eq!(
        error.to_string(),
        "name_column names the column 'Attendee Full Name', which is not in the header (the header has the columns 'First Name', 'Last Name', 'Email', 'Member ID', 'Session Date', 'Attended')"
    );
}

#[test]
fn unknown_email_mapping_names_email_column() {
    let options = ImportOptions {
        email_column: Some("Work Email".to_owned()),
        ..ImportOptions::default()
    };
    let error = parse_error(WEBINAR_REGISTRATIONS, &options);
    assert_eq!(error.code(), "unknown_column");
    assert_eq!(error.field(), Some("email_column"));
}

#[test]
fn no_email_column_lists_headers() {
    let error = parse_error(
        b"Title\nFirst Name;Last Name;Member ID\nAda;Lovelace;M1\n",
        &ImportOptions::default(),
    );
    assert_eq!(error.code(), "no_email_column");
    assert_eq!(error.field(), Some("email_column"));
    assert_eq!(
        error.to_string(),
        "no email column was found in the first 100 lines (line 2 has the columns 'First Name', 'Last Name', 'Member ID'), so name the email column with the email_column parameter"
    );
}

#[test]
fn minimum_without_duration_column_is_rejected() {
    let options = ImportOptions {
        min_minutes: Some(45),
        ..ImportOptions::default()
    };
    let error = parse_error(WEBINAR_REGISTRATIONS, &options);
    assert_eq!(error.code(), "missing_duration_column");
    assert_eq!(error.field(), Some("duration_column"));
    assert!(error.to_string().contains("min_minutes"));
}

// Row decisions.

#[test]
fn decisions_follow_documented_order() {
    let text = "Email,Role,Attended,Duration\n\
                ,Host,No,abc\n\
                bad,Host,No,abc\n\
                a@example.org,Host,No,abc\n\
                a@example.org,Attendee,No,abc\n\
                a@example.org,Attendee,Yes,abc\n\
                a@example.org,Attendee,Yes,10\n\
                a@example.org,Attendee,Yes,60\n\
                A@EXAMPLE.ORG,Attendee,Yes,60\n";
    let options = ImportOptions {
        min_minutes: Some(45),
        ..ImportOptions::default()
    };
    let roster = parse_with(text.as_bytes(), &options);
    let codes: Vec<&str> = roster.skipped.iter().map(|row| row.reason.code()).collect();
    assert_eq!(
        codes,
        [
            "missing_email",
            "invalid_email",
            "role_not_awarded",
            "not_attended",
            "invalid_duration",
            "below_minimum_minutes",
            "duplicate"
        ]
    );
    assert_eq!(roster.rows[0].line, 8);
    assert_eq!(
        skipped_on(&roster, 9).reason,
        SkipReason::DuplicateOf { line: 8 }
    );
}

#[test]
fn duplicate_refers_to_awarded_row_only() {
    let text = "Email,Attended\na@example.org,No\na@example.org,Yes\na@example.org,Yes\n";
    let roster = parse(text.as_bytes());
    assert_eq!(roster.rows[0].line, 3);
    assert_eq!(
        skipped_on(&roster, 4).reason,
        SkipReason::DuplicateOf { line: 3 }
    );
}

#[test]
fn duration_formats_are_accepted() {
    let text = "Email,Duration\n\
                a@example.org,1:15\n\
                b@example.org,00:45:00\n\
                c@example.org,45.5\n\
                d@example.org,1 hour 5 minutes\n\
                e@example.org,0:44\n\
                f@example.org,\n";
    let options = ImportOptions {
        min_minutes: Some(45),
        ..ImportOptions::default()
    };
    let roster = parse_with(text.as_bytes(), &options);
    assert_eq!(
        emails(&roster),
        [
            "a@example.org",
            "b@example.org",
            "c@example.org",
            "d@example.org"
        ]
    );
    assert_eq!(
        skipped_on(&roster, 6).reason,
        SkipReason::BelowMinimumMinutes {
            minutes: 44,
            minimum: 45
        }
    );
    assert_eq!(
        skipped_on(&roster, 7).reason,
        SkipReason::InvalidDuration {
            value: String::new()
        }
    );
}

#[test]
fn seconds_duration_column_is_converted() {
    let text = "Email,Duration (seconds)\na@example.org,2700\nb@example.org,2699\n";
    let options = ImportOptions {
        min_minutes: Some(45),
        ..ImportOptions::default()
    };
    let roster = parse_with(text.as_bytes(), &options);
    assert_eq!(emails(&roster), ["a@example.org"]);
    assert_eq!(
        skipped_on(&roster, 3).reason,
        SkipReason::BelowMinimumMinutes {
            minutes: 44,
            minimum: 45
        }
    );
}

#[test]
fn name_falls_back_to_split_name() {
    let text = "Name,First Name,Last Name,Email\n,Ada,Lovelace,a@example.org\nGrace H.,Grace,Hopper,g@example.org\n,,,n@example.org\n";
    let roster = parse(text.as_bytes());
    let names: Vec<&str> = roster.rows.iter().map(|row| row.name.as_str()).collect();
    assert_eq!(names, ["Ada Lovelace", "Grace H.", ""]);
}

#[test]
fn skip_reasons_serialize_with_codes() {
    for (reason, expected) in [
        (
            SkipReason::MissingEmail,
            serde_json::json!({"reason": "missing_email"}),
        ),
        (
            SkipReason::InvalidEmail {
                value: "x".to_owned(),
                detail: "d".to_owned(),
            },
            serde_json::json!({"reason": "invalid_email", "value": "x", "detail": "d"}),
        ),
        (
            SkipReason::DuplicateOf { line: 12 },
            serde_json::json!({"reason": "duplicate", "duplicate_of": 12}),
        ),
        (
            SkipReason::NotAttended {
                value: "No".to_owned(),
            },
            serde_json::json!({"reason": "not_attended", "value": "No"}),
        ),
        (
            SkipReason::BelowMinimumMinutes {
                minutes: 7,
                minimum: 45,
            },
            serde_json::json!({"reason": "below_minimum_minutes", "minutes": 7, "minimum": 45}),
        ),
        (
            SkipReason::InvalidDuration {
                value: "abc".to_owned(),
            },
            serde_json::json!({"reason": "invalid_duration", "value": "abc"}),
        ),
        (
            SkipReason::RoleNotAwarded {
                role: "Host".to_owned(),
            },
            serde_json::json!({"reason": "role_not_awarded", "role": "Host"}),
        ),
    ] {
        let json = serde_json::to_value(&reason).unwrap();
        assert_eq!(json, expected);
        assert_eq!(json["reason"], reason.code());
    }
}

// Whole-file failures.

#[test]
fn xlsx_upload_is_rejected() {
    let error = parse_error(
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00[Content_Types].xml",
        &ImportOptions::default(),
    );
    assert_eq!(error.code(), "not_text");
    assert_eq!(error.field(), Some("body"));
    assert!(
        error.to_string().contains("looks like an Excel workbook"),
        "{error}"
    );
    assert!(error.to_string().contains("save it as CSV"), "{error}");
}

#[test]
fn png_upload_is_rejected() {
    let error = parse_error(
        b"\x89PNG\r\n\x1A\n\x00\x00\x00\rIHDR",
        &ImportOptions::default(),
    );
    assert_eq!(
        error,
        ImportError::NotText {
            kind: BinaryKind::Image
        }
    );
}

#[test]
fn empty_uploads_are_rejected() {
    for bytes in [&b""[..], b"\xEF\xBB\xBF", b"\r\n\r\n", b" \n"] {
        assert_eq!(
            parse_roster(bytes, &ImportOptions::default()),
            Err(ImportError::Empty),
            "{bytes:?}"
        );
    }
    assert_eq!(ImportError::Empty.field(), Some("body"));
}

#[test]
fn too_many_rows_rejects_whole_file() {
    let options = ImportOptions {
        max_rows: 50,
        ..ImportOptions::default()
    };
    let error = parse_error(WEBINAR_REGISTRATIONS, &options);
    assert_eq!(error, ImportError::TooManyRows { max_rows: 50 });
    assert_eq!(
        error.to_string(),
        "the file has more than 50 data rows, so split it into files of at most 50 rows"
    );
}

#[test]
fn row_limit_is_inclusive() {
    let options = ImportOptions {
        max_rows: 51,
        ..ImportOptions::default()
    };
    let roster = parse_with(WEBINAR_REGISTRATIONS, &options);
    assert_eq!(roster.data_rows, 51);
}

#[test]
fn large_file_is_parsed_in_full() {
    let rows = 200_000;
    let mut text = String::from("First Name,Last Name,Email,Attended,Duration\n");
    for index in 0..rows {
        text.push_str(&format!(
            "Ada{index},Lovelace,ada{index}@example.org,Yes,01:10:00\n"
        ));
    }
    let options = ImportOptions {
        max_rows: rows,
        min_minutes: Some(45),
        ..ImportOptions::default()
    };
    let roster = parse_with(text.as_bytes(), &options);
    assert_eq!(roster.rows.len(), rows);
    assert_eq!(roster.rows[rows - 1].line, rows as u64 + 1);
}
