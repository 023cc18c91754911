//! The notification service's part in erasing a person (see `valued_platform::erasure`): an email
//! to them not yet sent is never sent; every email to them loses its subject, bodies and their
//! address; an email that carried their address as Reply-To (a letter to an MP) loses its words;
//! a letter to an MP they never confirmed is deleted and a confirmed one keeps its place in the
//! MP's counts without their name, address, postcode or words.
//!
//! Kept: their unsubscribe and suppression entries, so that an erased person is never emailed again
//! by something they had opted out of (their objection outlives the data).

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;
use valued_platform::db::{contains_text, same_email};
use valued_platform::erasure::{Erase, Person};

use crate::db::delivery::{self as delivery_entity, status};
use crate::mps::write_to_mp::entity as letter;
use crate::policy::preference;
use crate::retention::{removed_recipient, without_address};

/// What stands where an erased person's details were.
pub const ERASED: &str = "[erased]";

/// An update of deliveries that replaces their subject and both bodies with [`ERASED`], as of `now`.
fn emptied(now: chrono::DateTime<Utc>) -> sea_orm::UpdateMany<delivery_entity::Entity> {
    delivery_entity::Entity::update_many()
        .col_expr(delivery_entity::Column::Subject, Expr::value(ERASED))
        .col_expr(delivery_entity::Column::TextBody, Expr::value(ERASED))
        .col_expr(delivery_entity::Column::HtmlBody, Expr::value(ERASED))
        .col_expr(delivery_entity::Column::PseudonymisedAt, Expr::value(now))
        .col_expr(
            delivery_entity::Column::UnsolicitedKey,
            Expr::value(None::<String>),
        )
}

pub struct Notifications;

#[async_trait]
impl Erase for Notifications {
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        person: &Person,
    ) -> Result<u64, sea_orm::DbErr> {
        let email = person.email.as_str();
        let now = Utc::now();
        let mut records = 0;
        // Not yet sent: never sent.
        delivery_entity::Entity::update_many()
            .col_expr(delivery_entity::Column::Status, Expr::value(status::ERASED))
            .filter(same_email(delivery_entity::Column::Recipient, email))
            .filter(delivery_entity::Column::Status.is_in([status::PENDING, status::SENDING]))
            .exec(txn)
            .await?;
        type Row = (Uuid, Option<String>, Option<String>);
        let to_them: Vec<Row> = delivery_entity::Entity::find()
            .select_only()
            .column(delivery_entity::Column::Id)
            .column(delivery_entity::Column::LastError)
            .column(delivery_entity::Column::SmtpResponse)
            .filter(same_email(delivery_entity::Column::Recipient, email))
            .into_tuple()
            .all(txn)
            .await?;
        for (id, last_error, smtp_response) in to_them {
            let scrub = |text: Option<String>| text.map(|t| without_address(&t, email));
            records += emptied(now)
                .col_expr(
                    delivery_entity::Column::Recipient,
                    Expr::value(removed_recipient(id)),
                )
                .col_expr(
                    delivery_entity::Column::ReplyTo,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    delivery_entity::Column::LastError,
                    Expr::value(scrub(last_error)),
                )
                .col_expr(
                    delivery_entity::Column::SmtpResponse,
                    Expr::value(scrub(smtp_response)),
                )
                .filter(delivery_entity::Column::Id.eq(id))
                .exec(txn)
                .await?
                .rows_affected;
        }
        // Their letters as emailed to MPs, with their address to reply to.
        records += emptied(now)
            .col_expr(
                delivery_entity::Column::ReplyTo,
                Expr::value(None::<String>),
            )
            .filter(same_email(delivery_entity::Column::ReplyTo, email))
            .exec(txn)
            .await?
            .rows_affected;
        // Emails to others that name them (a trust told of their nomination, a nominator told of
        // theirs): the words go, the record that an email went stays.
        let mut mentioned = Condition::any();
        for needle in std::iter::once(email).chain(person.names.iter().map(String::as_str)) {
            for column in [
                delivery_entity::Column::Subject,
                delivery_entity::Column::TextBody,
                delivery_entity::Column::HtmlBody,
            ] {
                mentioned = mentioned.add(contains_text(column, needle));
            }
        }
        records += emptied(now)
            .filter(mentioned)
            .exec(txn)
            .await?
            .rows_affected;
        // Their preferences, unless they objected: an unsubscribe is kept so it is honoured.
        records += preference::Entity::delete_many()
            .filter(same_email(preference::Column::Email, email))
            .filter(preference::Column::UnsubscribedAt.is_null())
            .exec(txn)
            .await?
            .rows_affected;
        // Letters they wrote: never confirmed, gone; confirmed, counted without them.
        let theirs: Vec<Uuid> = letter::Entity::find()
            .select_only()
            .column(letter::Column::Id)
            .filter(same_email(letter::Column::SupporterEmail, email))
            .into_tuple()
            .all(txn)
            .await?;
        if !theirs.is_empty() {
            letter::fingerprint::Entity::delete_many()
                .filter(letter::fingerprint::Column::LetterId.is_in(theirs.clone()))
                .exec(txn)
                .await?;
            records += letter::Entity::delete_many()
                .filter(letter::Column::Id.is_in(theirs.clone()))
                .filter(letter::Column::ConfirmedAt.is_null())
                .exec(txn)
                .await?
                .rows_affected;
            records += letter::Entity::update_many()
                .col_expr(letter::Column::SupporterName, Expr::value(ERASED))
                .col_expr(letter::Column::SupporterEmail, Expr::value(ERASED))
                .col_expr(letter::Column::SupporterPostcode, Expr::value(ERASED))
                .col_expr(letter::Column::Body, Expr::value(ERASED))
                .col_expr(
                    letter::Column::ConfirmTokenHash,
                    Expr::value(None::<String>),
                )
                .col_expr(letter::Column::PseudonymisedAt, Expr::value(now))
                .filter(letter::Column::Id.is_in(theirs))
                .exec(txn)
                .await?
                .rows_affected;
        }
        Ok(records)
    }
}
