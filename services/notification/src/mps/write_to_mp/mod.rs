//! "Email your MP": a supporter finds their MP by postcode, writes in their own words, confirms their
//! email by a single-use link, and the letter goes to the MP with the supporter's name, postcode and
//! email (as Reply-To). In the spirit of WriteToThem:
//!
//! - **Two letters per person per MP in 24 hours.** A third is refused when written, with why. The
//!   count and the new letter are one transaction under a lock on (normalised address, MP), so
//!   requests sent at once cannot all pass the count (see [`begin_locked`]).
//! - **Copies are held for a person to read, never refused.** A letter sharing most of its phrasing
//!   ([`similarity`], word triples, Jaccard ≥ 0.7) with one already confirmed to the same MP in the
//!   last 30 days is not sent when confirmed: it is `held`, and platform admins send or discard it
//!   as they do letters held for volume. Only confirmed letters count ([`fingerprint`]), so a letter
//!   someone typed and never confirmed affects no one. Copies are held rather than refused because
//!   nothing tells an abuser's letters from a supporter's: someone who confirmed, from addresses
//!   of their own, letters close to an organiser's suggested wording would otherwise stop every
//!   supporter who starts from that wording. Held, such a letter waits for a person and still
//!   reaches the MP. Written in their own words it goes straight away, whatever anyone else sent.
//!   The check runs as the letter is confirmed, against what is confirmed by then, so of two copies
//!   written at once the one confirmed second is held.
//! - **Unusual volume is held too**: past `hold_after_per_day` letters sent to one MP in 24 hours.

pub mod campaigns;
pub mod entity;
mod fingerprint;
mod similarity;

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;
use valued_platform::auth::Identity;
use valued_platform::domain::{EmailAddress, FieldError, FieldErrors, PersonName};
use valued_platform::link_token::{hash_token, new_link_token};

use super::entity::mp;
use super::postcodes::{Postcode, PostcodeLookup};
use crate::db::delivery::{self, NewDelivery};
use crate::error::Error;
use crate::policy;
use crate::templates::{MP_LETTER, MP_LETTER_CONFIRM, MP_SUPPORTER_COUNT, Templates};
pub use similarity::is_copy;

/// Letters one person may send one MP in a day.
pub const PER_SUPPORTER_PER_DAY: u64 = 2;
pub const BODY_MIN_CHARS: usize = 50;
pub const BODY_MAX_CHARS: usize = 5000;
/// How far back confirmed letters are compared for copies.
pub const COPY_WINDOW_DAYS: i64 = 30;

/// Begins a transaction that no other transaction locking `key` runs beside: on PostgreSQL a
/// transaction-scoped advisory lock on the key, held until commit or rollback; on SQLite (the
/// embedded default) the database's one write lock, taken at `BEGIN IMMEDIATE`, so nothing read
/// in the transaction can change before it commits. Either way a second caller waits (SQLite: up to
/// its busy timeout) instead of failing.
async fn begin_locked(db: &DatabaseConnection, key: &str) -> Result<DatabaseTransaction, Error> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("notification.write_to_mp:{key}").into()],
        ))
        .await?;
    }
    Ok(txn)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WriteToMpSettings {
    /// Confirmed letters to one MP within 24 hours beyond which further ones are held for review.
    pub hold_after_per_day: u64,
}

impl Default for WriteToMpSettings {
    fn default() -> Self {
        Self {
            hold_after_per_day: 50,
        }
    }
}

pub mod status {
    pub const UNCONFIRMED: &str = "unconfirmed";
    pub const SENT: &str = "sent";
    pub const HELD: &str = "held";
    /// Held, then discarded by a person reviewing it.
    pub const DISCARDED: &str = "discarded";
}

/// Everything the letters need, shared by the gRPC handlers.
#[derive(Clone)]
pub struct LetterDesk {
    pub db: DatabaseConnection,
    pub lookup: PostcodeLookup,
    pub templates: std::sync::Arc<Templates>,
    pub public_url: String,
    pub settings: WriteToMpSettings,
    /// `policy.unsolicited_per_recipient_per_day`: the supporter's confirm link goes to a typed
    /// address.
    pub unsolicited_per_day: u32,
    /// Wakes the sender once a letter's email is recorded.
    pub sender_wake: std::sync::Arc<tokio::sync::Notify>,
    /// The MPs' weekly count of letters: its period, and how often to look whether one is due.
    pub count_period: Duration,
    pub count_check_every: std::time::Duration,
}

