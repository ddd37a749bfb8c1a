//! The core flow through `badges-local --backend aws`: DynamoDB, S3 and
//! SES v2 in moto, with the sent mail read back from the emulator.

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use serde_json::Value;

use crate::aws_support::{moto_config, moto_endpoint, random_name};
use crate::support::{Email, TestServer, claim_parts, ob2_validate};

const ATTENDANCE: &[u8] = include_bytes!("../fixtures/collaborate-attendance.csv");

/// Returns the messages moto accepted from `sender`, oldest first.
async fn sent_mail(sender: &str) -> Vec<Email> {
    let data: Value = crate::aws_support::moto_state().await;
    data["ses"]["RawMessage"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter_map(|message| message["raw_data"].as_str())
                .map(|raw| Email::parse(raw.as_bytes()))
                .filter(|email| email.from == sender)
                .collect()
        })
        .unwrap_or_default()
}

async fn aws_backend(sender: &str) -> badges_local::Backend {
    let config = moto_config().await;
    let bucket = random_name("badges-flow");
    badges_local::Backend::Aws(badges_local::AwsBackend {
        config,
        resources: badges_shared::aws::Resources {
            table: random_name("badges-flow"),
            image_base_url: format!("{}/{bucket}/images", moto_endpoint()),
            bucket,
        },
        ses: badges_shared::adapters::aws::ses::SesSettings {
            from_address: sender.to_owned(),
            configuration_set: None,
            max_send_rate: 50.0,
        },
        create_resources: true,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_claim_verify_on_aws() {
    // The issuer email of the demo catalogue is the sender.
    let sender = "badges@example.org";
    let already_sent = sent_mail(sender).await.len();
    let server = TestServer::start_with(aws_backend(sender).await).await;

    // GIVEN an attendance export imported by staff.
    let (status, report) = server
        .admin_body("/admin/awards/import?badge_id=rda-serials-cataloging-update&min_minutes=45", "text/csv", ATTENDANCE.to_vec())
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["totals"]["created"], 18);

    // WHEN the worker has sent the claim emails through SES.
    let mut mail = Vec::new();
    for _ in 0..200 {
        // Other tests send through the same emulator and sender at the same
        // time, so only messages with links to this server count.
        mail = sent_mail(sender).await.split_off(already_sent);
        mail.retain(|email| email.text.contains(&server.base));
        if mail.len() >= 18 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(mail.len(), 18, "one email per created award");
    let ben = mail.iter().find(|email| email.to == "ben.brandt@univ.example.edu").expect("Ben's email");
    let link = ben.claim_link();
    let (award_id, token) = claim_parts(&link);

    // A re-import sends nothing more.
    let (_, again) = server
        .admin_body("/admin/awards/import?badge_id=rda-serials-cataloging-update&min_minutes=45", "text/csv", ATTENDANCE.to_vec())
        .await;
    assert_eq!(again["totals"]["created"], 0);
    assert_eq!(again["totals"]["already_awarded"], 18);

    // THEN the learner accepts, and the assertion is served from DynamoDB
    // with its baked image in S3.
    let (status, _) = server.get_html(&link).await;
    assert_eq!(status, 200);
    let response = server
        .client
        .post(server.url(&format!("/claim/{award_id}/accept")))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "text/html")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let award_url = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let (status, assertion) = server.get_json(&award_url).await;
    assert_eq!(status, 200);
    assert_eq!(assertion["id"], award_url.as_str());

    let png = server.client.get(format!("{award_url}/badge.png")).send().await.unwrap();
    assert_eq!(png.headers()[CONTENT_TYPE], "image/png");
    let (_, badge) = server.get_json(&server.url("/badges/rda-serials-cataloging-update")).await;
    let image = server.client.get(badge["image"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(image.status().as_u16(), 200, "the badge image is public in S3");
    assert_eq!(image.headers()[CONTENT_TYPE], "image/png");

    let (valid, report) = ob2_validate(&award_url, "ben.brandt@univ.example.edu").await;
    assert!(valid, "the assertion served from AWS adapters is valid: {report}");

    let (_, listing) = server.admin_get("/admin/awards?email=ben.brandt%40univ.example.edu").await;
    assert_eq!(listing["items"][0]["status"], "accepted");
    assert_eq!(listing["items"][0]["notification"]["status"], "sent");
    server.stop().await;
}
