//! Migrated databases for this crate's unit tests.

#![allow(clippy::unwrap_used)]

use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

/// The embedded default's database: SQLite in memory, on its one connection.
pub async fn sqlite() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.unwrap();
    crate::db::Migrator::up(&db, None).await.unwrap();
    db
}

/// A fresh database on the machine's PostgreSQL (named after `hint`), on up to `max_connections`.
pub async fn postgres(hint: &str, max_connections: u32) -> DatabaseConnection {
    let url = valued_testkit::postgres::fresh_database(hint)
        .await
        .unwrap();
    let mut options = ConnectOptions::new(url);
    options.max_connections(max_connections);
    let db = Database::connect(options).await.unwrap();
    crate::db::Migrator::up(&db, None).await.unwrap();
    db
}
