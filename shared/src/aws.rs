//! Wiring of the AWS adapters from environment variables, shared by every
//! Lambda entry point and by `badges-local --backend aws`. Each variable is
//! read once, at start-up, and a missing one stops the process naming it.

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::adapters::aws::dynamo::DynamoStore;
use crate::adapters::aws::s3::{S3ImageStore, s3_client};
use crate::adapters::aws::ses::{SesMailer, SesSettings};
use crate::app::{App, IssuerSigner, did_web_host};
use crate::domain::Issuer;
use crate::ports::{Clock, ImageStore, MailError, Mailer, OsRandom, OutgoingEmail, RandomSource, SystemClock};
use crate::settings::{InvalidMailSettings, MailSettings, Settings};
use crate::share::ServerKey;

/// Default SES send rate, in messages per second: the quota of a new
/// production SES account.
pub const DEFAULT_MAX_SEND_RATE: f64 = 14.0;

#[derive(thiserror::Error)]
pub enum EnvError {
    #[error("the environment variable {0} is not set")]
    Missing(&'static str),
    #[error("the environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Prints the message itself, because a Lambda `main` that fails at start-up
/// shows its error in `Debug` form.
impl std::fmt::Debug for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
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
/// `BADGES_ISSUER_URL` and `BADGES_ISSUER_EMAIL`, and the optional
/// `BADGES_COOKIE_SECRET` and `BADGES_LINKEDIN_ORGANIZATION_ID`.
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
    let mut settings = Settings::new(&base_url, issuer);
    if let Some(secret) = optional("BADGES_COOKIE_SECRET") {
        let key = ServerKey::from_secret(&secret)
            .map_err(|error| EnvError::Invalid { name: "BADGES_COOKIE_SECRET", reason: error.to_string() })?;
        settings = settings.with_server_key(key);
    }
    if let Some(id) = optional("BADGES_LINKEDIN_ORGANIZATION_ID") {
        if !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EnvError::Invalid {
                name: "BADGES_LINKEDIN_ORGANIZATION_ID",
                reason: "it must be the numeric id of a LinkedIn organisation page".into(),
            });
        }
        settings = settings.with_linkedin_organization_id(Some(id));
    }
    settings = settings.with_mail(mail_settings_from_env()?);
    Ok(settings)
}

/// Reads the optional `BADGES_RESEND_INTERVAL_MINUTES` (default 15) and
/// `BADGES_REMINDER_DAYS` (comma-separated days, default `7,30`).
pub fn mail_settings_from_env() -> Result<MailSettings, EnvError> {
    let interval = match optional("BADGES_RESEND_INTERVAL_MINUTES") {
        None => MailSettings::DEFAULT_RESEND_INTERVAL_MINUTES as u32,
        Some(raw) => raw.parse::<u32>().map_err(|_| EnvError::Invalid {
            name: "BADGES_RESEND_INTERVAL_MINUTES",
            reason: "it must be a whole number of minutes".into(),
        })?,
    };
    let days = match std::env::var("BADGES_REMINDER_DAYS") {
        // Set but empty means no reminders.
        Ok(raw) => MailSettings::parse_reminder_days(&raw)
            .map_err(|error| EnvError::Invalid { name: "BADGES_REMINDER_DAYS", reason: error.to_string() })?,
        Err(_) => MailSettings::DEFAULT_REMINDER_DAYS.to_vec(),
    };
    MailSettings::new(interval, &days).map_err(|error| {
        let name = match error {
            InvalidMailSettings::ResendInterval(_) => "BADGES_RESEND_INTERVAL_MINUTES",
            _ => "BADGES_REMINDER_DAYS",
        };
        EnvError::Invalid { name, reason: error.to_string() }
    })
}

/// Stops a function that signs owner cookies (claim, awards) when
/// `BADGES_COOKIE_SECRET` is missing.
pub fn require_server_key(settings: &Settings) -> Result<(), EnvError> {
    match settings.server_key {
        Some(_) => Ok(()),
        None => Err(EnvError::Missing("BADGES_COOKIE_SECRET")),
    }
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

/// Environment variable with the ARN or name of the Secrets Manager secret
/// that contains the Open Badges 3.0 issuer key. Only the functions that
/// sign credentials have it.
pub const ISSUER_KEY_SECRET: &str = "BADGES_ISSUER_KEY_SECRET";

/// Reads `BADGES_ISSUER_KEY_SECRET`, whose secret
/// [`load_issuer_signer`](crate::adapters::aws::secrets::load_issuer_signer)
/// reads.
pub fn issuer_key_secret_from_env() -> Result<String, EnvError> {
    required(ISSUER_KEY_SECRET)
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
        issuer_signer: None,
    }
}

/// Builds the SES mailer from the environment.
pub fn ses_mailer(config: &SdkConfig) -> Result<Arc<dyn Mailer>, EnvError> {
    let settings = ses_settings_from_env()?;
    Ok(Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(config), settings)))
}

/// Environment variable with the issuer's Ed25519 seed as 64 hex digits,
/// for emulators and tests. A deployed stack sets `BADGES_ISSUER_KEY_SECRET`.
pub const ISSUER_KEY_SEED: &str = "BADGES_ISSUER_KEY_SEED";
/// Environment variable that chooses the issuer identity: `key` (the
/// default, the key's `did:key`) or `web` (`did:web` of the base URL's host).
pub const ISSUER_DID: &str = "BADGES_ISSUER_DID";

