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
    /// Do not load the demo catalogue into a new data folder.
    #[arg(long)]
    no_demo: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
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
    let options = badges_local::Options {
        listen: cli.listen,
        data_dir: cli.data,
        base_url: cli.base_url,
        admin_token: std::env::var("BADGES_ADMIN_TOKEN").ok(),
        load_demo: !cli.no_demo,
        issuer: None,
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
