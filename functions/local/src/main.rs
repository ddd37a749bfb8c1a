//! `badges-local`: the badge platform on one machine.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Serves the badge platform on one port with embedded storage: an SQLite
/// file, an image folder and an outbox folder of `.eml` files.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Data folder: database, images, outbox and the generated admin token.
    #[arg(long, default_value = "./.badges")]
    data: PathBuf,
    /// Public base URL of the server, used in every link and Open Badges id
    /// [default: http://LISTEN].
    #[arg(long)]
    base_url: Option<String>,
    /// Name of the issuing organisation [default: the demo catalogue's].
    #[arg(long, env = "BADGES_ISSUER_NAME")]
    issuer_name: Option<String>,
    /// Homepage of the issuing organisation [default: the demo catalogue's].
    #[arg(long, env = "BADGES_ISSUER_URL")]
    issuer_url: Option<String>,
    /// Contact and sender address of the issuer [default: the demo catalogue's].
    #[arg(long, env = "BADGES_ISSUER_EMAIL")]
    issuer_email: Option<String>,
    /// Do not load the demo catalogue when there are no badges yet.
    #[arg(long)]
    no_demo: bool,
    /// Storage and mail: `embedded` (SQLite, folders, outbox) or `aws`
    /// (DynamoDB, S3, SES v2 named by BADGES_TABLE, BADGES_BUCKET and
    /// BADGES_SENDER; AWS_ENDPOINT_URL points at an emulator).
    #[arg(long, value_enum, default_value_t = BackendArg::Embedded)]
    backend: BackendArg,
    /// With `--backend aws`: create the table, the bucket and the sender
    /// identity first (for development against an emulator).
    #[arg(long)]
    create_resources: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BackendArg {
    Embedded,
    Aws,
}

/// Returns the demo catalogue's issuer with the fields given on the command line.
fn issuer(cli: &Cli) -> anyhow::Result<badges_shared::domain::Issuer> {
    let catalogue: badges_shared::service::badges::Catalogue = serde_json::from_str(badges_local::DEMO_CATALOGUE)?;
    let mut issuer = catalogue.issuer;
    if let Some(name) = cli.issuer_name.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
        issuer.name = name.to_owned();
    }
    if let Some(url) = &cli.issuer_url {
        if !badges_shared::openbadges::is_http_url(url) {
            anyhow::bail!("--issuer-url must be an absolute http or https URL, such as https://www.example.org");
        }
        issuer.url = url.clone();
    }
    if let Some(email) = &cli.issuer_email {
        let email = badges_shared::domain::EmailAddress::parse(email)
            .map_err(|error| anyhow::anyhow!("--issuer-email is invalid: {error}"))?;
        issuer.email = email.to_string();
    }
    Ok(issuer)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();

    if let Some(url) = &cli.base_url {
        if !badges_shared::openbadges::is_http_url(url) {
            anyhow::bail!("--base-url must be an absolute http or https URL, such as https://badges.example.org");
        }
    }
    let issuer = issuer(&cli)?;
    if cli.create_resources && cli.backend != BackendArg::Aws {
        anyhow::bail!("--create-resources only applies to --backend aws");
    }
    let backend = match cli.backend {
        BackendArg::Embedded => badges_local::Backend::Embedded,
        BackendArg::Aws => badges_local::Backend::Aws(badges_local::AwsBackend::from_env(cli.create_resources).await?),
    };
    let options = badges_local::Options {
        backend,
        listen: cli.listen,
        data_dir: cli.data,
        base_url: cli.base_url,
        admin_token: std::env::var("BADGES_ADMIN_TOKEN").ok(),
        load_demo: !cli.no_demo,
        issuer: Some(issuer),
    };
    let running = badges_local::start(options).await?;

    println!("badges-local is serving {} (listening on {})", running.base_url, running.addr);
    println!("data folder: {}", running.data_dir.display());
    if running.admin_token_generated {
        println!(
            "admin token (shown once, kept in {}): {}",
            running.data_dir.join(badges_local::ADMIN_TOKEN_FILE).display(),
            running.admin_token
        );
    }

    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    running.stop().await
}
