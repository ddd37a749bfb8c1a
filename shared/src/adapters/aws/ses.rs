//! Mailer on Amazon SES v2. Each message goes out as raw MIME content,
//! byte for byte as `email.rs` built it, paced to the account's sending
//! rate and retried with back-off when SES throttles or fails.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::create_email_identity::CreateEmailIdentityError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
use tokio::time::Instant;

use crate::ports::{MailError, Mailer, OutgoingEmail};

/// Attempts per message, the first one included.
const MAX_ATTEMPTS: u32 = 5;
/// Back-off before the second attempt. It doubles before each later
/// attempt, up to `MAX_BACKOFF`.
const BASE_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Time that a send may take to leave after its pacing slot (signing,
/// scheduling) without pushing a 1-second window over the rate.
const PACING_ALLOWANCE: Duration = Duration::from_millis(50);

/// Sender settings of the SES mailer.
#[derive(Debug, Clone)]
pub struct SesSettings {
    /// Verified SES identity used as the envelope sender (`FromEmailAddress`).
    pub from_address: String,
    /// Configuration set that receives the sending events, if any.
    pub configuration_set: Option<String>,
    /// Maximum send rate of the account, in messages per second.
    pub max_send_rate: f64,
}

/// Mailer that sends through SES v2 `SendEmail` with raw content.
///
/// Every attempt, retries included, waits for a slot of one limiter shared
/// by all concurrent `send` calls on this mailer. Several mailers, or
/// several processes, each keep to the rate on their own, so their sum can
/// exceed it.
pub struct SesMailer {
    client: Client,
    settings: SesSettings,
    pacer: Pacer,
}

impl SesMailer {
    /// Creates the mailer. The SDK's own retries are turned off for its
    /// client, so that every attempt passes the rate limiter.
    ///
    /// # Panics
    ///
    /// Panics when `settings.max_send_rate` is not a positive finite number.
    pub fn new(client: Client, settings: SesSettings) -> Self {
        assert!(
            settings.max_send_rate.is_finite() && settings.max_send_rate > 0.0,
            "the SES max send rate must be a positive number of messages per second, not {}",
            settings.max_send_rate
        );
        let client = Client::from_conf(client.config().to_builder().retry_config(RetryConfig::disabled()).build());
        let pacer = Pacer::new(settings.max_send_rate);
        Self { client, settings, pacer }
    }

    async fn send_once(&self, email: &OutgoingEmail) -> Result<String, SdkError<SendEmailError>> {
        // The raw message is complete, so Blob::new copies it unchanged.
        let raw = RawMessage::builder()
            .data(Blob::new(email.raw.clone()))
            .build()
            .expect("RawMessage has its only required field set");
        let output = self
            .client
            .send_email()
            .from_email_address(&self.settings.from_address)
            .destination(Destination::builder().to_addresses(email.to.as_str()).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.settings.configuration_set.clone())
            .set_email_tags(Some(message_tags(email)))
            .send()
            .await?;
        // SES returns a message id for every accepted message. Its absence
        // is logged, not raised, because raising would send the message again.
        let message_id = output.message_id().unwrap_or_default().to_owned();
        if message_id.is_empty() {
            tracing::warn!("SES accepted a message without returning a message id");
        }
        Ok(message_id)
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let mut attempt = 1;
        loop {
            self.pacer.wait_for_slot().await;
            let error = match self.send_once(email).await {
                Ok(message_id) => return Ok(message_id),
                Err(error) => error,
            };

            let failure = classify(&error);
            let retryable = matches!(failure, Failure::Throttled | Failure::Transient);
            if !retryable || attempt >= MAX_ATTEMPTS {
                return Err(match failure {
                    Failure::Throttled => MailError::Throttled,
                    Failure::Rejected(reason) => MailError::Rejected(reason),
                    Failure::Transient | Failure::Unavailable => MailError::Unavailable(
                        format!("SES SendEmail failed on attempt {attempt} of {MAX_ATTEMPTS}: {}", DisplayErrorContext(&error))
                            .into(),
                    ),
                });
            }

            let delay = backoff(attempt);
            // Only throttling, server and connection errors get here. Their
            // text describes the failure and does not quote the message.
            tracing::warn!(
                attempt,
                max_attempts = MAX_ATTEMPTS,
                delay_ms = delay.as_millis() as u64,
                error = %DisplayErrorContext(&error),
                "SES SendEmail failed; retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// Returns the SES tags of a message: its kind, and the award it is about
/// when it names one. Delivery events carry them back.
fn message_tags(email: &OutgoingEmail) -> Vec<MessageTag> {
    let tag = |name: &str, value: &str| MessageTag::builder().name(name).value(value).build().expect("name and value are set");
    let mut tags = vec![tag("kind", email.kind.as_str())];
    if let Some(award_id) = &email.award_id {
        tags.push(tag("award_id", award_id.as_str()));
    }
    tags
}

/// Creates an email address identity, for development set-ups and tests.
/// On AWS the address must then be verified through the link SES sends to
/// it; moto treats it as verified at once. An existing identity is not an
/// error.
pub async fn create_sender_identity(client: &Client, address: &str) -> Result<(), MailError> {
    match client.create_email_identity().email_identity(address).send().await {
        Ok(_) => Ok(()),
        Err(error) if matches!(error.as_service_error(), Some(CreateEmailIdentityError::AlreadyExistsException(_))) => {
            Ok(())
        }
        Err(error) => Err(MailError::Unavailable(
            format!("SES CreateEmailIdentity for {address:?} failed: {}", DisplayErrorContext(&error)).into(),
        )),
    }
}

/// Outcome class of a failed `SendEmail` attempt.
#[derive(Debug, PartialEq)]
enum Failure {
    /// Throttling by SES, retried and then returned as `MailError::Throttled`.
    Throttled,
    /// A server error or a failed connection, retried and then returned as
    /// `MailError::Unavailable`.
    Transient,
    /// A permanent rejection of the message, the sender or the account,
    /// returned as `MailError::Rejected`.
    Rejected(String),
    /// Any other failure, returned as `MailError::Unavailable` without a retry.
    Unavailable,
}

fn classify(error: &SdkError<SendEmailError>) -> Failure {
    match error {
        SdkError::ServiceError(context) => classify_service_error(context.err(), context.raw().status().as_u16()),
        // The request timed out or the connection failed before a response
        // arrived.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => Failure::Transient,
        // A response that could not be read may belong to a sent message,
        // so it is not retried here.
        _ => Failure::Unavailable,
    }
}

fn classify_service_error(error: &SendEmailError, status: u16) -> Failure {
    match error {
        SendEmailError::TooManyRequestsException(_) => Failure::Throttled,
        // A resource or account limit, which seconds of back-off do not
        // clear, so the worker tries again on a later round.
        SendEmailError::LimitExceededException(_) => Failure::Unavailable,
        SendEmailError::MessageRejected(_)
        | SendEmailError::AccountSuspendedException(_)
        | SendEmailError::MailFromDomainNotVerifiedException(_)
        | SendEmailError::BadRequestException(_)
        | SendEmailError::NotFoundException(_) => Failure::Rejected(error.to_string()),
        // Sending is paused for the account or the configuration set until
        // someone resumes it, so the message is kept for a later round.
        SendEmailError::SendingPausedException(_) => Failure::Unavailable,
        // Errors without a modelled variant, such as the `Throttling` code
        // and 5xx server errors.
        _ if matches!(error.code(), Some("Throttling" | "ThrottlingException" | "TooManyRequestsException")) => {
            Failure::Throttled
        }
        _ if status == 429 => Failure::Throttled,
        _ if (500..600).contains(&status) => Failure::Transient,
        _ => Failure::Unavailable,
    }
}

/// Returns the wait before attempt `attempt + 1`: half of the doubled
/// base delay fixed, the other half random, so that concurrent senders
/// spread out.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE_BACKOFF.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_BACKOFF);
    let fraction = match getrandom::u64() {
        Ok(value) => (value >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    };
    ceiling / 2 + (ceiling / 2).mul_f64(fraction)
}

/// Rate limiter that hands out evenly spaced send slots.
///
/// Slots are `(1 s + PACING_ALLOWANCE) / rate` apart, so any 1-second
/// window contains at most `rate` slots, and still does when each send leaves
/// less than `PACING_ALLOWANCE` after its slot. Idle time earns no burst.
struct Pacer {
    interval: Duration,
    next_slot: std::sync::Mutex<Instant>,
}

impl Pacer {
    fn new(max_send_rate: f64) -> Self {
        let interval = (Duration::from_secs(1) + PACING_ALLOWANCE).div_f64(max_send_rate);
        Self { interval, next_slot: std::sync::Mutex::new(Instant::now()) }
    }

    /// Reserves the first free slot at or after `now`.
    fn reserve_slot(&self, now: Instant) -> Instant {
        // A holder that panics leaves a complete `Instant` behind, so a
        // poisoned lock is still usable.
        let mut next_slot = self.next_slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = (*next_slot).max(now);
        *next_slot = slot + self.interval;
        slot
    }

    /// Reserves the next free slot and sleeps until it. A caller that is
    /// cancelled while sleeping leaves its slot unused.
    async fn wait_for_slot(&self) {
        let slot = self.reserve_slot(Instant::now());
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sesv2::types::error::{MessageRejected, SendingPausedException, TooManyRequestsException};

    #[test]
    fn throttling_is_retried() {
        let error = SendEmailError::TooManyRequestsException(TooManyRequestsException::builder().build());
        assert_eq!(classify_service_error(&error, 429), Failure::Throttled);
    }

    #[test]
    fn message_rejected_is_final() {
        let error = SendEmailError::MessageRejected(MessageRejected::builder().message("Email address is not verified.").build());
        let Failure::Rejected(reason) = classify_service_error(&error, 400) else { panic!("not rejected") };
        assert!(reason.contains("Email address is not verified."), "reason: {reason}");
    }

    #[test]
    fn sending_paused_is_not_rejected() {
        let error = SendEmailError::SendingPausedException(SendingPausedException::builder().build());
        assert_eq!(classify_service_error(&error, 400), Failure::Unavailable);
    }

    #[test]
    fn unmodelled_errors_by_status() {
        let internal = SendEmailError::generic(aws_sdk_sesv2::error::ErrorMetadata::builder().code("InternalFailure").build());
        assert_eq!(classify_service_error(&internal, 500), Failure::Transient);

        let throttling = SendEmailError::generic(aws_sdk_sesv2::error::ErrorMetadata::builder().code("Throttling").build());
        assert_eq!(classify_service_error(&throttling, 400), Failure::Throttled);

        let other = SendEmailError::generic(aws_sdk_sesv2::error::ErrorMetadata::builder().code("Other").build());
        assert_eq!(classify_service_error(&other, 400), Failure::Unavailable);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..=MAX_ATTEMPTS {
            let ceiling = BASE_BACKOFF.saturating_mul(1 << (attempt - 1)).min(MAX_BACKOFF);
            let delay = backoff(attempt);
            assert!(delay >= ceiling / 2, "attempt {attempt}: {delay:?}");
            assert!(delay <= ceiling, "attempt {attempt}: {delay:?}");
        }
        assert!(backoff(40) <= MAX_BACKOFF);
    }

    #[test]
    fn pacer_keeps_every_second_within_rate() {
        let pacer = Pacer::new(10.0);
        let start = Instant::now();
        let mut slots: Vec<Instant> = (0..35).map(|_| pacer.reserve_slot(start)).collect();
        // A caller that arrives after the queue has drained gets its own time.
        let later = slots[34] + Duration::from_secs(3);
        slots.push(pacer.reserve_slot(later));
        assert_eq!(slots[35], later);

        for (index, first) in slots.iter().enumerate() {
            let in_window = slots[index..].iter().take_while(|slot| **slot <= *first + Duration::from_secs(1)).count();
            assert!(in_window <= 10, "{in_window} slots within 1 s of slot {index}");
        }
        // Pacing slows sending by no more than the allowance.
        assert!(slots[10] - slots[0] <= Duration::from_secs(1) + PACING_ALLOWANCE);
    }
}
