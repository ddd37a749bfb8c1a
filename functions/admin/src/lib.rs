//! Staff routes under `/admin`: badge classes, images, awards, imports.
//!
//! Authentication is not done here: the local binary wraps this router in
//! a bearer-token check, and on AWS the API Gateway JWT authorizer runs
//! before the function.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};

use badges_shared::App;
use std::collections::HashMap;

use badges_shared::domain::{Award, BadgeClass, BadgeId, EmailAddress, NotificationStatus, Suppression, SuppressionReason};
use badges_shared::images::ImageFormat;
use badges_shared::import::ImportOptions;
use badges_shared::openbadges::badge_image_key;
use badges_shared::ports::{AwardQuery, Inserted, StatusFilter, StoreError};
use badges_shared::service::awards::{self, AwardInput, session_label};
use badges_shared::service::badges::{self, BadgeInput};
use badges_shared::service::import::import_roster;
use badges_shared::service::resend;
use badges_shared::web::error::ApiError;
use badges_shared::web::extract::{AwardIdPath, BadgeIdPath, JsonBody, media_type, read_body};

/// Default page size of award listings.
pub const DEFAULT_PAGE_SIZE: usize = 50;

pub fn router(app: App) -> Router {
    Router::new()
        .route("/admin/badges", post(create_badge).get(list_badges))
        .route("/admin/badges/{badge_id}", get(get_badge).put(update_badge))
        .route("/admin/badges/{badge_id}/image", put(put_badge_image))
        .route("/admin/badges/{badge_id}/resend", post(resend_badge))
        .route("/admin/stats", get(stats))
        .route("/admin/awards", post(create_award).get(list_awards))
        .route("/admin/awards/import", post(import))
        .route("/admin/awards/{award_id}", get(get_award))
        .route("/admin/awards/{award_id}/resend", post(resend))
        .route("/admin/awards/{award_id}/revoke", post(revoke))
        .with_state(app)
}

/// A badge class as staff see it, with the public URLs of its images.
#[derive(Serialize)]
struct BadgeResource {
    #[serde(flatten)]
    badge: BadgeClass,
    url: String,
    image_urls: Vec<String>,
}

fn badge_resource(app: &App, badge: BadgeClass) -> BadgeResource {
    let image_urls = badge.images.iter().map(|&kind| app.images.public_url(&badge_image_key(&badge.id, kind))).collect();
    BadgeResource { url: app.settings.badge_url(&badge.id), image_urls, badge }
}

#[derive(Serialize)]
struct NotificationView {
    status: NotificationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// Provider message id of the latest email about the award.
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_sent_at: Option<chrono::DateTime<chrono::Utc>>,
    reminders_sent: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_reminder_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_reminder_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    survey_invited_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Reason that no email goes to the recipient's address, when it is
    /// suppressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<SuppressionView>,
}

/// The suppression of a recipient's address as staff see it.
#[derive(Serialize)]
struct SuppressionView {
    /// hard_bounce, complaint or unsubscribed.
    reason: SuppressionReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    since: chrono::DateTime<chrono::Utc>,
}

impl From<Suppression> for SuppressionView {
    fn from(suppression: Suppression) -> Self {
        Self { reason: suppression.reason, detail: suppression.detail, since: suppression.created_at }
    }
}

/// Returns the suppression records of the awards' addresses by address.
async fn suppressions_of(app: &App, awards: &[Award]) -> Result<HashMap<EmailAddress, Suppression>, ApiError> {
    let emails: Vec<EmailAddress> = awards.iter().map(|award| award.recipient.email.clone()).collect();
    let found = app.store.suppressions(&emails).await.map_err(badges_shared::service::ServiceError::from)?;
    Ok(found.into_iter().map(|suppression| (suppression.email.clone(), suppression)).collect())
}

/// An award as staff see it: both statuses side by side.
#[derive(Serialize)]
struct AwardResource {
    id: String,
    url: String,
    badge_id: BadgeId,
    recipient: badges_shared::domain::Recipient,
    session: String,
    /// pending, accepted, declined, revoked or expired.
    status: &'static str,
    notification: NotificationView,
    issued_on: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_on: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responded_at: Option<chrono::DateTime<chrono::Utc>>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

fn award_resource(app: &App, award: Award, suppression: Option<Suppression>) -> AwardResource {
    AwardResource {
        id: award.id.to_string(),
        url: app.settings.award_url(&award.id),
        status: award.display_status(app.clock.now()),
        notification: NotificationView {
            status: award.notification,
            detail: award.notification_detail,
            message_id: award.message_id,
            first_sent_at: award.first_sent_at,
            reminders_sent: award.reminders_sent,
            last_reminder_at: award.last_reminder_at,
            next_reminder_at: award.next_reminder_at,
            survey_invited_at: award.survey_invited_at,
            suppressed: suppression.map(SuppressionView::from),
        },
        badge_id: award.badge_id,
        recipient: award.recipient,
        session: award.session,
        issued_on: award.issued_on,
        expires_on: award.expires_on,
        evidence: award.evidence,
        revocation_reason: award.revocation_reason,
        responded_at: award.responded_at,
        created_at: award.created_at,
        updated_at: award.updated_at,
    }
}

/// Builds the staff view of one award, with the suppression of its address.
async fn award_view(app: &App, award: Award) -> Result<AwardResource, ApiError> {
    let suppression = suppressions_of(app, std::slice::from_ref(&award)).await?.remove(&award.recipient.email);
    Ok(award_resource(app, award, suppression))
}

fn created(location: &str, body: impl Serialize) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// Parses a query string into `T`, naming an unknown or invalid parameter.
fn parse_query<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|error| {
        let message = error.to_string();
        let field = message
            .split('`')
            .nth(1)
            .map(str::to_owned)
            .unwrap_or_else(|| "query".to_owned());
        ApiError::bad_request(field, format!("invalid query parameter: {message}"))
    })
}