impl LetterDesk {
    pub async fn find_mp(&self, postcode: &str) -> Result<mp::Model, Error> {
        find_mp(&self.db, &self.lookup, postcode).await
    }

    pub async fn write(&self, letter: &NewLetter<'_>) -> Result<Drafted, Error> {
        let drafted = write(
            &self.db,
            &self.lookup,
            &self.templates,
            &self.public_url,
            letter,
            self.unsolicited_per_day,
        )
        .await?;
        self.sender_wake.notify_one();
        Ok(drafted)
    }

    /// `reviewer`'s decision on a held letter, recorded with it (see [`review`]).
    pub async fn review(
        &self,
        letter_id: &str,
        send: bool,
        reviewer: &Identity,
    ) -> Result<String, Error> {
        let outcome = review(&self.db, &self.templates, letter_id, send, reviewer).await?;
        self.sender_wake.notify_one();
        Ok(outcome)
    }

    pub async fn confirm(&self, token: &str) -> Result<Confirmed, Error> {
        let confirmed = confirm(&self.db, &self.templates, token, &self.settings).await?;
        self.sender_wake.notify_one();
        Ok(confirmed)
    }
}

impl LetterDesk {
    /// Sends the MPs' counts whenever a period ends, until shutdown.
    pub fn spawn_counts(self, shutdown: valued_platform::Shutdown) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.wait() => break,
                    () = tokio::time::sleep(self.count_check_every) => {}
                }
                match self.send_counts(self.count_period, Utc::now()).await {
                    Ok(0) => {}
                    Ok(told) => tracing::info!(told, "MPs told how many constituents wrote"),
                    Err(error) => tracing::warn!(%error, "MP letter counts failed"),
                }
            }
        })
    }

    /// Tells each MP, once a period, how many constituents wrote to them through Valued in the
    /// period that has just ended. Returns how many MPs were told this round.
    pub async fn send_counts(
        &self,
        period: Duration,
        now: chrono::DateTime<Utc>,
    ) -> Result<usize, Error> {
        let end = super::digest::period_start(period, now);
        let start = end - period;
        let mut counts: std::collections::BTreeMap<i32, u64> = std::collections::BTreeMap::new();
        for letter in entity::Entity::find()
            .filter(entity::Column::Status.eq(status::SENT))
            .filter(entity::Column::ConfirmedAt.gte(start))
            .filter(entity::Column::ConfirmedAt.lt(end))
            .all(&self.db)
            .await?
        {
            *counts.entry(letter.member_id).or_default() += 1;
        }
        let mut told = 0;
        for (member_id, count) in counts {
            let Some(member) = mp::Entity::find_by_id(member_id).one(&self.db).await? else {
                continue;
            };
            let Ok(address) = super::directory::usable_address(&member.email) else {
                continue;
            };
            let email = self.templates.render(
                MP_SUPPORTER_COUNT,
                json!({
                    "mp_name": member.display_as,
                    "constituency_name": member.constituency_name,
                    "count": count,
                    "period_start": start.format("%-d %B %Y").to_string(),
                    "period_end": end.format("%-d %B %Y").to_string(),
                }),
            )?;
            let made = delivery::insert_once(
                &self.db,
                NewDelivery {
                    cause_event_id: super::digest::period_id("supporter_count", member_id, end),
                    recipient: address.normalised(),
                    reply_to: None,
                    sender_name: None,
                    template: MP_SUPPORTER_COUNT,
                    email,
                    verdict: policy::verdict(&self.db, &address.normalised(), MP_SUPPORTER_COUNT)
                        .await?,
                    unsolicited: None,
                },
            )
            .await?;
            if made {
                told += 1;
            }
        }
        if told > 0 {
            self.sender_wake.notify_one();
        }
        Ok(told)
    }
}

