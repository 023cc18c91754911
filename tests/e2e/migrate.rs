//! `valued migrate` prepares every service's database on its own (the Kubernetes migration Job).

use sea_orm::{ConnectionTrait, Database, Statement};

use crate::cluster::binary;

#[tokio::test]
async fn valued_migrate_creates_each_services_tables_in_its_own_database() {
    let services = [
        ("NOMINATION", "nomination"),
        ("VOTING", "vote"),
        ("SURVEY_FEEDBACK", "survey_response"),
        ("NOTIFICATION", "delivery"),
    ];
    let mut databases = Vec::new();
    let mut command = tokio::process::Command::new(binary());
    command.arg("migrate");
    for (key, _) in services {
        let url = valued_testkit::postgres::fresh_database(&key.to_lowercase())
            .await
            .unwrap();
        command.env(format!("VALUED__{key}__DATABASE__URL"), &url);
        databases.push(url);
    }
    let output = command.output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    for ((_, table), url) in services.iter().zip(&databases) {
        let db = Database::connect(url).await.unwrap();
        let tables: Vec<String> = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<String>("", "tablename").unwrap())
            .collect();
        for expected in [*table, "outbox", "inbox"] {
            assert!(
                tables.iter().any(|t| t == expected),
                "{expected} missing from {tables:?}"
            );
        }
        // The service's own tables only: no other service's table leaks into this database.
        for (_, other) in services.iter().filter(|(_, other)| other != table) {
            assert!(
                !tables.iter().any(|t| t == other),
                "{other} found in the {table} database"
            );
        }
    }
}
