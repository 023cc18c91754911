//! The copy check's index. Each confirmed letter has a row for each of its
//! [`BANDS`](super::similarity::BANDS) MinHash band hashes, with its MP and when it was confirmed
//! (`mp_letter_fingerprint`). [`find_copy`] looks up a letter's band hashes through the index on
//! (MP, band hash, confirmed at) and reads at most [`CANDIDATE_ROWS`] rows. It then compares
//! word for word only the [`COMPARED`] letters sharing the most bands with it. Memory and time stay
//! bounded however many letters the MP has had.
//!
//! Only confirmed letters are recorded ([`record`], when the link is followed), so an unconfirmed
//! letter, which anyone could have typed, is never compared against. A letter discarded on review
//! is taken out ([`forget`]): it never reached the MP.
//!
//! The bound has a cost. Someone flooding an MP with letters that share bands with a text could push
//! a real copy of it out of the candidates, and that copy would then be sent like any other letter.
//! The flood cannot make anyone's letter count as a copy: only a word-for-word comparison does that.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Select,
};
use uuid::Uuid;

use super::entity::{self as letter, fingerprint};
use super::similarity::{COPY_THRESHOLD, band_hashes, shingles, similarity};

/// At most this many rows are read for one lookup.
pub const CANDIDATE_ROWS: u64 = 200;
/// At most this many letters are compared word for word.
pub const COMPARED: usize = 8;

