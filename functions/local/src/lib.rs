//! The local server: every HTTP route on one port, with the embedded
//! adapters (SQLite file, image folder, outbox folder) and the
//! notification worker running in-process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use badges_shared::adapters::{FolderImageStore, OutboxMailer, SqliteStore};
use badges_shared::app::{App, IssuerSigner};
use badges_shared::domain::Issuer;
use badges_shared::ob3::KeyFileSigner;
use badges_shared::ports::{AwardStore, Clock, FixedClock, ImageStore, OsRandom, RandomSource, SystemClock};
use badges_shared::service::followup::{FollowUpReport, run_follow_ups};
use badges_shared::settings::MailSettings;
use chrono::{DateTime, Utc};
use simulator::SimulatedSesEvents;
use badges_shared::service::badges::{Catalogue, load_catalogue};
use badges_shared::settings::Settings;
use badges_shared::share::ServerKey;
use badges_shared::web::auth::{AdminToken, require_admin};
use badges_shared::web::error::ApiError;

/// The demo catalogue loaded into a new data folder.
pub const DEMO_CATALOGUE: &str = include_str!("../demo/catalog.json");

/// Name of the file in the data folder that keeps the generated admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Name of the file in the data folder that keeps the generated secret of
/// owner cookies and learner ids.
pub const COOKIE_SECRET_FILE: &str = "cookie-secret";

/// Name of the file in the data folder that keeps the issuer's Ed25519
/// key (the raw 32-byte seed), which signs Open Badges 3.0 credentials.
pub const ISSUER_KEY_FILE: &str = "issuer-ed25519.key";

/// How often the worker looks for queued notifications when nothing wakes it.
const WORKER_POLL: Duration = Duration::from_secs(5);

/// Wait after start-up before the first run of the follow-up job.
const FIRST_FOLLOW_UP_DELAY: Duration = Duration::from_secs(60);

pub mod simulator;

/// Resends, reminders and survey invitations.
#[derive(Debug, Clone)]
pub struct MailOptions {
    /// Resend interval and reminder ages.
    pub settings: MailSettings,
    /// How often the in-process job sends the reminders and survey
    /// invitations that are due; `None` turns the job off.
    pub follow_up_every: Option<Duration>,
}

impl MailOptions {
    /// Default period of the follow-up job.
    pub const DEFAULT_FOLLOW_UP_EVERY: Duration = Duration::from_secs(3600);
}

impl Default for MailOptions {
    fn default() -> Self {
        Self { settings: MailSettings::default(), follow_up_every: Some(Self::DEFAULT_FOLLOW_UP_EVERY) }
    }
}

/// Where the server keeps its data.
#[derive(Debug, Clone)]
pub enum Backend {
    /// SQLite file, image folder and outbox folder in the data folder.
    Embedded,
    /// DynamoDB, S3 and SES v2.
    Aws(AwsBackend),
}

/// The AWS resources of `Backend::Aws`.
#[derive(Debug, Clone)]
pub struct AwsBackend {
    pub config: aws_config::SdkConfig,
    pub resources: badges_shared::aws::Resources,
    pub ses: badges_shared::adapters::aws::ses::SesSettings,
    /// Create the table, the bucket and the sender identity first.
    pub create_resources: bool,
}

impl AwsBackend {
    /// Reads the resources from `BADGES_TABLE`, `BADGES_BUCKET`,
    /// `BADGES_SENDER` and the other `BADGES_` variables, and the SDK
    /// configuration (with `AWS_ENDPOINT_URL`) from the environment.
    pub async fn from_env(create_resources: bool) -> anyhow::Result<Self> {
        let config = aws_config::load_from_env().await;
        let resources = badges_shared::aws::Resources::from_env(&config)?;
        let ses = badges_shared::aws::ses_settings_from_env()?;
        Ok(Self { config, resources, ses, create_resources })
    }
}

/// Start-up options of the local server.
#[derive(Debug, Clone)]
pub struct Options {
    pub backend: Backend,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Public base URL; `http://{listen}` when not set.
    pub base_url: Option<String>,
    /// Admin token; read from or generated into the data folder when not set.
    pub admin_token: Option<String>,
    /// Load the demo catalogue when the data folder is new.
    pub load_demo: bool,
    /// Issuer; the demo catalogue's issuer when not set.
    pub issuer: Option<Issuer>,
    /// LinkedIn organisation id of the issuer, for "Add to profile" links.
    pub linkedin_organization_id: Option<String>,
    /// Secret of owner cookies and learner ids; read from or generated
    /// into the data folder when not set.
    pub cookie_secret: Option<String>,
    /// Resends, reminders and survey invitations.
    pub mail: MailOptions,
    /// Identity of the issuer in Open Badges 3.0 credentials.
    pub issuer_did: IssuerDid,
}

