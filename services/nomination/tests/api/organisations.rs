use indicatif::ProgressBar;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use sea_orm_migration::MigratorTrait;
use valued_nomination::db::Migrator;
use valued_nomination::db::entities::{region, site, trust};
use valued_nomination::organisations::{ImportError, ImportSummary, import};
use valued_platform::DatabaseSettings;

const HEADER: &str = "code,name,address,postcode,parent\n";

async fn fresh_db() -> DatabaseConnection {
    let url = valued_testkit::postgres::fresh_database("organisations")
        .await
        .unwrap();
    let db = valued_platform::db::connect(
        &DatabaseSettings::postgres(url),
        &std::env::temp_dir(),
        "nomination",
    )
    .await
    .unwrap();
    Migrator::up(&db, None).await.unwrap();
    db
}

fn file(rows: &[String]) -> String {
    format!("{HEADER}{}\n", rows.join("\n"))
}

#[tokio::test]
async fn a_large_file_is_imported_with_progress_and_again_without_duplicates() {
    let db = fresh_db().await;
    let mut rows = vec!["Y56,London,,,".to_owned(), "Y60,Midlands,,,".to_owned()];
    for t in 0..40 {
        rows.push(format!(
            "R{t:02},Trust {t},\"{t} Hospital Road, Town\",B15 2GW,{}",
            if t % 2 == 0 { "Y56" } else { "Y60" }
        ));
        for s in 0..100 {
            rows.push(format!("R{t:02}{s:02},Site {t}-{s},,NG7 2UH,R{t:02}"));
        }
    }
    let progress = ProgressBar::hidden();
    let summary = import(&db, file(&rows).as_bytes(), &progress)
        .await
        .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            regions: 2,
            trusts: 40,
            sites: 4_000
        }
    );
    assert_eq!(progress.position(), 4_042);
    assert_eq!(progress.length(), Some(4_042));
    assert_eq!(site::Entity::find().count(&db).await.unwrap(), 4_000);
    let r00 = trust::Entity::find_by_id("R00")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            r00.region.as_str(),
            r00.region_code.as_deref(),
            r00.postcode.as_deref()
        ),
        ("London", Some("Y56"), Some("B15 2GW"))
    );

    // A trust's admin contact survives a re-import that renames it.
    trust::Entity::update_many()
        .col_expr(
            trust::Column::AdminEmail,
            sea_orm::sea_query::Expr::value("awards@r00.example.org"),
        )
        .filter(trust::Column::Code.eq("R00"))
        .exec(&db)
        .await
        .unwrap();
    rows[2] = "R00,Trust Zero Renamed,,B15 2GW,Y60".to_owned();
    import(&db, file(&rows).as_bytes(), &ProgressBar::hidden())
        .await
        .unwrap();
    assert_eq!(trust::Entity::find().count(&db).await.unwrap(), 40);
    let r00 = trust::Entity::find_by_id("R00")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r00.name, "Trust Zero Renamed");
    assert_eq!(r00.region, "Midlands");
    assert_eq!(r00.admin_email, "awards@r00.example.org");
}

#[tokio::test]
async fn a_file_with_bad_rows_imports_nothing_and_names_every_line() {
    let db = fresh_db().await;
    let rows = [
        "Y56,London,,,".to_owned(),
        "RJ1,Guy's and St Thomas',,SE1 7EH,Y56".to_owned(),
        "RJ121,St Thomas' Hospital,,not a postcode,RJ1".to_owned(),
        "RRK,Birmingham,,,Y99".to_owned(),
    ];
    let error = import(&db, file(&rows).as_bytes(), &ProgressBar::hidden())
        .await
        .unwrap_err();
    let ImportError::Invalid(problems) = &error else {
        panic!("{error}")
    };
    let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [4, 5]);
    assert!(error.to_string().contains("nothing was imported"));
    assert_eq!(region::Entity::find().count(&db).await.unwrap(), 0);
    assert_eq!(trust::Entity::find().count(&db).await.unwrap(), 0);
}

#[tokio::test]
async fn sites_can_be_added_under_trusts_imported_before() {
    let db = fresh_db().await;
    import(
        &db,
        file(&[
            "Y56,London,,,".into(),
            "RJ1,Guy's and St Thomas',,,Y56".into(),
        ])
        .as_bytes(),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap();
    let summary = import(
        &db,
        file(&["RJ122,Guy's Hospital,Great Maze Pond,SE1 9RT,RJ1".into()]).as_bytes(),
        &ProgressBar::hidden(),
    )
    .await
    .unwrap();
    assert_eq!(summary.sites, 1);
    let guys = site::Entity::find_by_id("RJ122")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(guys.trust_code, "RJ1");
}
