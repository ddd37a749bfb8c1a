//! Shared inputs of the benchmarks: deterministic badge images, a baked
//! Assertion, generated attendance exports, an app on the embedded store
//! and a DynamoDB request counter.
//!
//! Every input is generated from fixed values, so two runs, or the Rust and
//! Python sides of the baking comparison, work on the same bytes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use badges_shared::App;
use badges_shared::adapters::{FolderImageStore, OutboxMailer, SqliteStore};
use badges_shared::domain::{Award, BadgeClass, BadgeId, Issuer};
use badges_shared::import::ImportOptions;
use badges_shared::ports::{Clock, OsRandom, RandomSource, SystemClock};
use badges_shared::settings::Settings;
use serde_json::json;

/// Base URL of every generated document.
pub const BASE_URL: &str = "http://127.0.0.1:3000";

/// Id of the badge that the generated rosters are imported into.
pub const BADGE_ID: &str = "rda-serials-cataloging-update";

/// Edge, in pixels, at which the demo badge is rendered for the PNG input.
/// At this size the rendering is 68 KB (67,961 bytes). A change to the
/// demo drawing or to resvg changes that size, and `bench-fixtures` prints it.
pub const PNG_SIZE: u32 = 1280;

/// Number of laurel leaves added to the demo SVG, which brings the SVG
/// input to 20 KB (20,101 bytes).
pub const SVG_LEAVES: usize = 126;

/// Minimum attendance, in minutes, used for every generated import.
pub const MIN_MINUTES: u32 = 45;

/// Returns the deployment settings of the benchmarks.
pub fn settings() -> Settings {
    Settings::new(
        BASE_URL,
        Issuer {
            name: "Example Library Association".into(),
            url: "https://www.example.org".into(),
            email: "badges@example.org".into(),
        },
    )
}

/// Returns the SVG input: the demo badge of [`BADGE_ID`] with a ring of
/// [`SVG_LEAVES`] laurel leaves, drawn as paths with two decimals, as
/// drawing programs export them.
pub fn badge_svg() -> Vec<u8> {
    let demo = badges_shared::images::demo_badge_svg(BADGE_ID, "RDA Serials Cataloging Update", Some("Webinar"));
    let mut leaves = String::from("<g id=\"laurel\" fill=\"#2f7d4f\" stroke=\"#1d5234\" stroke-width=\"1.5\">\n");
    for index in 0..SVG_LEAVES {
        let angle = index as f64 * std::f64::consts::TAU / SVG_LEAVES as f64;
        let (x, y) = (256.0 + 236.0 * angle.cos(), 256.0 + 236.0 * angle.sin());
        let degrees = angle.to_degrees() + 90.0;
        let _ = writeln!(
            leaves,
            "<path transform=\"translate({x:.2} {y:.2}) rotate({degrees:.2})\" d=\"M0.00 -9.50 C5.25 -6.75 6.10 2.40 0.00 9.50 C-6.10 2.40 -5.25 -6.75 0.00 -9.50 Z\"/>"
        );
    }
    leaves.push_str("</g>\n");
    demo.replacen("</svg>", &format!("{leaves}</svg>"), 1).into_bytes()
}

/// Returns the PNG input: the demo badge rendered at [`PNG_SIZE`] pixels.
pub fn badge_png() -> Vec<u8> {
    let svg = badges_shared::images::demo_badge_svg(BADGE_ID, "RDA Serials Cataloging Update", Some("Webinar"));
    badges_shared::images::render_png(svg.as_bytes(), PNG_SIZE).expect("the demo badge renders")
}

/// Returns an accepted award of [`BADGE_ID`], with evidence and an
/// expiry date, so that its Assertion has every optional field.
pub fn sample_award() -> Award {
    serde_json::from_value(json!({
        "id": "k3v7q2m7x4c6b2n6p5r3t2w7ya",
        "badge_id": BADGE_ID,
        "recipient": { "email": "ada.abbott@citylib.example.net", "name": "Ada Abbott" },
        "session": "",
        "evidence": "Attended the whole webinar, 78 minutes.",
        "issued_on": "2026-11-18T19:05:00Z",
        "expires_on": "2029-11-18T19:05:00Z",
        "salt": "5f0c9a1e7b3d4c2a9e8f7a6b5c4d3e2f",
        "status": "accepted",
        "notification": "sent",
        "created_at": "2026-11-18T19:05:00Z",
        "updated_at": "2026-11-19T08:12:00Z",
        "version": 3,
    }))
    .expect("the award JSON matches the domain type")
}

/// Returns the hosted Assertion of [`sample_award`] as compact JSON, and
/// its URL, which the SVG baker writes to the `verify` attribute.
pub fn assertion() -> (String, String) {
    let award = sample_award();
    let settings = settings();
    let url = settings.award_url(&award.id);
    let image = format!("{url}/badge.png");
    let document = badges_shared::openbadges::assertion(&settings, &award, Some(image));
    (document.to_string(), url)
}

/// Returns the badge class that generated rosters are imported into.
pub fn badge_class() -> BadgeClass {
    serde_json::from_value(json!({
        "id": BADGE_ID,
        "name": "RDA Serials Cataloging Update",
        "description": "Awarded for attending the RDA serials cataloging update webinar.",
        "criteria": { "narrative": "Attend at least 45 minutes of the live webinar." },
        "format": "Webinar",
        "images": [],
        "created_at": "2026-11-01T09:00:00Z",
        "updated_at": "2026-11-01T09:00:00Z",
    }))
    .expect("the badge class JSON matches the domain type")
}

