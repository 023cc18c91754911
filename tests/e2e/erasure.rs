//! Erasure across separate processes: a person who nominated, was nominated and wrote to their MP
//! is erased with `valued erase`; every service answers, nothing of them is left in any service's
//! database, and what was counted stays counted.

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, Statement};
use valued_proto::nomination::v1 as pb;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::notification::v1 as notification;
use valued_proto::notification::v1::notification_service_client::NotificationServiceClient;

use crate::cluster::Cluster;

const PERSON: &str = "alex.erase@example.org";

/// The token after `marker` in the first email to `recipient` whose text has it.
async fn token_in_email(cluster: &Cluster, recipient: &str, marker: &str) -> String {
    for _ in 0..300 {
        let found = cluster.smtp.received().into_iter().find_map(|e| {
            let text = e.text_body();
            (e.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(recipient)))
                .then_some(())
                .and_then(|()| text.split_once(marker).map(|(_, after)| after.to_owned()))
                .map(|after| {
                    after
                        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
        });
        if let Some(token) = found {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no email to {recipient} with {marker}; logs in {}",
        cluster.logs.display()
    );
}

/// Every link token in the emails the cluster has sent.
fn tokens_sent(cluster: &Cluster) -> Vec<String> {
    let mut tokens = Vec::new();
    for email in cluster.smtp.received() {
        let text = email.text_body();
        for marker in [
            "/confirm/",
            "/consent/",
            "/claim/",
            "/drafts/",
            "/unsubscribe/",
            "/write-to-your-mp/confirm/",
        ] {
            for (_, after) in text
                .match_indices(marker)
                .map(|(at, m)| text.split_at(at + m.len()))
            {
                let token: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                if token.len() >= 16 {
                    tokens.push(token);
                }
            }
        }
    }
    tokens.sort();
    tokens.dedup();
    tokens
}

/// The columns (`table.column (rows)`), among every text column of every table of the database at
/// `url`, that mention any of `needles`.
async fn mentions(url: &str, needles: &[&str]) -> Vec<String> {
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let columns = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT table_name, column_name FROM information_schema.columns \
             WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json')",
        ))
        .await
        .unwrap();
    let patterns = needles
        .iter()
        .map(|n| format!("'%{}%'", n.to_lowercase().replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let mut found = Vec::new();
    for column in columns {
        let table: String = column.try_get("", "table_name").unwrap();
        let name: String = column.try_get("", "column_name").unwrap();
        let count = db
            .query_one_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" WHERE lower(\"{name}\"::text) LIKE ANY (ARRAY[{patterns}])"
                ),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        if count > 0 {
            found.push(format!("{table}.{name} ({count})"));
        }
    }
    found
}

async fn count(url: &str, sql: &str) -> i64 {
    let db = Database::connect(url).await.unwrap();
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
}

/// What `valued export-person` says Valued holds about `email`.
fn export(cluster: &Cluster, email: &str) -> serde_json::Value {
    let file = cluster
        .logs
        .join(format!("export-{}.json", uuid::Uuid::new_v4()));
    valued(
        cluster,
        &["export-person", email, "--out", file.to_str().unwrap()],
    );
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn count_of(export: &serde_json::Value, service: &str, what: &str) -> usize {
    export[service][what]
        .as_array()
        .unwrap_or_else(|| panic!("{service}.{what} in {export:#}"))
        .len()
}

/// `valued args…` against the cluster's databases; its standard output.
pub fn valued(cluster: &Cluster, args: &[&str]) -> String {
    let output = std::process::Command::new(crate::cluster::binary())
        .args(args)
        .env(
            "VALUED__NOMINATION__DATABASE__URL",
            &cluster.databases["nomination"],
        )
        .env(
            "VALUED__NOTIFICATION__DATABASE__URL",
            &cluster.databases["notification"],
        )
        .env(
            "VALUED__VOTING__DATABASE__URL",
            &cluster.databases["voting"],
        )
        .env(
            "VALUED__SURVEY_FEEDBACK__DATABASE__URL",
            &cluster.databases["survey-feedback"],
        )
        .env("VALUED__DATA_DIR", &cluster.logs)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "valued {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn an_erased_person_leaves_nothing_behind_and_the_counts_stay() {
    let cluster = Cluster::start().await;
    let directory = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../services/notification/data/mp_lookup.csv"
    );
    valued(&cluster, &["import", "mps", directory]);
    let campaign = cluster.demo_campaign().await;
    let mut nominations = NominationServiceClient::new(cluster.channel("nomination").await);
    let mut letters = NotificationServiceClient::new(cluster.channel("notification").await);
    let form = |nominee: &str, email: &str, nominator: &str, nominator_email: &str| {
        pb::SubmitNominationRequest {
            campaign_id: campaign.id.clone(),
            category_id: campaign.categories[0].id.clone(),
            trust_code: campaign.trusts[0].code.clone(),
            nominee_name: nominee.into(),
            nominee_email: email.into(),
            nominee_job_title: "Porter".into(),
            staff_group: "estates-and-ancillary".into(),
            story: format!("{nominee} always stops to help lost visitors find their way."),
            nominator_name: nominator.into(),
            nominator_email: nominator_email.into(),
            relationship: "colleague".into(),
            ..pb::SubmitNominationRequest::default()
        }
    };

    // They nominate Sam, and Chris nominates them (at their work address); both confirmed.
    nominations
        .submit_nomination(form("Sam Patel", "", "Alex Erase", PERSON))
        .await
        .unwrap();
    let token = token_in_email(&cluster, PERSON, "/confirm/").await;
    nominations
        .confirm_nomination(pb::ConfirmNominationRequest {
            confirm_token: token,
        })
        .await
        .unwrap();
    nominations
        .submit_nomination(form("Alex Erase", PERSON, "Chris Day", "chris@example.org"))
        .await
        .unwrap();
    let token = token_in_email(&cluster, "chris@example.org", "/confirm/").await;
    nominations
        .confirm_nomination(pb::ConfirmNominationRequest {
            confirm_token: token,
        })
        .await
        .unwrap();
    // They write to their MP and confirm.
    letters
        .write_to_mp(notification::WriteToMpRequest {
            name: "Alex Erase".into(),
            email: PERSON.into(),
            postcode: "SE1 7EH".into(),
            body:
                "Dear Florence, the porters and domestics at St Thomas' looked after my mother for \
                   three weeks this winter. Please speak up for NHS support staff."
                    .into(),
            campaign_id: String::new(),
        })
        .await
        .unwrap();
    let token = token_in_email(&cluster, PERSON, "/write-to-your-mp/confirm/").await;
    letters
        .confirm_mp_letter(notification::ConfirmMpLetterRequest { token })
        .await
        .unwrap();
    // The thank-you to them (as the nominee) has gone too.
    token_in_email(&cluster, PERSON, "/consent/").await;

    let nomination_db = &cluster.databases["nomination"];
    let notification_db = &cluster.databases["notification"];
    let confirmed = "SELECT COUNT(*) AS n FROM nomination WHERE confirmed_at IS NOT NULL";
    let letters_sql = "SELECT COUNT(*) AS n FROM mp_letter WHERE confirmed_at IS NOT NULL";
    let before = (
        count(nomination_db, confirmed).await,
        count(notification_db, letters_sql).await,
    );
    assert_eq!(before, (2, 1));
    assert!(!mentions(nomination_db, &[PERSON]).await.is_empty());
    assert!(!mentions(notification_db, &[PERSON]).await.is_empty());

    // A link token lives only in the email and in notification's record of the email (emptied by
    // retention): no other database holds one, and once the services are idle no outbox row or
    // queue a service consumes holds any event.
    let tokens = tokens_sent(&cluster);
    assert!(tokens.len() >= 4, "{tokens:?}");
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
    for service in ["nomination", "voting", "survey-feedback"] {
        let found = mentions(&cluster.databases[service], &tokens).await;
        assert!(
            found.is_empty(),
            "{service} holds a raw link token in {found:?}"
        );
    }
    let found = mentions(notification_db, &tokens).await;
    assert!(
        found.iter().all(|at| at.starts_with("delivery.")),
        "notification holds a raw link token outside its emails: {found:?}"
    );
    let mut queued = usize::MAX;
    for _ in 0..100 {
        let mut waiting = 0;
        for service in ["nomination", "voting", "survey-feedback", "notification"] {
            waiting += count(
                &cluster.databases[service],
                "SELECT COUNT(*) AS n FROM outbox",
            )
            .await;
        }
        queued = cluster
            .vhost
            .ctl(&[
                "list_queues",
                "-p",
                &cluster.vhost.name,
                "--quiet",
                "--no-table-headers",
                "name",
                "messages",
            ])
            .unwrap()
            .lines()
            .filter_map(|line| line.split_once('\t'))
            // Events no service consumes (email.sent.v1 and the like, which carry no tokens or
            // addresses by their contracts) wait in the bounded unrouted queue.
            .filter(|(name, _)| !name.ends_with(".unrouted"))
            .filter_map(|(_, n)| n.trim().parse::<usize>().ok())
            .sum();
        if waiting == 0 && queued == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(queued, 0, "events still queued for a service");
    for service in ["nomination", "voting", "survey-feedback", "notification"] {
        assert_eq!(
            count(
                &cluster.databases[service],
                "SELECT COUNT(*) AS n FROM outbox"
            )
            .await,
            0,
            "{service}'s outbox keeps published events"
        );
    }

    // Subject access: what they can be given matches what the databases hold.
    let held = export(&cluster, "Alex.Erase@example.org");
    assert_eq!(
        count_of(&held, "nomination", "nominations_made"),
        1,
        "{held:#}"
    );
    assert_eq!(count_of(&held, "nomination", "nominations_about_them"), 1);
    assert_eq!(count_of(&held, "nomination", "nominee_records"), 1);
    assert_eq!(count_of(&held, "notification", "letters_to_mps"), 1);
    assert_eq!(
        count_of(&held, "notification", "emails_to_them") as i64,
        count(
            notification_db,
            &format!("SELECT COUNT(*) AS n FROM delivery WHERE lower(recipient) = '{PERSON}'")
        )
        .await
    );
    let text = held.to_string();
    assert!(
        text.contains("Sam Patel") && text.contains("St Thomas"),
        "{held:#}"
    );
    assert!(
        !text.contains("/confirm/") || text.contains("[token removed]"),
        "links in the export carry no live token: {held:#}"
    );

    let requested = valued(&cluster, &["erase", PERSON]);
    let id = requested
        .lines()
        .find_map(|l| l.strip_prefix("Erasure requested: "))
        .expect("the request's id")
        .trim()
        .to_owned();
    let mut status = String::new();
    for _ in 0..300 {
        status = valued(&cluster, &["erase", "--status", &id]);
        if status.contains("Done") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        status.contains("Done"),
        "{status}; logs in {}",
        cluster.logs.display()
    );
    for service in ["nomination", "voting", "survey-feedback", "notification"] {
        assert!(status.contains(&format!("{service}: erased")), "{status}");
    }

    for service in ["nomination", "voting", "survey-feedback", "notification"] {
        let left = mentions(&cluster.databases[service], &[PERSON]).await;
        assert!(left.is_empty(), "{service} still holds them in {left:?}");
    }
    let after = export(&cluster, PERSON);
    for (service, what) in [
        ("nomination", "nominations_made"),
        ("nomination", "nominations_about_them"),
        ("nomination", "nominee_records"),
        ("notification", "emails_to_them"),
        ("notification", "letters_to_mps"),
        ("notification", "email_preferences"),
    ] {
        assert_eq!(
            count_of(&after, service, what),
            0,
            "{service}.{what}: {after:#}"
        );
    }
    for db in [nomination_db, notification_db] {
        let left = mentions(db, &["Alex Erase"]).await;
        assert!(left.is_empty(), "their name is still in {left:?}");
    }
    assert_eq!(
        (
            count(nomination_db, confirmed).await,
            count(notification_db, letters_sql).await,
        ),
        before,
        "what was counted stays counted"
    );
}
