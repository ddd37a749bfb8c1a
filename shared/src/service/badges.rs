//! Badge classes: create, update, images and the demo catalogue.

use serde::Deserialize;

use crate::app::App;
use crate::domain::{AwardStatus, BadgeClass, BadgeId, Criteria, ImageKind, ImageSize, Issuer};
use crate::ports::{AwardQuery, StatusFilter};
use crate::images::{self, ImageFormat};
use crate::openbadges::{badge_image_key, is_http_url};
use crate::ports::StoreError;
use crate::service::ServiceError;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
pub const MAX_NARRATIVE_CHARS: usize = 10_000;
pub const MAX_TAGS: usize = 30;
pub const MAX_TAG_CHARS: usize = 60;
pub const MAX_EXPIRES_AFTER_DAYS: u32 = 36_500;
pub const MAX_SURVEY_URL_CHARS: usize = 2000;
pub const MAX_SURVEY_DELAY_DAYS: u32 = 365;
/// Hosts of common link shorteners. Spam filters distrust shortened links,
/// and recipients cannot see where they lead, so survey URLs must be full.
const LINK_SHORTENERS: [&str; 14] = [
    "bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at",
    "tiny.cc", "bl.ink", "s.id", "t.ly",
];
/// Width and height of the PNG rendered from an SVG badge image, in pixels.
pub const RENDERED_PNG_SIZE: u32 = 600;

/// Criteria as a request gives them: a narrative string, or an object.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CriteriaInput {
    Narrative(String),
    Object {
        #[serde(default)]
        narrative: Option<String>,
        #[serde(default)]
        url: Option<String>,
    },
}

/// The fields of a badge class that staff set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BadgeInput {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub description: String,
    pub criteria: CriteriaInput,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub expires_after_days: Option<u32>,
    /// Follow-up survey that recipients who accepted are invited to.
    #[serde(default)]
    pub survey_url: Option<String>,
    /// Days after acceptance before the invitation; 0 when not set.
    #[serde(default)]
    pub survey_delay_days: Option<u32>,
}

fn non_blank(field: &str, value: &str, max_chars: usize) -> Result<String, ServiceError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ServiceError::invalid(field, format!("{field} must not be empty")));
    }
    // Line breaks and tabs are allowed in long texts; other control
    // characters are never meant, and in a name a line break is not either.
    let allows_breaks = max_chars > MAX_NAME_CHARS;
    let bad = trimmed.chars().any(|c| c.is_control() && !(allows_breaks && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(ServiceError::invalid(field, format!("{field} must not contain control characters or line breaks")));
    }
    if trimmed.chars().count() > max_chars {
        return Err(ServiceError::invalid(field, format!("{field} is longer than {max_chars} characters")));
    }
    Ok(trimmed.to_owned())
}

fn criteria_of(input: &CriteriaInput) -> Result<Criteria, ServiceError> {
    let (narrative, url) = match input {
        CriteriaInput::Narrative(text) => (Some(text.clone()), None),
        CriteriaInput::Object { narrative, url } => (narrative.clone(), url.clone()),
    };
    let narrative = narrative
        .filter(|text| !text.trim().is_empty())
        .map(|text| non_blank("criteria.narrative", &text, MAX_NARRATIVE_CHARS))
        .transpose()?;
    let url = url.map(|url| url.trim().to_owned()).filter(|url| !url.is_empty());
    if let Some(url) = &url {
        if !is_http_url(url) {
            return Err(ServiceError::invalid("criteria.url", "criteria.url must be an absolute http or https URL"));
        }
    }
    if narrative.is_none() && url.is_none() {
        return Err(ServiceError::invalid("criteria", "criteria needs a narrative, a url, or both"));
    }
    Ok(Criteria { narrative, url })
}

