//! Recipients' choices: one row per address that was ever sent a non-transactional email, holding
//! the unguessable token of its one-click unsubscribe link and, once used, when it was.
//!
//! The token is the whole authority for an unsubscribe: RFC 8058 POSTs come from mail providers,
//! with no session and no CSRF token. It is 244 random bits, one per address, and only ever sent to
//! that address.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use sea_orm::{ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

pub use self::entity::{Column, Entity, Model};

mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "email_preference")]
    pub struct Model {
        /// The normalised address.
        #[sea_orm(primary_key, auto_increment = false)]
        pub email: String,
        #[sea_orm(unique)]
        pub token: String,
        pub unsubscribed_at: Option<DateTimeUtc>,
        /// How the unsubscribe came: `one_click` (the RFC 8058 POST) or `page` (the button).
        pub unsubscribed_via: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn new_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// The preference row of `email` (normalised), made with a fresh token if it has none yet.
pub async fn for_address(db: &impl ConnectionTrait, email: &str) -> Result<Model, DbErr> {
    if let Some(found) = Entity::find_by_id(email.to_owned()).one(db).await? {
        return Ok(found);
    }
    Entity::insert(entity::ActiveModel {
        email: ActiveValue::Set(email.to_owned()),
        token: ActiveValue::Set(new_token()),
        unsubscribed_at: ActiveValue::Set(None),
        unsubscribed_via: ActiveValue::Set(None),
        created_at: ActiveValue::Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([Column::Email])
    .exec_without_returning(db)
    .await?;
    Entity::find_by_id(email.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("email_preference for {email}")))
}

/// [`for_address`] for many addresses (normalised) at once, keyed by address: one query for the
/// rows there are, one insert for the addresses that have none yet, and one query to read those.
pub async fn for_addresses(
    db: &impl ConnectionTrait,
    emails: &[&str],
) -> Result<HashMap<String, Model>, DbErr> {
    let unique: BTreeSet<&str> = emails.iter().copied().collect();
    if unique.is_empty() {
        return Ok(HashMap::new());
    }
    let find = |emails: Vec<&str>| {
        Entity::find()
            .filter(Column::Email.is_in(emails.into_iter().map(str::to_owned)))
            .all(db)
    };
    let mut found: HashMap<String, Model> = find(unique.iter().copied().collect())
        .await?
        .into_iter()
        .map(|row| (row.email.clone(), row))
        .collect();
    let missing: Vec<&str> = unique
        .into_iter()
        .filter(|email| !found.contains_key(*email))
        .collect();
    if missing.is_empty() {
        return Ok(found);
    }
    let now = Utc::now();
    Entity::insert_many(missing.iter().map(|email| entity::ActiveModel {
        email: ActiveValue::Set((*email).to_owned()),
        token: ActiveValue::Set(new_token()),
        unsubscribed_at: ActiveValue::Set(None),
        unsubscribed_via: ActiveValue::Set(None),
        created_at: ActiveValue::Set(now),
    }))
    .on_conflict_do_nothing_on([Column::Email])
    .exec_without_returning(db)
    .await?;
    found.extend(
        find(missing)
            .await?
            .into_iter()
            .map(|row| (row.email.clone(), row)),
    );
    Ok(found)
}

/// The row whose unsubscribe token is `token`, if any.
pub async fn by_token(db: &impl ConnectionTrait, token: &str) -> Result<Option<Model>, DbErr> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    Entity::find().filter(Column::Token.eq(token)).one(db).await
}

/// Records the unsubscribe behind `token` (idempotent: the first time is kept). `None` when no
/// address has this token.
pub async fn unsubscribe(
    db: &impl ConnectionTrait,
    token: &str,
    via: &str,
) -> Result<Option<Model>, DbErr> {
    let Some(found) = by_token(db, token).await? else {
        return Ok(None);
    };
    if found.unsubscribed_at.is_some() {
        return Ok(Some(found));
    }
    let now = Utc::now();
    Entity::update_many()
        .col_expr(Column::UnsubscribedAt, sea_orm::sea_query::Expr::value(now))
        .col_expr(
            Column::UnsubscribedVia,
            sea_orm::sea_query::Expr::value(via.to_owned()),
        )
        .filter(Column::Email.eq(found.email.as_str()))
        .filter(Column::UnsubscribedAt.is_null())
        .exec(db)
        .await?;
    by_token(db, token).await
}
