//! Retention: what is past its time loses its personal details (or goes), what is inside it is
//! untouched, and what the service counts (the unsolicited cap, the MPs' counts of letters and of
//! constituents in digests) comes out the same. The same rows on SQLite (the embedded default) and
//! on PostgreSQL; then through the API, with letters written and confirmed by supporters.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectOptions, ConnectionTrait, Database,
    DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, PrimaryKeyTrait, QueryFilter,
    Statement,
};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;
use valued_notification::db::delivery::{self, NewDelivery, Verdict};
use valued_notification::email::RenderedEmail;
use valued_notification::mps::entity::{digest, digest_item};
use valued_notification::mps::write_to_mp::entity as letter;
use valued_notification::policy::unsolicited;
use valued_notification::retention::{Report, RetentionJob, RetentionSettings};
use valued_notification::{Settings, templates};
use valued_platform::Shutdown;

const MARKER: &str = "[removed after 30 days]";
const MP: &str = "alex.baker.mp@parliament.uk";
const TOKEN: &str = "5e3f0c9a7b214d6e8f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70";

async fn sqlite() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.unwrap();
    valued_notification::db::Migrator::up(&db, None)
        .await
        .unwrap();
    db
}

async fn postgres() -> DatabaseConnection {
    let url = valued_testkit::postgres::fresh_database("notification_retention")
        .await
        .unwrap();
    let db = Database::connect(&url).await.unwrap();
    valued_notification::db::Migrator::up(&db, None)
        .await
        .unwrap();
    db
}

fn days_ago(days: i64) -> DateTime<Utc> {
    Utc::now() - Duration::days(days)
}

/// Records a delivery and sets it as `status`, created `age` ago; returns its id.
async fn delivery(
    db: &DatabaseConnection,
    to: &str,
    template: &'static str,
    status: &str,
    age: Duration,
) -> Uuid {
    let cause = Uuid::now_v7();
    delivery::insert_once(
        db,
        NewDelivery {
            cause_event_id: cause,
            recipient: to.into(),
            reply_to: Some("supporter@example.org".into()),
            sender_name: None,
            template,
            email: RenderedEmail {
                subject: format!("For {to}"),
                text: format!("Hello {to}, https://valued.example.org/confirm/{TOKEN}"),
                html: format!("<p>Hello {to}</p>"),
            },
            verdict: Verdict::Send,
            unsolicited: unsolicited::CAPPED
                .contains(&template)
                .then(|| unsolicited::key(to)),
        },
    )
    .await
    .unwrap();
    let created = Utc::now() - age;
    let row = delivery::Entity::find()
        .filter(delivery::Column::CauseEventId.eq(cause))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status))
        .col_expr(delivery::Column::CreatedAt, Expr::value(created))
        .col_expr(
            delivery::Column::UnsolicitedAt,
            Expr::value(row.unsolicited_at.map(|_| created)),
        )
        .filter(delivery::Column::Id.eq(row.id))
        .exec(db)
        .await
        .unwrap();
    row.id
}

/// The row of `E` with primary key `id`, if there is one.
async fn find<E>(db: &DatabaseConnection, id: Uuid) -> Option<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    E::find_by_id(id).one(db).await.unwrap()
}

async fn delivery_row(db: &DatabaseConnection, id: Uuid) -> delivery::Model {
    find::<delivery::Entity>(db, id).await.unwrap()
}

/// Sets one column of delivery `id`.
async fn set(
    db: &DatabaseConnection,
    id: Uuid,
    column: delivery::Column,
    value: impl Into<sea_orm::Value>,
) {
    delivery::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(delivery::Column::Id.eq(id))
        .exec(db)
        .await
        .unwrap();
}

