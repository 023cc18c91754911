//! The suggestion box's tables (see the `create_suggestions` migration).

pub mod suggestion {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "suggestion")]
    pub struct Model {
        /// Random (v4): a v7 id would carry the exact time an anonymous suggestion was posted.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub trust_code: String,
        pub text: String,
        /// Both set for a named suggestion until its details are forgotten; never for an anonymous one.
        pub suggester_name: Option<String>,
        pub suggester_email: Option<String>,
        /// A [`Moderation`](crate::suggestions::domain::Moderation) slug.
        pub moderation: String,
        /// A [`Status`](crate::suggestions::domain::Status) slug.
        pub status: String,
        pub public_reason: Option<String>,
        /// The rows of `suggestion_support`, kept with each new one in its transaction.
        pub supporters: i64,
        pub posted_on: Date,
        /// When it was last moderated or given a status; what retention counts from.
        pub decided_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod support {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "suggestion_support")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub suggestion_id: Uuid,
        /// A [`SupporterKey`](crate::suggestions::domain::SupporterKey).
        #[sea_orm(primary_key, auto_increment = false)]
        pub supporter_key: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit {
    use sea_orm::entity::prelude::*;

    /// One admin action on a suggestion: who (the signed-in admin's email), what, when.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "suggestion_audit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        pub actor: String,
        pub action: String,
        pub suggestion_id: Uuid,
        pub trust_code: String,
        pub detail: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
