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
    #[arg(long, global = true, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Data folder: database, images, outbox and the generated admin token.
    #[arg(long, global = true, default_value = "./.badges")]
    data: PathBuf,
    /// Public base URL of the server, used in every link and Open Badges id
    /// [default: http://LISTEN].
    #[arg(long, global = true)]
    base_url: Option<String>,
    /// Name of the issuing organisation [default: the demo catalogue's].
    #[arg(long, global = true, env = "BADGES_ISSUER_NAME")]
    issuer_name: Option<String>,
    /// Homepage of the issuing organisation [default: the demo catalogue's].
    #[arg(long, global = true, env = "BADGES_ISSUER_URL")]
    issuer_url: Option<String>,
    /// Contact and sender address of the issuer [default: the demo catalogue's].
    #[arg(long, global = true, env = "BADGES_ISSUER_EMAIL")]
    issuer_email: Option<String>,
    /// LinkedIn id of the issuer's organisation page, used by "Add to
    /// profile" links [default: none, the links name the issuer instead].
    #[arg(long, global = true, env = "BADGES_LINKEDIN_ORGANIZATION_ID")]
    linkedin_organization_id: Option<String>,
    /// Do not load the demo catalogue when there are no badges yet.
    #[arg(long, global = true)]
    no_demo: bool,
    /// Storage and mail: `embedded` (SQLite, folders, outbox) or `aws`
    /// (DynamoDB, S3, SES v2 named by BADGES_TABLE, BADGES_BUCKET and
    /// BADGES_SENDER; AWS_ENDPOINT_URL points at an emulator).
    #[arg(long, global = true, value_enum, default_value_t = BackendArg::Embedded)]
    backend: BackendArg,
    /// With `--backend aws`: create the table, the bucket and the sender
    /// identity first (for development against an emulator).
    #[arg(long, global = true)]
    create_resources: bool,
    /// Ages of an unclaimed award, in days after its first email, at which
    /// a reminder goes out: at most two, comma-separated, empty for none.
    #[arg(long, global = true, env = "BADGES_REMINDER_DAYS", default_value = "7,30")]
    reminder_days: String,
    /// Minutes between two emails that the resend form sends to one address.
    #[arg(long, global = true, env = "BADGES_RESEND_INTERVAL_MINUTES", default_value_t = 15)]
    resend_interval_minutes: u32,
    /// Minutes between two runs of the in-process job that sends due
    /// reminders and survey invitations; 0 turns the job off.
    #[arg(long, global = true, default_value_t = 60)]
    follow_up_interval_minutes: u64,
    /// Issuer identity in Open Badges 3.0 credentials: `key` (the did:key
    /// of the key in DATA/issuer-ed25519.key) or `web` (did:web of the
    /// --base-url host, whose DID document is served at
    /// /.well-known/did.json).
    #[arg(long, global = true, env = "BADGES_ISSUER_DID", value_enum, default_value_t = IssuerDidArg::Key)]
    issuer_did: IssuerDidArg,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Runs one scheduled job once and exits.
    Run {
        #[command(subcommand)]
        job: Job,
    },
}

#[derive(Debug, clap::Subcommand)]
enum Job {
    /// Sends the reminders and survey invitations due at --now, prints
    /// what was sent and exits.
    Reminders {
        /// The time to run as, in RFC 3339, such as 2026-03-08T09:00:00Z
        /// [default: the current time].
        #[arg(long, value_parser = parse_time)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
}

fn parse_time(raw: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|time| time.with_timezone(&chrono::Utc))
        .map_err(|error| format!("{error}; give an RFC 3339 time such as 2026-03-08T09:00:00Z"))
}

