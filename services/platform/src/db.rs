//! Database connections: PostgreSQL in production, a SQLite file per service in the embedded default.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

use crate::settings::DatabaseSettings;

/// Connects the service's pool. When PostgreSQL cannot be reached yet (still starting, failing over,
/// its address not yet resolvable), the pool is made anyway and connects on first use, so that the
/// service starts, reports itself not ready and serves what it can until the database is back.
/// Anything else (a refused password, a missing database, a bad URL) fails at once.
pub async fn connect(
    settings: &DatabaseSettings,
    data_dir: &std::path::Path,
    service: &str,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(settings, data_dir, service)?;
    match Database::connect(options.clone()).await {
        Err(error) if unreachable(&error) && !options.get_url().starts_with("sqlite:") => {
            tracing::warn!(service, %error, "database unreachable at start; will keep trying");
            options.connect_lazy(true);
            Database::connect(options).await
        }
        connected => connected,
    }
}

/// A pool of the service's database that connects only on first use, for work that waits for the
/// database by itself (the migrations on start): making it never waits.
pub async fn connect_lazily(
    settings: &DatabaseSettings,
    data_dir: &std::path::Path,
    service: &str,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(settings, data_dir, service)?;
    options.connect_lazy(true);
    Database::connect(options).await
}

fn options(
    settings: &DatabaseSettings,
    data_dir: &std::path::Path,
    service: &str,
) -> Result<ConnectOptions, DbErr> {
    let url = settings.resolved_url(data_dir, service);
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| DbErr::Custom(format!("creating {}: {e}", data_dir.display())))?;
    }
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(settings.max_connections)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // On every pooled connection: one writer at a time, others wait for the lock instead of
        // failing, and readers are never blocked by the writer.
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    Ok(options)
}

/// Whether `error` says the database is out of reach (connection refused, reset or terminated, the
/// pool unable to connect, the server shutting down or not yet accepting connections) rather than
/// that the statement or the data was at fault: worth waiting for, not worth failing over.
pub fn unreachable(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match error {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return matches!(error, DbErr::Conn(_));
    };
    match sqlx.as_ref() {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception) and 57P01–57P03 (the server shutting down,
        // crashed, or not yet accepting connections).
        Sqlx::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Whether a database error anywhere in `error`'s chain says the database is out of reach.
pub fn unreachable_in(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<DbErr>())
        .any(unreachable)
}

pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// `column` holds the normalised address `email`, however its letters were typed (finding a
/// person's rows for subject access and erasure).
pub fn same_email(
    column: impl sea_orm::sea_query::IntoColumnRef,
    email: &str,
) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    Expr::expr(Func::lower(Expr::col(column))).eq(email.to_lowercase())
}

/// `column` contains `text` anywhere, ignoring case, with LIKE's wildcards in `text` taken
/// literally.
pub fn contains_text(
    column: impl sea_orm::sea_query::IntoColumnRef,
    text: &str,
) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(column)))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}
