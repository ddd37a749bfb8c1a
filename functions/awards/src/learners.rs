//! A learner's public badge page and its Atom feed, at
//! `/learners/{learner_id}` and `/learners/{learner_id}/feed.atom`. The
//! learner id is the recipient's email encrypted with the server key (see
//! `badges_shared::share::learner`); both list the learner's public,
//! accepted awards, newest first.

use std::io::Cursor;

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use badges_shared::App;
use badges_shared::domain::{Award, BadgeClass, EmailAddress};
use badges_shared::openbadges::iso8601;
use badges_shared::service::sharing::public_awards_of;
use badges_shared::share::learner::learner_email;
use badges_shared::web::error::ApiError;
use badges_shared::web::pages::{LearnerAward, LearnerPage, Site, human_date, render};

use crate::badge_image_url;

/// Media type of the feed.
const ATOM: &str = "application/atom+xml";

fn learner(app: &App, id: &str) -> Result<EmailAddress, ApiError> {
    app.settings
        .server_key
        .as_ref()
        .and_then(|key| learner_email(key, id))
        .ok_or_else(|| ApiError::not_found("no learner page has this address"))
}

/// Returns the name on the newest award that has one.
fn learner_name(awards: &[(Award, BadgeClass)]) -> String {
    awards.iter().map(|(award, _)| award.recipient.name.as_str()).find(|name| !name.is_empty()).unwrap_or("").to_owned()
}

pub async fn page(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let email = learner(&app, &id)?;
    let awards = public_awards_of(&app, &email).await?;
    let now = app.clock.now();
    let settings = &app.settings;
    let page = LearnerPage {
        site: Site::new(settings),
        learner_name: learner_name(&awards),
        page_url: settings.url(&format!("/learners/{id}")),
        feed_url: settings.url(&format!("/learners/{id}/feed.atom")),
        awards: awards
            .iter()
            .map(|(award, badge)| LearnerAward {
                award_url: settings.award_url(&award.id),
                badge_name: badge.name.clone(),
                badge_format: badge.format.clone(),
                image_url: badge_image_url(&app, badge),
                issued_on: human_date(award.issued_on),
                status: if award.is_expired(now) { "expired" } else { "valid" }.to_owned(),
            })
            .collect(),
    };
    let mut response = render(&page);
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}

pub async fn feed(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let email = learner(&app, &id)?;
    let awards = public_awards_of(&app, &email).await?;
    let xml = atom_feed(&app, &id, &awards, app.clock.now()).map_err(|error| {
        tracing::error!(error = %error, "writing the Atom feed failed");
        ApiError::internal()
    })?;
    let mut response = xml.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ATOM));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}

/// When an award entered the feed: its acceptance, or its issue date.
fn entry_time(award: &Award) -> DateTime<Utc> {
    award.responded_at.unwrap_or(award.issued_on)
}

/// Writes the Atom feed (RFC 4287). Every text and attribute goes through
/// quick-xml's escaping. An empty feed is dated `now`.
fn atom_feed(app: &App, id: &str, awards: &[(Award, BadgeClass)], now: DateTime<Utc>) -> std::io::Result<String> {
    let settings = &app.settings;
    let page_url = settings.url(&format!("/learners/{id}"));
    let feed_url = settings.url(&format!("/learners/{id}/feed.atom"));
    let name = learner_name(awards);
    let title = if name.is_empty() { "Badges".to_owned() } else { format!("Badges of {name}") };
    let updated = awards.iter().map(|(award, _)| entry_time(award)).max().unwrap_or(now);
    let issuer = &settings.issuer;

    let mut writer = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    writer.create_element("feed").with_attribute(("xmlns", "http://www.w3.org/2005/Atom")).write_inner_content(|writer| {
        writer.create_element("id").write_text_content(BytesText::new(&page_url))?;
        writer.create_element("title").write_text_content(BytesText::new(&title))?;
        writer
            .create_element("subtitle")
            .write_text_content(BytesText::new(&format!("Badges from {} that the recipient chose to show", issuer.name)))?;
        writer.create_element("updated").write_text_content(BytesText::new(&iso8601(updated)))?;
        writer
            .create_element("link")
            .with_attributes([("rel", "self"), ("type", ATOM), ("href", feed_url.as_str())])
            .write_empty()?;
        writer
            .create_element("link")
            .with_attributes([("rel", "alternate"), ("type", "text/html"), ("href", page_url.as_str())])
            .write_empty()?;
        writer.create_element("author").write_inner_content(|writer| {
            writer.create_element("name").write_text_content(BytesText::new(&issuer.name))?;
            writer.create_element("uri").write_text_content(BytesText::new(&issuer.url))?;
            Ok(())
        })?;
        writer.create_element("generator").write_text_content(BytesText::new(&issuer.name))?;

        for (award, badge) in awards {
            let award_url = settings.award_url(&award.id);
            let entry_title = if award.recipient.name.is_empty() {
                badge.name.clone()
            } else {
                format!("{} earned “{}”", award.recipient.name, badge.name)
            };
            writer.create_element("entry").write_inner_content(|writer| {
                writer.create_element("id").write_text_content(BytesText::new(&award_url))?;
                writer.create_element("title").write_text_content(BytesText::new(&entry_title))?;
                writer.create_element("updated").write_text_content(BytesText::new(&iso8601(entry_time(award))))?;
                writer.create_element("published").write_text_content(BytesText::new(&iso8601(award.issued_on)))?;
                writer
                    .create_element("link")
                    .with_attributes([("rel", "alternate"), ("type", "text/html"), ("href", award_url.as_str())])
                    .write_empty()?;
                writer
                    .create_element("summary")
                    .with_attribute(("type", "text"))
                    .write_text_content(BytesText::new(&badge.description))?;
                if let Some(format) = &badge.format {
                    writer.create_element("category").with_attribute(("term", format.as_str())).write_empty()?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    let bytes = writer.into_inner().into_inner();
    String::from_utf8(bytes).map_err(std::io::Error::other)
}