/// Records a letter's band hashes as it is confirmed: from now on, letters to its MP are checked
/// against it.
pub async fn record(
    db: &impl ConnectionTrait,
    letter: &letter::Model,
    confirmed_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    fingerprint::Entity::insert_many(rows(letter, confirmed_at))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A letter's fingerprint rows.
fn rows(
    letter: &letter::Model,
    confirmed_at: DateTime<Utc>,
) -> impl Iterator<Item = fingerprint::ActiveModel> {
    let (letter_id, member_id) = (letter.id, letter.member_id);
    (0i16..)
        .zip(band_hashes(&shingles(&letter.body)))
        .map(move |(band, band_hash)| fingerprint::ActiveModel {
            letter_id: ActiveValue::Set(letter_id),
            band: ActiveValue::Set(band),
            band_hash: ActiveValue::Set(band_hash),
            member_id: ActiveValue::Set(member_id),
            confirmed_at: ActiveValue::Set(confirmed_at),
        })
}

/// Takes a letter out of the copy check.
pub async fn forget(db: &impl ConnectionTrait, letter_id: Uuid) -> Result<(), DbErr> {
    fingerprint::Entity::delete_many()
        .filter(fingerprint::Column::LetterId.eq(letter_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A letter to `member_id` confirmed after `since` of which `body` is a near-identical copy, if
/// there is one among the candidates.
pub async fn find_copy(
    db: &impl ConnectionTrait,
    member_id: i32,
    body: &str,
    since: DateTime<Utc>,
) -> Result<Option<Uuid>, DbErr> {
    let mine = shingles(body);
    let rows: Vec<Uuid> = candidates(member_id, &band_hashes(&mine), since)
        .into_tuple()
        .all(db)
        .await?;
    let mut shared: HashMap<Uuid, usize> = HashMap::new();
    for id in rows {
        *shared.entry(id).or_default() += 1;
    }
    let mut ranked: Vec<(Uuid, usize)> = shared.into_iter().collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(COMPARED);
    if ranked.is_empty() {
        return Ok(None);
    }
    let compared: Vec<(Uuid, String)> = bodies(ranked.into_iter().map(|(id, _)| id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(compared
        .into_iter()
        .find(|(_, other)| similarity(&mine, &shingles(other)) >= COPY_THRESHOLD)
        .map(|(id, _)| id))
}

/// The ids of letters to `member_id` confirmed after `since` sharing any of `bands`, one per
/// shared band, at most [`CANDIDATE_ROWS`].
fn candidates(member_id: i32, bands: &[i64], since: DateTime<Utc>) -> Select<fingerprint::Entity> {
    fingerprint::Entity::find()
        .select_only()
        .column(fingerprint::Column::LetterId)
        .filter(fingerprint::Column::MemberId.eq(member_id))
        .filter(fingerprint::Column::BandHash.is_in(bands.iter().copied()))
        .filter(fingerprint::Column::ConfirmedAt.gt(since))
        .limit(CANDIDATE_ROWS)
}

/// The id and text of each letter in `ids`, by primary key.
fn bodies(ids: impl IntoIterator<Item = Uuid>) -> Select<letter::Entity> {
    letter::Entity::find()
        .select_only()
        .column(letter::Column::Id)
        .column(letter::Column::Body)
        .filter(letter::Column::Id.is_in(ids))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use sea_orm::{DatabaseConnection, DbBackend, QueryTrait, Statement};

    use super::*;
    use crate::db::testing::sqlite;

    const LETTER: &str = "Dear Alex, the porters and domestics at Frimley Park looked after my \
        mother for three weeks this winter and nobody thanks them. Please speak up for fair pay.";

    fn letter(member_id: i32, body: &str) -> letter::Model {
        letter::Model {
            id: Uuid::now_v7(),
            member_id,
            constituency_code: "E14001063".into(),
            supporter_name: "A Supporter".into(),
            supporter_email: "a@example.org".into(),
            supporter_postcode: "GU11 1AA".into(),
            body: body.into(),
            status: "sent".into(),
            confirm_token_hash: None,
            created_at: Utc::now(),
            confirmed_at: Some(Utc::now()),
            pseudonymised_at: None,
            campaign_id: None,
        }
    }

    /// Stores letters, and records each as confirmed at `confirmed_at` when given.
    async fn store(
        db: &DatabaseConnection,
        letters: &[letter::Model],
        confirmed_at: Option<DateTime<Utc>>,
    ) {
        for chunk in letters.chunks(500) {
            letter::Entity::insert_many(
                chunk
                    .iter()
                    .map(|l| sea_orm::IntoActiveModel::into_active_model(l.clone())),
            )
            .exec_without_returning(db)
            .await
            .unwrap();
        }
        let Some(at) = confirmed_at else { return };
        let all: Vec<_> = letters.iter().flat_map(|l| rows(l, at)).collect();
        for chunk in all.chunks(1000) {
            fingerprint::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(db)
                .await
                .unwrap();
        }
    }

    /// How the database would run `query`: PostgreSQL's `EXPLAIN`, SQLite's `EXPLAIN QUERY PLAN`.
    async fn plan(db: &DatabaseConnection, query: &impl QueryTrait) -> String {
        let backend = db.get_database_backend();
        let statement = query.build(backend);
        let (explain, column) = if backend == DbBackend::Postgres {
            ("EXPLAIN", "QUERY PLAN")
        } else {
            ("EXPLAIN QUERY PLAN", "detail")
        };
        let rows = db
            .query_all_raw(Statement {
                sql: format!("{explain} {}", statement.sql),
                ..statement
            })
            .await
            .unwrap();
        rows.iter()
            .map(|row| row.try_get::<String>("", column).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn only_recorded_letters_in_the_window_count_and_forgotten_ones_do_not() {
        let db = sqlite().await;
        let now = Utc::now();
        let since = now - Duration::days(30);
        let unconfirmed = letter(1, LETTER);
        store(&db, std::slice::from_ref(&unconfirmed), None).await;
        let pasted = LETTER.to_uppercase().replace(',', "");
        assert_eq!(find_copy(&db, 1, &pasted, since).await.unwrap(), None);

        let confirmed = letter(1, LETTER);
        store(&db, std::slice::from_ref(&confirmed), Some(now)).await;
        assert_eq!(
            find_copy(&db, 1, &pasted, since).await.unwrap(),
            Some(confirmed.id)
        );
        assert_eq!(
            find_copy(&db, 2, &pasted, since).await.unwrap(),
            None,
            "another MP"
        );
        let own = "Dear Alex, my brother is a healthcare support worker at Frimley Park and works \
            nights on a salary that does not cover his rent in Aldershot. Please raise this.";
        assert_eq!(find_copy(&db, 1, own, since).await.unwrap(), None);
        assert_eq!(
            find_copy(&db, 1, &pasted, now + Duration::seconds(1))
                .await
                .unwrap(),
            None,
            "outside the window"
        );

        forget(&db, confirmed.id).await.unwrap();
        assert_eq!(find_copy(&db, 1, &pasted, since).await.unwrap(), None);
    }

    #[tokio::test]
    async fn on_sqlite_the_lookup_searches_the_index_and_letters_by_primary_key() {
        let db = sqlite().await;
        let bands = band_hashes(&shingles(LETTER));
        let lookup = plan(&db, &candidates(1, &bands, Utc::now())).await;
        assert!(
            lookup.contains("SEARCH mp_letter_fingerprint USING INDEX mp_letter_fingerprint_lookup (member_id=? AND band_hash=? AND confirmed_at>?)"),
            "{lookup}"
        );
        assert!(!lookup.contains("SCAN"), "{lookup}");
        let read = plan(&db, &bodies([Uuid::now_v7(), Uuid::now_v7()])).await;
        assert!(read.contains("SEARCH mp_letter USING INDEX"), "{read}");
        assert!(read.contains("(id=?)"), "{read}");
        assert!(!read.contains("SCAN"), "{read}");
    }

    /// On PostgreSQL, with thousands of letters to sixty MPs and their statistics gathered, the
    /// planner reads the fingerprint index and never scans a table.
    #[tokio::test]
    async fn on_postgres_the_lookup_reads_the_index_and_never_scans_a_table() {
        let db = crate::db::testing::postgres("notification_fingerprint", 10).await;
        // Letters of their own: forty words each, drawn from a hundred thousand.
        let letters: Vec<letter::Model> = (0..3000)
            .map(|i| {
                let words: Vec<String> = (0..40)
                    .map(|j| format!("w{}", (i * 7919 + j * 104_729) % 100_003))
                    .collect();
                letter(i % 60, &words.join(" "))
            })
            .collect();
        store(&db, &letters, Some(Utc::now())).await;
        db.execute_unprepared("ANALYZE").await.unwrap();

        let bands = band_hashes(&shingles(LETTER));
        let since = Utc::now() - Duration::days(30);
        let lookup = plan(&db, &candidates(7, &bands, since)).await;
        assert!(lookup.contains("mp_letter_fingerprint_lookup"), "{lookup}");
        assert!(lookup.starts_with("Limit"), "{lookup}");
        assert!(!lookup.contains("Seq Scan"), "{lookup}");
        assert!(!lookup.contains(" on mp_letter "), "{lookup}");

        let some: Vec<Uuid> = letters.iter().take(COMPARED).map(|l| l.id).collect();
        let read = plan(&db, &bodies(some)).await;
        assert!(read.contains("mp_letter_pkey"), "{read}");
        assert!(!read.contains("Seq Scan"), "{read}");
    }
}
