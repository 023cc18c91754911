//! What the notification service holds about a person (UK GDPR Article 15), found by their email
//! address: the emails sent to them (link tokens removed: the file may pass through other hands),
//! the letters they wrote to MPs, their email preferences and any suppression of their address.

use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use valued_platform::db::same_email;

use crate::db::delivery;
use crate::mps::write_to_mp::entity as letter;
use crate::policy::{preference, suppression};
use crate::redact::LinkTokens;

/// Everything held about `email` (normalised), as JSON rows per table; links under `public_url`
/// lose their tokens.
pub async fn export(
    db: &impl ConnectionTrait,
    email: &str,
    public_url: &str,
) -> Result<Value, sea_orm::DbErr> {
    export_redacted(db, email, &LinkTokens::new(public_url)).await
}

/// As [`export`], links losing their tokens to `tokens`.
pub(crate) async fn export_redacted(
    db: &impl ConnectionTrait,
    email: &str,
    tokens: &LinkTokens,
) -> Result<Value, sea_orm::DbErr> {
    let emails: Vec<Value> = delivery::Entity::find()
        .filter(same_email(delivery::Column::Recipient, email))
        .order_by_asc(delivery::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|d| {
            json!({
                "id": d.id,
                "template": d.template,
                "subject": tokens.redact(&d.subject),
                "text_body": tokens.redact(&d.text_body),
                "status": d.status,
                "created_at": d.created_at,
                "sent_at": d.sent_at,
            })
        })
        .collect();
    let letters: Vec<Value> = letter::Entity::find()
        .filter(same_email(letter::Column::SupporterEmail, email))
        .order_by_asc(letter::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|l| {
            json!({
                "id": l.id,
                "constituency_code": l.constituency_code,
                "name": l.supporter_name,
                "postcode": l.supporter_postcode,
                "body": l.body,
                "status": l.status,
                "created_at": l.created_at,
                "confirmed_at": l.confirmed_at,
            })
        })
        .collect();
    let preferences: Vec<Value> = preference::Entity::find()
        .filter(same_email(preference::Column::Email, email))
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            json!({
                "unsubscribed_at": p.unsubscribed_at,
                "unsubscribed_via": p.unsubscribed_via,
                "created_at": p.created_at,
            })
        })
        .collect();
    let suppressed = suppression::Entity::find()
        .filter(same_email(suppression::Column::Email, email))
        .into_json()
        .all(db)
        .await?;
    Ok(json!({
        "emails_to_them": emails,
        "letters_to_mps": letters,
        "email_preferences": preferences,
        "suppression": suppressed,
    }))
}
