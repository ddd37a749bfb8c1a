//! `GET /verify` (the form) and `POST /verify` (the check).
//!
//! The form posts `multipart/form-data` with the fields `file`, `url`,
//! `json` (assertion or credential JSON, or a VC-JWT), `email` and
//! `status_list` (a copy of an Open Badges 3.0 status-list credential).
//! Programs may instead post the raw image (`image/png`,
//! `image/svg+xml`), JSON (`application/json`, `application/ld+json`,
//! `application/vc+ld+json`), a VC-JWT (`application/vc+jwt`,
//! `application/jwt`, or `text/plain` text in the compact JWT form) or a
//! URL (`text/plain`), with the email in the `email` query parameter.
//! Browsers get the result page; other clients get the report as JSON.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use badges_shared::App;
use badges_shared::images::BakedPayload;
use badges_shared::service::ServiceError;
use badges_shared::verify::{Evidence, StoreResolver, verify};
use badges_shared::web::error::ApiError;
use badges_shared::web::extract::{body_too_large, media_type, parse_form, read_body};
use badges_shared::web::middleware::FinalBody;
use badges_shared::web::pages::{Site, VerifyPage, VerifyResult, render};
use badges_shared::web::prefers_html;

/// The fields of the form, as text, except the file.
#[derive(Default, Deserialize)]
struct FormFields {
    #[serde(default)]
    url: String,
    #[serde(default)]
    json: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    status_list: String,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailQuery {
    #[serde(default)]
    email: Option<String>,
}

fn max_upload(app: &App) -> String {
    format!("{} MiB", app.settings.limits.verify_body_bytes / (1024 * 1024))
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn page(State(app): State<App>) -> Response {
    render(&VerifyPage {
        site: Site::new(&app.settings),
        max_upload: max_upload(&app),
        url: String::new(),
        json: String::new(),
        email: String::new(),
        status_list: String::new(),
        error: None,
        result: None,
    })
}

pub async fn submit(
    State(app): State<App>,
    query: Result<Query<EmailQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::bad_request("query", format!("invalid query: {}", error.body_text())))?;
    let html = prefers_html(request.headers());
    let limit = app.settings.limits.verify_body_bytes;
    let media = media_type(request.headers()).unwrap_or_default();
    let (evidence, fields, file_given) = match media.as_str() {
        "multipart/form-data" => read_multipart(request, limit).await?,
        "application/x-www-form-urlencoded" => {
            let fields: FormFields = parse_form(&read_body(request, limit).await?)?;
            (None, fields, false)
        }
        "image/png" | "image/svg+xml" => {
            let bytes = non_empty(read_body(request, limit).await?.to_vec())?;
            (Some(Evidence::Image(bytes)), FormFields::default(), true)
        }
        "application/json" | "application/ld+json" => {
            let text = body_text(&non_empty(read_body(request, limit).await?.to_vec())?)?;
            (None, FormFields { json: text, ..FormFields::default() }, false)
        }
        "application/vc+ld+json" | "application/vc+jwt" | "application/jwt" => {
            // The media type declares an Open Badges 3.0 credential, so the
            // body is checked as one whatever it looks like.
            let text = body_text(&non_empty(read_body(request, limit).await?.to_vec())?)?;
            if media != "application/vc+ld+json" && text.trim().split('.').count() != 3 {
                return Err(ApiError::bad_request(
                    "body",
                    format!("the body is not a compact JWT (three base64url parts separated by dots), as {media} requires"),
                ));
            }
            let evidence = Evidence::Credential(text.clone());
            (Some(evidence), FormFields { json: text, ..FormFields::default() }, false)
        }
        "text/plain" => {
            // A URL, or a VC-JWT pasted as text.
            let text = body_text(&non_empty(read_body(request, limit).await?.to_vec())?)?;
            let is_jwt = matches!(BakedPayload::classify(&text), Ok(BakedPayload::Jwt(_)));
            if is_jwt {
                (None, FormFields { json: text, ..FormFields::default() }, false)
            } else {
                (None, FormFields { url: text, ..FormFields::default() }, false)
            }
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send multipart/form-data with file, url, json, email or status_list; or the raw image/png, image/svg+xml, \
                 application/json, application/vc+ld+json, application/vc+jwt or text/plain URL",
            )
            .with_field("Content-Type"));
        }
    };
    let email = query.email.clone().filter(|email| !email.trim().is_empty()).or_else(|| Some(fields.email.clone()));
    let evidence = choose_evidence(evidence, &fields, file_given).and_then(|evidence| {
        let status_list = parse_status_list(&fields.status_list)?;
        Ok((evidence, status_list))
    });
    let (evidence, status_list) = match evidence {
        Ok(found) => found,
        Err(error) if html => {
            // Show the form again with the message and what was typed.
            let page = VerifyPage {
                site: Site::new(&app.settings),
                max_upload: max_upload(&app),
                url: fields.url,
                json: fields.json,
                email: email.unwrap_or_default(),
                status_list: fields.status_list,
                error: Some(format!("{}.", capitalize(&error.message))),
                result: None,
            };
            let mut response = no_store(render(&page));
            *response.status_mut() = error.status;
            response.extensions_mut().insert(FinalBody);
            return Ok(response);
        }
        Err(error) => return Err(error),
    };

    let resolver = StoreResolver { app: &app };
    let report = verify(&app.settings, &resolver, &evidence, email.as_deref(), status_list.as_ref(), app.clock.now())
        .await
        .map_err(ServiceError::from)?;
    tracing::info!(
        status = report.status.as_str(),
        version = report.open_badges_version,
        assertion_id = report.assertion_id.as_deref().unwrap_or(""),
        credential_id = report.credential_id.as_deref().unwrap_or(""),
        "badge verified"
    );

    if !html {
        return Ok(no_store(axum::Json(&report).into_response()));
    }
    let page = VerifyPage {
        site: Site::new(&app.settings),
        max_upload: max_upload(&app),
        url: fields.url,
        json: fields.json,
        email: email.unwrap_or_default(),
        status_list: fields.status_list,
        error: None,
        result: Some(VerifyResult::new(&report)),
    };
    Ok(no_store(render(&page)))
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Rejects an empty raw body, naming the `body` field.
fn non_empty(bytes: Vec<u8>) -> Result<Vec<u8>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("body", "the body is empty; send the badge image, JSON, VC-JWT or address as the body"));
    }
    Ok(bytes)
}

