//! Wiring of the AWS adapters from environment variables, shared by every
//! Lambda entry point and by `badges-local --backend aws`. Each variable is
//! read once, at start-up, and a missing one stops the process naming it.

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::adapters::aws::dynamo::DynamoStore;
use crate::adapters::aws::s3::{S3ImageStore, s3_client};
use crate::adapters::aws::ses::{SesMailer, SesSettings};
use crate::app::App;
use crate::domain::Issuer;
use crate::ports::{Clock, ImageStore, MailError, Mailer, OsRandom, OutgoingEmail, RandomSource, SystemClock};
use crate::settings::Settings;

/// Default SES send rate, in messages per second: the quota of a new
/// production SES account.
pub const DEFAULT_MAX_SEND_RATE: f64 = 14.0;

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("the environment variable {0} is not set")]
    Missing(&'static str),
    #[error("the environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Reads a required, non-empty environment variable.
pub fn required(name: &'static str) -> Result<String, EnvError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(EnvError::Missing(name)),
    }
}

fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().map(|value| value.trim().to_owned()).filter(|value| !value.is_empty())
}

/// Reads the deployment settings: `BADGES_BASE_URL`, `BADGES_ISSUER_NAME`,
/// `BADGES_ISSUER_URL` and `BADGES_ISSUER_EMAIL`.
pub fn settings_from_env() -> Result<Settings, EnvError> {
    let base_url = required("BADGES_BASE_URL")?;
    if !crate::openbadges::is_http_url(&base_url) {
        return Err(EnvError::Invalid { name: "BADGES_BASE_URL", reason: "it must be an absolute http or https URL".into() });
    }
    let issuer = Issuer {
        name: required("BADGES_ISSUER_NAME")?,
        url: required("BADGES_ISSUER_URL")?,
        email: required("BADGES_ISSUER_EMAIL")?,
    };
    Ok(Settings::new(&base_url, issuer))
}

/// Names of the AWS resources, from `BADGES_TABLE`, `BADGES_BUCKET` and
/// `BADGES_IMAGE_BASE_URL`.
#[derive(Debug, Clone)]
pub struct Resources {
    pub table: String,
    pub bucket: String,
    /// Public URL prefix of the bucket's `images/` folder.
    pub image_base_url: String,
}

impl Resources {
    /// Reads the resource names. Without `BADGES_IMAGE_BASE_URL`, images
    /// are addressed on the S3 endpoint: path-style on an emulator set by
    /// `AWS_ENDPOINT_URL`, virtual-hosted on AWS.
    pub fn from_env(config: &SdkConfig) -> Result<Self, EnvError> {
        let table = required("BADGES_TABLE")?;
        let bucket = required("BADGES_BUCKET")?;
        let image_base_url = match optional("BADGES_IMAGE_BASE_URL") {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => match config.endpoint_url() {
                Some(endpoint) => format!("{}/{bucket}/images", endpoint.trim_end_matches('/')),
                None => {
                    let region = config.region().map_or("us-east-1".to_owned(), |region| region.to_string());
                    format!("https://{bucket}.s3.{region}.amazonaws.com/images")
                }
            },
        };
        Ok(Self { table, bucket, image_base_url })
    }
}

/// Sender settings, from `BADGES_SENDER`, `BADGES_SES_CONFIGURATION_SET`
/// and `BADGES_SES_MAX_SEND_RATE` (messages per second).
pub fn ses_settings_from_env() -> Result<SesSettings, EnvError> {
    let max_send_rate = match optional("BADGES_SES_MAX_SEND_RATE") {
        None => DEFAULT_MAX_SEND_RATE,
        Some(raw) => raw
            .parse::<f64>()
            .ok()
            .filter(|rate| rate.is_finite() && *rate > 0.0)
            .ok_or(EnvError::Invalid { name: "BADGES_SES_MAX_SEND_RATE", reason: "it must be a positive number".into() })?,
    };
    Ok(SesSettings {
        from_address: required("BADGES_SENDER")?,
        configuration_set: optional("BADGES_SES_CONFIGURATION_SET"),
        max_send_rate,
    })
}

/// Mailer of the functions that never send email. They have no SES
/// permission, so a send is a wiring fault and fails.
pub struct NoMailer;

#[async_trait::async_trait]
impl Mailer for NoMailer {
    async fn send(&self, _email: &OutgoingEmail) -> Result<String, MailError> {
        Err(MailError::Rejected("this function is not allowed to send email".into()))
    }
}

/// Builds the app on DynamoDB and S3 from one SDK configuration. `mailer`
/// is an `SesMailer` for the functions that send, `NoMailer` otherwise.
pub fn app(config: &SdkConfig, resources: &Resources, settings: Settings, mailer: Arc<dyn Mailer>) -> App {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(config), resources.table.clone());
    let images: Arc<dyn ImageStore> =
        Arc::new(S3ImageStore::new(s3_client(config), resources.bucket.clone(), resources.image_base_url.clone()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
    App {
        store: Arc::new(store),
        images,
        mailer,
        clock,
        random,
        settings: Arc::new(settings),
        notify_queued: Arc::new(tokio::sync::Notify::new()),
    }
}

/// Builds the SES mailer from the environment.
pub fn ses_mailer(config: &SdkConfig) -> Result<Arc<dyn Mailer>, EnvError> {
    let settings = ses_settings_from_env()?;
    Ok(Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(config), settings)))
}

/// Builds the app of an HTTP function from the environment: store, images
/// and settings, without a mailer.
pub async fn http_app_from_env() -> Result<App, EnvError> {
    let config = aws_config::load_from_env().await;
    let resources = Resources::from_env(&config)?;
    let settings = settings_from_env()?;
    Ok(app(&config, &resources, settings, Arc::new(NoMailer)))
}
