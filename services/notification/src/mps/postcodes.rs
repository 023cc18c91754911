//! Workplace postcode → 2024 Westminster constituency: the known sites first, then answers already
//! cached, then a postcodes.io-compatible API (`GET {base_url}/postcodes/{postcode}`), whose answer
//! is cached in the database so a postcode is asked about once, across restarts.

use std::fmt;
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};
use serde::Deserialize;

use super::PostcodesSettings;
use super::directory::is_constituency_code;
use super::entity::{known_postcode, postcode_cache};

/// A full UK postcode, upper case with one space before the inward code (`SE1 7EH`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode(String);

impl Postcode {
    pub fn parse(value: &str) -> Result<Self, LookupError> {
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        let invalid = || LookupError::InvalidPostcode(value.trim().to_owned());
        if !(5..=7).contains(&compact.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(invalid());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let mut inward_chars = inward.chars();
        let inward_ok = inward_chars.next().is_some_and(|c| c.is_ascii_digit())
            && inward_chars.all(|c| c.is_ascii_alphabetic());
        let outward_ok = outward.starts_with(|c: char| c.is_ascii_alphabetic())
            && outward.contains(|c: char| c.is_ascii_digit());
        if !(inward_ok && outward_ok) {
            return Err(invalid());
        }
        Ok(Self(format!("{outward} {inward}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Without the space, as it goes into a URL path.
    fn compact(&self) -> String {
        self.0.replace(' ', "")
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 2024 constituency's GSS code (`E14001063`), the key of the MP directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConstituencyCode(String);

impl ConstituencyCode {
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        is_constituency_code(value).then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConstituencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("{0:?} is not a full UK postcode")]
    InvalidPostcode(String),
    #[error("the postcode service does not know the postcode {0}")]
    UnknownPostcode(String),
    #[error("the postcode service gave no 2024 constituency for {0}")]
    NoConstituency(String),
    #[error("the postcode service did not answer within {0} ms")]
    Timeout(u64),
    #[error("the postcode service failed: {0}")]
    Unavailable(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl LookupError {
    /// Whether asking again later may succeed (the service or the database was down).
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            Self::Timeout(_) | Self::Unavailable(_) | Self::Database(_)
        )
    }
}

/// The postcode service's answer, as much of it as we read.
#[derive(Debug, Deserialize)]
struct Answer {
    result: Option<Found>,
}

#[derive(Debug, Deserialize)]
struct Found {
    codes: Codes,
}

#[derive(Debug, Deserialize)]
struct Codes {
    parliamentary_constituency_2024: Option<String>,
    parliamentary_constituency: Option<String>,
}

#[derive(Clone)]
pub struct PostcodeLookup {
    db: DatabaseConnection,
    http: reqwest::Client,
    base_url: String,
    timeout_ms: u64,
}

impl PostcodeLookup {
    pub fn new(db: DatabaseConnection, settings: &PostcodesSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .user_agent(concat!("valued-notification/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            db,
            http,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            timeout_ms: settings.timeout_ms,
        })
    }

    /// The constituency `postcode` is in: from the known sites, the cache, or the postcode service
    /// (whose answer is then cached).
    pub async fn lookup(&self, postcode: &str) -> Result<ConstituencyCode, LookupError> {
        let postcode = Postcode::parse(postcode)?;
        if let Some(code) = stored(&self.db, &postcode).await? {
            return Ok(code);
        }
        let code = self.ask(&postcode).await?;
        postcode_cache::Entity::insert(postcode_cache::ActiveModel {
            postcode: ActiveValue::Set(postcode.as_str().to_owned()),
            constituency_code: ActiveValue::Set(code.as_str().to_owned()),
            fetched_at: ActiveValue::Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::column(postcode_cache::Column::Postcode)
                .update_columns([
                    postcode_cache::Column::ConstituencyCode,
                    postcode_cache::Column::FetchedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        Ok(code)
    }

    async fn ask(&self, postcode: &Postcode) -> Result<ConstituencyCode, LookupError> {
        let url = format!("{}/postcodes/{}", self.base_url, postcode.compact());
        let failed = |error: reqwest::Error| {
            if error.is_timeout() {
                LookupError::Timeout(self.timeout_ms)
            } else {
                LookupError::Unavailable(error.without_url().to_string())
            }
        };
        let response = self.http.get(&url).send().await.map_err(failed)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(LookupError::UnknownPostcode(postcode.to_string()));
        }
        if !status.is_success() {
            return Err(LookupError::Unavailable(format!("HTTP {status}")));
        }
        let answer: Answer = response.json().await.map_err(failed)?;
        let codes = answer
            .result
            .ok_or_else(|| LookupError::UnknownPostcode(postcode.to_string()))?
            .codes;
        [
            codes.parliamentary_constituency_2024,
            codes.parliamentary_constituency,
        ]
        .into_iter()
        .flatten()
        .find_map(|code| ConstituencyCode::parse(&code))
        .ok_or_else(|| LookupError::NoConstituency(postcode.to_string()))
    }
}

/// The constituency of `postcode` if we know it without asking: a known site, else a cached
/// answer. Cheap enough for an event handler's transaction.
pub async fn stored(
    db: &impl ConnectionTrait,
    postcode: &Postcode,
) -> Result<Option<ConstituencyCode>, DbErr> {
    if let Some(known) = known_postcode::Entity::find_by_id(postcode.as_str().to_owned())
        .one(db)
        .await?
    {
        return Ok(ConstituencyCode::parse(&known.constituency_code));
    }
    Ok(
        postcode_cache::Entity::find_by_id(postcode.as_str().to_owned())
            .one(db)
            .await?
            .and_then(|cached| ConstituencyCode::parse(&cached.constituency_code)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_are_normalised() {
        for (input, expected) in [
            ("se17eh", "SE1 7EH"),
            (" B15 2GW ", "B15 2GW"),
            ("EC1A1BB", "EC1A 1BB"),
        ] {
            assert_eq!(Postcode::parse(input).unwrap().as_str(), expected);
        }
        for bad in ["", "SE1", "SE1 7E1", "../../x", "SE1 7EH?", "1234567"] {
            assert!(Postcode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
