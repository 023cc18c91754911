//! A fresh PostgreSQL database per test on the machine's server (`TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432`). Names start with `valued_test_` so CI can sweep leftovers.

use sea_orm::{ConnectionTrait, Database};

pub fn server_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Creates an empty database and returns its URL.
pub async fn fresh_database(hint: &str) -> anyhow::Result<String> {
    let name = format!(
        "valued_test_{}_{}",
        hint.replace('-', "_"),
        uuid::Uuid::new_v4().simple()
    );
    let admin = Database::connect(format!("{}/postgres", server_url())).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    admin.close().await?;
    Ok(format!("{}/{name}", server_url()))
}