async fn create_badge(State(app): State<App>, JsonBody(input): JsonBody<BadgeInput>) -> Result<Response, ApiError> {
    let badge = badges::create_badge(&app, &input).await?;
    let location = format!("{}/admin/badges/{}", app.settings.base_url, badge.id);
    Ok(created(&location, badge_resource(&app, badge)))
}

async fn list_badges(State(app): State<App>) -> Result<Response, ApiError> {
    let badges = app.store.list_badges().await.map_err(badges_shared::service::ServiceError::from)?;
    let items: Vec<_> = badges.into_iter().map(|badge| badge_resource(&app, badge)).collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

async fn get_badge(State(app): State<App>, BadgeIdPath(id): BadgeIdPath) -> Result<Response, ApiError> {
    let badge = badges::load_badge(&app, &id).await?;
    Ok(Json(badge_resource(&app, badge)).into_response())
}

async fn update_badge(
    State(app): State<App>,
    BadgeIdPath(id): BadgeIdPath,
    JsonBody(input): JsonBody<BadgeInput>,
) -> Result<Response, ApiError> {
    let badge = badges::update_badge(&app, &id, &input).await?;
    Ok(Json(badge_resource(&app, badge)).into_response())
}

async fn put_badge_image(
    State(app): State<App>,
    BadgeIdPath(id): BadgeIdPath,
    request: Request,
) -> Result<Response, ApiError> {
    let format = match media_type(request.headers()).as_deref() {
        Some("image/png") => ImageFormat::Png,
        Some("image/svg+xml") => ImageFormat::Svg,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the image as Content-Type: image/png or image/svg+xml",
            )
            .with_field("Content-Type"));
        }
    };
    let bytes = read_body(request, app.settings.limits.image_bytes).await?;
    let badge = badges::set_badge_image(&app, &id, format, &bytes).await?;
    Ok(Json(badge_resource(&app, badge)).into_response())
}

async fn create_award(State(app): State<App>, JsonBody(input): JsonBody<AwardInput>) -> Result<Response, ApiError> {
    match awards::create_award(&app, &input).await? {
        Inserted::Created(award) => {
            let location = format!("{}/admin/awards/{}", app.settings.base_url, award.id);
            Ok(created(&location, award_view(&app, award).await?))
        }
        Inserted::Existing(award) => Ok(Json(award_view(&app, award).await?).into_response()),
    }
}

/// Query parameters of a roster import.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParams {
    badge_id: Option<String>,
    session: Option<String>,
    min_minutes: Option<String>,
    email_column: Option<String>,
    name_column: Option<String>,
    first_name_column: Option<String>,
    last_name_column: Option<String>,
    attended_column: Option<String>,
    duration_column: Option<String>,
    role_column: Option<String>,
    /// Comma-separated roles that are awarded.
    roles: Option<String>,
}

/// Media types that staff tools send for CSV files.
const CSV_MEDIA_TYPES: [&str; 6] = [
    "text/csv",
    "text/plain",
    "text/tab-separated-values",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
];

