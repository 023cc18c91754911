//! Rate limits on public actions, kept in the owning service's own database so that every gateway
//! replica and every replica of the service share them.
//!
//! Two budgets per action (submitting a nomination, saving a draft, confirming, writing to an MP, …):
//! - **per client address**: the address the gateway saw the request come from, carried on each
//!   call in [`CLIENT_HEADER`] (only credentialed callers reach a handler, so the header is the
//!   gateway's word). Counted per hour. Generous by default: a trust's staff often share one
//!   public address behind the hospital's network.
//! - **per email address** the action names (the nominator, the supporter writing to their MP):
//!   counted per day under the address's [identity](EmailAddress::identity), so that `Victim@`,
//!   `victim+1@` and, at Gmail, `v.ictim@` are one person.
//!
//! Each budget is a fixed window counter (`rate_limit`: a hashed key, the window's start, hits).
//! An attempt bumps all of its counters with one atomic upsert (one statement, one commit), so an
//! attempt refused for its client address still counts against the addresses it names. The keys
//! hold SHA-256 digests, never the addresses, and [`purge`] drops windows that have ended. A
//! refused action changes nothing else: services check before they store anything.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::{EmailAddress, FieldError};

/// The gRPC metadata that carries the client address a public request came from.
pub const CLIENT_HEADER: &str = "x-valued-client";

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// How much of each public action one client address and one email address may do.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct RateLimits {
    /// Actions of one kind from one client address in a clock hour; 0 turns the budget off.
    pub per_client_per_hour: u32,
    /// Actions of one kind naming one person's email address in a UTC day; 0 turns it off.
    pub per_address_per_day: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_client_per_hour: 600,
            per_address_per_day: 20,
        }
    }
}

tokio::task_local! {
    static CLIENT: String;
}

/// Runs `work` (a gateway request's handling) with `client` as the address every gRPC call it makes
/// carries in [`CLIENT_HEADER`].
pub async fn as_client<F: Future>(client: String, work: F) -> F::Output {
    CLIENT.scope(client, work).await
}

/// The client address of the request being handled, when there is one (see [`as_client`]).
pub fn current_client() -> Option<String> {
    CLIENT.try_with(Clone::clone).ok()
}

/// An email address an action names, as typed, and the form field it was typed into (where a
/// refusal is shown). What does not parse as an address is not counted: the action's own parsing
/// refuses it.
pub struct Named<'a> {
    pub field: &'a str,
    pub typed: &'a str,
}