/// The letters' templates rendered from sample data (the admin preview).
pub fn preview(templates: &Templates) -> Vec<(&'static str, crate::email::RenderedEmail)> {
    let samples = [
        (
            MP_LETTER_CONFIRM,
            json!({
                "supporter_name": "Chris Example",
                "mp_name": "Alex Baker",
                "constituency_name": "Aldershot",
                "confirm_url": "https://valued.example.org/write-to-your-mp/confirm/0000",
            }),
        ),
        (
            MP_LETTER,
            json!({
                "mp_name": "Alex Baker",
                "constituency_name": "Aldershot",
                "supporter_name": "Chris Example",
                "supporter_email": "chris@example.org",
                "supporter_postcode": "GU11 1AA",
                "body": "Dear Alex,\n\nThe porters at Frimley Park looked after my mother this winter.",
            }),
        ),
        (
            MP_SUPPORTER_COUNT,
            json!({
                "mp_name": "Alex Baker",
                "constituency_name": "Aldershot",
                "count": 12,
                "period_start": "12 November 2026",
                "period_end": "19 November 2026",
            }),
        ),
    ];
    samples
        .into_iter()
        .filter_map(|(name, context)| Some((name, templates.render(name, context).ok()?)))
        .collect()
}

fn no_such_letter() -> Error {
    Error::NotFound("no letter has this link".into())
}

/// The letter `query` finds, and the MP it is to.
async fn letter_and_mp(
    db: &DatabaseConnection,
    query: sea_orm::Select<entity::Entity>,
) -> Result<(entity::Model, mp::Model), Error> {
    let letter = query.one(db).await?.ok_or_else(no_such_letter)?;
    let member = mp::Entity::find_by_id(letter.member_id)
        .one(db)
        .await?
        .ok_or_else(no_such_letter)?;
    Ok((letter, member))
}

/// The MP for `postcode`, when we may write to them.
pub async fn find_mp(
    db: &DatabaseConnection,
    lookup: &PostcodeLookup,
    postcode: &str,
) -> Result<mp::Model, Error> {
    let code = lookup.lookup(postcode).await?;
    let member = mp::Entity::find()
        .filter(mp::Column::ConstituencyCode.eq(code.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::Refused(format!(
                "We do not have an MP for the constituency {code} yet. Please try again later."
            ))
        })?;
    if member.needs_check {
        return Err(Error::Refused(format!(
            "We cannot send letters to {} at the moment: their email address is being checked.",
            member.display_as
        )));
    }
    Ok(member)
}

/// A letter as the supporter typed it.
pub struct NewLetter<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub postcode: &'a str,
    pub body: &'a str,
    /// The campaign it is written for, if any.
    pub campaign: Option<Uuid>,
}

/// A letter waiting for its supporter to confirm their email.
pub struct Drafted {
    pub letter_id: Uuid,
    pub mp: mp::Model,
}

/// Refuses a letter from `supporter` (normalised) to `member` when they have already had
/// [`PER_SUPPORTER_PER_DAY`] letters confirmed to that MP in the last 24 hours. Only confirmed
/// letters count: whoever types someone else's address into the form cannot use up their day.
async fn refuse_a_third(
    txn: &impl sea_orm::ConnectionTrait,
    supporter: &str,
    member: &mp::Model,
    now: chrono::DateTime<Utc>,
) -> Result<(), Error> {
    let confirmed = entity::Entity::find()
        .filter(entity::Column::SupporterEmail.eq(supporter))
        .filter(entity::Column::MemberId.eq(member.member_id))
        .filter(entity::Column::ConfirmedAt.gt(now - Duration::days(1)))
        .count(txn)
        .await?;
    if confirmed >= PER_SUPPORTER_PER_DAY {
        return Err(Error::Refused(format!(
            "You have already written to {} twice in the last 24 hours. Please wait a day before writing again.",
            member.display_as
        )));
    }
    Ok(())
}

