//! The `valued` binary's library: configuration for every service, and the three ways to run them —
//! all in one process (`up`), one service (`serve`), or migrations (`migrate`).

pub mod dlq;
mod production;
mod settings;

use std::path::Path;

use anyhow::Context;
use tokio::task::JoinSet;
use valued_platform::{Platform, Shutdown};

pub use settings::{Peer, Settings};

/// The services a single process can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    Nomination,
    Voting,
    SurveyFeedback,
    Notification,
    Gateway,
}

async fn platform(settings: &Settings, shutdown: &Shutdown) -> anyhow::Result<Platform> {
    let bus = valued_platform::bus::connect(&settings.bus)
        .await
        .context("connecting to the event bus")?;
    Ok(Platform {
        bus,
        shutdown: shutdown.clone(),
        data_dir: settings.data_dir.clone(),
        relay: settings.relay.clone(),
    })
}

/// Who `valued up` lets sign in first when no platform admin is named in the settings.
pub const FIRST_ADMIN: &str = "organiser@example.org";

/// The first platform admin's single-use sign-in link, made at start without email.
pub struct FirstSignIn {
    pub email: String,
    /// The link's path on the gateway.
    pub path: String,
}

/// Every service started in one process, and where to reach them.
pub struct Running {
    pub first_sign_in: FirstSignIn,
    pub gateway_port: u16,
    pub nomination_port: u16,
    pub notification_port: u16,
    pub voting_port: u16,
    pub survey_feedback_port: u16,
    tasks: JoinSet<anyhow::Result<()>>,
}

impl Running {
    /// Waits for every service to stop (after shutdown); the first error wins.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut outcome = Ok(());
        while let Some(joined) = self.tasks.join_next().await {
            let result = joined.context("a service panicked").and_then(|r| r);
            if let Err(error) = result {
                tracing::error!(error = %format!("{error:#}"), "service failed");
                if outcome.is_ok() {
                    outcome = Err(error);
                }
            }
        }
        outcome
    }
}

/// `valued up`: every service in this process, sharing one bus; the gateway is pointed at the
/// ports the services actually bound.
pub async fn up(settings: &Settings, shutdown: Shutdown) -> anyhow::Result<Running> {
    let mut settings = settings.with_service_keys().with_sign_in_links();
    // A first platform admin, so that a newcomer can sign in with the link printed at start.
    let admins = &mut settings.nomination.settings.auth.platform_admins;
    if admins.is_empty() {
        admins.push(FIRST_ADMIN.to_owned());
    }
    settings.gateway.auth.email_links = true;
    // The gateway's developer outbox lists deliveries on its own behalf.
    settings.notification.settings.developer_outbox |= settings.gateway.outbox;
    let settings = &settings;
    let platform = platform(settings, &shutdown).await?;
    let nomination =
        valued_nomination::Application::build(&settings.nomination.settings, platform.clone())
            .await?;
    let voting =
        valued_voting::Application::build(&settings.voting.settings, platform.clone()).await?;
    let survey = valued_survey_feedback::Application::build(
        &settings.survey_feedback.settings,
        platform.clone(),
    )
    .await?;
    let notification =
        valued_notification::Application::build(&settings.notification.settings, platform.clone())
            .await?;
    let local = |port: u16| format!("http://127.0.0.1:{port}");
    let peers = valued_gateway::Peers {
        nomination: valued_gateway::Peer::new(
            valued_nomination::NAME,
            local(nomination.port()),
            &settings.nomination.settings.grpc,
        )?,
        notification: valued_gateway::Peer::new(
            valued_notification::NAME,
            local(notification.port()),
            &settings.notification.settings.grpc,
        )?,
        voting: valued_gateway::Peer::new(
            valued_voting::NAME,
            local(voting.port()),
            &settings.voting.settings.grpc,
        )?,
        survey_feedback: valued_gateway::Peer::new(
            valued_survey_feedback::NAME,
            local(survey.port()),
            &settings.survey_feedback.settings.grpc,
        )?,
    };
    // In one process with the file transport, the outbox page reads the emails' own files.
    let mut gateway_settings = settings.gateway.clone();
    if settings.notification.settings.email.transport
        == valued_notification::settings::Transport::File
    {
        gateway_settings.mail_files = Some(settings.data_dir.join("outbox"));
    }
    let gateway =
        valued_gateway::Application::build(&gateway_settings, peers, shutdown.clone()).await?;
    let first_admin = settings.nomination.settings.auth.platform_admins[0].clone();
    let first_sign_in = nomination
        .sign_in_link_for(&first_admin)
        .await
        .map(|token| FirstSignIn {
            email: first_admin,
            path: format!("/admin/sign-in/email/{token}"),
        })
        .context("making the first platform admin's sign-in link")?;
    let mut running = Running {
        first_sign_in,
        gateway_port: gateway.port(),
        nomination_port: nomination.port(),
        notification_port: notification.port(),
        voting_port: voting.port(),
        survey_feedback_port: survey.port(),
        tasks: JoinSet::new(),
    };
    running.tasks.spawn(nomination.run_until_stopped());
    running.tasks.spawn(voting.run_until_stopped());
    running.tasks.spawn(survey.run_until_stopped());
    running.tasks.spawn(notification.run_until_stopped());
    running.tasks.spawn(gateway.run_until_stopped());
    Ok(running)
}