/// Identity under which the issuer key signs Open Badges 3.0 credentials.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IssuerDid {
    /// The key's own `did:key`, which verifiers resolve without a request.
    #[default]
    Key,
    /// `did:web` of the base URL's host; the server then serves its DID
    /// document at `/.well-known/did.json`.
    Web,
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub base_url: String,
    pub admin_token: String,
    /// True when the token was generated by this start and must be shown once.
    pub admin_token_generated: bool,
    pub data_dir: PathBuf,
    /// The issuer key file and whether this start created it.
    pub issuer_key_path: PathBuf,
    pub issuer_key_created: bool,
    pub app: App,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    worker: JoinHandle<()>,
    follow_ups: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting requests, waits for the server and worker to end.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.server.await.context("the server task panicked")??;
        self.worker.await.context("the worker task panicked")?;
        if let Some(follow_ups) = self.follow_ups {
            follow_ups.await.context("the follow-up task panicked")?;
        }
        Ok(())
    }

    /// Waits until the server ends (on Ctrl-C when `serve_until_ctrl_c` started it).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.server.await.context("the server task panicked")??;
        let _ = self.shutdown.send(true);
        self.worker.await.context("the worker task panicked")?;
        if let Some(follow_ups) = self.follow_ups {
            follow_ups.await.context("the follow-up task panicked")?;
        }
        Ok(())
    }
}

/// Reads the admin token from the data folder, or generates and stores one.
fn admin_token(data_dir: &Path, random: &dyn RandomSource) -> anyhow::Result<(String, bool)> {
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => return Ok((token.trim().to_owned(), false)),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    }
    let mut bytes = [0u8; 24];
    random.fill(&mut bytes);
    let token = badges_shared::encoding::base32_lower(&bytes);
    write_private(&path, &token).with_context(|| format!("writing {}", path.display()))?;
    Ok((token, true))
}

/// Reads the secret of owner cookies and learner ids from the data
/// folder, or generates and stores one on the first start.
fn cookie_secret(data_dir: &Path, random: &dyn RandomSource) -> anyhow::Result<ServerKey> {
    let path = data_dir.join(COOKIE_SECRET_FILE);
    let secret = match std::fs::read_to_string(&path) {
        Ok(secret) => secret,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let secret = ServerKey::generate_secret(random);
            write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), "cookie secret generated");
            secret
        }
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
    ServerKey::from_secret(&secret).with_context(|| format!("{} is invalid", path.display()))
}

/// Logs a warning when users other than the owner may read or change the
/// key file, as after copying it with a permissive umask.
#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "other users may read the issuer key file: run chmod 600 on it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Opens the issuer key file of the data folder, creating it with a new
/// key (mode 0600) on the first start, under the identity `did`.
fn issuer_signer(data_dir: &Path, did: IssuerDid, base_url: &str) -> anyhow::Result<(IssuerSigner, KeyFileSigner)> {
    let path = data_dir.join(ISSUER_KEY_FILE);
    let key_file = KeyFileSigner::open_or_create(&path)?;
    if key_file.was_created() {
        tracing::info!(path = %path.display(), "issuer key generated");
    }
    warn_if_readable_by_others(&path);
    let public_key = key_file.public_key();
    let signer = match did {
        IssuerDid::Key => IssuerSigner::did_key(Arc::new(key_file.clone()), public_key),
        IssuerDid::Web => {
            let host = badges_shared::app::did_web_host(base_url).map_err(|reason| anyhow::anyhow!("--issuer-did web: {reason}"))?;
            let web = key_file.clone().with_did_web(&host)?;
            IssuerSigner::did_web(Arc::new(web), public_key, &host)?
        }
    };
    Ok((signer, key_file))
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Serves the image store under `/images/{key}` with exact media types.
async fn serve_image(State(images): State<Arc<dyn ImageStore>>, UrlPath(key): UrlPath<String>) -> Response {
    match images.get(&key).await {
        Ok(Some(image)) => {
            let mut response = image.bytes.into_response();
            response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(image.kind.content_type()));
            response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            response
        }
        Ok(None) => ApiError::not_found("no image has this name").into_response(),
        Err(error) => {
            tracing::error!(error = %error, "reading an image failed");
            ApiError::internal().into_response()
        }
    }
}

