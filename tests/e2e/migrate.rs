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

#[tokio::test]
async fn valued_import_organisations_loads_a_clean_file_and_refuses_a_bad_one() {
    let url = valued_testkit::postgres::fresh_database("import")
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("valued-import-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "code,name,address,postcode,parent\nY61,East of England,,,\n\
         RGT,Cambridge University Hospitals NHS Foundation Trust,\"Hills Road, Cambridge\",CB2 0QQ,Y61\n\
         RGT01,Addenbrooke's Hospital,\"Hills Road, Cambridge\",CB2 0QQ,RGT\n",
    )
    .unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "code,name,address,postcode,parent\nRGT02,Rosie Hospital,,CB2 0QQ,RZZ\n",
    )
    .unwrap();
    let run = |file: std::path::PathBuf| {
        let url = url.clone();
        async move {
            tokio::process::Command::new(binary())
                .args(["import", "organisations"])
                .arg(file)
                .env("VALUED__NOMINATION__DATABASE__URL", url)
                .env("RUST_BACKTRACE", "0")
                .output()
                .await
                .unwrap()
        }
    };

    let output = run(good).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("Imported 1 regions, 1 trusts and 1 sites.")
    );

    let output = run(bad).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2: site RGT02 names RZZ as its trust, which is not a known trust"),
        "{stderr}"
    );

    let db = Database::connect(&url).await.unwrap();
    let sites = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM site",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(sites, 1, "the bad file added nothing");
}