/// Validates the follow-up survey: an absolute http(s) URL that is not a
/// shortened link, and a delay that needs a URL.
fn survey_of(input: &BadgeInput) -> Result<(Option<String>, Option<u32>), ServiceError> {
    let url = input.survey_url.as_deref().map(str::trim).filter(|url| !url.is_empty()).map(str::to_owned);
    if let Some(url) = &url {
        if url.chars().count() > MAX_SURVEY_URL_CHARS {
            return Err(ServiceError::invalid("survey_url", format!("survey_url is longer than {MAX_SURVEY_URL_CHARS} characters")));
        }
        if !is_http_url(url) {
            return Err(ServiceError::invalid("survey_url", "survey_url must be an absolute http or https URL"));
        }
        let host = url.split("://").nth(1).unwrap_or("").split(['/', '?', '#', ':']).next().unwrap_or("").to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host);
        if LINK_SHORTENERS.contains(&host) {
            return Err(ServiceError::invalid(
                "survey_url",
                "survey_url must be the survey's full address, not a shortened link: spam filters distrust shorteners",
            ));
        }
    }
    if let Some(days) = input.survey_delay_days {
        if url.is_none() {
            return Err(ServiceError::invalid("survey_delay_days", "survey_delay_days needs a survey_url"));
        }
        if days > MAX_SURVEY_DELAY_DAYS {
            return Err(ServiceError::invalid(
                "survey_delay_days",
                format!("survey_delay_days must be between 0 and {MAX_SURVEY_DELAY_DAYS}"),
            ));
        }
    }
    Ok((url, input.survey_delay_days))
}

/// Validates the input and applies it to `existing`, or builds a new badge.
fn apply_input(
    app: &App,
    id: BadgeId,
    input: &BadgeInput,
    existing: Option<&BadgeClass>,
) -> Result<BadgeClass, ServiceError> {
    let name = non_blank("name", &input.name, MAX_NAME_CHARS)?;
    let description = non_blank("description", &input.description, MAX_DESCRIPTION_CHARS)?;
    let criteria = criteria_of(&input.criteria)?;
    if input.tags.len() > MAX_TAGS {
        return Err(ServiceError::invalid("tags", format!("at most {MAX_TAGS} tags are allowed")));
    }
    let tags = input
        .tags
        .iter()
        .enumerate()
        .map(|(index, tag)| non_blank(&format!("tags[{index}]"), tag, MAX_TAG_CHARS))
        .collect::<Result<Vec<_>, _>>()?;
    let format = input
        .format
        .as_deref()
        .filter(|format| !format.trim().is_empty())
        .map(|format| non_blank("format", format, MAX_NAME_CHARS))
        .transpose()?;
    if let Some(days) = input.expires_after_days {
        if days == 0 || days > MAX_EXPIRES_AFTER_DAYS {
            return Err(ServiceError::invalid(
                "expires_after_days",
                format!("expires_after_days must be between 1 and {MAX_EXPIRES_AFTER_DAYS}"),
            ));
        }
    }

    let (survey_url, survey_delay_days) = survey_of(input)?;

    let now = app.clock.now();
    Ok(BadgeClass {
        id,
        name,
        description,
        criteria,
        tags,
        format,
        expires_after_days: input.expires_after_days,
        images: existing.map(|badge| badge.images.clone()).unwrap_or_default(),
        png_size: existing.and_then(|badge| badge.png_size),
        survey_url,
        survey_delay_days,
        created_at: existing.map_or(now, |badge| badge.created_at),
        updated_at: now,
    })
}

pub async fn create_badge(app: &App, input: &BadgeInput) -> Result<BadgeClass, ServiceError> {
    let raw_id = input
        .id
        .as_deref()
        .ok_or_else(|| ServiceError::invalid("id", "id is required, for example \"rda-serials-2026\""))?;
    let id = BadgeId::parse(raw_id).map_err(|error| ServiceError::invalid("id", error.to_string()))?;
    let badge = apply_input(app, id, input, None)?;
    match app.store.create_badge(&badge).await {
        Ok(()) => Ok(badge),
        Err(StoreError::Conflict) => Err(ServiceError::Conflict {
            code: "badge_exists",
            message: format!("a badge with id {:?} already exists; use PUT /admin/badges/{} to change it", badge.id.as_str(), badge.id),
        }),
        Err(error) => Err(error.into()),
    }
}

pub async fn load_badge(app: &App, id: &BadgeId) -> Result<BadgeClass, ServiceError> {
    app.store
        .get_badge(id)
        .await?
        .ok_or_else(|| ServiceError::not_found(format!("no badge has id {:?}", id.as_str()), None))
}

pub async fn update_badge(app: &App, id: &BadgeId, input: &BadgeInput) -> Result<BadgeClass, ServiceError> {
    if input.id.as_deref().is_some_and(|body_id| body_id != id.as_str()) {
        return Err(ServiceError::invalid("id", "the id in the body differs from the id in the path; badge ids cannot be changed"));
    }
    let existing = load_badge(app, id).await?;
    let badge = apply_input(app, id.clone(), input, Some(&existing))?;
    app.store.update_badge(&badge).await?;
    let survey_changed =
        (&existing.survey_url, existing.survey_delay_days) != (&badge.survey_url, badge.survey_delay_days);
    if survey_changed {
        crate::service::followup::reschedule_surveys(app, &badge).await?;
    }
    Ok(badge)
}