/// Counts an attempt at `action` against the budgets of the request's client address and of every
/// address it names, and refuses it when one is spent: RESOURCE_EXHAUSTED with a retry delay for
/// the client address, INVALID_ARGUMENT on the address's field for an email address (the form can
/// say so beside the field and keep everything typed).
pub async fn admit<T>(
    db: &impl ConnectionTrait,
    limits: RateLimits,
    request: &tonic::Request<T>,
    action: &str,
    named: &[Named<'_>],
) -> Result<(), Status> {
    let now = Utc::now();
    let client = request
        .metadata()
        .get(CLIENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .filter(|_| limits.per_client_per_hour > 0);
    let hour = Window::of(now, HOUR);
    let day = Window::of(now, DAY);
    // Every budget the attempt counts against, bumped together in one statement (one commit):
    // the client address's, then each named address's, by field.
    let mut counters: Vec<(String, i64)> = Vec::new();
    if let Some(client) = client {
        counters.push((key(action, "client", client), hour.start));
    }
    let mut fields: Vec<(&str, String)> = Vec::new();
    if limits.per_address_per_day > 0 {
        for Named { field, typed } in named {
            if let Ok(address) = EmailAddress::parse(field, typed) {
                let counter = key(action, "address", &address.identity());
                counters.push((counter.clone(), day.start));
                fields.push((field, counter));
            }
        }
    }
    if counters.is_empty() {
        return Ok(());
    }
    let hits = bump_all(db, &counters)
        .await
        .map_err(|e| crate::grpc::database_error(&e))?;
    let hits_of = |counter: &str| hits.get(counter).copied().unwrap_or(0);
    if let Some(client) = client
        && hits_of(&key(action, "client", client)) > i64::from(limits.per_client_per_hour)
    {
        let wait = hour.remaining(now);
        tracing::warn!(action, "refused: too many from one client address");
        return Err(Status::with_error_details(
            Code::ResourceExhausted,
            format!(
                "There have been too many requests from your network. Try again in {}.",
                minutes(wait)
            ),
            ErrorDetails::with_retry_info(Some(std::time::Duration::from_secs(
                wait.unsigned_abs(),
            ))),
        ));
    }
    let refused: Vec<FieldError> = fields
        .iter()
        .filter(|(_, counter)| hits_of(counter) > i64::from(limits.per_address_per_day))
        .map(|(field, _)| {
            FieldError::new(
                field,
                "This email address has been used too many times today. Try again tomorrow",
            )
        })
        .collect();
    if !refused.is_empty() {
        tracing::warn!(action, "refused: too many naming one email address");
        return Err(crate::grpc::invalid_argument(&refused));
    }
    Ok(())
}

/// Deletes the counters of windows that have ended. Run by each service's retention round.
pub async fn purge(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let before = Window::of(Utc::now(), DAY).start;
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "DELETE FROM rate_limit WHERE window_start < $1",
        _ => "DELETE FROM rate_limit WHERE window_start < ?",
    };
    let deleted = db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [before.into()],
        ))
        .await?;
    Ok(deleted.rows_affected())
}

/// A fixed window: the seconds since the epoch it starts at, and its length.
struct Window {
    start: i64,
    length: i64,
}

impl Window {
    fn of(now: DateTime<Utc>, length: i64) -> Self {
        let seconds = now.timestamp();
        Self {
            start: seconds - seconds.rem_euclid(length),
            length,
        }
    }

    fn remaining(&self, now: DateTime<Utc>) -> i64 {
        (self.start + self.length - now.timestamp()).max(1)
    }
}

fn minutes(seconds: i64) -> String {
    match (seconds + 59) / 60 {
        1 => "a minute".into(),
        n => format!("{n} minutes"),
    }
}

/// The counter's key: the action, the kind of budget, and a digest of the value (never the value).
fn key(action: &str, kind: &str, value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{action}:{kind}:{hex}")
}