async fn import(State(app): State<App>, RawQuery(query): RawQuery, request: Request) -> Result<Response, ApiError> {
    let params: ImportParams = parse_query(query.as_deref())?;
    let raw_badge = params
        .badge_id
        .ok_or_else(|| ApiError::bad_request("badge_id", "badge_id is required, as in ?badge_id=rda-serials-2026"))?;
    let badge_id = BadgeId::parse(&raw_badge).map_err(|error| ApiError::bad_request("badge_id", error.to_string()))?;
    let session = session_label(params.session.as_deref()).map_err(|error| ApiError::bad_request("session", error.to_string()))?;
    let media = media_type(request.headers());
    if !media.as_deref().is_some_and(|media| CSV_MEDIA_TYPES.contains(&media)) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as Content-Type: text/csv",
        )
        .with_field("Content-Type"));
    }
    let options = ImportOptions {
        email_column: params.email_column,
        name_column: params.name_column,
        first_name_column: params.first_name_column,
        last_name_column: params.last_name_column,
        attended_column: params.attended_column,
        duration_column: params.duration_column,
        role_column: params.role_column,
        roles: params.roles.map(|roles| {
            roles.split(',').map(|role| role.trim().to_owned()).filter(|role| !role.is_empty()).collect()
        }),
        min_minutes: params
            .min_minutes
            .as_deref()
            .map(|raw| {
                raw.trim().parse::<u32>().map_err(|_| {
                    ApiError::bad_request("min_minutes", format!("min_minutes must be a whole number of minutes, such as 45, not {raw:?}"))
                })
            })
            .transpose()?,
        max_rows: app.settings.limits.import_rows,
    };

    let bytes = read_body(request, app.settings.limits.csv_body_bytes).await?;
    let report = import_roster(&app, &badge_id, session, &bytes, &options).await?;
    Ok(Json(report).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    badge_id: Option<String>,
    email: Option<String>,
    status: Option<String>,
    notification: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

async fn list_awards(State(app): State<App>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let params: ListParams = parse_query(query.as_deref())?;
    let badge_id = params
        .badge_id
        .as_deref()
        .map(|raw| BadgeId::parse(raw).map_err(|error| ApiError::bad_request("badge_id", error.to_string())))
        .transpose()?;
    let email = params
        .email
        .as_deref()
        .map(|raw| EmailAddress::parse(raw).map_err(|error| ApiError::bad_request("email", error.to_string())))
        .transpose()?;
    if badge_id.is_some() == email.is_some() {
        return Err(ApiError::bad_request("badge_id", "give exactly one of badge_id and email"));
    }
    let status = match params.status.as_deref() {
        None => None,
        Some("expired") => Some(StatusFilter::Expired),
        Some(raw) => Some(StatusFilter::Is(badges_shared::domain::AwardStatus::parse(raw).ok_or_else(|| {
            ApiError::bad_request("status", "status must be pending, accepted, declined, revoked or expired")
        })?)),
    };
    let notification = params
        .notification
        .as_deref()
        .map(|raw| {
            NotificationStatus::parse(raw).ok_or_else(|| {
                ApiError::bad_request(
                    "notification",
                    "notification must be queued, sending, sent, delivered, bounced, complained, suppressed or failed",
                )
            })
        })
        .transpose()?;
    let max = app.settings.limits.page_size_max;
    let limit = match params.limit.as_deref() {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => raw.trim().parse::<usize>().unwrap_or(0),
    };
    if limit == 0 || limit > max {
        return Err(ApiError::bad_request("limit", format!("limit must be between 1 and {max}")));
    }

    let query = AwardQuery { badge_id, email, status, notification, limit, cursor: params.cursor, now: app.clock.now() };
    let page = match app.store.list_awards(&query).await {
        Ok(page) => page,
        Err(StoreError::InvalidCursor) => {
            return Err(ApiError::bad_request("cursor", "the cursor is invalid; pass the next_cursor of the previous page"));
        }
        Err(error) => return Err(badges_shared::service::ServiceError::from(error).into()),
    };
    let suppressions = suppressions_of(&app, &page.items).await?;
    let items: Vec<_> = page
        .items
        .into_iter()
        .map(|award| {
            let suppression = suppressions.get(&award.recipient.email).cloned();
            award_resource(&app, award, suppression)
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": page.next_cursor })).into_response())
}

async fn get_award(State(app): State<App>, AwardIdPath(id): AwardIdPath) -> Result<Response, ApiError> {
    let award = awards::load_award(&app, &id).await?;
    Ok(Json(award_view(&app, award).await?).into_response())
}

async fn resend(State(app): State<App>, AwardIdPath(id): AwardIdPath) -> Result<Response, ApiError> {
    let award = awards::queue_resend(&app, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(award_view(&app, award).await?)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeInput {
    reason: String,
}

async fn revoke(
    State(app): State<App>,
    AwardIdPath(id): AwardIdPath,
    JsonBody(input): JsonBody<RevokeInput>,
) -> Result<Response, ApiError> {
    let award = awards::revoke_award(&app, &id, &input.reason).await?;
    Ok(Json(award_view(&app, award).await?).into_response())
}

async fn resend_badge(State(app): State<App>, BadgeIdPath(id): BadgeIdPath) -> Result<Response, ApiError> {
    let report = resend::resend_badge(&app, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(report)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    badge_id: Option<String>,
}

async fn stats(State(app): State<App>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let params: StatsParams = parse_query(query.as_deref())?;
    let raw_badge = params
        .badge_id
        .ok_or_else(|| ApiError::bad_request("badge_id", "badge_id is required, as in ?badge_id=rda-serials-2026"))?;
    let badge_id = BadgeId::parse(&raw_badge).map_err(|error| ApiError::bad_request("badge_id", error.to_string()))?;
    let stats = badges_shared::service::stats::badge_stats(&app, &badge_id).await.map_err(|error| match error {
        badges_shared::service::ServiceError::NotFound { message, .. } => ApiError::not_found(message).with_field("badge_id"),
        other => other.into(),
    })?;
    Ok(Json(stats).into_response())
}
