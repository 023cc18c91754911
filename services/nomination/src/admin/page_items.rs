//! A campaign page's key dates (its own events, like One Team week or the ceremony), resources
//! (posters, toolkits: links or uploaded files) and news, added and removed by the campaign's own
//! admins, each audited. An item is parsed at the edge into [`NewItem`] with every bad field named.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;
use valued_platform::domain::{FieldError, FieldErrors, is_blank, multi_line, single_line};

use crate::admin::audit;
use crate::admin::page_files::{self, FileMeta, UploadedFile};
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
    /// A resource uploaded as a file instead of a link: the name it was uploaded with.
    pub file_name: String,
    /// Its content; empty when there is no file.
    pub file_content: Vec<u8>,
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
    /// A resource's link; empty for a date, a news item or a resource that is a file.
    pub url: String,
    pub body: String,
    /// A resource's uploaded file, instead of a link.
    pub file: Option<UploadedFile>,
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
        let uploaded = !request.file_content.is_empty() || !request.file_name.trim().is_empty();
        let (url, file) = match (kind, uploaded) {
            (Some(Kind::Resource), true) => {
                if !is_blank(&request.url) {
                    errors.push(FieldError::new("url", "Give a link or a file, not both"));
                }
                let file = errors.check(UploadedFile::parse(
                    &request.file_name,
                    request.file_content.clone(),
                ));
                (Some(String::new()), file.map(Some))
            }
            (Some(Kind::Resource), false) => (errors.check(parse_url(&request.url)), Some(None)),
            (_, true) => {
                errors.push(FieldError::new("file", "Only a resource can be a file"));
                (Some(String::new()), None)
            }
            (_, false) => (Some(String::new()), Some(None)),
        };
        errors.into_result()?;
        match (kind, title, body, url, file) {
            (Some(kind), Some(title), Some(body), Some(url), Some(file)) => Ok(Self {
                kind,
                title,
                at,
                url,
                body,
                file,
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

/// Adds `item` (and its file, if it is one) to `found`'s page, for its own admins.
pub async fn add(
    db: &DatabaseConnection,
    principal: &Principal,
    found: &campaign::Model,
    item: &NewItem,
) -> Result<(campaign_item::Model, Option<FileMeta>)> {
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
    let meta = match &item.file {
        Some(file) => {
            page_files::store(&txn, model.id, file).await?;
            Some(FileMeta::of(file))
        }
        None => None,
    };
    audit::record(
        &txn,
        principal,
        "campaign page item added",
        None,
        trust_of(found),
        &format!(
            "{} on {}: {}{}",
            item.kind.slug(),
            found.slug,
            item.title,
            file_note(meta.as_ref())
        ),
    )
    .await?;
    txn.commit().await?;
    Ok((model, meta))
}

/// " (file poster.pdf, PDF, 1234567 bytes)" for the audit log; empty without a file.
fn file_note(meta: Option<&FileMeta>) -> String {
    meta.map(|meta| {
        format!(
            " (file {}, {}, {} bytes)",
            meta.name,
            meta.label(),
            meta.size
        )
    })
    .unwrap_or_default()
}

/// Removes item `id` (and its file, if it has one) from `found`'s page, for its own admins;
/// NOT_FOUND if it is not there.
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
    let meta = page_files::metas_of(&txn, &[id]).await?.remove(&id);
    page_files::delete(&txn, id).await?;
    campaign_item::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        principal,
        "campaign page item removed",
        None,
        trust_of(found),
        &format!(
            "{} on {}: {}{}",
            item.kind,
            found.slug,
            item.title,
            file_note(meta.as_ref())
        ),
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

    /// The fields `request` is refused at.
    fn fields(request: ItemRequest) -> Vec<String> {
        NewItem::parse(&request)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn each_kind_asks_for_what_it_needs() {
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
        assert_eq!(poster.file, None);
    }

    #[test]
    fn a_resource_is_a_link_or_a_file() {
        let pdf = b"%PDF-1.7\n%%EOF\n".to_vec();
        let uploaded = NewItem::parse(&ItemRequest {
            kind: "resource".into(),
            title: "Poster".into(),
            file_name: "Poster A3.pdf".into(),
            file_content: pdf.clone(),
            ..ItemRequest::default()
        })
        .unwrap();
        assert_eq!(uploaded.url, "");
        assert_eq!(uploaded.file.as_ref().unwrap().name(), "Poster-A3.pdf");
        let both = ItemRequest {
            kind: "resource".into(),
            title: "Poster".into(),
            url: "https://example.org/".into(),
            file_name: "poster.pdf".into(),
            file_content: pdf.clone(),
            ..ItemRequest::default()
        };
        assert_eq!(fields(both), ["url"]);
        let untitled_empty = ItemRequest {
            kind: "resource".into(),
            file_name: "poster.pdf".into(),
            ..ItemRequest::default()
        };
        assert_eq!(fields(untitled_empty), ["title", "file"]);
        let news_with_file = ItemRequest {
            kind: "news".into(),
            title: "Voting opens".into(),
            body: "Soon.".into(),
            at: Some(Utc::now()),
            file_name: "poster.pdf".into(),
            file_content: pdf,
            ..ItemRequest::default()
        };
        assert_eq!(fields(news_with_file), ["file"]);
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
