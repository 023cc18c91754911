//! A campaign page's key dates (its own events, like One Team week or the ceremony), resources
//! (posters, toolkits, links) and news, added and removed by the campaign's own admins, each
//! audited. An item is parsed at the edge into [`NewItem`] with every bad field named.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;
use valued_platform::domain::{FieldError, FieldErrors, is_blank, multi_line, single_line};

use crate::admin::audit;
use crate::auth::Principal;
use crate::db::entities::{campaign, campaign_item};
use crate::error::{Error, Result};

/// An item as typed.
#[derive(Debug, Clone, Default)]
pub struct ItemRequest {
    pub kind: String,
    pub title: String,
    pub at: Option<DateTime<Utc>>,
    pub url: String,
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Date,
    Resource,
    News,
}

impl Kind {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Resource => "resource",
            Self::News => "news",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub kind: Kind,
    pub title: String,
    pub at: Option<DateTime<Utc>>,
    pub url: String,
    pub body: String,
}

impl NewItem {
    pub fn parse(request: &ItemRequest) -> std::result::Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let kind = match request.kind.trim() {
            "date" => Some(Kind::Date),
            "resource" => Some(Kind::Resource),
            "news" => Some(Kind::News),
            _ => {
                errors.push(FieldError::new(
                    "kind",
                    "Select a key date, a resource or a news item",
                ));
                None
            }
        };
        let title = errors.check(single_line("title", "the title", &request.title, 120));
        let body = if is_blank(&request.body) {
            if kind == Some(Kind::News) {
                errors.push(FieldError::new("body", "Enter the news"));
            }
            Some(String::new())
        } else {
            errors.check(multi_line("body", "the text", &request.body, 2000))
        };
        let at = match (kind, request.at) {
            (Some(Kind::Date | Kind::News), None) => {
                errors.push(FieldError::new("at", "Enter the date"));
                None
            }
            (Some(Kind::Resource), _) => None,
            (_, at) => at,
        };
        let url = match kind {
            Some(Kind::Resource) => errors.check(parse_url(&request.url)),
            _ => Some(String::new()),
        };
        errors.into_result()?;
        match (kind, title, body, url) {
            (Some(kind), Some(title), Some(body), Some(url)) => Ok(Self {
                kind,
                title,
                at,
                url,
                body,
            }),
            _ => Err(vec![FieldError::new("title", "Enter the title")]),
        }
    }
}

/// A resource's link: `https://` (or `http://`) and a host, at most 500 characters, no spaces.
fn parse_url(typed: &str) -> std::result::Result<String, FieldError> {
    let url = typed.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let ok = url.len() <= 500
        && rest.is_some_and(|rest| {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            host.contains('.') && !host.starts_with('.')
        })
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(url.to_owned())
    } else {
        Err(FieldError::new(
            "url",
            "Enter the link as a web address starting with https://, like https://www.nhsemployers.org/",
        ))
    }
}

/// Adds `item` to `found`'s page, for its own admins.
pub async fn add(
    db: &DatabaseConnection,
    principal: &Principal,
    found: &campaign::Model,
    item: &NewItem,
) -> Result<campaign_item::Model> {
    principal.require(
        principal.administers_campaign(found),
        &format!("change the page of {}", found.name),
    )?;
    let txn = db.begin().await?;
    let model = campaign_item::Model {
        id: Uuid::now_v7(),
        campaign_id: found.id,
        kind: item.kind.slug().to_owned(),
        title: item.title.clone(),
        at: item.at,
        url: item.url.clone(),
        body: item.body.clone(),
        created_at: Utc::now(),
    };
    campaign_item::Entity::insert(campaign_item::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        principal,
        "campaign page item added",
        None,
        trust_of(found),
        &format!("{} on {}: {}", item.kind.slug(), found.slug, item.title),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Removes item `id` from `found`'s page, for its own admins; NOT_FOUND if it is not there.
pub async fn remove(
    db: &DatabaseConnection,
    principal: &Principal,
    found: &campaign::Model,
    id: Uuid,
) -> Result<()> {
    principal.require(
        principal.administers_campaign(found),
        &format!("change the page of {}", found.name),
    )?;
    let txn = db.begin().await?;
    let item = campaign_item::Entity::find_by_id(id)
        .filter(campaign_item::Column::CampaignId.eq(found.id))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("that item of the campaign's page".into()))?;
    campaign_item::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        principal,
        "campaign page item removed",
        None,
        trust_of(found),
        &format!("{} on {}: {}", item.kind, found.slug, item.title),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub(crate) fn trust_of(found: &campaign::Model) -> &str {
    match (found.scope.as_str(), found.scope_code.as_deref()) {
        ("trust", Some(code)) => code,
        _ => "",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_asks_for_what_it_needs() {
        let fields = |request: ItemRequest| -> Vec<String> {
            NewItem::parse(&request)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(ItemRequest::default()), ["kind", "title"]);
        let news = ItemRequest {
            kind: "news".into(),
            title: "Voting opens".into(),
            ..ItemRequest::default()
        };
        assert_eq!(fields(news), ["body", "at"]);
        let resource = ItemRequest {
            kind: "resource".into(),
            title: "Poster".into(),
            url: "javascript:alert(1)".into(),
            ..ItemRequest::default()
        };
        assert_eq!(fields(resource), ["url"]);
        let poster = NewItem::parse(&ItemRequest {
            kind: "resource".into(),
            title: "Poster (PDF)".into(),
            url: " https://example.org/poster.pdf ".into(),
            ..ItemRequest::default()
        })
        .unwrap();
        assert_eq!(poster.url, "https://example.org/poster.pdf");
        assert_eq!(poster.at, None);
    }

    #[test]
    fn only_web_links_are_taken() {
        for bad in [
            "",
            "example.org",
            "ftp://example.org/x",
            "https://",
            "https://localhost",
            "https://ex ample.org",
            r#"https://example.org/"><script>"#,
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        for good in [
            "https://www.nhsemployers.org/",
            "http://example.org/a?b=c#d",
        ] {
            assert_eq!(parse_url(good).as_deref(), Ok(good));
        }
    }
}
