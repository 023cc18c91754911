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

mod from_the_browser {
    use chrono::{Duration, Utc};
    use sea_orm::sea_query::Expr;
    use sea_orm::{
        ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    };
    use valued_nomination::auth::{Grant, Principal, Role};
    use valued_nomination::db::entities::{audit_log, organisation_import, site, trust};
    use valued_nomination::error::Error;
    use valued_nomination::organisations::{
        ImportProgress, ImportState, ImportSummary, progress, run_pending, start,
    };

    use super::{file, fresh_db};

    fn someone(role: Role, scope: &str) -> Principal {
        Principal {
            email: format!("{role:?}@example.org").to_lowercase(),
            name: String::new(),
            grants: vec![Grant {
                role,
                scope: scope.to_owned(),
            }],
        }
    }

    /// Two regions, 40 trusts and 4,000 sites, each site named `{prefix} t-s`: 4,042 rows.
    fn big_file(prefix: &str) -> String {
        let mut rows = vec!["Y56,London,,,".to_owned(), "Y60,Midlands,,,".to_owned()];
        for t in 0..40 {
            rows.push(format!("R{t:02},Trust {t},,,Y56"));
            for s in 0..100 {
                rows.push(format!("R{t:02}{s:02},{prefix} {t}-{s},,,R{t:02}"));
            }
        }
        file(&rows)
    }

