//! The email that a learner requests on the resend page: one message with
//! a new claim link for every pending award of the address.

use askama::Template;

use crate::domain::{Award, BadgeClass, EmailAddress};
use crate::email::{EmailError, Envelope, Footer, build};
use crate::ports::{MailKind, OutgoingEmail};
use crate::settings::Settings;

/// One pending award of the resend email, with its new claim link.
pub struct ResendItem<'a> {
    pub award: &'a Award,
    pub badge: &'a BadgeClass,
    pub claim_url: String,
}

/// One line of the list, as both parts show it.
struct ResendLine<'a> {
    badge_name: &'a str,
    session: &'a str,
    claim_url: &'a str,
}

struct ResendContent<'a> {
    recipient_name: &'a str,
    issuer_name: &'a str,
    lines: Vec<ResendLine<'a>>,
    expires_days: i64,
}

#[derive(Template)]
#[template(path = "email/resend.txt")]
struct ResendText<'a> {
    content: &'a ResendContent<'a>,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "email/resend.html")]
struct ResendHtml<'a> {
    content: &'a ResendContent<'a>,
    footer: &'a Footer,
}

/// Builds the resend email to `to` listing `items`, oldest award first.
/// `unique` makes the Message-ID unique (for example random hex).
pub fn resend_email(
    settings: &Settings,
    to: &EmailAddress,
    items: &[ResendItem<'_>],
    unique: &str,
) -> Result<OutgoingEmail, EmailError> {
    let first = items.first().ok_or(EmailError::NoAwards)?;
    let recipient_name = items
        .iter()
        .map(|item| item.award.recipient.name.trim())
        .find(|name| !name.is_empty())
        .unwrap_or("");
    let content = ResendContent {
        recipient_name,
        issuer_name: &settings.issuer.name,
        lines: items
            .iter()
            .map(|item| ResendLine {
                badge_name: &item.badge.name,
                session: item.award.session.as_str(),
                claim_url: &item.claim_url,
            })
            .collect(),
        expires_days: settings.claim_token_ttl.num_days(),
    };
    let reason = format!(
        "You receive this email because someone asked for new badge links for this address on the website of {}. If that was not you, you can ignore it.",
        settings.issuer.name
    );
    let footer = Footer::new(settings, reason, None);
    let text = ResendText { content: &content, footer: &footer }.render()?;
    let html = ResendHtml { content: &content, footer: &footer }.render()?;

    let subject = match items.len() {
        1 => format!("Your badge from {}: {}", settings.issuer.name, first.badge.name),
        count => format!(
            "Your {count} badges from {}: {} and {} more",
            settings.issuer.name,
            first.badge.name,
            count - 1
        ),
    };
    // A message about one award names it, as the claim email does. The
    // events of a message about several are matched by its message id.
    let award_id = (items.len() == 1).then_some(&first.award.id);
    build(
        settings,
        Envelope {
            kind: MailKind::Resend,
            to,
            to_name: recipient_name,
            subject,
            text,
            html,
            award_id,
            message_key: format!("resend.{unique}"),
            claim_links: items.iter().map(|item| item.claim_url.clone()).collect(),
            unsubscribe_url: None,
        },
    )
}
