//! Database connections: PostgreSQL in production, a SQLite file per service in the embedded default.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

use crate::settings::DatabaseSettings;

pub async fn connect(
    settings: &DatabaseSettings,
    data_dir: &std::path::Path,
    service: &str,
) -> Result<DatabaseConnection, DbErr> {
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
    Database::connect(options).await
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
