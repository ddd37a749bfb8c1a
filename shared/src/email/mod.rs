//! The emails of the platform, each built once as MIME bytes so that every
//! mailer (outbox file, SES raw content) sends exactly the same message:
//! the "Save & Share" claim email, the learner-requested resend, reminders
//! and the follow-up survey invitation.
//!
//! Every email has a text and an HTML part with the same content, a plain
//! sender name (the issuer), a subject that names the badge and the
//! issuer, every link also as plain text, and a footer that explains why the
//! recipient gets it and where to ask for a new link. Reminders and survey
//! invitations also carry `List-Unsubscribe` and `List-Unsubscribe-Post`
//! (RFC 8058), so mail clients can offer one-click unsubscribe.

mod followup;
mod resend;

pub use followup::{Reminder, SurveyInvitation, reminder_email, survey_email};
pub use resend::{ResendItem, resend_email};

use askama::Template;
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::domain::{Award, AwardId, BadgeClass, EmailAddress};
use crate::ports::{MailKind, OutgoingEmail};
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
    #[error("an email needs at least one award")]
    NoAwards,
}

/// The footer of every email: why the recipient gets it, where to ask for
/// a new link, and for reminders and invitations how to unsubscribe.
pub(crate) struct Footer {
    /// Reason the recipient gets this email, as one sentence.
    pub reason: String,
    pub resend_url: String,
    pub issuer_email: String,
    pub unsubscribe_url: Option<String>,
}

impl Footer {
    pub(crate) fn new(settings: &Settings, reason: String, unsubscribe_url: Option<String>) -> Self {
        Self {
            reason,
            resend_url: settings.url("/resend"),
            issuer_email: settings.issuer.email.clone(),
            unsubscribe_url,
        }
    }
}

/// What both parts of the claim email show.
struct ClaimContent<'a> {
    recipient_name: &'a str,
    badge_name: &'a str,
    badge_description: &'a str,
    issuer_name: &'a str,
    claim_url: &'a str,
    expires_days: i64,
}

#[derive(Template)]
#[template(path = "email/claim.txt")]
struct ClaimText<'a> {
    content: &'a ClaimContent<'a>,
    footer: &'a Footer,
}

#[derive(Template)]
#[template(path = "email/claim.html")]
struct ClaimHtml<'a> {
    content: &'a ClaimContent<'a>,
    footer: &'a Footer,
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
        claim_url,
        expires_days: settings.claim_token_ttl.num_days(),
    };
    let footer = Footer::new(settings, participation_reason(settings, badge), None);
    let text = ClaimText { content: &content, footer: &footer }.render()?;
    let html = ClaimHtml { content: &content, footer: &footer }.render()?;
    build(
        settings,
        Envelope {
            kind: MailKind::Claim,
            to: &award.recipient.email,
            to_name: content.recipient_name,
            subject: format!("Your badge from {}: {}", settings.issuer.name, badge.name),
            text,
            html,
            award_id: Some(&award.id),
            message_key: format!("{}.{unique}", award.id),
            claim_links: vec![claim_url.to_owned()],
            unsubscribe_url: None,
        },
    )
}

/// Returns the footer sentence of emails about an award that staff recorded.
pub(crate) fn participation_reason(settings: &Settings, badge: &BadgeClass) -> String {
    format!(
        "You receive this email because {} recorded your participation in \u{201c}{}\u{201d}.",
        settings.issuer.name, badge.name
    )
}

/// The parts of a message that differ between the kinds of email.
pub(crate) struct Envelope<'a> {
    pub kind: MailKind,
    pub to: &'a EmailAddress,
    /// Display name of the recipient; empty for none.
    pub to_name: &'a str,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub award_id: Option<&'a AwardId>,
    /// Left part of the Message-ID, unique per message.
    pub message_key: String,
    pub claim_links: Vec<String>,
    pub unsubscribe_url: Option<String>,
}

/// Builds the multipart message: text first, then HTML, because RFC 2046
/// orders alternatives by increasing preference.
pub(crate) fn build(settings: &Settings, envelope: Envelope<'_>) -> Result<OutgoingEmail, EmailError> {
    let from = Mailbox::new(
        Some(settings.issuer.name.clone()),
        settings
            .issuer
            .email
            .parse()
            .map_err(|_| EmailError::Sender(settings.issuer.email.clone()))?,
    );
    let to_name = (!envelope.to_name.is_empty()).then(|| envelope.to_name.to_owned());
    let to = Mailbox::new(to_name, envelope.to.as_str().parse().map_err(|_| EmailError::Recipient)?);

    let sender_domain = settings.issuer.email.rsplit('@').next().unwrap_or("localhost");
    let mut builder = Message::builder()
        .message_id(Some(format!("<{}@{sender_domain}>", envelope.message_key)))
        .from(from)
        .to(to)
        .subject(envelope.subject);
    if let Some(url) = &envelope.unsubscribe_url {
        // RFC 8058: the https URI in angle brackets, and the POST body that
        // a mail client sends to it for one-click unsubscribe.
        builder = builder
            .raw_header(HeaderValue::new(header_name("List-Unsubscribe"), format!("<{url}>")))
            .raw_header(HeaderValue::new(header_name("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click".to_owned()));
    }
    let message = builder.multipart(
        MultiPart::alternative()
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(envelope.text))
            .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(envelope.html)),
    )?;

    Ok(OutgoingEmail {
        kind: envelope.kind,
        to: envelope.to.clone(),
        award_id: envelope.award_id.cloned(),
        raw: message.formatted(),
        claim_links: envelope.claim_links,
    })
}

fn header_name(name: &'static str) -> HeaderName {
    HeaderName::new_from_ascii_str(name)
}