/// Adds one hit to each `(key, window start)` counter, atomically and in one statement, and returns
/// each key's hits so far. A key named twice gets two hits.
async fn bump_all(
    db: &impl ConnectionTrait,
    counters: &[(String, i64)],
) -> Result<HashMap<String, i64>, DbErr> {
    let mut distinct: Vec<(&str, i64, i64)> = Vec::with_capacity(counters.len());
    for (key, start) in counters {
        match distinct.iter_mut().find(|(k, s, _)| k == key && s == start) {
            Some((_, _, hits)) => *hits += 1,
            None => distinct.push((key, *start, 1)),
        }
    }
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(distinct.len() * 3);
    let mut rows = Vec::with_capacity(distinct.len());
    for (i, (key, start, hits)) in distinct.iter().enumerate() {
        rows.push(match backend {
            DbBackend::Postgres => format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3),
            _ => "(?, ?, ?)".to_owned(),
        });
        values.push((*key).into());
        values.push((*start).into());
        values.push((*hits).into());
    }
    let sql = format!(
        "INSERT INTO rate_limit (key, window_start, hits) VALUES {} \
         ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limit.hits + excluded.hits \
         RETURNING key, hits",
        rows.join(", ")
    );
    let mut hits = HashMap::with_capacity(distinct.len());
    for row in db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        let key: String = row
            .try_get_by_index(0)
            .map_err(|e| DbErr::Type(e.to_string()))?;
        let count: i64 = row
            .try_get_by_index(1)
            .map_err(|e| DbErr::Type(e.to_string()))?;
        hits.insert(key, count);
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use sea_orm::Database;
    use sea_orm_migration::MigratorTrait;

    use super::*;

    struct Limits;

    impl MigratorTrait for Limits {
        fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
            crate::migrations::limits()
        }
    }

    async fn db() -> sea_orm::DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Limits::up(&db, None).await.unwrap();
        db
    }

    fn from(client: &str) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        request
            .metadata_mut()
            .insert(CLIENT_HEADER, client.parse().unwrap());
        request
    }

    const LIMITS: RateLimits = RateLimits {
        per_client_per_hour: 3,
        per_address_per_day: 2,
    };

    #[tokio::test]
    async fn a_client_address_gets_its_budget_then_a_retry_delay() {
        let db = db().await;
        for _ in 0..3 {
            admit(&db, LIMITS, &from("203.0.113.7"), "submit", &[])
                .await
                .unwrap();
        }
        let refused = admit(&db, LIMITS, &from("203.0.113.7"), "submit", &[])
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::ResourceExhausted);
        assert!(refused.message().starts_with("There have been too many"));
        assert!(refused.get_details_retry_info().is_some());
        // Another address, and another action from the same address, have their own budgets.
        admit(&db, LIMITS, &from("203.0.113.8"), "submit", &[])
            .await
            .unwrap();
        admit(&db, LIMITS, &from("203.0.113.7"), "confirm", &[])
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn one_person_is_one_budget_however_their_address_is_typed() {
        let db = db().await;
        let typed = ["Victim@Example.org", "victim+1@example.org"];
        for (i, text) in typed.iter().enumerate() {
            let client = format!("198.51.100.{i}");
            let named = [Named {
                field: "nominator_email",
                typed: text,
            }];
            admit(&db, LIMITS, &from(&client), "submit", &named)
                .await
                .unwrap();
        }
        let refused = admit(
            &db,
            LIMITS,
            &from("198.51.100.9"),
            "submit",
            &[Named {
                field: "nominator_email",
                typed: "VICTIM+other@example.ORG",
            }],
        )
        .await
        .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
        let errors = crate::grpc::field_errors(&refused);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "nominator_email");
    }

    #[tokio::test]
    async fn one_attempt_naming_a_person_twice_counts_twice_in_one_statement() {
        let db = db().await;
        let named = [
            Named {
                field: "nominator_email",
                typed: "sam@example.org",
            },
            Named {
                field: "nominee_email",
                typed: "Sam@Example.org",
            },
        ];
        admit(&db, LIMITS, &from("198.51.100.1"), "submit", &named)
            .await
            .unwrap();
        // The first attempt spent the day's two on its own; the next is refused.
        let refused = admit(&db, LIMITS, &from("198.51.100.2"), "submit", &named[..1])
            .await
            .unwrap_err();
        let errors = crate::grpc::field_errors(&refused);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "nominator_email");
    }

    #[tokio::test]
    async fn calls_without_a_client_address_count_only_against_the_addresses_named() {
        let db = db().await;
        for _ in 0..10 {
            admit(&db, LIMITS, &tonic::Request::new(()), "submit", &[])
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn ended_windows_are_purged_and_the_keys_hold_no_address() {
        let db = db().await;
        let old = Window::of(Utc::now(), DAY).start - 2 * DAY;
        bump_all(&db, &[(key("submit", "client", "203.0.113.7"), old)])
            .await
            .unwrap();
        admit(&db, LIMITS, &from("203.0.113.7"), "submit", &[])
            .await
            .unwrap();
        assert_eq!(purge(&db).await.unwrap(), 1);
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT key FROM rate_limit",
            ))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        let key: String = rows[0].try_get_by_index(0).unwrap();
        assert!(!key.contains("203.0.113.7"), "{key}");
    }

    #[tokio::test]
    async fn the_client_address_is_carried_within_its_scope_only() {
        assert_eq!(current_client(), None);
        let inside = as_client("203.0.113.7".into(), async { current_client() }).await;
        assert_eq!(inside.as_deref(), Some("203.0.113.7"));
    }
}