/// Builds the signer of Open Badges 3.0 credentials for the functions that
/// sign (`badges-awards`): from the Secrets Manager secret that
/// `BADGES_ISSUER_KEY_SECRET` names, or else from `BADGES_ISSUER_KEY_SEED`.
/// A secret that cannot be read fails start-up, naming the secret. Returns
/// `None` when neither variable is set, so that the function still serves
/// everything else and the credential routes return 503.
pub async fn issuer_signer_from_env(config: &SdkConfig, settings: &Settings) -> Result<Option<IssuerSigner>, EnvError> {
    let source = IssuerKeySource {
        secret_id: optional(ISSUER_KEY_SECRET),
        seed: optional(ISSUER_KEY_SEED),
        identity: optional(ISSUER_DID),
    };
    issuer_signer(config, settings, &source).await
}

/// Values of the issuer key variables, as [`issuer_signer_from_env`] reads them.
#[derive(Default)]
pub struct IssuerKeySource {
    /// `BADGES_ISSUER_KEY_SECRET`
    pub secret_id: Option<String>,
    /// `BADGES_ISSUER_KEY_SEED`
    pub seed: Option<String>,
    /// `BADGES_ISSUER_DID`
    pub identity: Option<String>,
}

/// Builds the issuer signer from `source`, as [`issuer_signer_from_env`] describes.
pub async fn issuer_signer(
    config: &SdkConfig,
    settings: &Settings,
    source: &IssuerKeySource,
) -> Result<Option<IssuerSigner>, EnvError> {
    let signer = if let Some(secret_id) = &source.secret_id {
        let client = aws_sdk_secretsmanager::Client::new(config);
        crate::adapters::aws::secrets::load_issuer_signer(&client, secret_id)
            .await
            .map_err(|error| EnvError::Invalid { name: ISSUER_KEY_SECRET, reason: error.to_string() })?
    } else if let Some(raw) = &source.seed {
        crate::ob3::Ed25519Signer::from_seed(parse_seed(raw)?)
    } else {
        tracing::warn!(
            variable = ISSUER_KEY_SECRET,
            "no issuer key is configured; Open Badges 3.0 credentials are not served"
        );
        return Ok(None);
    };
    issuer_signer_with_identity(signer, source.identity.as_deref(), &settings.base_url).map(Some)
}

/// Parses the value of `BADGES_ISSUER_KEY_SEED`: 64 hex digits.
fn parse_seed(raw: &str) -> Result<[u8; 32], EnvError> {
    hex::decode(raw.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(EnvError::Invalid { name: ISSUER_KEY_SEED, reason: "it must be 64 hex digits (a 32-byte Ed25519 seed)".into() })
}

/// Wraps `signer` under the identity that `identity` names: `None` or
/// `key` for `did:key`, `web` for `did:web` of the base URL's host.
pub fn issuer_signer_with_identity(
    signer: crate::ob3::Ed25519Signer,
    identity: Option<&str>,
    base_url: &str,
) -> Result<IssuerSigner, EnvError> {
    let public_key = signer.public_key();
    match identity.map(str::trim) {
        None | Some("") | Some("key") => Ok(IssuerSigner::did_key(Arc::new(signer), public_key)),
        Some("web") => {
            let invalid = |reason: String| EnvError::Invalid { name: ISSUER_DID, reason };
            let host = did_web_host(base_url).map_err(invalid)?;
            let signer = signer.with_did_web(&host).map_err(|error| invalid(error.to_string()))?;
            IssuerSigner::did_web(Arc::new(signer), public_key, &host).map_err(|error| invalid(error.to_string()))
        }
        Some(other) => Err(EnvError::Invalid { name: ISSUER_DID, reason: format!("it must be \"key\" or \"web\", not {other:?}") }),
    }
}

/// Builds the app of an HTTP function from the environment: store, images
/// and settings, without a mailer.
pub async fn http_app_from_env() -> Result<App, EnvError> {
    let config = aws_config::load_from_env().await;
    let resources = Resources::from_env(&config)?;
    let settings = settings_from_env()?;
    Ok(app(&config, &resources, settings, Arc::new(NoMailer)))
}

/// Builds the app of the awards function: that of [`http_app_from_env`]
/// plus the issuer signer of [`issuer_signer_from_env`], on one SDK
/// configuration.
pub async fn awards_app_from_env() -> Result<App, EnvError> {
    let config = aws_config::load_from_env().await;
    let resources = Resources::from_env(&config)?;
    let settings = settings_from_env()?;
    let issuer_signer = issuer_signer_from_env(&config, &settings).await?;
    let mut app = app(&config, &resources, settings, Arc::new(NoMailer));
    app.issuer_signer = issuer_signer;
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_seed_must_be_64_hex_digits() {
        assert_eq!(parse_seed(&"ab".repeat(32)).unwrap(), [0xab; 32]);
        for invalid in ["", "ab", &"ab".repeat(33), &"zz".repeat(32)] {
            assert!(parse_seed(invalid).is_err(), "{invalid:?}");
        }
    }

    #[test]
    fn issuer_identity_key_or_web() {
        let signer = || crate::ob3::Ed25519Signer::from_seed([3; 32]);
        let base_url = "https://badges.example.org";

        let by_key = issuer_signer_with_identity(signer(), None, base_url).unwrap();
        assert!(by_key.did().starts_with("did:key:z6Mk"), "{}", by_key.did());
        let named_key = issuer_signer_with_identity(signer(), Some("key"), base_url).unwrap();
        assert_eq!(named_key.did(), by_key.did());

        let by_web = issuer_signer_with_identity(signer(), Some("web"), base_url).unwrap();
        assert_eq!(by_web.did(), "did:web:badges.example.org");
        assert_eq!(by_web.web_host(), Some("badges.example.org"));

        assert!(issuer_signer_with_identity(signer(), Some("web"), "https://example.org/badges").is_err());
        assert!(issuer_signer_with_identity(signer(), Some("jwk"), base_url).is_err());
    }
}