/// `valued serve <service>`: one service in this process, its peers found by configuration.
pub async fn serve(
    settings: &Settings,
    service: Service,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let settings = &production::for_serve(settings, service)?;
    if service == Service::Gateway {
        let peers = valued_gateway::Peers {
            nomination: valued_gateway::Peer::new(
                valued_nomination::NAME,
                settings.nomination.url.clone(),
                &settings.nomination.settings.grpc,
            )?,
            notification: valued_gateway::Peer::new(
                valued_notification::NAME,
                settings.notification.url.clone(),
                &settings.notification.settings.grpc,
            )?,
            voting: valued_gateway::Peer::new(
                valued_voting::NAME,
                settings.voting.url.clone(),
                &settings.voting.settings.grpc,
            )?,
            survey_feedback: valued_gateway::Peer::new(
                valued_survey_feedback::NAME,
                settings.survey_feedback.url.clone(),
                &settings.survey_feedback.settings.grpc,
            )?,
        };
        let gateway =
            valued_gateway::Application::build(&settings.gateway, peers, shutdown).await?;
        return gateway.run_until_stopped().await;
    }
    let platform = platform(settings, &shutdown).await?;
    match service {
        Service::Nomination => {
            valued_nomination::Application::build(&settings.nomination.settings, platform)
                .await?
                .run_until_stopped()
                .await
        }
        Service::Voting => {
            valued_voting::Application::build(&settings.voting.settings, platform)
                .await?
                .run_until_stopped()
                .await
        }
        Service::SurveyFeedback => {
            valued_survey_feedback::Application::build(&settings.survey_feedback.settings, platform)
                .await?
                .run_until_stopped()
                .await
        }
        Service::Notification => {
            valued_notification::Application::build(&settings.notification.settings, platform)
                .await?
                .run_until_stopped()
                .await
        }
        Service::Gateway => Ok(()),
    }
}

/// The nomination service's database, migrated first (for the command-line tools).
async fn nomination_db(settings: &Settings) -> anyhow::Result<sea_orm::DatabaseConnection> {
    valued_nomination::migrate(&settings.nomination.settings, &settings.data_dir).await?;
    valued_platform::db::connect(
        &settings.nomination.settings.database,
        &settings.data_dir,
        valued_nomination::NAME,
    )
    .await
    .context("connecting to the nomination database")
}

/// A terminal progress bar counting `what`.
fn progress_bar(what: &str) -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} ({{eta}} left)"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    )
}

/// `valued import organisations <file>`: regions, trusts and sites from an ODS-layout CSV into the
/// nomination service's database (migrated first), with a progress bar on the terminal.
pub async fn import_organisations(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let reader =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let db = nomination_db(settings).await?;
    let progress = progress_bar("organisations");
    let summary =
        valued_nomination::organisations::import(&db, std::io::BufReader::new(reader), &progress)
            .await?;
    println!(
        "Imported {} regions, {} trusts and {} sites.",
        summary.regions, summary.trusts, summary.sites
    );
    Ok(())
}

/// A role as `valued grant` names it: the email, the role and its scope, checked and normalised,
/// with the nomination database it is stored in.
async fn role_grant(
    settings: &Settings,
    email: &str,
    role: &str,
    scope: &str,
) -> anyhow::Result<(
    sea_orm::DatabaseConnection,
    String,
    valued_nomination::auth::Role,
    String,
)> {
    use valued_nomination::auth::Role;
    let role = Role::parse(role).with_context(|| {
        format!("unknown role {role:?}: use platform_admin, region_admin, trust_admin or judge")
    })?;
    let email = valued_platform::domain::EmailAddress::parse("email", email)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let scope = scope.trim();
    match (role, scope.is_empty()) {
        (Role::PlatformAdmin, false) => anyhow::bail!("a platform admin has no scope"),
        (Role::RegionAdmin | Role::TrustAdmin, true) => {
            anyhow::bail!("give the region or trust code the role covers")
        }
        (Role::Judge, true) => anyhow::bail!("give the campaign id the judge judges"),
        _ => {}
    }
    let scope = match role {
        Role::RegionAdmin | Role::TrustAdmin => scope.to_uppercase(),
        _ => scope.to_owned(),
    };
    let db = nomination_db(settings).await?;
    Ok((db, email.normalised(), role, scope))
}

