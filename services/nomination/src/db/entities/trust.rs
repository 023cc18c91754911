use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "trust")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub region: String,
    /// Where "new nomination to review" emails go; empty until the trust names a contact.
    pub admin_email: String,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    /// The From name of the trust's emails; empty: the service's own.
    pub sender_name: String,
    /// Where replies to the trust's emails go unless an email names someone else; may be empty.
    pub reply_to: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