/// Stores an uploaded badge image after checking it. An SVG image also
/// gets a PNG rendering, because social networks do not show SVG.
pub async fn set_badge_image(
    app: &App,
    id: &BadgeId,
    declared: ImageFormat,
    bytes: &[u8],
) -> Result<BadgeClass, ServiceError> {
    let mut badge = load_badge(app, id).await?;
    images::check_upload(bytes, declared).map_err(|rejected| ServiceError::Rejected {
        code: rejected.code(),
        field: "body".into(),
        message: rejected.message(),
    })?;

    let mut stored = Vec::new();
    let png_size;
    match declared {
        ImageFormat::Png => {
            png_size = crate::share::png_pixel_size(bytes);
            app.images.put(&badge_image_key(id, ImageKind::Png), bytes.to_vec(), ImageKind::Png).await?;
            app.images.delete(&badge_image_key(id, ImageKind::Svg)).await?;
            stored.push(ImageKind::Png);
        }
        ImageFormat::Svg => {
            let png = images::render_png(bytes, RENDERED_PNG_SIZE)
                .map_err(|error| ServiceError::invalid("body", format!("the SVG image could not be rendered: {error}")))?;
            png_size = crate::share::png_pixel_size(&png);
            app.images.put(&badge_image_key(id, ImageKind::Svg), bytes.to_vec(), ImageKind::Svg).await?;
            app.images.put(&badge_image_key(id, ImageKind::Png), png, ImageKind::Png).await?;
            stored.extend([ImageKind::Png, ImageKind::Svg]);
        }
    }

    badge.images = stored;
    badge.png_size = png_size.map(|(width, height)| ImageSize { width, height });
    badge.updated_at = app.clock.now();
    app.store.update_badge(&badge).await?;
    rebake_accepted_awards(app, &badge).await?;
    Ok(badge)
}

/// Bakes the new image into every accepted award of the badge, so that
/// downloads and embeds show the image staff uploaded last.
async fn rebake_accepted_awards(app: &App, badge: &BadgeClass) -> Result<(), ServiceError> {
    let mut cursor = None;
    loop {
        let query = AwardQuery {
            badge_id: Some(badge.id.clone()),
            email: None,
            status: Some(StatusFilter::Is(AwardStatus::Accepted)),
            notification: None,
            limit: 200,
            cursor,
            now: app.clock.now(),
        };
        let page = app.store.list_awards(&query).await?;
        for award in &page.items {
            for kind in [ImageKind::Png, ImageKind::Svg] {
                if !badge.images.contains(&kind) {
                    app.images.delete(&crate::openbadges::baked_image_key(&award.id, kind)).await?;
                }
            }
            crate::service::claims::bake_award_images(app, award, badge).await?;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// The demo catalogue file: an issuer and a list of badge classes.
#[derive(Debug, Deserialize)]
pub struct Catalogue {
    pub issuer: Issuer,
    pub badges: Vec<CatalogueBadge>,
}

#[derive(Debug, Deserialize)]
pub struct CatalogueBadge {
    pub id: String,
    pub name: String,
    pub format: Option<String>,
    pub description: String,
    pub criteria: String,
}

/// Creates every catalogue badge that does not exist yet, with a generated
/// SVG image. Returns how many were created.
pub async fn load_catalogue(app: &App, catalogue: &Catalogue) -> Result<usize, ServiceError> {
    let mut created = 0;
    for entry in &catalogue.badges {
        let input = BadgeInput {
            id: Some(entry.id.clone()),
            name: entry.name.clone(),
            description: entry.description.clone(),
            criteria: CriteriaInput::Narrative(entry.criteria.clone()),
            tags: entry.format.iter().cloned().collect(),
            format: entry.format.clone(),
            expires_after_days: None,
            survey_url: None,
            survey_delay_days: None,
        };
        match create_badge(app, &input).await {
            Ok(badge) => {
                let svg = images::demo_badge_svg(badge.id.as_str(), &badge.name, badge.format.as_deref());
                set_badge_image(app, &badge.id, ImageFormat::Svg, svg.as_bytes()).await?;
                created += 1;
            }
            Err(ServiceError::Conflict { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(created)
}