fn body_text(bytes: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::bad_request("body", "the body is not UTF-8 text"))
}

/// Reads the verification form. The whole body is read first, so the
/// size limit covers the multipart framing too.
async fn read_multipart(request: Request, limit: usize) -> Result<(Option<Evidence>, FormFields, bool), ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = read_body(Request::from_parts(parts.clone(), body), limit).await?;
    let request = Request::from_parts(parts, Body::from(bytes));
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|error| ApiError::bad_request("body", format!("invalid multipart form: {}", error.body_text())))?;

    let mut fields = FormFields::default();
    let mut file = None;
    let mut file_given = false;
    let invalid = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            body_too_large(limit)
        } else {
            ApiError::bad_request("body", format!("invalid multipart form: {}", error.body_text()))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(invalid)? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                // A form submitted without choosing a file sends an empty part.
                let has_file_name = field.file_name().is_some_and(|name| !name.is_empty());
                let bytes = field.bytes().await.map_err(invalid)?;
                if !bytes.is_empty() || has_file_name {
                    file_given = true;
                    file = Some(Evidence::Image(bytes.to_vec()));
                }
            }
            "url" => fields.url = field.text().await.map_err(invalid)?,
            "json" => fields.json = field.text().await.map_err(invalid)?,
            "email" => fields.email = field.text().await.map_err(invalid)?,
            "status_list" => {
                // A file input (a downloaded list) or pasted text.
                let bytes = field.bytes().await.map_err(invalid)?;
                fields.status_list = String::from_utf8(bytes.to_vec())
                    .map_err(|_| ApiError::bad_request("status_list", "the status list is not UTF-8 text"))?;
            }
            other => {
                return Err(ApiError::bad_request(
                    other,
                    format!("unknown form field {other:?}; use file, url, json, email or status_list"),
                ));
            }
        }
    }
    Ok((file, fields, file_given))
}

/// Parses the optional status-list credential of the form.
fn parse_status_list(text: &str) -> Result<Option<Value>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(list) if list.is_object() => Ok(Some(list)),
        _ => Err(ApiError::bad_request(
            "status_list",
            "the status list is not a JSON object; give the BitstringStatusListCredential as its issuer publishes it",
        )),
    }
}

/// Picks the one piece of evidence given: a file, a URL or JSON. A raw
/// credential body arrives as `file`, with its text also in `json` so that
/// the result page can show it.
fn choose_evidence(file: Option<Evidence>, fields: &FormFields, file_given: bool) -> Result<Evidence, ApiError> {
    let url = fields.url.trim();
    let json = fields.json.trim();
    let json_given = !json.is_empty() && !matches!(file, Some(Evidence::Credential(_)));
    let given = usize::from(file_given) + usize::from(!url.is_empty()) + usize::from(json_given);
    if given > 1 {
        return Err(ApiError::bad_request("body", "give only one of a badge image, an address or JSON"));
    }
    if let Some(file) = file {
        return Ok(file);
    }
    if !url.is_empty() {
        return Ok(Evidence::Url(url.to_owned()));
    }
    if !json.is_empty() {
        return Ok(Evidence::Json(json.to_owned()));
    }
    Err(ApiError::bad_request("file", "choose a badge image, or paste the badge's address or its JSON"))
}
