use sea_orm::entity::prelude::*;

/// An organisations file imported from the browser (see the
/// `m20261127_000135_organisation_import` migration).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisation_import")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The platform admin who sent it.
    pub started_by: String,
    /// The file as sent; emptied when the import ends.
    pub csv: Vec<u8>,
    pub regions: i32,
    pub trusts: i32,
    pub sites: i32,
    /// Rows written so far: regions first, then trusts, then sites, in the file's order.
    pub written: i64,
    /// `importing`, `imported` or `failed`.
    pub state: String,
    /// Why it failed; empty otherwise.
    pub failure: String,
    /// How many times a replica has taken it up.
    pub attempts: i32,
    /// Until when the replica writing it holds it.
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
