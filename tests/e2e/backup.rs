//! `deploy/rehearse-restore.sh` (deploy/RESTORE.md): a migrated nomination database with rows in it
//! survives dump and restore table for table, and a copy that lost or changed a row is caught.

use std::process::Output;

use sea_orm::{ConnectionTrait, Database, Statement};

use crate::cluster::binary;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/rehearse-restore.sh");

async fn rehearse(url: &str, after_restore: Option<&str>) -> Output {
    let mut command = tokio::process::Command::new("bash");
    command.arg(SCRIPT).arg(url);
    if let Some(sql) = after_restore {
        command.env("REHEARSE_RESTORE_AFTER_RESTORE", sql);
    }
    command.output().await.unwrap()
}

fn report(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The report's line for a table: `table  public.<name>  <source rows>  <restored rows>  <result>`.
fn line_for<'a>(report: &'a str, table: &str) -> &'a str {
    let relation = format!("public.{table}");
    report
        .lines()
        .find(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some("table") && words.next() == Some(relation.as_str())
        })
        .unwrap_or_else(|| panic!("no line for {relation} in:\n{report}"))
}

#[tokio::test]
async fn a_restore_rehearsal_compares_every_table_and_fails_on_a_lost_or_changed_row() {
    let url = valued_testkit::postgres::fresh_database("backup")
        .await
        .unwrap();
    // `valued import organisations` migrates the nomination database, then writes a region, a trust
    // and two sites.
    let csv = std::env::temp_dir().join(format!(
        "valued-backup-{}.csv",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(
        &csv,
        "code,name,address,postcode,parent\nY61,East of England,,,\n\
         RGT,Cambridge University Hospitals NHS Foundation Trust,\"Hills Road, Cambridge\",CB2 0QQ,Y61\n\
         RGT01,Addenbrooke's Hospital,\"Hills Road, Cambridge\",CB2 0QQ,RGT\n\
         RGT02,Rosie Hospital,\"Robinson Way, Cambridge\",CB2 0SW,RGT\n",
    )
    .unwrap();
    let import = tokio::process::Command::new(binary())
        .args(["import", "organisations"])
        .arg(&csv)
        .env("VALUED__NOMINATION__DATABASE__URL", &url)
        .env("RUST_BACKTRACE", "0")
        .output()
        .await
        .unwrap();
    std::fs::remove_file(&csv).unwrap();
    assert!(import.status.success(), "{}", report(&import));

    let intact = rehearse(&url, None).await;
    let text = report(&intact);
    assert!(intact.status.success(), "{text}");
    for table in [
        "seaql_migrations",
        "region",
        "trust",
        "site",
        "nomination",
        "outbox",
    ] {
        assert!(line_for(&text, table).ends_with(" ok"), "{table}:\n{text}");
    }
    let site = line_for(&text, "site");
    assert_eq!(
        site.split_whitespace().nth(2),
        Some("2"),
        "two sites in the source:\n{text}"
    );
    assert!(text.contains("rehearse-restore: ok:"), "{text}");

    // A copy missing a row, and one with the same number of rows but a changed one.
    let (lost, changed) = tokio::join!(
        rehearse(&url, Some("DELETE FROM site WHERE code = 'RGT02'")),
        rehearse(&url, Some("UPDATE trust SET name = 'Cambridge'")),
    );
    let lost_text = report(&lost);
    assert!(!lost.status.success(), "{lost_text}");
    assert!(
        line_for(&lost_text, "site").ends_with("DIFFERENT"),
        "{lost_text}"
    );
    assert!(
        line_for(&lost_text, "trust").ends_with(" ok"),
        "{lost_text}"
    );
    assert!(lost_text.contains("FAILED: 1 relation of"), "{lost_text}");

    let changed_text = report(&changed);
    assert!(!changed.status.success(), "{changed_text}");
    assert!(
        line_for(&changed_text, "trust").ends_with("DIFFERENT rows (same count, checksum differs)"),
        "{changed_text}"
    );

    // Every scratch copy is dropped, the failed ones too.
    let name = url.rsplit('/').next().unwrap();
    let admin = Database::connect(format!(
        "{}/postgres",
        valued_testkit::postgres::server_url()
    ))
    .await
    .unwrap();
    let left = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            format!(
                "SELECT datname FROM pg_database WHERE datname LIKE 'rehearse\\_{}%'",
                &name[..40]
            ),
        ))
        .await
        .unwrap();
    assert!(left.is_empty(), "scratch databases left behind");
}
