//! The "Save & Share" claim email, built once as MIME bytes so that every
//! mailer (outbox file, SES raw content) sends exactly the same message.

use askama::Template;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};

use crate::domain::{Award, BadgeClass};
use crate::ports::OutgoingEmail;
use crate::settings::Settings;

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("the sender address {0:?} is invalid")]
    Sender(String),
    #[error("the recipient address is invalid")]
    Recipient,
    #[error("the email could not be rendered: {0}")]
    Render(#[from] askama::Error),
    #[error("the email could not be built: {0}")]
    Build(#[from] lettre::error::Error),
}

/// What both parts of the claim email show.
struct ClaimContent<'a> {
    recipient_name: &'a str,
    badge_name: &'a str,
    badge_description: &'a str,
    issuer_name: &'a str,
    issuer_email: &'a str,
    claim_url: &'a str,
    expires_days: i64,
}

#[derive(Template)]
#[template(path = "email/claim.txt")]
struct ClaimText<'a> {
    content: &'a ClaimContent<'a>,
}

#[derive(Template)]
#[template(path = "email/claim.html")]
struct ClaimHtml<'a> {
    content: &'a ClaimContent<'a>,
}

/// Builds the claim email for one award. `unique` makes the Message-ID
/// unique among resends of the same award (for example random hex).
pub fn claim_email(
    settings: &Settings,
    award: &Award,
    badge: &BadgeClass,
    claim_url: &str,
    unique: &str,
) -> Result<OutgoingEmail, EmailError> {
    let content = ClaimContent {
        recipient_name: award.recipient.name.trim(),
        badge_name: &badge.name,
        badge_description: &badge.description,
        issuer_name: &settings.issuer.name,
        issuer_email: &settings.issuer.email,
        claim_url,
        expires_days: settings.claim_token_ttl.num_days(),
    };
    let text = ClaimText { content: &content }.render()?;
    let html = ClaimHtml { content: &content }.render()?;

    let from = Mailbox::new(
        Some(settings.issuer.name.clone()),
        settings
            .issuer
            .email
            .parse()
            .map_err(|_| EmailError::Sender(settings.issuer.email.clone()))?,
    );
    let to_name = (!content.recipient_name.is_empty()).then(|| content.recipient_name.to_owned());
    let to = Mailbox::new(to_name, award.recipient.email.as_str().parse().map_err(|_| EmailError::Recipient)?);
    let subject = format!("Your badge from {}: {}", settings.issuer.name, badge.name);

    let sender_domain = settings.issuer.email.rsplit('@').next().unwrap_or("localhost");
    let message = Message::builder()
        .message_id(Some(format!("<{}.{unique}@{sender_domain}>", award.id)))
        .from(from)
        .to(to)
        .subject(subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html)),
        )?;

    Ok(OutgoingEmail {
        to: award.recipient.email.clone(),
        award_id: Some(award.id.clone()),
        raw: message.formatted(),
        claim_links: vec![claim_url.to_owned()],
    })
}
