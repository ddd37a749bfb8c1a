//! Emails of the scheduled job: reminders of an unclaimed badge and the
//! follow-up survey invitation. Both carry one-click unsubscribe headers.

use askama::Template;

use crate::domain::{Award, BadgeClass};
use crate::email::{EmailError, Envelope, Footer, build, participation_reason};
use crate::web::pages::human_date;
use crate::ports::{MailKind, OutgoingEmail};
use crate::settings::Settings;

/// A reminder of the claim email of one award.
pub struct Reminder<'a> {
    pub award: &'a Award,
    pub badge: &'a BadgeClass,
    pub claim_url: &'a str,
    /// Whether no reminder follows this one.
    pub last: bool,
    pub unsubscribe_url: &'a str,
}

struct ReminderContent<'a> {
    recipient_name: &'a str,
    badge_name: &'a str,
    issuer_name: &'a str,
    issued_on: String,
    claim_url: &'a str,
    expires_days: i64,
    last: bool,
}

#[derive(Template)]
#[template(path = "email/reminder.txt")]
struct ReminderText<'a> {
    content: &'a ReminderContent<'a>,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "email/reminder.html")]
struct ReminderHtml<'a> {
    content: &'a ReminderContent<'a>,
    footer: &'a Footer,
}

/// Builds a reminder. `unique` makes the Message-ID unique.
pub fn reminder_email(settings: &Settings, reminder: &Reminder<'_>, unique: &str) -> Result<OutgoingEmail, EmailError> {
    let content = ReminderContent {
        recipient_name: reminder.award.recipient.name.trim(),
        badge_name: &reminder.badge.name,
        issuer_name: &settings.issuer.name,
        issued_on: human_date(reminder.award.issued_on),
        claim_url: reminder.claim_url,
        expires_days: settings.claim_token_ttl.num_days(),
        last: reminder.last,
    };
    let footer = Footer::new(
        settings,
        participation_reason(settings, reminder.badge),
        Some(reminder.unsubscribe_url.to_owned()),
    );
    let text = ReminderText { content: &content, footer: &footer }.render()?;
    let html = ReminderHtml { content: &content, footer: &footer }.render()?;
    build(
        settings,
        Envelope {
            kind: MailKind::Reminder,
            to: &reminder.award.recipient.email,
            to_name: content.recipient_name,
            subject: format!("Reminder: your badge from {}: {}", settings.issuer.name, reminder.badge.name),
            text,
            html,
            award_id: Some(&reminder.award.id),
            message_key: format!("{}.reminder.{unique}", reminder.award.id),
            claim_links: vec![reminder.claim_url.to_owned()],
            unsubscribe_url: Some(reminder.unsubscribe_url.to_owned()),
        },
    )
}

/// The invitation to a badge's follow-up survey, for an accepted award.
pub struct SurveyInvitation<'a> {
    pub award: &'a Award,
    pub badge: &'a BadgeClass,
    pub survey_url: &'a str,
    pub unsubscribe_url: &'a str,
}

struct SurveyContent<'a> {
    recipient_name: &'a str,
    badge_name: &'a str,
    issuer_name: &'a str,
    survey_url: &'a str,
    award_url: String,
}

#[derive(Template)]
#[template(path = "email/survey.txt")]
struct SurveyText<'a> {
    content: &'a SurveyContent<'a>,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "email/survey.html")]
struct SurveyHtml<'a> {
    content: &'a SurveyContent<'a>,
    footer: &'a Footer,
}

/// Builds a survey invitation. `unique` makes the Message-ID unique.
pub fn survey_email(
    settings: &Settings,
    invitation: &SurveyInvitation<'_>,
    unique: &str,
) -> Result<OutgoingEmail, EmailError> {
    let content = SurveyContent {
        recipient_name: invitation.award.recipient.name.trim(),
        badge_name: &invitation.badge.name,
        issuer_name: &settings.issuer.name,
        survey_url: invitation.survey_url,
        award_url: settings.award_url(&invitation.award.id),
    };
    let reason = format!(
        "You receive this email because you accepted the badge \u{201c}{}\u{201d} from {}.",
        invitation.badge.name, settings.issuer.name
    );
    let footer = Footer::new(settings, reason, Some(invitation.unsubscribe_url.to_owned()));
    let text = SurveyText { content: &content, footer: &footer }.render()?;
    let html = SurveyHtml { content: &content, footer: &footer }.render()?;
    build(
        settings,
        Envelope {
            kind: MailKind::Survey,
            to: &invitation.award.recipient.email,
            to_name: content.recipient_name,
            subject: format!("{}: a short survey about {}", settings.issuer.name, invitation.badge.name),
            text,
            html,
            award_id: Some(&invitation.award.id),
            message_key: format!("{}.survey.{unique}", invitation.award.id),
            claim_links: Vec::new(),
            unsubscribe_url: Some(invitation.unsubscribe_url.to_owned()),
        },
    )
}