/// A letter to Aldershot's MP in `status`, written `written` days ago and confirmed `confirmed`
/// days ago, with one copy-check fingerprint when confirmed.
async fn letter(
    db: &DatabaseConnection,
    status: &str,
    written: i64,
    confirmed: Option<i64>,
) -> Uuid {
    let id = Uuid::now_v7();
    letter::Entity::insert(letter::ActiveModel {
        id: ActiveValue::Set(id),
        member_id: ActiveValue::Set(4_078),
        constituency_code: ActiveValue::Set("E14001063".into()),
        supporter_name: ActiveValue::Set("Chris Example".into()),
        supporter_email: ActiveValue::Set(format!("{id}@example.org")),
        supporter_postcode: ActiveValue::Set("GU11 1AA".into()),
        body: ActiveValue::Set("Dear Alex, the porters deserve thanks.".into()),
        status: ActiveValue::Set(status.into()),
        confirm_token_hash: ActiveValue::Set(Some(format!("hash-{id}"))),
        created_at: ActiveValue::Set(days_ago(written)),
        confirmed_at: ActiveValue::Set(confirmed.map(days_ago)),
        pseudonymised_at: ActiveValue::Set(None),
        campaign_id: ActiveValue::Set(None),
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    if let Some(confirmed) = confirmed {
        letter::fingerprint::Entity::insert(letter::fingerprint::ActiveModel {
            letter_id: ActiveValue::Set(id),
            band: ActiveValue::Set(0),
            band_hash: ActiveValue::Set(42),
            member_id: ActiveValue::Set(4_078),
            confirmed_at: ActiveValue::Set(days_ago(confirmed)),
        })
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    id
}

async fn fingerprints(db: &DatabaseConnection, id: Uuid) -> u64 {
    letter::fingerprint::Entity::find()
        .filter(letter::fingerprint::Column::LetterId.eq(id))
        .count(db)
        .await
        .unwrap()
}

/// A constituent waiting for a digest, or listed in one made `included` days ago.
async fn digest_item(db: &DatabaseConnection, included: Option<i64>) -> Uuid {
    let id = Uuid::now_v7();
    let digest_id = Uuid::now_v7();
    if let Some(days) = included {
        digest::Entity::insert(digest::ActiveModel {
            id: ActiveValue::Set(digest_id),
            member_id: ActiveValue::Set(4_078),
            mp_name: ActiveValue::Set("Alex Baker".into()),
            constituency_code: ActiveValue::Set("E14001063".into()),
            constituency_name: ActiveValue::Set("Aldershot".into()),
            recipient: ActiveValue::Set(MP.into()),
            period_start: ActiveValue::Set(days_ago(days)),
            item_count: ActiveValue::Set(1),
            created_at: ActiveValue::Set(days_ago(days)),
        })
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    digest_item::Entity::insert(digest_item::ActiveModel {
        id: ActiveValue::Set(id),
        event_id: ActiveValue::Set(Uuid::now_v7()),
        kind: ActiveValue::Set("finalist".into()),
        nominee_name: ActiveValue::Set("Sam Patel".into()),
        nominee_job_title: ActiveValue::Set("Porter".into()),
        trust_name: ActiveValue::Set("Frimley Health".into()),
        category_name: ActiveValue::Set("Porter of the year".into()),
        campaign_name: ActiveValue::Set("Health Heroes 2026".into()),
        story_excerpt: ActiveValue::Set("Always there.".into()),
        workplace_postcode: ActiveValue::Set("GU16 7UJ".into()),
        constituency_code: ActiveValue::Set(Some("E14001063".into())),
        status: ActiveValue::Set(
            if included.is_some() {
                "included"
            } else {
                "pending"
            }
            .into(),
        ),
        problem: ActiveValue::Set(None),
        digest_id: ActiveValue::Set(included.map(|_| digest_id)),
        created_at: ActiveValue::Set(days_ago(included.unwrap_or(40) + 1)),
        included_at: ActiveValue::Set(included.map(days_ago)),
        pseudonymised_at: ActiveValue::Set(None),
        nominee_id: ActiveValue::Set(None),
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    id
}

/// `count` inbox rows for `consumer`, handled `days` ago.
async fn inbox_rows(db: &DatabaseConnection, consumer: &str, count: usize, days: i64) {
    let (table, columns) = (
        Alias::new("inbox"),
        ["consumer", "event_id", "processed_at"].map(Alias::new),
    );
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut insert = Query::insert();
        insert.into_table(table.clone()).columns(columns.clone());
        for _ in chunk {
            insert.values_panic([
                consumer.into(),
                Uuid::now_v7().into(),
                days_ago(days).into(),
            ]);
        }
        db.execute(&insert).await.unwrap();
    }
}

async fn inbox_count(db: &DatabaseConnection) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS n FROM inbox",
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get::<i64>("", "n")
    .unwrap()
}

/// Whether `to` has a slot left under an unsolicited cap of `per_day`.
async fn has_slot(db: &DatabaseConnection, to: &str, per_day: u32) -> bool {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await.unwrap();
    let slot = unsolicited::has_slot(&txn, to, per_day).await.unwrap();
    txn.rollback().await.unwrap();
    slot
}

/// Every kind of row, past its time and inside it, on `db`; one round of retention; what each
/// became.
async fn purges_what_is_past_its_time(db: DatabaseConnection) {
    let month = Duration::days(31);
    // Deliveries.
    let sent = delivery(
        &db,
        "sam@example.org",
        templates::NOMINATION_CONFIRM,
        "sent",
        month,
    )
    .await;
    let failed = delivery(
        &db,
        "jo@example.org",
        templates::WINNER_NOTICE,
        "failed",
        month,
    )
    .await;
    set(
        &db,
        failed,
        delivery::Column::LastError,
        "550 5.1.1 <Jo@Example.org>: no such user",
    )
    .await;
    let capped = delivery(
        &db,
        "cap@example.org",
        templates::DRAFT_RESUME,
        "capped",
        month,
    )
    .await;
    let pending = delivery(
        &db,
        "late@example.org",
        templates::WINNER_NOTICE,
        "pending",
        month,
    )
    .await;
    let recent = delivery(
        &db,
        "sam@example.org",
        templates::NOMINATION_CONFIRM,
        "sent",
        Duration::days(29),
    )
    .await;
    let to_mp = delivery(&db, MP, templates::MP_LETTER, "sent", month).await;
    // Old, but the throttle counted it an hour ago: it still holds one of its recipient's slots.
    let counted = delivery(
        &db,
        "kim@example.org",
        templates::WINNER_NOTICE,
        "sent",
        month,
    )
    .await;
    set(
        &db,
        counted,
        delivery::Column::CountedAt,
        Utc::now() - Duration::hours(1),
    )
    .await;
    // Folded into a summary that still waits to go: the summary reads it when it does.
    let folded = delivery(
        &db,
        "lee@example.org",
        templates::FINALIST_NOTICE,
        "folded",
        month,
    )
    .await;
    let carrier = delivery(
        &db,
        "lee@example.org",
        templates::WINNER_NOTICE,
        "pending",
        Duration::zero(),
    )
    .await;
    // The unsolicited cap over one address: two slots taken today, two more (and the capped
    // email above) a month ago.
    for age in [Duration::hours(2), Duration::hours(2), month, month] {
        let to = "cap@example.org";
        delivery(&db, to, templates::NOMINATION_CONFIRM, "sent", age).await;
    }
    // More than one batch of them.
    let like_sent = delivery_row(&db, sent).await;
    let many: Vec<_> = (0..510)
        .map(|i| {
            delivery::Model {
                id: Uuid::now_v7(),
                cause_event_id: Uuid::now_v7(),
                recipient: format!("many-{i}@example.org"),
                ..like_sent.clone()
            }
            .into_active_model()
            .reset_all()
        })
        .collect();
    for chunk in many.chunks(100) {
        delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await
            .unwrap();
    }
    let cap_before = (
        has_slot(&db, "cap@example.org", 3).await,
        has_slot(&db, "cap@example.org", 2).await,
    );
    assert_eq!(cap_before, (true, false));

    // Letters to MPs.
    let unconfirmed_old = letter(&db, "unconfirmed", 8, None).await;
    let unconfirmed_new = letter(&db, "unconfirmed", 6, None).await;
    let discarded = letter(&db, "discarded", 32, Some(31)).await;
    let sent_old: Vec<Uuid> = vec![
        letter(&db, "sent", 36, Some(35)).await,
        letter(&db, "sent", 35, Some(35)).await,
    ];
    let sent_new = letter(&db, "sent", 20, Some(20)).await;
    let held = letter(&db, "held", 41, Some(40)).await;

    // Constituents in digests.
    let listed = digest_item(&db, Some(31)).await;
    let listed_lately = digest_item(&db, Some(3)).await;
    let waiting = digest_item(&db, None).await;

    // Inbox rows: more than two batches past their time, three inside it.
    inbox_rows(&db, "notification", 700, 31).await;
    inbox_rows(&db, "notification-mp-digest", 500, 31).await;
    inbox_rows(&db, "notification", 3, 29).await;

    let job = RetentionJob::new(db.clone(), &Settings::default(), None);
    let report = job.run(Utc::now()).await.unwrap();
    assert_eq!(
        report,
        Report {
            // sent, failed, capped, to the MP, two to cap@ and 510 others.
            deliveries: 516,
            digest_items: 1,
            inbox: 1200,
            unconfirmed_letters: 1,
            discarded_letters: 1,
            sent_letters: 2,
            outbox_files: 0,
            held_letters_waiting: 1,
            rate_limit_windows: 0,
        }
    );

    // A finished delivery keeps its row, not what it said or to whom; its link token is gone.
    let row = delivery_row(&db, sent).await;
    assert_eq!(
        (
            row.subject.as_str(),
            row.text_body.as_str(),
            row.html_body.as_str()
        ),
        (MARKER, MARKER, MARKER)
    );
    assert!(!row.recipient.contains('@'), "{}", row.recipient);
    assert_eq!(row.reply_to, None);
    assert_eq!(
        (row.status.as_str(), row.template.as_str()),
        ("sent", templates::NOMINATION_CONFIRM)
    );
    assert!(row.pseudonymised_at.is_some());
    let row = delivery_row(&db, failed).await;
    assert_eq!(
        row.last_error.as_deref(),
        Some("550 5.1.1 <[address removed]>: no such user")
    );
    assert_eq!(delivery_row(&db, capped).await.text_body, MARKER);
    // An MP's address is kept with what went to them; the supporter's details are not.
    let row = delivery_row(&db, to_mp).await;
    assert_eq!(
        (row.recipient.as_str(), row.text_body.as_str()),
        (MP, MARKER)
    );
    assert_eq!(row.reply_to, None);
    // Left as they were: not finished, inside the limit, still counted, or read by a waiting summary.
    for id in [pending, recent, counted, folded, carrier] {
        let row = delivery_row(&db, id).await;
        assert!(
            row.text_body.contains(TOKEN),
            "{}: {}",
            row.status,
            row.text_body
        );
        assert!(row.recipient.contains('@'));
        assert!(row.pseudonymised_at.is_none());
    }
    // The cap counts as before.
    assert_eq!(
        (
            has_slot(&db, "cap@example.org", 3).await,
            has_slot(&db, "cap@example.org", 2).await
        ),
        cap_before
    );

    // Letters: unconfirmed and discarded ones past their time are gone, confirm-token hash and all.
    assert!(find::<letter::Entity>(&db, unconfirmed_old).await.is_none());
    assert!(find::<letter::Entity>(&db, discarded).await.is_none());
    assert!(find::<letter::Entity>(&db, unconfirmed_new).await.is_some());
    for id in &sent_old {
        let row = find::<letter::Entity>(&db, *id).await.unwrap();
        let marker = "[removed after 30 days]";
        assert_eq!(
            [
                row.supporter_name.as_str(),
                row.supporter_email.as_str(),
                row.supporter_postcode.as_str(),
                row.body.as_str()
            ],
            [marker; 4]
        );
        assert_eq!(row.confirm_token_hash, None);
        assert_eq!(
            (row.status.as_str(), row.member_id),
            ("sent", 4_078),
            "still counted for its MP"
        );
        assert_eq!(fingerprints(&db, *id).await, 0);
    }
    // The MP's count of letters for the period they were confirmed in is what it was.
    let sent_that_period = letter::Entity::find()
        .filter(letter::Column::Status.eq("sent"))
        .filter(letter::Column::MemberId.eq(4_078))
        .filter(letter::Column::ConfirmedAt.lt(days_ago(34)))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(sent_that_period, 2);
    for id in [sent_new, held] {
        let row = find::<letter::Entity>(&db, id).await.unwrap();
        assert_eq!(row.supporter_name, "Chris Example");
        assert!(row.confirm_token_hash.is_some());
        assert_eq!(fingerprints(&db, id).await, 1);
    }

    // Digest items: listed a month ago, the constituent's details go; the digest keeps its count.
    let item = find::<digest_item::Entity>(&db, listed).await.unwrap();
    assert_eq!(
        (
            item.nominee_name.as_str(),
            item.nominee_job_title.as_str(),
            item.story_excerpt.as_str(),
            item.workplace_postcode.as_str()
        ),
        (MARKER, "", "", MARKER)
    );
    assert_eq!(
        (item.status.as_str(), item.trust_name.as_str()),
        ("included", "Frimley Health")
    );
    for id in [listed_lately, waiting] {
        assert_eq!(
            find::<digest_item::Entity>(&db, id)
                .await
                .unwrap()
                .nominee_name,
            "Sam Patel"
        );
    }
    let digests = valued_notification::mps::sent_to_mps(&db, None, 10)
        .await
        .unwrap();
    assert_eq!(
        digests.iter().map(|d| d.constituents).collect::<Vec<_>>(),
        [1, 1]
    );

    assert_eq!(inbox_count(&db).await, 3);

    // Nothing more to do: a second round changes nothing.
    let again = job.run(Utc::now()).await.unwrap();
    assert_eq!(
        again,
        Report {
            held_letters_waiting: 1,
            ..Report::default()
        }
    );
}

#[tokio::test]
async fn on_sqlite_what_is_past_its_time_loses_its_details_and_counts_stay_right() {
    purges_what_is_past_its_time(sqlite().await).await;
}

#[tokio::test]
async fn on_postgres_what_is_past_its_time_loses_its_details_and_counts_stay_right() {
    purges_what_is_past_its_time(postgres().await).await;
}

/// Zero keeps everything.
#[tokio::test]
async fn zero_days_keep_everything() {
    let db = sqlite().await;
    let old = delivery(
        &db,
        "sam@example.org",
        templates::NOMINATION_CONFIRM,
        "sent",
        Duration::days(400),
    )
    .await;
    let unconfirmed = letter(&db, "unconfirmed", 400, None).await;
    inbox_rows(&db, "notification", 1, 400).await;
    let settings = Settings {
        retention: RetentionSettings {
            email_body_days: 0,
            inbox_days: 0,
            held_letter_days: 0,
            unconfirmed_letter_days: 0,
            check_seconds: 3_600,
        },
        ..Settings::default()
    };
    let report = RetentionJob::new(db.clone(), &settings, None)
        .run(Utc::now())
        .await
        .unwrap();
    assert_eq!(report, Report::default());
    assert!(delivery_row(&db, old).await.text_body.contains(TOKEN));
    assert!(find::<letter::Entity>(&db, unconfirmed).await.is_some());
    assert_eq!(inbox_count(&db).await, 1);
}

/// With the file transport, the outbox's emails go at the age their deliveries' bodies do.
#[tokio::test]
async fn old_emails_leave_the_file_outbox() {
    let db = sqlite().await;
    let dir = std::env::temp_dir().join(format!("valued-retention-outbox-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join("old.eml");
    let new = dir.join("new.eml");
    let other = dir.join("notes.txt");
    for path in [&old, &new, &other] {
        std::fs::write(
            path,
            "Subject: hello\r\n\r\nhttps://valued.example.org/confirm/x",
        )
        .unwrap();
    }
    let month_ago = std::time::SystemTime::now() - StdDuration::from_secs(31 * 86_400);
    for path in [&old, &other] {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(month_ago)
            .unwrap();
    }
    let report = RetentionJob::new(db, &Settings::default(), Some(dir.clone()))
        .run(Utc::now())
        .await
        .unwrap();
    assert_eq!(report.outbox_files, 1);
    assert!(!old.exists());
    assert!(new.exists() && other.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// The job runs every `check_seconds` and stops on shutdown.
#[tokio::test]
async fn the_job_runs_on_its_own_and_stops_on_shutdown() {
    let db = sqlite().await;
    inbox_rows(&db, "notification", 2, 31).await;
    let mut settings = Settings::default();
    settings.retention.check_seconds = 1;
    let shutdown = Shutdown::new();
    let job = RetentionJob::new(db.clone(), &settings, None).spawn(shutdown.clone());
    for _ in 0..100 {
        if inbox_count(&db).await == 0 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(inbox_count(&db).await, 0, "a round ran");
    shutdown.trigger();
    tokio::time::timeout(StdDuration::from_secs(5), job)
        .await
        .expect("the job stops on shutdown")
        .expect("the job does not panic");
}
