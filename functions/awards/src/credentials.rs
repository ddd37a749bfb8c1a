//! Open Badges 3.0 routes: an award's signed credential as JSON and baked
//! into the badge's PNG or SVG, the revocation status lists, and the DID
//! document of a `did:web` issuer.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use badges_shared::App;
use badges_shared::domain::{AwardId, AwardStatus, ImageKind};
use badges_shared::ob3::MEDIA_TYPE_VC_LD_JSON;
use badges_shared::service::credentials::{
    award_credential, baked_credential_image, did_document, parse_list_number, require_signer, status_list_credential,
};
use badges_shared::web::error::ApiError;
use badges_shared::web::extract::AwardIdPath;

use crate::public_award;

/// Media type of a DID document in its JSON-LD representation.
const DID_LD_JSON: &str = "application/did+ld+json";

/// How long caches may keep a status list, in seconds. Short, so that a
/// revocation reaches verifiers within minutes.
const STATUS_LIST_MAX_AGE: &str = "public, max-age=60";

fn json_response(document: &Value, content_type: &'static str, cache_control: &'static str) -> Response {
    let mut response = document.to_string().into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
    response
}

/// Loads an accepted award and its badge. Revoked awards get 410, and
/// pending, declined and unknown ones 404, as with the Open Badges 2.0
/// baked images.
async fn accepted_award(
    app: &App,
    id: &AwardId,
) -> Result<(badges_shared::domain::Award, badges_shared::domain::BadgeClass), ApiError> {
    require_signer(app)?;
    let (award, badge) = public_award(app, id).await?;
    if award.status == AwardStatus::Revoked {
        return Err(ApiError::new(StatusCode::GONE, "revoked", "this award has been revoked"));
    }
    Ok((award, badge))
}

/// `GET /awards/{award_id}/credential.json`: the signed OpenBadgeCredential.
pub async fn credential_json(State(app): State<App>, AwardIdPath(id): AwardIdPath) -> Result<Response, ApiError> {
    let (award, badge) = accepted_award(&app, &id).await?;
    let credential = award_credential(&app, &award, &badge).await?;
    let mut response = json_response(&credential, MEDIA_TYPE_VC_LD_JSON, "public, max-age=300");
    let disposition = format!("inline; filename=\"{id}-credential.json\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /awards/{award_id}/credential.png`: the badge PNG with the credential baked in.
pub async fn credential_png(State(app): State<App>, AwardIdPath(id): AwardIdPath) -> Result<Response, ApiError> {
    credential_image(&app, &id, ImageKind::Png).await
}

/// `GET /awards/{award_id}/credential.svg`: the badge SVG with the credential baked in.
pub async fn credential_svg(State(app): State<App>, AwardIdPath(id): AwardIdPath) -> Result<Response, ApiError> {
    credential_image(&app, &id, ImageKind::Svg).await
}

async fn credential_image(app: &App, id: &AwardId, kind: ImageKind) -> Result<Response, ApiError> {
    let (award, badge) = accepted_award(app, id).await?;
    let Some(bytes) = baked_credential_image(app, &award, &badge, kind).await? else {
        return Err(ApiError::not_found(format!("this badge has no {} image", kind.extension().to_uppercase())));
    };
    let mut response = bytes.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(kind.content_type()));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}

/// `GET /credentials/status/{list}`: the signed BitstringStatusListCredential.
/// A list that no award uses yet is served with every bit clear.
pub async fn status_list(State(app): State<App>, Path(list): Path<String>) -> Result<Response, ApiError> {
    let Some(list) = parse_list_number(&list) else {
        let shown: String = list.chars().take(40).collect();
        return Err(ApiError::not_found(format!(
            "no status list is numbered {shown:?}: list numbers are whole numbers from 1 to {}, without leading zeros",
            u32::MAX
        ))
        .with_field("list"));
    };
    let credential = status_list_credential(&app, list).await?;
    Ok(json_response(&credential, MEDIA_TYPE_VC_LD_JSON, STATUS_LIST_MAX_AGE))
}

/// `GET /.well-known/did.json`: the issuer's DID document when the issuer
/// is a `did:web`; 404 when it is a `did:key`, which needs no document.
pub async fn did_json(State(app): State<App>) -> Result<Response, ApiError> {
    match did_document(&app) {
        Some(document) => Ok(json_response(&document, DID_LD_JSON, "public, max-age=3600")),
        None => Err(ApiError::not_found("this issuer uses did:key, so it publishes no did:web document")),
    }
}