/// Builds the router with every route of the product.
pub fn router(app: App, token: AdminToken) -> Router {
    let images = app.images.clone();
    let admin = badges_admin::router(app.clone()).layer(from_fn(move |request, next| {
        let token = token.clone();
        async move { require_admin(token, request, next).await }
    }));
    let image_routes = Router::new().route("/images/{*key}", get(serve_image)).with_state(images);
    let routes = Router::new()
        .merge(badges_awards::router(app.clone()))
        .merge(badges_claim::router(app.clone()))
        .merge(admin)
        .merge(image_routes);
    badges_shared::web::finish(routes, &app.settings)
}

/// Sends queued notifications whenever awards are queued, and every few
/// seconds, until `shutdown` turns true.
async fn run_worker(app: App, mut shutdown: watch::Receiver<bool>) {
    loop {
        match badges_notify::drain_queue(&app).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "notification round finished"),
            Err(error) => tracing::error!(error = %error, "notification round failed"),
        }
        tokio::select! {
            _ = app.notify_queued.notified() => {}
            _ = tokio::time::sleep(WORKER_POLL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Sends the reminders and survey invitations that are due, every
/// `every`, until `shutdown` turns true.
async fn run_follow_up_job(app: App, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + FIRST_FOLLOW_UP_DELAY, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.changed() => return,
        }
        match run_follow_ups(&app, app.clock.now()).await {
            Ok(report) if report.reminders.is_empty() && report.surveys.is_empty() => {}
            Ok(report) => tracing::info!(reminders = report.reminders.len(), surveys = report.surveys.len(), "follow-up run sent email"),
            Err(error) => tracing::error!(error = %error, "follow-up run failed"),
        }
    }
}

/// Runs the follow-up job once as of `now`, on the data of `options`,
/// without serving anything: the `badges-local run reminders` command.
/// Due times are compared with `now`, and the stores record `now` as the
/// time of each change.
pub async fn run_reminders(options: Options, now: DateTime<Utc>) -> anyhow::Result<FollowUpReport> {
    let database = options.data_dir.join("badges.sqlite3");
    if matches!(options.backend, Backend::Embedded) && !database.exists() {
        anyhow::bail!("{} does not exist: start the server once with this --data folder first", database.display());
    }
    let base_url = options
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", options.listen))
        .trim_end_matches('/')
        .to_owned();
    let catalogue: Catalogue = serde_json::from_str(DEMO_CATALOGUE).context("the demo catalogue is invalid")?;
    let issuer = options.issuer.clone().unwrap_or_else(|| catalogue.issuer.clone());
    let settings = Arc::new(Settings::new(&base_url, issuer).with_mail(options.mail.settings.clone()));
    let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
    let mut app = match options.backend {
        Backend::Embedded => embedded_app(&options.data_dir, &base_url, settings, random)?,
        Backend::Aws(aws) => aws_app(settings, aws).await?,
    };
    app.clock = Arc::new(FixedClock(now));
    run_follow_ups(&app, now).await.context("the follow-up run failed")
}

/// Builds the app on the SQLite file, image folder and outbox folder.
fn embedded_app(data_dir: &Path, base_url: &str, settings: Arc<Settings>, random: Arc<dyn RandomSource>) -> anyhow::Result<App> {
    let database = data_dir.join("badges.sqlite3");
    let store = SqliteStore::open(&database).with_context(|| format!("opening {}", database.display()))?;
    let images = FolderImageStore::new(data_dir.join("images"), &format!("{base_url}/images"));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store: Arc<dyn AwardStore> = Arc::new(store);
    let outbox = Arc::new(OutboxMailer::new(data_dir.join("outbox"), random.clone()));
    let mailer = SimulatedSesEvents::new(outbox, store.clone(), clock.clone());
    Ok(App {
        store,
        images: Arc::new(images),
        mailer: Arc::new(mailer),
        clock,
        random,
        settings,
        notify_queued: Arc::new(tokio::sync::Notify::new()),
        issuer_signer: None,
    })
}