const FIRST_NAMES: [&str; 12] =
    ["Ada", "Ben", "Chloé", "Dmitri", "Esther", "Farid", "Grace", "Hiroshi", "Ines", "José", "Kwame", "Léa"];
const LAST_NAMES: [&str; 10] =
    ["Abbott", "Brandt", "Castillo", "Dubois", "Eriksen", "Fischer", "Gupta", "Holloway", "Ivanova", "Nakamura"];
const DOMAINS: [&str; 5] =
    ["library.example.org", "univ.example.edu", "citylib.example.net", "archives.example.org", "college.example.edu"];

/// Generates a Blackboard Collaborate attendance export with `rows` data
/// rows (the same columns as `tests/fixtures/collaborate-attendance.csv`).
///
/// Every 50th row is a presenter, which the default roles do not award,
/// and durations spread evenly from 20 to 120 minutes, so that with
/// [`MIN_MINUTES`] about a quarter of the rows are below the minimum.
/// Each row has its own email address.
pub fn attendance_csv(rows: usize) -> Vec<u8> {
    let mut csv = String::with_capacity(300 * (rows + 1));
    csv.push_str(
        "SessionDate,SessionName,SessionIdentifier,SessionOwner,RoomOpened,RoomClosed,NameOfAttendee,\
         FirstNameOfAttendee,LastNameOfAttendee,EmailOfAttendee,AttendeeRole,AttendeeType,\
         AttendeeFirstJoinTime,AttendeeLastLeaveTime,AttendeeTotalTimeInSession,AttendeeTotalRejoins\r\n",
    );
    for index in 0..rows {
        let first = FIRST_NAMES[index % FIRST_NAMES.len()];
        let last = LAST_NAMES[(index / FIRST_NAMES.len()) % LAST_NAMES.len()];
        let domain = DOMAINS[index % DOMAINS.len()];
        let role = if index % 50 == 0 { "Presenter" } else { "Participant" };
        // 7919 is prime, so the durations cycle through all 6,000 values.
        let seconds = 20 * 60 + (index * 7919) % (100 * 60);
        let _ = write!(
            csv,
            "11/18/2026 18:00,RDA Serials Cataloging Update (Webinar),a3f9c2d1e5b74f0e9c11,Program Staff,\
             11/18/2026 17:45,11/18/2026 20:05,{first} {last},{first},{last},{first}.{last}.{index}@{domain},\
             {role},User,11/18/2026 17:58,11/18/2026 19:58,{:02}:{:02}:{:02},0\r\n",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
        );
    }
    csv.into_bytes()
}

/// Returns the import options of the generated rosters. `max_rows` is
/// raised to `rows`, because the product's limit of 100,000 rows per
/// upload would reject the 500,000-row roster.
pub fn import_options(rows: usize) -> ImportOptions {
    ImportOptions {
        min_minutes: Some(MIN_MINUTES),
        max_rows: rows.max(ImportOptions::default().max_rows),
        ..ImportOptions::default()
    }
}

/// Builds an app on the embedded adapters in `data_dir`, as `badges-local`
/// does: an SQLite file, an image folder and an outbox folder.
pub fn embedded_app(data_dir: &Path) -> anyhow::Result<App> {
    let store = SqliteStore::open(&data_dir.join("badges.sqlite3"))?;
    let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(App {
        store: Arc::new(store),
        images: Arc::new(FolderImageStore::new(data_dir.join("images"), &format!("{BASE_URL}/images"))),
        mailer: Arc::new(OutboxMailer::new(data_dir.join("outbox"), random.clone())),
        clock,
        random,
        settings: Arc::new(settings()),
        notify_queued: Arc::new(tokio::sync::Notify::new()),
        issuer_signer: None,
    })
}

/// Returns the badge id of [`BADGE_ID`].
pub fn badge_id() -> BadgeId {
    BadgeId::parse(BADGE_ID).expect("BADGE_ID is a valid badge id")
}

/// Requests of one DynamoDB operation.
#[derive(Debug, Clone, Copy, Default)]
pub struct OperationCount {
    /// HTTP requests sent, retries included.
    pub requests: usize,
    /// Items named in those requests: `TransactItems` of TransactWriteItems,
    /// `Keys` of BatchGetItem, and 1 for the single-item operations.
    pub items: usize,
}

/// SDK interceptor that counts the DynamoDB requests of a client, by
/// operation name (the `X-Amz-Target` header), as they leave the client.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<HashMap<String, OperationCount>>>,
}

impl RequestCounter {
    /// Returns the counts since the last call and starts again from zero.
    pub fn take(&self) -> HashMap<String, OperationCount> {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// Operations that write to the table.
pub const WRITE_OPERATIONS: [&str; 5] = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"];

/// Counts the items that one request body names.
fn request_items(operation: &str, body: &[u8]) -> usize {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(body) else {
        return 0;
    };
    match operation {
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"].as_array().map_or(0, Vec::len),
        "BatchGetItem" => body["RequestItems"]
            .as_object()
            .map_or(0, |tables| tables.values().map(|table| table["Keys"].as_array().map_or(0, Vec::len)).sum()),
        "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .map_or(0, |tables| tables.values().map(|requests| requests.as_array().map_or(0, Vec::len)).sum()),
        _ => 1,
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        let items = request_items(&operation, request.body().bytes().unwrap_or_default());
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(operation).or_default();
        count.requests += 1;
        count.items += items;
        Ok(())
    }
}