/// Checks and stores a letter, and emails the supporter a single-use link to confirm it (unless
/// their address has had `unsolicited_per_day` emails from public forms today: the delivery is then
/// recorded as `capped`).
pub async fn write(
    db: &DatabaseConnection,
    lookup: &PostcodeLookup,
    templates: &Templates,
    public_url: &str,
    letter: &NewLetter<'_>,
    unsolicited_per_day: u32,
) -> Result<Drafted, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.check(PersonName::parse("name", "your full name", letter.name));
    let email = errors.check(EmailAddress::parse("email", letter.email));
    let postcode = errors.check(
        Postcode::parse(letter.postcode)
            .map_err(|_| FieldError::new("postcode", "Enter a full UK postcode, like SW1A 0AA")),
    );
    let body = errors.check(campaigns::LetterText::parse(letter.body).map_err(|length| {
        FieldError::new(
            "body",
            match length {
                campaigns::TextLength::TooShort => format!(
                    "Write your letter in your own words ({BODY_MIN_CHARS} characters or more)"
                ),
                campaigns::TextLength::TooLong => {
                    format!("Your letter must be {BODY_MAX_CHARS} characters or fewer")
                }
            },
        )
    }));
    errors.into_result().map_err(Error::Invalid)?;
    let (Some(name), Some(email), Some(postcode), Some(body)) = (name, email, postcode, body)
    else {
        return Err(Error::Invalid(vec![]));
    };
    let member = find_mp(db, lookup, postcode.as_str()).await?;

    // Counted and recorded under one lock per person and MP: letters written at once are counted
    // one after another.
    let txn = begin_locked(
        db,
        &format!("supporter:{}:{}", member.member_id, email.normalised()),
    )
    .await?;
    let now = Utc::now();
    refuse_a_third(&txn, &email.normalised(), &member, now).await?;

    let (token, token_hash) = new_link_token();
    let id = Uuid::now_v7();
    entity::Entity::insert(entity::ActiveModel {
        id: ActiveValue::Set(id),
        member_id: ActiveValue::Set(member.member_id),
        constituency_code: ActiveValue::Set(member.constituency_code.clone()),
        supporter_name: ActiveValue::Set(name.to_string()),
        supporter_email: ActiveValue::Set(email.normalised()),
        supporter_postcode: ActiveValue::Set(postcode.to_string()),
        body: ActiveValue::Set(body.as_str().to_owned()),
        status: ActiveValue::Set(status::UNCONFIRMED.into()),
        confirm_token_hash: ActiveValue::Set(Some(token_hash)),
        created_at: ActiveValue::Set(now),
        confirmed_at: ActiveValue::Set(None),
        pseudonymised_at: ActiveValue::Set(None),
        campaign_id: ActiveValue::Set(letter.campaign),
    })
    .exec_without_returning(&txn)
    .await?;
    let email_to_supporter = templates.render(
        MP_LETTER_CONFIRM,
        json!({
            "supporter_name": name.as_str(),
            "mp_name": member.display_as,
            "constituency_name": member.constituency_name,
            "confirm_url": format!("{}/write-to-your-mp/confirm/{token}", public_url.trim_end_matches('/')),
        }),
    )?;
    let decision = policy::admit(
        &txn,
        &email.normalised(),
        MP_LETTER_CONFIRM,
        policy::unsolicited::Origin::Typed,
        unsolicited_per_day,
    )
    .await?;
    delivery::insert_once(
        &txn,
        NewDelivery {
            cause_event_id: id,
            recipient: email.normalised(),
            reply_to: None,
            sender_name: None,
            template: MP_LETTER_CONFIRM,
            email: email_to_supporter,
            verdict: decision.verdict,
            unsolicited: decision.unsolicited,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Drafted {
        letter_id: id,
        mp: member,
    })
}

/// What confirming a letter did.
pub struct Confirmed {
    pub mp_name: String,
    /// `sent` or `held`; the same answer when the link is followed again.
    pub status: String,
}

/// Records the letter's email to its MP, with the supporter as Reply-To (once per letter).
async fn send_to_mp(
    txn: &impl sea_orm::ConnectionTrait,
    templates: &Templates,
    letter: &entity::Model,
    member: &mp::Model,
) -> Result<(), Error> {
    let to_mp = templates.render(
        MP_LETTER,
        json!({
            "mp_name": member.display_as,
            "constituency_name": member.constituency_name,
            "supporter_name": letter.supporter_name,
            "supporter_email": letter.supporter_email,
            "supporter_postcode": letter.supporter_postcode,
            "body": letter.body,
        }),
    )?;
    delivery::insert_once(
        txn,
        NewDelivery {
            cause_event_id: letter.id,
            recipient: member.email.to_lowercase(),
            reply_to: Some(letter.supporter_email.clone()),
            sender_name: None,
            template: MP_LETTER,
            email: to_mp,
            verdict: policy::verdict(txn, &member.email.to_lowercase(), MP_LETTER).await?,
            unsolicited: None,
        },
    )
    .await?;
    Ok(())
}