/// Builds the app on DynamoDB, S3 and SES v2, creating the resources
/// first when asked.
async fn aws_app(settings: Arc<Settings>, aws: AwsBackend) -> anyhow::Result<App> {
    use badges_shared::adapters::aws::{dynamo, s3, ses};

    let AwsBackend { config, resources, ses: ses_settings, create_resources } = aws;
    if create_resources {
        // An existing table is kept as it is, so a restart with the same switch works.
        match dynamo::create_table(&aws_sdk_dynamodb::Client::new(&config), &resources.table).await {
            Ok(()) | Err(badges_shared::ports::StoreError::Conflict) => {}
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!("creating the table {}", resources.table)));
            }
        }
        let s3_client = s3::s3_client(&config);
        s3::create_bucket(&s3_client, &resources.bucket)
            .await
            .with_context(|| format!("creating the bucket {}", resources.bucket))?;
        s3::allow_public_image_reads(&s3_client, &resources.bucket)
            .await
            .with_context(|| format!("making the images of {} public", resources.bucket))?;
        ses::create_sender_identity(&aws_sdk_sesv2::Client::new(&config), &ses_settings.from_address)
            .await
            .with_context(|| format!("creating the sender identity {}", ses_settings.from_address))?;
        tracing::info!(table = %resources.table, bucket = %resources.bucket, "AWS resources created");
    }
    let mailer = Arc::new(ses::SesMailer::new(aws_sdk_sesv2::Client::new(&config), ses_settings));
    Ok(badges_shared::aws::app(&config, &resources, (*settings).clone(), mailer))
}

/// Opens the data folder, loads the demo catalogue into a new one, binds
/// the port and starts the server and the worker.
pub async fn start(options: Options) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("creating the data folder {}", options.data_dir.display()))?;
    let listener = TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("listening on {}", options.listen))?;
    let addr = listener.local_addr()?;
    let base_url = options
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();

    let catalogue: Catalogue = serde_json::from_str(DEMO_CATALOGUE).context("the demo catalogue is invalid")?;
    let issuer = options.issuer.clone().unwrap_or_else(|| catalogue.issuer.clone());
    let random: Arc<dyn RandomSource> = Arc::new(OsRandom);
    let server_key = match options.cookie_secret.as_deref().map(str::trim).filter(|secret| !secret.is_empty()) {
        Some(secret) => ServerKey::from_secret(secret).context("the cookie secret is invalid")?,
        None => cookie_secret(&options.data_dir, random.as_ref())?,
    };
    let settings = Arc::new(
        Settings::new(&base_url, issuer)
            .with_server_key(server_key)
            .with_linkedin_organization_id(options.linkedin_organization_id.clone())
            .with_mail(options.mail.settings.clone()),
    );

    let mut app = match options.backend {
        Backend::Embedded => embedded_app(&options.data_dir, &base_url, settings, random.clone())?,
        Backend::Aws(aws) => aws_app(settings, aws).await?,
    };
    let (signer, key_file) = issuer_signer(&options.data_dir, options.issuer_did, &base_url)?;
    app.issuer_signer = Some(signer);

    let no_badges = app.store.list_badges().await.context("reading the badge list")?.is_empty();
    if options.load_demo && no_badges {
        let created = load_catalogue(&app, &catalogue).await.context("loading the demo catalogue")?;
        tracing::info!(badges = created, "demo catalogue loaded");
    }
    let (admin_token, admin_token_generated) = match &options.admin_token {
        Some(token) if !token.trim().is_empty() => (token.trim().to_owned(), false),
        _ => admin_token(&options.data_dir, random.as_ref())?,
    };

    let router = router(app.clone(), AdminToken::new(&admin_token));
    let (shutdown, shutdown_signal) = watch::channel(false);
    let mut server_signal = shutdown_signal.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = server_signal.wait_for(|stop| *stop).await;
            })
            .await
    });
    let follow_ups = options
        .mail
        .follow_up_every
        .map(|every| tokio::spawn(run_follow_up_job(app.clone(), every, shutdown_signal.clone())));
    let worker = tokio::spawn(run_worker(app.clone(), shutdown_signal));

    Ok(Running {
        addr,
        base_url,
        admin_token,
        admin_token_generated,
        data_dir: options.data_dir,
        issuer_key_path: key_file.path().to_path_buf(),
        issuer_key_created: key_file.was_created(),
        app,
        shutdown,
        server,
        worker,
        follow_ups,
    })
}
