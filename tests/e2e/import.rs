//! Roster imports of real-shaped exports: the per-row report, the outbox,
//! and idempotent re-imports.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::TestServer;

const REGISTRATIONS: &[u8] = include_bytes!("../fixtures/webinar-registrations.csv");
const ATTENDANCE: &[u8] = include_bytes!("../fixtures/collaborate-attendance.csv");

/// Maps each reported line to its reason code.
fn reasons(report: &Value) -> BTreeMap<u64, String> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["line"].as_u64().unwrap(), row["reason"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_export_report_and_outbox() {
    let server = TestServer::start().await;
    let path = "/admin/awards/import?badge_id=time-management-organizational-skills&session=2026-11-18";

    let (status, report) = server.admin_body(path, "text/csv", REGISTRATIONS.to_vec()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["totals"]["rows"], 51);
    assert_eq!(report["totals"]["created"], 42);
    assert_eq!(report["totals"]["already_awarded"], 0);
    assert_eq!(report["totals"]["not_awarded"], 9);

    let expected: BTreeMap<u64, String> = [
        (2, "not_attended"),
        (16, "not_attended"),
        (26, "not_attended"),
        (30, "not_attended"),
        (31, "not_attended"),
        (38, "not_attended"),
        (46, "duplicate"),
        (48, "invalid_email"),
        (49, "missing_email"),
    ]
    .into_iter()
    .map(|(line, reason)| (line, reason.to_owned()))
    .collect();
    assert_eq!(reasons(&report), expected);
    let duplicate = report["rows"].as_array().unwrap().iter().find(|row| row["line"] == 46).unwrap();
    assert_eq!(duplicate["duplicate_of"], 45);

    // Every created award gets exactly one email, to its own address.
    let outbox = server.drain_outbox().await;
    assert_eq!(outbox.len(), 42);
    let mut recipients: Vec<_> = outbox.iter().map(|email| email.to.clone()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 42);
    assert!(recipients.contains(&"aokafor@library.example.org".to_owned()), "trimmed and case-folded");
    assert!(recipients.contains(&"lin.wei+ce@univ.example.edu".to_owned()));

    // Names are kept as given, markup and non-Latin scripts included.
    let (_, listing) = server.admin_get("/admin/awards?email=eve.tester%40example.com").await;
    assert_eq!(listing["items"][0]["recipient"]["name"], "Eve <script>alert(1)</script>");
    let (_, listing) = server.admin_get("/admin/awards?email=li.hua%40univ.example.edu").await;
    assert_eq!(listing["items"][0]["recipient"]["name"], "李 华");
    let (_, listing) = server.admin_get("/admin/awards?email=hsmithjr%40citylib.example.net").await;
    assert_eq!(listing["items"][0]["recipient"]["name"], "Harold Smith, Jr.");
    let eve = outbox.iter().find(|email| email.to == "eve.tester@example.com").unwrap();
    assert!(!eve.html.contains("<script>"), "the HTML part escapes the name");

    // Re-importing the same file creates nothing and sends nothing.
    let (status, again) = server.admin_body(path, "text/csv", REGISTRATIONS.to_vec()).await;
    assert_eq!(status, 200);
    assert_eq!(again["totals"]["created"], 0);
    assert_eq!(again["totals"]["already_awarded"], 42);
    assert_eq!(server.drain_outbox().await.len(), 42);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendance_export_with_minimum_minutes() {
    let server = TestServer::start().await;
    let path = "/admin/awards/import?badge_id=rda-serials-cataloging-update&min_minutes=45";

    let (status, report) = server.admin_body(path, "text/csv", ATTENDANCE.to_vec()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["totals"]["rows"], 28);
    assert_eq!(report["totals"]["created"], 18);
    assert_eq!(report["totals"]["not_awarded"], 10);

    let reasons = reasons(&report);
    assert_eq!(reasons[&2], "role_not_awarded", "the moderator");
    assert_eq!(reasons[&3], "role_not_awarded", "the presenter");
    for line in [4, 12, 14, 15, 21, 22, 27, 29] {
        assert_eq!(reasons[&line], "below_minimum_minutes", "line {line}");
    }
    let short = report["rows"].as_array().unwrap().iter().find(|row| row["line"] == 4).unwrap();
    assert_eq!(short["minutes"], 7);

    assert_eq!(server.drain_outbox().await.len(), 18);

    // The same people at another session are new awards.
    let (_, other) = server.admin_body(&format!("{path}&session=encore"), "text/csv", ATTENDANCE.to_vec()).await;
    assert_eq!(other["totals"]["created"], 18);

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_with_cursor() {
    let server = TestServer::start().await;
    let path = "/admin/awards/import?badge_id=time-management-organizational-skills";
    server.admin_body(path, "text/csv", REGISTRATIONS.to_vec()).await;

    let mut seen = Vec::new();
    let mut next = "/admin/awards?badge_id=time-management-organizational-skills&limit=10".to_owned();
    loop {
        let (status, page) = server.admin_get(&next).await;
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                next = format!("/admin/awards?badge_id=time-management-organizational-skills&limit=10&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 42);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 42);

    let (status, pending) = server.admin_get("/admin/awards?badge_id=time-management-organizational-skills&status=accepted").await;
    assert_eq!(status, 200);
    assert_eq!(pending["items"].as_array().unwrap().len(), 0);

    let (status, error) = server.admin_get("/admin/awards?badge_id=time-management-organizational-skills&cursor=bogus").await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["field"], "cursor");

    server.stop().await;
}
