//! The stories' periodic round: every sealed phone number's data key re-wrapped under the current
//! master key (so an old master key can be removed once a round has run after the switch), and
//! retention: expired drafts deleted, phone numbers dropped `phone_days` after their story was sent,
//! rejected stories erased `rejected_days` after moderation.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use valued_platform::sealed::{Keyring, Sealed};

use super::entities::story;
use super::{StorySettings, forget, phone_context, status};
use crate::error::Result;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub rewrapped: u64,
    pub drafts_deleted: u64,
    pub phones_dropped: u64,
    pub rejected_erased: u64,
}

/// One round of re-wrapping and retention at `now`.
pub async fn round(
    db: &DatabaseConnection,
    keyring: &Keyring,
    settings: &StorySettings,
    now: DateTime<Utc>,
) -> Result<Done> {
    let mut done = Done {
        rewrapped: rewrap(db, keyring).await?,
        ..Done::default()
    };
    done.drafts_deleted = story::Entity::delete_many()
        .filter(story::Column::Status.eq(status::DRAFT))
        .filter(story::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    let phone_cutoff = now - Duration::days(i64::from(settings.phone_days));
    done.phones_dropped = story::Entity::update_many()
        .col_expr(story::Column::PhoneSealed, Option::<String>::None.into())
        .filter(story::Column::PhoneSealed.is_not_null())
        .filter(story::Column::SubmittedAt.lt(phone_cutoff))
        .exec(db)
        .await?
        .rows_affected;
    let rejected_cutoff = now - Duration::days(i64::from(settings.rejected_days));
    let rejected = story::Entity::find()
        .filter(story::Column::Status.eq(status::REJECTED))
        .filter(story::Column::ModeratedAt.lt(rejected_cutoff))
        .filter(story::Column::Email.ne(""))
        .all(db)
        .await?;
    for found in rejected {
        forget(db, found, status::REJECTED).await?;
        done.rejected_erased += 1;
    }
    Ok(done)
}

/// Re-wraps, a page at a time, every sealed phone number whose data key is not under the current
/// master key; the number itself is untouched. A value that will not open is left as it is and
/// logged (by story id only), so one damaged row does not stop the rest.
pub async fn rewrap(db: &impl ConnectionTrait, keyring: &Keyring) -> Result<u64> {
    const PAGE: u64 = 200;
    let mut rewrapped = 0;
    let mut after = uuid::Uuid::nil();
    loop {
        let page = story::Entity::find()
            .filter(story::Column::PhoneSealed.is_not_null())
            .filter(story::Column::Id.gt(after))
            .order_by_asc(story::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for found in &page {
            let Some(stored) = &found.phone_sealed else {
                continue;
            };
            let context = phone_context(found.id);
            let moved = Sealed::parse(stored).and_then(|s| keyring.rewrap(&s, &context));
            match moved {
                Ok(Some(sealed)) => {
                    // Only if it has not changed meanwhile (a draft saved again, a withdrawal).
                    let updated = story::Entity::update_many()
                        .col_expr(
                            story::Column::PhoneSealed,
                            Some(sealed.as_str().to_owned()).into(),
                        )
                        .filter(story::Column::Id.eq(found.id))
                        .filter(story::Column::PhoneSealed.eq(stored.as_str()))
                        .exec(db)
                        .await?;
                    rewrapped += updated.rows_affected;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(story = %found.id, %error, "a sealed phone number could not be re-wrapped");
                }
            }
        }
        if (page.len() as u64) < PAGE {
            break;
        }
    }
    Ok(rewrapped)
}

/// The round every `upkeep_seconds`, until shutdown.
pub fn spawn(
    db: DatabaseConnection,
    keyring: std::sync::Arc<Keyring>,
    settings: StorySettings,
    shutdown: valued_platform::shutdown::Shutdown,
) -> tokio::task::JoinHandle<()> {
    let period = std::time::Duration::from_secs(settings.upkeep_seconds.max(1));
    valued_platform::periodic::every("stories upkeep", period, shutdown, move || {
        let (db, keyring, settings) = (db.clone(), keyring.clone(), settings.clone());
        async move {
            let done = round(&db, &keyring, &settings, Utc::now()).await?;
            if done != Done::default() {
                tracing::info!(?done, "stories re-wrapped and retention applied");
            }
            Ok(())
        }
    })
}
