use std::path::PathBuf;

use clap::{Parser, Subcommand};
use valued::{Service, Settings};
use valued_platform::Shutdown;

/// Valued: recognition campaigns for NHS support staff.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// A TOML configuration file (also VALUED_CONFIG); the environment (VALUED__SECTION__KEY) wins.
    #[arg(long, env = "VALUED_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every service in one process (the embedded default: SQLite, in-process bus, file outbox).
    Up,
    /// One service in this process.
    Serve { service: Service },
    /// Apply database migrations for one service, or all.
    Migrate { service: Option<Service> },
    /// Load reference data.
    #[command(subcommand)]
    Import(Import),
    /// Check the public vote.
    #[command(subcommand)]
    Votes(Votes),
    /// Look at and replay a consumer's dead-letter queue on RabbitMQ (bus.kind = amqp; the
    /// in-process bus has none). See deploy/DLQ.md.
    #[command(subcommand)]
    Dlq(Dlq),
    /// Give someone an admin role: platform_admin, region_admin REGION, trust_admin TRUST, or
    /// judge CAMPAIGN_ID. It binds to the account that first signs in through the configured
    /// OpenID Connect issuer with that email verified. With --revoke, take the role away.
    Grant {
        email: String,
        role: String,
        scope: Option<String>,
        /// Revoke the role instead (at once, whichever account it is bound to).
        #[arg(long)]
        revoke: bool,
    },
    /// Everything Valued holds about a person (subject access), gathered from every service's
    /// database, as one JSON document: to standard output, or to --out FILE.
    ExportPerson {
        email: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check settings given as NAME=VALUE lines on standard input (a manifest's VALUED__…
    /// variables): load them over the defaults, as `serve` would, and fail naming every unknown
    /// name and every value of the wrong type. Reads no other configuration.
    CheckSettings,
    /// Erase a person: every service erases or pseudonymises what it holds about this email
    /// address. Prints the request's id; `--status ID` shows which services have done so.
    Erase {
        /// The person's email address (or, with --status, the request id).
        email_or_id: String,
        #[arg(long)]
        status: bool,
    },
}

#[derive(Subcommand)]
enum Import {
    /// Regions, trusts and sites from a CSV in the NHS ODS layout: code,name,address,postcode,parent.
    Organisations { file: PathBuf },
    /// The House of Commons: a CSV in the layout of mp_lookup.csv (pcon_name, pcon_code,
    /// member_id, full_title, display_as, party_text, member_email, ...). Re-import to refresh.
    Mps { file: PathBuf },
}

#[derive(Subcommand)]
enum Votes {
    /// Recompute a ballot's vote ledger from the voting database: print its head, entries, votes
    /// per choice and every break (changed, missing, inserted or reordered entries, counts that
    /// disagree); fail on any break.
    Verify { ballot: String },
}

#[derive(Subcommand)]
enum Dlq {
    /// One line per message dead-lettered by CONSUMER (queue <bus.prefix>.CONSUMER.dlq): event
    /// id and type, when it happened, when and why it was dead-lettered; then the total. The
    /// messages stay where they are, in their order.
    List {
        consumer: String,
        /// Lines to print at most (the total counts them all).
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Move dead letters of CONSUMER back to its queue, to be handled again: those with the
    /// given event ids, or all. Each leaves the dead-letter queue only once the broker has
    /// confirmed it in the consumer's queue.
    Replay {
        consumer: String,
        /// An event id to replay (repeat for more).
        #[arg(long = "id", value_name = "EVENT_ID", required_unless_present = "all")]
        ids: Vec<String>,
        /// Replay every message in the dead-letter queue.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::CheckSettings = cli.command {
        // One line naming what is wrong, for the script that runs it (deploy/validate-k8s.sh).
        if let Err(error) = Settings::check_lines(std::io::stdin().lock()) {
            eprintln!("{error:#}");
            std::process::exit(1);
        }
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref())?;
    let name = match &cli.command {
        Command::Serve { service } => format!("valued-{service:?}").to_lowercase(),
        _ => "valued".to_owned(),
    };
    let _telemetry = valued_platform::telemetry::init(&name, &settings.telemetry)?;
    let shutdown = Shutdown::new().on_signals(std::time::Duration::from_secs(
        settings.shutdown_seconds.max(1),
    ));
    match cli.command {
        Command::Up => {
            let running = valued::up(&settings, shutdown).await?;
            tracing::info!(
                "Valued is running: open http://127.0.0.1:{}/",
                running.gateway_port
            );
            // On the terminal, not only in the log: the newcomer's way in.
            let first = &running.first_sign_in;
            println!(
                "Valued is running at http://127.0.0.1:{port}/\n\
                 Sign in as the first platform admin ({email}) with this link; it works once, \
                 and soon expires (then ask for another on the sign-in page, and read it in the \
                 outbox at http://127.0.0.1:{port}/outbox):\n\
                 http://127.0.0.1:{port}{path}",
                port = running.gateway_port,
                email = first.email,
                path = first.path,
            );
            running.wait().await
        }
        Command::Serve { service } => valued::serve(&settings, service, shutdown).await,
        Command::Migrate { service } => valued::migrate(&settings, service).await,
        Command::Grant {
            email,
            role,
            scope,
            revoke,
        } => {
            let scope = scope.as_deref().unwrap_or_default();
            if revoke {
                valued::revoke_role(&settings, &email, &role, scope).await
            } else {
                valued::grant_role(&settings, &email, &role, scope).await
            }
        }
        Command::Import(Import::Organisations { file }) => {
            valued::import_organisations(&settings, &file).await
        }
        Command::Import(Import::Mps { file }) => valued::import_mps(&settings, &file).await,
        Command::Votes(Votes::Verify { ballot }) => {
            let report = valued::verify_votes(&settings, &ballot).await?;
            anyhow::ensure!(
                report.intact(),
                "the ledger of ballot {ballot} has {} breaks",
                report.breaks.len()
            );
            Ok(())
        }
        Command::Dlq(Dlq::List { consumer, limit }) => {
            valued::dlq::list(&settings, &consumer, limit).await
        }
        Command::Dlq(Dlq::Replay { consumer, ids, all }) => {
            valued::dlq::replay(&settings, &consumer, ids, all).await
        }
        Command::ExportPerson { email, out } => {
            valued::export_person(&settings, &email, out.as_deref()).await
        }
        Command::Erase {
            email_or_id,
            status: false,
        } => valued::request_erasure(&settings, &email_or_id).await,
        Command::Erase {
            email_or_id,
            status: true,
        } => valued::erasure_status(&settings, &email_or_id).await,
        Command::CheckSettings => Ok(()),
    }
}
