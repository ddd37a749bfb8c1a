//! Status checks through Bitstring Status Lists (and Status List 2021).

use serde_json::Value;

use super::report::{CheckKind, CredentialFormat, Outcome, StatusResult, VerificationReport};
use super::status_list;
use super::verify::{VerifyOptions, check_dates, check_proofs, issuer_id};

/// Checks each `BitstringStatusListEntry` (or `StatusList2021Entry`).
pub(super) fn check_status(
    credential: &Value,
    options: &VerifyOptions<'_>,
    report: &mut VerificationReport,
) {
    let entries: Vec<&Value> = match credential.get("credentialStatus") {
        None => {
            report.push(
                CheckKind::Status,
                Outcome::Skipped,
                "the credential has no status entry, so it cannot be revoked",
            );
            return;
        }
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
    };
    report.status = StatusResult::Unknown;

    let mut results = Vec::new();
    for entry in entries {
        let (outcome, result, message) = check_status_entry(entry, credential, options);
        report.push(CheckKind::Status, outcome, message);
        results.push(result);
    }
    report.status = if results.contains(&StatusResult::Revoked) {
        StatusResult::Revoked
    } else if results.contains(&StatusResult::Suspended) {
        StatusResult::Suspended
    } else if !results.is_empty() && results.iter().all(|result| *result == StatusResult::Active) {
        StatusResult::Active
    } else {
        StatusResult::Unknown
    };
}

fn check_status_entry(
    entry: &Value,
    credential: &Value,
    options: &VerifyOptions<'_>,
) -> (Outcome, StatusResult, String) {
    let unknown = |outcome, message: String| (outcome, StatusResult::Unknown, message);
    let entry_type = entry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(
        entry_type,
        "BitstringStatusListEntry" | "StatusList2021Entry"
    ) {
        return unknown(
            Outcome::Warning,
            format!("status entries of type \"{entry_type}\" are not checked"),
        );
    }
    let Some(list_url) = entry.get("statusListCredential").and_then(Value::as_str) else {
        return unknown(
            Outcome::Failed,
            "the status entry has no statusListCredential".into(),
        );
    };
    let purpose = entry
        .get("statusPurpose")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (index, index_note) = match entry.get("statusListIndex") {
        Some(Value::String(text)) => match text.parse::<u64>() {
            Ok(index) => (index, ""),
            Err(_) => {
                return unknown(
                    Outcome::Failed,
                    format!("statusListIndex \"{text}\" is not a whole number"),
                );
            }
        },
        Some(Value::Number(number)) if number.as_u64().is_some() => (
            number.as_u64().unwrap_or_default(),
            " (statusListIndex is a number; the specification requires a string)",
        ),
        _ => {
            return unknown(
                Outcome::Failed,
                "the status entry has no valid statusListIndex".into(),
            );
        }
    };

    let Some(resolve) = options.status_lists else {
        return unknown(
            Outcome::Skipped,
            format!("the status list {list_url} was not checked: no status lists were given"),
        );
    };
    let list_credential = match resolve(list_url) {
        Ok(list) => list,
        Err(reason) => {
            return unknown(
                Outcome::Warning,
                format!("status not checked, because the status list {list_url} could not be used: {reason}"),
            );
        }
    };

    if let Err(problem) = check_list_credential(&list_credential, credential, options) {
        return unknown(
            Outcome::Failed,
            format!("the status list {list_url} cannot be trusted: {problem}"),
        );
    }
    let list = match status_list::read_status_list_credential(&list_credential) {
        Ok(list) => list,
        Err(error) => {
            return unknown(
                Outcome::Failed,
                format!("the status list {list_url} is unusable: {error}"),
            );
        }
    };
    if !list.purposes.iter().any(|declared| declared == purpose) {
        return unknown(
            Outcome::Failed,
            format!(
                "the status list {list_url} is for {}, not \"{purpose}\"",
                quoted_list(&list.purposes)
            ),
        );
    }
    match list.list.get(index) {
        Err(error) => unknown(Outcome::Failed, error.to_string()),
        Ok(true) if purpose == "revocation" => (
            Outcome::Failed,
            StatusResult::Revoked,
            format!("the credential is revoked: bit {index} of the status list {list_url} is set{index_note}"),
        ),
        Ok(true) if purpose == "suspension" => (
            Outcome::Failed,
            StatusResult::Suspended,
            format!("the credential is suspended: bit {index} of the status list {list_url} is set{index_note}"),
        ),
        Ok(true) => (
            Outcome::Warning,
            StatusResult::Active,
            format!("bit {index} of the status list {list_url} is set for purpose \"{purpose}\"{index_note}"),
        ),
        Ok(false) => {
            let outcome = if index_note.is_empty() {
                Outcome::Passed
            } else {
                Outcome::Warning
            };
            (
                outcome,
                StatusResult::Active,
                not_set_message(purpose, index, list_url, index_note),
            )
        }
    }
}

/// Describes a clear status bit: "not revoked: bit 0 of the status list …
/// is not set".
fn not_set_message(purpose: &str, index: u64, list_url: &str, index_note: &str) -> String {
    let bit = format!("bit {index} of the status list {list_url} is not set{index_note}");
    match purpose {
        "revocation" => format!("not revoked: {bit}"),
        "suspension" => format!("not suspended: {bit}"),
        other => format!("{bit} (purpose \"{other}\")"),
    }
}

/// Quotes each item and joins them with commas: `"revocation", "suspension"`.
fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("\"{item}\"")).collect();
    quoted.join(", ")
}

/// Checks that the status list is signed by the credential's issuer and is
/// within its validity period. Returns the reasons in words when it is not.
pub fn check_list_credential(
    list: &Value,
    credential: &Value,
    options: &VerifyOptions<'_>,
) -> Result<(), String> {
    let list_issuer = issuer_id(list);
    let credential_issuer = issuer_id(credential);
    if list_issuer != credential_issuer {
        let name = |issuer: Option<String>| issuer.unwrap_or_else(|| "no issuer id".to_owned());
        return Err(format!(
            "it was issued by {}, not by the credential's issuer {}",
            name(list_issuer),
            name(credential_issuer)
        ));
    }

    let mut list_report = VerificationReport::new(CredentialFormat::DataIntegrity);
    check_proofs(
        list,
        list_issuer.as_deref(),
        options.known_keys,
        &mut list_report,
    );
    check_dates(list, options.now, &mut list_report);
    if !list_report.is_valid() {
        let reasons: Vec<&str> = list_report
            .failures()
            .map(|check| check.message.as_str())
            .collect();
        return Err(reasons.join("; "));
    }
    Ok(())
}
