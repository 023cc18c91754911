use sea_orm::entity::prelude::*;

/// A request to verify a voter's address (see `crate::verification`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "voter_verification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub campaign_id: String,
    pub voter_key: String,
    /// SHA-256 of the link's token.
    pub token_hash: String,
    /// HMAC of the verification id and the 6-digit code under the voter-key secret.
    pub code_hash: String,
    /// Wrong codes tried; five spend the request.
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// Keyed digests of the voter's email domain and of each parent domain, space-separated
    /// (see `crate::eligibility`).
    pub domains: String,
    /// The address, kept only until the verification is used (it passes to the voter pass) or
    /// expires (retention clears it).
    pub email: Option<String>,
    /// The voter asked to hear when the results are out.
    pub notify_results: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