    async fn audited(db: &DatabaseConnection, action: &str) -> Vec<audit_log::Model> {
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(action))
            .order_by_asc(audit_log::Column::At)
            .all(db)
            .await
            .unwrap()
    }

    /// Holds `import` as a replica would that took it and stopped after `written` rows: its lease
    /// runs out `lease` from now.
    async fn held(db: &DatabaseConnection, import: &ImportProgress, written: i64, lease: Duration) {
        organisation_import::Entity::update_many()
            .col_expr(organisation_import::Column::Written, Expr::value(written))
            .col_expr(organisation_import::Column::Attempts, Expr::value(1))
            .col_expr(
                organisation_import::Column::LeaseUntil,
                Expr::value(Some(Utc::now() + lease)),
            )
            .filter(organisation_import::Column::Id.eq(import.id))
            .exec(db)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn only_a_platform_admin_imports_and_a_bad_file_stores_nothing_and_names_every_line() {
        let db = fresh_db().await;
        let admin = someone(Role::PlatformAdmin, "");
        for other in [
            someone(Role::TrustAdmin, "R00"),
            someone(Role::RegionAdmin, "Y56"),
        ] {
            let refused = start(&db, &other, big_file("Site").as_bytes()).await;
            assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
        }
        let bad = file(&[
            "Y56,London,,,".to_owned(),
            "R00,Trust,,,NOWHERE".to_owned(),
            "R0001,,,,R00".to_owned(),
        ]);
        match start(&db, &admin, bad.as_bytes()).await {
            Err(Error::Invalid(errors)) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["line 3", "line 4"], "{errors:?}");
            }
            other => panic!("a bad file was taken: {other:?}"),
        }
        assert_eq!(
            organisation_import::Entity::find()
                .count(&db)
                .await
                .unwrap(),
            0
        );
        assert_eq!(trust::Entity::find().count(&db).await.unwrap(), 0);
        assert!(
            audited(&db, "organisations import started")
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_clean_file_is_written_in_batches_with_exact_progress_and_audited_once() {
        let db = fresh_db().await;
        let admin = someone(Role::PlatformAdmin, "");
        let started = start(&db, &admin, big_file("Site").as_bytes())
            .await
            .unwrap();
        assert_eq!(started.state, ImportState::Importing);
        assert_eq!((started.written, started.total), (0, 4_042));
        assert_eq!(
            started.summary,
            ImportSummary {
                regions: 2,
                trusts: 40,
                sites: 4_000
            }
        );
        assert_eq!(audited(&db, "organisations import started").await.len(), 1);
        // Nothing is written until it is taken up; then it is written whole.
        assert_eq!(site::Entity::find().count(&db).await.unwrap(), 0);
        // Two replicas' rounds at once: one writes it, the import ends once.
        let (a, b) = tokio::join!(run_pending(&db), run_pending(&db));
        assert_eq!(a.unwrap() + b.unwrap(), 1);
        let ended = progress(&db, &admin, &started.id.to_string())
            .await
            .unwrap();
        assert_eq!(ended.state, ImportState::Imported);
        assert_eq!((ended.written, ended.total), (4_042, 4_042));
        assert!(ended.finished_at.is_some());
        assert_eq!(site::Entity::find().count(&db).await.unwrap(), 4_000);
        let done = audited(&db, "organisations imported").await;
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].actor, admin.email);
        assert_eq!(done[0].detail, "2 regions, 40 trusts and 4000 sites");
        // The file is not kept once it is written.
        let row = organisation_import::Entity::find_by_id(started.id)
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert!(row.csv.is_empty());
        // A later round finds nothing to do.
        assert_eq!(run_pending(&db).await.unwrap(), 0);

        // Nobody else sees it, and an unknown one is not found.
        let refused = progress(
            &db,
            &someone(Role::TrustAdmin, "R00"),
            &started.id.to_string(),
        )
        .await;
        assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
        for unknown in ["not-an-id", "0199c0de-0000-7000-8000-000000000000"] {
            let missing = progress(&db, &admin, unknown).await;
            assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
        }
    }

    #[tokio::test]
    async fn an_import_held_by_a_replica_waits_and_is_taken_over_where_it_stopped() {
        let db = fresh_db().await;
        let admin = someone(Role::PlatformAdmin, "");
        start(&db, &admin, big_file("Site").as_bytes())
            .await
            .unwrap();
        run_pending(&db).await.unwrap();
        // The same trusts and sites renamed, held by a replica that wrote 542 rows (the regions,
        // the trusts and the first 500 sites) and stopped.
        let renamed = start(&db, &admin, big_file("Renamed").as_bytes())
            .await
            .unwrap();
        held(&db, &renamed, 542, Duration::minutes(1)).await;
        // While its lease runs, nobody else writes it.
        assert_eq!(run_pending(&db).await.unwrap(), 0);
        let waiting = progress(&db, &admin, &renamed.id.to_string())
            .await
            .unwrap();
        assert_eq!(
            (waiting.state, waiting.written),
            (ImportState::Importing, 542)
        );
        // Once it runs out, the rest is written, from where it stopped.
        held(&db, &renamed, 542, -Duration::seconds(1)).await;
        assert_eq!(run_pending(&db).await.unwrap(), 1);
        let ended = progress(&db, &admin, &renamed.id.to_string())
            .await
            .unwrap();
        assert_eq!((ended.state, ended.written), (ImportState::Imported, 4_042));
        let name = |code: &'static str| {
            let db = db.clone();
            async move {
                site::Entity::find_by_id(code.to_owned())
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap()
                    .name
            }
        };
        // Site 500 of the file (R0499) was written by the replica that stopped, not again.
        assert_eq!(name("R0499").await, "Site 4-99");
        assert_eq!(name("R0500").await, "Renamed 5-0");
        assert_eq!(name("R3999").await, "Renamed 39-99");
    }

    #[tokio::test]
    async fn an_import_that_keeps_stopping_is_given_up_with_why_and_what_was_written_stays() {
        let db = fresh_db().await;
        let admin = someone(Role::PlatformAdmin, "");
        let started = start(&db, &admin, big_file("Site").as_bytes())
            .await
            .unwrap();
        // Taken up as many times as it may be, each time stopping.
        organisation_import::Entity::update_many()
            .col_expr(
                organisation_import::Column::Attempts,
                Expr::value(valued_nomination::organisations::ATTEMPTS),
            )
            .col_expr(
                organisation_import::Column::Failure,
                Expr::value("connection reset"),
            )
            .filter(organisation_import::Column::Id.eq(started.id))
            .exec(&db)
            .await
            .unwrap();
        assert_eq!(run_pending(&db).await.unwrap(), 1);
        let ended = progress(&db, &admin, &started.id.to_string())
            .await
            .unwrap();
        match ended.state {
            ImportState::Failed(why) => {
                assert!(why.contains("connection reset"), "{why}");
                assert!(
                    why.contains("Importing the same file again completes it"),
                    "{why}"
                );
            }
            other => panic!("not given up: {other:?}"),
        }
        assert!(audited(&db, "organisations imported").await.is_empty());
    }
}
