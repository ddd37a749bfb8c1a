//! Sends claim emails through the SES mailer against moto and prints the
//! achieved rate as one JSON line:
//!
//!   bench-ses-pacing MESSAGES RATE
//!
//! All MESSAGES sends start at once on one mailer whose maximum send rate
//! is RATE messages per second, which is the hardest case for its pacing.
//! Each SendEmail request is timestamped as it leaves the client; the
//! output gives the achieved rate from the first to the last request and
//! the maximum number of requests in any 1-second window. Runs against the
//! endpoint in `AWS_ENDPOINT_URL` with the credentials of the environment.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use aws_sdk_sesv2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sesv2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sesv2::error::BoxError;
use badges_shared::adapters::aws::ses::{SesMailer, SesSettings, create_sender_identity};
use badges_shared::ports::Mailer as _;
use tokio::time::Instant;

const SENDER: &str = "badges@example.org";

/// Records the time at which each SendEmail request leaves the client.
#[derive(Debug, Clone, Default)]
struct SendTimes {
    times: Arc<Mutex<Vec<Instant>>>,
}

impl Intercept for SendTimes {
    fn name(&self) -> &'static str {
        "SendTimes"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let sent_at = Instant::now();
        if context.request().uri().ends_with("/v2/email/outbound-emails") {
            self.times.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(sent_at);
        }
        Ok(())
    }
}

/// Returns the maximum number of times within any window of `window`
/// length that starts at one of them. `times` must be sorted.
fn max_in_window(times: &[Instant], window: Duration) -> usize {
    let mut max = 0;
    let mut end = 0;
    for (start, first) in times.iter().enumerate() {
        while end < times.len() && times[end] <= *first + window {
            end += 1;
        }
        max = max.max(end - start);
    }
    max
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench-ses-pacing MESSAGES RATE";
    let messages: usize = args.next().context(usage)?.parse().context("MESSAGES must be a whole number")?;
    let rate: f64 = args.next().context(usage)?.parse().context("RATE must be a number of messages per second")?;
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        bail!("AWS_ENDPOINT_URL is not set: point it at the moto server that scripts/bench.sh starts");
    }

    let config = aws_config::load_from_env().await;
    let recorder = SendTimes::default();
    let client =
        aws_sdk_sesv2::Client::from_conf(aws_sdk_sesv2::config::Builder::from(&config).interceptor(recorder.clone()).build());
    create_sender_identity(&client, SENDER).await.context("creating the sender identity on moto")?;
    let settings = SesSettings { from_address: SENDER.into(), configuration_set: None, max_send_rate: rate };
    let mailer = Arc::new(SesMailer::new(client, settings));

    let award = badges_bench::sample_award();
    let claim_url = format!("{}/claim/{}?token=bench-token", badges_bench::BASE_URL, award.id);
    let email = badges_shared::email::claim_email(
        &badges_bench::settings(),
        &award,
        &badges_bench::badge_class(),
        &claim_url,
        "bench",
    )
    .context("building the claim email")?;
    let email = Arc::new(email);

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(messages);
    for _ in 0..messages {
        let mailer = mailer.clone();
        let email = email.clone();
        tasks.push(tokio::spawn(async move { mailer.send(&email).await }));
    }
    let mut failed = 0;
    for task in tasks {
        if task.await.context("a send task panicked")?.is_err() {
            failed += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();

    let mut times = recorder.times.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    times.sort();
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        bail!("no SendEmail request was sent");
    };
    let span = last.duration_since(*first).as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "messages": messages,
            "configured_rate": rate,
            "send_email_requests": times.len(),
            "failed": failed,
            "seconds": elapsed,
            "first_to_last_request_seconds": span,
            "achieved_rate": if span > 0.0 { (times.len() - 1) as f64 / span } else { 0.0 },
            "max_requests_in_any_1s_window": max_in_window(&times, Duration::from_secs(1)),
        })
    );
    Ok(())
}