/// `valued grant EMAIL ROLE [SCOPE]`: invites someone to an admin role in the nomination database;
/// it binds to the account that first signs in with that email verified. Audited as the command line.
pub async fn grant_role(
    settings: &Settings,
    email: &str,
    role: &str,
    scope: &str,
) -> anyhow::Result<()> {
    let (db, email, role, scope) = role_grant(settings, email, role, scope).await?;
    let actor = valued_nomination::auth::Actor::CommandLine;
    let outbox = valued_platform::outbox::Outbox::detached(valued_nomination::NAME);
    valued_nomination::auth::grant(&db, &outbox, &actor, &email, role, &scope).await?;
    println!("{email} is now {} {scope}", role.slug());
    Ok(())
}

/// `valued grant --revoke EMAIL ROLE [SCOPE]`: revokes the role at once, whichever account it is
/// bound to. Recorded (and audited) as revoked by the command line.
pub async fn revoke_role(
    settings: &Settings,
    email: &str,
    role: &str,
    scope: &str,
) -> anyhow::Result<()> {
    let (db, email, role, scope) = role_grant(settings, email, role, scope).await?;
    let actor = valued_nomination::auth::Actor::CommandLine;
    let outbox = valued_platform::outbox::Outbox::detached(valued_nomination::NAME);
    valued_nomination::auth::revoke(&db, &outbox, &actor, &email, role, &scope).await?;
    println!("{email} is no longer {} {scope}", role.slug());
    Ok(())
}

/// `valued export-person EMAIL`: what every service holds about the person, each reading its own
/// database with its own code, as one JSON document (to `out`, or standard output). Audited as the
/// command line.
pub async fn export_person(
    settings: &Settings,
    email: &str,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let address = valued_platform::domain::EmailAddress::parse("email", email)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let email = address.normalised();
    let connect = async |service: &str, database: &valued_platform::DatabaseSettings| {
        valued_platform::db::connect(database, &settings.data_dir, service)
            .await
            .with_context(|| format!("connecting to the {service} database"))
    };
    let nomination = connect(
        valued_nomination::NAME,
        &settings.nomination.settings.database,
    )
    .await?;
    let voting = connect(valued_voting::NAME, &settings.voting.settings.database).await?;
    let notification = connect(
        valued_notification::NAME,
        &settings.notification.settings.database,
    )
    .await?;
    let survey_feedback = connect(
        valued_survey_feedback::NAME,
        &settings.survey_feedback.settings.database,
    )
    .await?;
    let actor = valued_nomination::auth::Actor::CommandLine;
    valued_nomination::subject_access::record_export(&nomination, &actor, &email).await?;
    let answers = valued_platform::subject_access::Answers {
        nomination: valued_nomination::subject_access::export(&nomination, &email).await?,
        voting: valued_voting::subject_access::export(
            &voting,
            &settings.voting.settings.voter_key_secret,
            &address,
        )
        .await?,
        notification: valued_notification::subject_access::export(
            &notification,
            &email,
            &settings.notification.settings.email.public_url,
        )
        .await?,
        survey_feedback: valued_survey_feedback::suggestions::erasure::export(
            &survey_feedback,
            &settings
                .survey_feedback
                .settings
                .suggestions
                .supporter_key_secret,
            &email,
        )
        .await?,
    };
    let export = valued_platform::subject_access::document(&email, chrono::Utc::now(), answers);
    let text = serde_json::to_string_pretty(&export)?;
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "Wrote what Valued holds about {email} to {}",
                path.display()
            );
        }
        None => println!("{text}"),
    }
    Ok(())
}

/// `valued erase EMAIL`: records the request in the nomination database and announces it (the
/// running nomination service's relay publishes it); every service erases its own data about the
/// person and answers. Audited as the command line.
pub async fn request_erasure(settings: &Settings, email: &str) -> anyhow::Result<()> {
    let email = valued_platform::domain::EmailAddress::parse("email", email)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?
        .normalised();
    let db = nomination_db(settings).await?;
    let outbox = valued_platform::outbox::Outbox::detached(valued_nomination::NAME);
    let actor = valued_nomination::auth::Actor::CommandLine;
    let id = valued_nomination::erasure::request(&db, &outbox, &email, &actor).await?;
    println!("Erasure requested: {id}");
    println!("Follow it with: valued erase --status {id}");
    Ok(())
}