/// Returns the mail options given on the command line.
fn mail_options(cli: &Cli) -> anyhow::Result<badges_local::MailOptions> {
    use badges_shared::settings::MailSettings;
    let days = MailSettings::parse_reminder_days(&cli.reminder_days).map_err(|error| anyhow::anyhow!("--reminder-days: {error}"))?;
    let settings = MailSettings::new(cli.resend_interval_minutes, &days).map_err(|error| anyhow::anyhow!("{error}"))?;
    let follow_up_every =
        (cli.follow_up_interval_minutes > 0).then(|| std::time::Duration::from_secs(cli.follow_up_interval_minutes * 60));
    Ok(badges_local::MailOptions { settings, follow_up_every })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum IssuerDidArg {
    Key,
    Web,
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
    if let Some(id) = cli.linkedin_organization_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        if !id.bytes().all(|b| b.is_ascii_digit()) {
            anyhow::bail!("--linkedin-organization-id must be the numeric id of a LinkedIn organisation page, such as 1234567");
        }
    }
    if cli.create_resources && cli.backend != BackendArg::Aws {
        anyhow::bail!("--create-resources only applies to --backend aws");
    }
    let mail = mail_options(&cli)?;
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
        linkedin_organization_id: cli.linkedin_organization_id,
        cookie_secret: std::env::var("BADGES_COOKIE_SECRET").ok(),
        mail,
        issuer_did: match cli.issuer_did {
            IssuerDidArg::Key => badges_local::IssuerDid::Key,
            IssuerDidArg::Web => badges_local::IssuerDid::Web,
        },
    };
    if let Some(Command::Run { job: Job::Reminders { now } }) = cli.command {
        let now = now.unwrap_or_else(chrono::Utc::now);
        let report = badges_local::run_reminders(options, now).await?;
        for line in report.lines() {
            println!("{line}");
        }
        return Ok(());
    }
    let running = badges_local::start(options).await?;

    println!("badges-local is serving {} (listening on {})", running.base_url, running.addr);
    println!("data folder: {}", running.data_dir.display());
    let created = if running.issuer_key_created { " (created now)" } else { "" };
    println!("issuer key file: {}{created}", running.issuer_key_path.display());
    if let Some(signer) = &running.app.issuer_signer {
        println!("issuer DID of Open Badges 3.0 credentials: {}", signer.did());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_reminders_flags_either_side() {
        let before = Cli::try_parse_from(["badges-local", "--data", "/tmp/d", "run", "reminders", "--now", "2026-03-08T09:00:00Z"])
            .expect("flags before the subcommand");
        let after = Cli::try_parse_from(["badges-local", "run", "reminders", "--now", "2026-03-08T09:00:00+01:00", "--data", "/tmp/d"])
            .expect("flags after the subcommand");
        for cli in [&before, &after] {
            assert_eq!(cli.data, PathBuf::from("/tmp/d"));
        }
        let Some(Command::Run { job: Job::Reminders { now: Some(now) } }) = after.command else { panic!("not the reminders job") };
        assert_eq!(now.to_rfc3339(), "2026-03-08T08:00:00+00:00");
    }

    #[test]
    fn run_reminders_time_needs_zone() {
        let error = Cli::try_parse_from(["badges-local", "run", "reminders", "--now", "2026-03-08 09:00"]).unwrap_err();
        assert!(error.to_string().contains("RFC 3339"), "{error}");
    }

    #[test]
    fn mail_flags_are_checked() {
        let cli = Cli::try_parse_from(["badges-local", "--reminder-days", "3,10", "--resend-interval-minutes", "5"]).unwrap();
        let mail = mail_options(&cli).unwrap();
        assert_eq!(mail.settings.reminder_ages, vec![chrono::Duration::days(3), chrono::Duration::days(10)]);
        assert_eq!(mail.settings.resend_interval, chrono::Duration::minutes(5));

        let cli = Cli::try_parse_from(["badges-local", "--reminder-days", "7,14,30"]).unwrap();
        assert!(mail_options(&cli).is_err(), "three reminders");
        let cli = Cli::try_parse_from(["badges-local", "--follow-up-interval-minutes", "0"]).unwrap();
        assert_eq!(mail_options(&cli).unwrap().follow_up_every, None);
    }
}