/// Letters held for review (unusual volume to their MP), oldest first, with their MP.
pub async fn held(db: &DatabaseConnection) -> Result<Vec<(entity::Model, mp::Model)>, Error> {
    let letters = entity::Entity::find()
        .filter(entity::Column::Status.eq(status::HELD))
        .order_by_asc(entity::Column::ConfirmedAt)
        .all(db)
        .await?;
    let mut held = Vec::with_capacity(letters.len());
    for letter in letters {
        if let Some(member) = mp::Entity::find_by_id(letter.member_id).one(db).await? {
            held.push((letter, member));
        }
    }
    Ok(held)
}

/// What a reviewer decided, as the audit records it.
pub mod decision {
    pub const SEND: &str = "send";
    pub const DISCARD: &str = "discard";
}

/// A person's decision on a held letter: send it to the MP after all, or discard it. Only a held
/// letter can be decided, once. The decision is recorded in `held_letter_decision` (who: the
/// `reviewer`'s email, issuer and subject; what; which letter and MP; when) in the transaction
/// that makes it, so no decision goes unrecorded and a refused one records nothing.
pub async fn review(
    db: &DatabaseConnection,
    templates: &Templates,
    letter_id: &str,
    send: bool,
    reviewer: &Identity,
) -> Result<String, Error> {
    let id: Uuid = letter_id.trim().parse().map_err(|_| no_such_letter())?;
    let (letter, member) = letter_and_mp(db, entity::Entity::find_by_id(id)).await?;
    let outcome = if send {
        status::SENT
    } else {
        status::DISCARDED
    };
    let txn = db.begin().await?;
    let decided = entity::Entity::update_many()
        .col_expr(entity::Column::Status, Expr::value(outcome))
        .filter(entity::Column::Id.eq(id))
        .filter(entity::Column::Status.eq(status::HELD))
        .exec(&txn)
        .await?;
    if decided.rows_affected == 0 {
        return Err(Error::Refused(format!(
            "This letter is not waiting for review (it is {})",
            letter.status
        )));
    }
    if send {
        if member.needs_check {
            return Err(Error::Refused(format!(
                "{}'s address is being checked: the letter cannot be sent yet",
                member.display_as
            )));
        }
        send_to_mp(&txn, templates, &letter, &member).await?;
    } else {
        // It never reached the MP: later letters are not copies of it.
        fingerprint::forget(&txn, letter.id).await?;
    }
    let decided = if send {
        decision::SEND
    } else {
        decision::DISCARD
    };
    entity::decision::Entity::insert(entity::decision::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        letter_id: ActiveValue::Set(letter.id),
        decision: ActiveValue::Set(decided.to_owned()),
        member_id: ActiveValue::Set(member.member_id),
        mp_name: ActiveValue::Set(member.display_as.clone()),
        constituency_code: ActiveValue::Set(member.constituency_code.clone()),
        constituency_name: ActiveValue::Set(member.constituency_name.clone()),
        admin_email: ActiveValue::Set(reviewer.email.clone()),
        admin_issuer: ActiveValue::Set(reviewer.iss.clone()),
        admin_subject: ActiveValue::Set(reviewer.sub.clone()),
        decided_at: ActiveValue::Set(Utc::now()),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(letter_id = %letter.id, member_id = member.member_id, decision = decided, "held letter decided");
    Ok(outcome.to_owned())
}

/// Decisions on held letters, newest first, optionally on one letter: the audit of [`review`].
pub async fn decisions(
    db: &DatabaseConnection,
    letter_id: Option<Uuid>,
    limit: u64,
) -> Result<Vec<entity::decision::Model>, Error> {
    use entity::decision::{Column, Entity};
    let mut query = Entity::find()
        .order_by_desc(Column::DecidedAt)
        .order_by_desc(Column::Id)
        .limit(limit);
    if let Some(letter_id) = letter_id {
        query = query.filter(Column::LetterId.eq(letter_id));
    }
    Ok(query.all(db).await?)
}

/// Confirms a letter: it goes to the MP, or is held for review when it is a copy of a letter
/// already confirmed to the MP (see the module's documentation) or the MP has had unusually many
/// today. Either way it now counts for the copy check.
pub async fn confirm(
    db: &DatabaseConnection,
    templates: &Templates,
    token: &str,
    settings: &WriteToMpSettings,
) -> Result<Confirmed, Error> {
    let (letter, member) = letter_and_mp(
        db,
        entity::Entity::find().filter(entity::Column::ConfirmTokenHash.eq(hash_token(token))),
    )
    .await?;
    if letter.status != status::UNCONFIRMED {
        return Ok(Confirmed {
            mp_name: member.display_as,
            status: letter.status,
        });
    }
    // One MP's confirmations one at a time: the volume count, the supporter's daily limit and the
    // copy check see every letter confirmed before this one.
    let txn = begin_locked(db, &format!("mp:{}", member.member_id)).await?;
    let now = Utc::now();
    refuse_a_third(&txn, &letter.supporter_email, &member, now).await?;
    let today = entity::Entity::find()
        .filter(entity::Column::MemberId.eq(member.member_id))
        .filter(entity::Column::Status.eq(status::SENT))
        .filter(entity::Column::ConfirmedAt.gt(now - Duration::days(1)))
        .count(&txn)
        .await?;
    let copy_of = fingerprint::find_copy(
        &txn,
        member.member_id,
        &letter.body,
        now - Duration::days(COPY_WINDOW_DAYS),
    )
    .await?;
    let busy = today >= settings.hold_after_per_day;
    let outcome = if busy || copy_of.is_some() || member.needs_check {
        status::HELD
    } else {
        status::SENT
    };
    // Conditional on the status, so two clicks at once send once.
    let claimed = entity::Entity::update_many()
        .col_expr(entity::Column::Status, Expr::value(outcome))
        .col_expr(entity::Column::ConfirmedAt, Expr::value(now))
        .filter(entity::Column::Id.eq(letter.id))
        .filter(entity::Column::Status.eq(status::UNCONFIRMED))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        // Another click confirmed it first (what it decided stands, not what this one would have),
        // or retention deleted it unconfirmed meanwhile.
        txn.rollback().await?;
        let decided = entity::Entity::find_by_id(letter.id)
            .one(db)
            .await?
            .ok_or_else(no_such_letter)?;
        return Ok(Confirmed {
            mp_name: member.display_as,
            status: decided.status,
        });
    }
    fingerprint::record(&txn, &letter, now).await?;
    // Counted with the confirmation it is part of: once, whatever becomes of the letter.
    campaigns::count_confirmed(&txn, letter.campaign_id).await?;
    if outcome == status::SENT {
        send_to_mp(&txn, templates, &letter, &member).await?;
    }
    txn.commit().await?;
    if outcome == status::HELD {
        tracing::warn!(
            member_id = member.member_id,
            letter_id = %letter.id,
            copy_of = ?copy_of,
            unusual_volume = busy,
            "letter held for review"
        );
    }
    Ok(Confirmed {
        mp_name: member.display_as,
        status: outcome.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use sea_orm_migration::MigratorTrait;

    use super::*;
    use crate::mps::PostcodesSettings;
    use crate::mps::entity::postcode_cache;

    /// The embedded default's database (a SQLite file, its pool of connections as the service
    /// opens it) with Aldershot's MP, and a lookup that knows GU11 1AA without asking anyone.
    async fn embedded(dir: &std::path::Path) -> (DatabaseConnection, PostcodeLookup) {
        let db = valued_platform::db::connect(
            &valued_platform::DatabaseSettings::default(),
            dir,
            crate::NAME,
        )
        .await
        .unwrap();
        crate::db::Migrator::up(&db, None).await.unwrap();
        mp::Entity::insert(mp::ActiveModel {
            member_id: ActiveValue::Set(4_078),
            constituency_code: ActiveValue::Set("E14001063".into()),
            constituency_name: ActiveValue::Set("Aldershot".into()),
            display_as: ActiveValue::Set("Alex Baker".into()),
            full_title: ActiveValue::Set("Alex Baker MP".into()),
            party: ActiveValue::Set("Labour".into()),
            email: ActiveValue::Set("alex.baker.mp@parliament.uk".into()),
            needs_check: ActiveValue::Set(false),
            check_reason: ActiveValue::Set(None),
            imported_at: ActiveValue::Set(Utc::now()),
        })
        .exec_without_returning(&db)
        .await
        .unwrap();
        postcode_cache::Entity::insert(postcode_cache::ActiveModel {
            postcode: ActiveValue::Set("GU11 1AA".into()),
            constituency_code: ActiveValue::Set("E14001063".into()),
            fetched_at: ActiveValue::Set(Utc::now()),
        })
        .exec_without_returning(&db)
        .await
        .unwrap();
        let nowhere = PostcodesSettings {
            base_url: "http://127.0.0.1:9".into(),
            timeout_ms: 100,
        };
        let lookup = PostcodeLookup::new(db.clone(), &nowhere).unwrap();
        (db, lookup)
    }

    /// A different letter for each `i`: no two share a word triple, so none is a copy of another.
    fn own_words(i: usize) -> String {
        let words: Vec<String> = (0..16).map(|j| format!("thought{i}x{j}")).collect();
        format!("Dear Alex, {}.", words.join(" "))
    }

    /// On SQLite, letters from one person confirmed at once, each on its own connection: exactly
    /// [`PER_SUPPORTER_PER_DAY`] are taken, the rest refused (none fails on a busy database). Writing
    /// them is not limited: only confirmed letters count.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn on_sqlite_letters_confirmed_at_once_pass_the_daily_limit_only_twice() {
        let dir = std::env::temp_dir().join(format!("valued-write-to-mp-{}", Uuid::new_v4()));
        let (db, lookup) = embedded(&dir).await;
        let templates = std::sync::Arc::new(Templates::new().unwrap());
        for i in 0..6 {
            let body = own_words(i);
            let letter = NewLetter {
                name: "Chris Example",
                email: "chris@example.org",
                postcode: "GU11 1AA",
                body: &body,
                campaign: None,
            };
            write(
                &db,
                &lookup,
                &templates,
                "https://valued.example.org",
                &letter,
                100,
            )
            .await
            .unwrap();
        }
        let tokens: Vec<String> = delivery::recent(&db, None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|email| {
                let (_, after) = email
                    .text_body
                    .split_once("/write-to-your-mp/confirm/")
                    .unwrap();
                after.chars().take_while(char::is_ascii_hexdigit).collect()
            })
            .collect();
        assert_eq!(tokens.len(), 6);
        let confirms: Vec<_> = tokens
            .into_iter()
            .map(|token| {
                let (db, templates) = (db.clone(), templates.clone());
                tokio::spawn(async move {
                    confirm(&db, &templates, &token, &WriteToMpSettings::default())
                        .await
                        .map(|_| ())
                })
            })
            .collect();
        let mut taken = 0;
        for confirmed in confirms {
            match confirmed.await.unwrap() {
                Ok(()) => taken += 1,
                Err(Error::Refused(why)) => assert!(why.contains("twice"), "{why}"),
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(taken, PER_SUPPORTER_PER_DAY);
        let confirmed = entity::Entity::find()
            .filter(entity::Column::ConfirmedAt.is_not_null())
            .count(&db)
            .await
            .unwrap();
        assert_eq!(confirmed, PER_SUPPORTER_PER_DAY);
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The campaign the one letter below is written for.
    const CAMPAIGN: Uuid = Uuid::from_u128(0x0193_a1b2_0000_7000_8000_0000_0000_a001);

    /// The embedded default's database (in a directory of its own, removed by the test) with one
    /// letter from Chris to Alex Baker for [`CAMPAIGN`], written and not yet confirmed.
    async fn one_letter_written() -> (std::path::PathBuf, DatabaseConnection, Templates, Drafted) {
        let dir = std::env::temp_dir().join(format!("valued-one-letter-{}", Uuid::new_v4()));
        let (db, lookup) = embedded(&dir).await;
        let templates = Templates::new().unwrap();
        let body = own_words(1);
        let letter = NewLetter {
            name: "Chris Example",
            email: "chris@example.org",
            postcode: "GU11 1AA",
            body: &body,
            campaign: Some(CAMPAIGN),
        };
        let drafted = write(
            &db,
            &lookup,
            &templates,
            "https://v.example.org",
            &letter,
            10,
        )
        .await
        .unwrap();
        (dir, db, templates, drafted)
    }

    /// The link followed twice at once: both answers say what was decided. (The second used to
    /// find the letter's own fingerprint, recorded by the first, and answer "held" for a letter
    /// that had been sent.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn on_sqlite_two_clicks_at_once_both_answer_what_was_decided() {
        let (dir, db, templates, _) = one_letter_written().await;
        let email = delivery::recent(&db, None, 1).await.unwrap().remove(0);
        let (_, after) = email
            .text_body
            .split_once("/write-to-your-mp/confirm/")
            .unwrap();
        let token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
        let settings = WriteToMpSettings::default();
        let (first, second) = tokio::join!(
            confirm(&db, &templates, &token, &settings),
            confirm(&db, &templates, &token, &settings)
        );
        let stored = entity::Entity::find().one(&db).await.unwrap().unwrap();
        assert_eq!(stored.status, status::SENT);
        assert_eq!(first.unwrap().status, stored.status);
        assert_eq!(second.unwrap().status, stored.status);
        // Counted once, in all and for its campaign, on SQLite's upsert too.
        assert_eq!(campaigns::count(&db, Some(CAMPAIGN)).await.unwrap(), (1, 1));
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// On SQLite too, a decision is recorded with its reviewer, a refused one records nothing, and
    /// the record cannot be changed or removed.
    #[tokio::test]
    async fn on_sqlite_a_decision_is_recorded_once_and_the_record_is_append_only() {
        let (dir, db, templates, drafted) = one_letter_written().await;
        entity::Entity::update_many()
            .col_expr(entity::Column::Status, Expr::value(status::HELD))
            .exec(&db)
            .await
            .unwrap();
        let reviewer = Identity {
            iss: "https://issuer.example.org".into(),
            sub: "account-7".into(),
            email: "admin@example.org".into(),
            email_verified: true,
            name: String::new(),
        };
        let id = drafted.letter_id.to_string();
        assert_eq!(
            review(&db, &templates, &id, false, &reviewer)
                .await
                .unwrap(),
            status::DISCARDED
        );
        let refused = review(&db, &templates, &id, true, &reviewer).await;
        assert!(matches!(refused, Err(Error::Refused(_))), "{refused:?}");
        let recorded = decisions(&db, None, 10).await.unwrap();
        let [only] = recorded.as_slice() else {
            panic!("one decision: {recorded:?}");
        };
        assert_eq!(
            (
                only.letter_id,
                only.decision.as_str(),
                only.member_id,
                only.admin_email.as_str(),
                only.admin_issuer.as_str(),
                only.admin_subject.as_str(),
            ),
            (
                drafted.letter_id,
                decision::DISCARD,
                4_078,
                "admin@example.org",
                "https://issuer.example.org",
                "account-7",
            )
        );
        for sql in [
            "UPDATE held_letter_decision SET decision = 'send'",
            "DELETE FROM held_letter_decision",
        ] {
            let refused = db
                .execute_raw(Statement::from_string(DbBackend::Sqlite, sql))
                .await
                .unwrap_err();
            assert!(refused.to_string().contains("append-only"), "{refused}");
        }
        assert_eq!(decisions(&db, None, 10).await.unwrap().len(), 1);
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn letters_render_with_what_people_typed_escaped_and_no_header_breaks() {
        let templates = Templates::new().unwrap();
        let typed = "Sam <b>Patel</b> & \"Co\"";
        let confirm = templates
            .render(
                MP_LETTER_CONFIRM,
                json!({
                    "supporter_name": typed,
                    "mp_name": "Alex Baker",
                    "constituency_name": "Aldershot",
                    "confirm_url": "https://valued.example.org/write-to-your-mp/confirm/ab12",
                }),
            )
            .unwrap();
        assert_eq!(confirm.subject, "Confirm your letter to Alex Baker");
        assert!(confirm.text.contains("/write-to-your-mp/confirm/ab12"));
        assert!(!confirm.html.contains("<b>"));
        let letter = templates
            .render(
                MP_LETTER,
                json!({
                    "mp_name": "Alex Baker",
                    "constituency_name": "Aldershot",
                    "supporter_name": "Chris\r\nBcc: x@example.org",
                    "supporter_email": "chris@example.org",
                    "supporter_postcode": "GU11 1AA",
                    "body": format!("{typed}\n\nSecond paragraph"),
                }),
            )
            .unwrap();
        assert!(!letter.subject.contains('\n') && !letter.subject.contains('\r'));
        assert!(letter.text.contains("Second paragraph"));
        assert!(!letter.html.contains("<b>Patel"));
    }
}