/// `valued erase --status ID`: which services have erased the person, and which are still to.
pub async fn erasure_status(settings: &Settings, id: &str) -> anyhow::Result<()> {
    let id = uuid::Uuid::parse_str(id.trim()).context("an erasure request id is a UUID")?;
    let db = nomination_db(settings).await?;
    let progress = valued_nomination::erasure::progress(&db, id).await?;
    println!("Requested {}", progress.requested_at.to_rfc3339());
    for (service, records, at) in &progress.answered {
        println!(
            "  {service}: erased {records} records at {}",
            at.to_rfc3339()
        );
    }
    for service in &progress.waiting {
        println!("  {service}: waiting");
    }
    if progress.waiting.is_empty() {
        println!("Done: every service has erased its data.");
    }
    Ok(())
}

/// `valued votes verify BALLOT`: recomputes the ballot's vote ledger from the voting database (the
/// chain, its counts, the maintained tally and the counted votes) and prints its head, its entries,
/// the votes per choice and every break. The report; any break makes the command fail.
pub async fn verify_votes(
    settings: &Settings,
    ballot: &str,
) -> anyhow::Result<valued_voting::ledger::Report> {
    let ballot_id = valued_voting::domain::parse_ballot_id(ballot)
        .map_err(|_| anyhow::anyhow!("a ballot id is a UUID, not {ballot:?}"))?;
    valued_voting::migrate(&settings.voting.settings, &settings.data_dir).await?;
    let db = valued_platform::db::connect(
        &settings.voting.settings.database,
        &settings.data_dir,
        valued_voting::NAME,
    )
    .await
    .context("connecting to the voting database")?;
    let report = valued_voting::db::queries::verify_ledger(&db, ballot_id).await?;
    println!("Ballot {ballot_id}");
    match &report.head {
        Some(head) => println!("Head: {head}"),
        None => println!("Head: none (no votes yet)"),
    }
    println!("Entries: {}", report.entries);
    println!("Votes per choice (ledger / maintained tally / counted votes):");
    for count in &report.counts {
        println!(
            "  {}: {} / {} / {}",
            count.choice_id, count.ledger, count.tally, count.votes
        );
    }
    if report.intact() {
        println!("Intact: every entry recomputes and links, and the counts agree.");
    } else {
        println!("{} breaks:", report.breaks.len());
        for found in &report.breaks {
            match found.seq() {
                Some(seq) => println!("  seq {seq} ({}): {found}", found.kind()),
                None => println!("  ({}): {found}", found.kind()),
            }
        }
    }
    Ok(report)
}

/// `valued import mps <file>`: the House of Commons directory from a CSV in the layout of
/// `mp_lookup.csv` into the notification service's database (migrated first), with a progress bar.
/// MPs without a usable parliament.uk address are listed: they get no email until a person checks.
pub async fn import_mps(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let reader =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    valued_notification::migrate(&settings.notification.settings, &settings.data_dir).await?;
    let db = valued_platform::db::connect(
        &settings.notification.settings.database,
        &settings.data_dir,
        valued_notification::NAME,
    )
    .await
    .context("connecting to the notification database")?;
    let progress = progress_bar("MPs");
    let summary =
        valued_notification::mps::import(&db, std::io::BufReader::new(reader), &progress).await?;
    println!(
        "Imported {} MPs: {} added, {} updated, {} unchanged, {} removed.",
        summary.members, summary.added, summary.updated, summary.unchanged, summary.removed
    );
    if !summary.needs_check.is_empty() {
        println!(
            "{} MPs have no usable parliament.uk address and will not be emailed until checked:",
            summary.needs_check.len()
        );
        for flagged in &summary.needs_check {
            println!(
                "  {} ({}, member {}): {}",
                flagged.name, flagged.constituency, flagged.member_id, flagged.reason
            );
        }
    }
    Ok(())
}

/// `valued migrate [service]`: applies migrations for one service, or all of them.
pub async fn migrate(settings: &Settings, service: Option<Service>) -> anyhow::Result<()> {
    let data_dir = &settings.data_dir;
    let all = service.is_none();
    let wants = |s: Service| all || service == Some(s);
    if wants(Service::Nomination) {
        valued_nomination::migrate(&settings.nomination.settings, data_dir).await?;
    }
    if wants(Service::Voting) {
        valued_voting::migrate(&settings.voting.settings, data_dir).await?;
    }
    if wants(Service::SurveyFeedback) {
        valued_survey_feedback::migrate(&settings.survey_feedback.settings, data_dir).await?;
    }
    if wants(Service::Notification) {
        valued_notification::migrate(&settings.notification.settings, data_dir).await?;
    }
    Ok(())
}
