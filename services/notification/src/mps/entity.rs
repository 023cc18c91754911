//! The MP alerts' tables (created by the `m20261122_000500_mp_alerts` migration).

pub mod mp {
    use sea_orm::entity::prelude::*;

    /// A sitting MP, keyed on their Parliament member id; one per 2024 constituency.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mp")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub member_id: i32,
        /// The 2024 constituency's GSS code, e.g. `E14001063`.
        #[sea_orm(unique)]
        pub constituency_code: String,
        pub constituency_name: String,
        pub display_as: String,
        pub full_title: String,
        pub party: String,
        /// As the file gave it, even when unusable ("No email found").
        pub email: String,
        /// No usable parliament.uk address: a person must check; never emailed.
        pub needs_check: bool,
        pub check_reason: Option<String>,
        pub imported_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod known_postcode {
    use sea_orm::entity::prelude::*;

    /// A postcode whose constituency we know without asking (the demo trusts' sites).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "known_postcode")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub postcode: String,
        pub constituency_code: String,
        pub note: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod postcode_cache {
    use sea_orm::entity::prelude::*;

    /// The lookup API's answer for a postcode, kept so it is asked once.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "postcode_cache")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub postcode: String,
        pub constituency_code: String,
        pub fetched_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod digest_item {
    use sea_orm::entity::prelude::*;

    /// A constituent who became a finalist or winner and agreed to their MP being told.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mp_digest_item")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub event_id: Uuid,
        /// `finalist` or `winner`.
        pub kind: String,
        pub nominee_name: String,
        pub nominee_job_title: String,
        pub trust_name: String,
        pub category_name: String,
        pub campaign_name: String,
        /// Empty unless the nominee agreed to their story being published.
        pub story_excerpt: String,
        pub workplace_postcode: String,
        /// Unknown until the postcode is looked up.
        pub constituency_code: Option<String>,
        pub status: String,
        /// Why the item cannot go (e.g. the postcode does not exist).
        pub problem: Option<String>,
        /// The digest that included it.
        pub digest_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub included_at: Option<DateTimeUtc>,
        /// When retention replaced the constituent's details with a marker, some time after the
        /// digest listing them was sent (`crate::retention`).
        pub pseudonymised_at: Option<DateTimeUtc>,
        /// The nominee it is about (none on items from before this was kept).
        pub nominee_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod digest {
    use sea_orm::entity::prelude::*;

    /// One digest to one MP for one period; its id is the delivery's `cause_event_id`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mp_digest")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub member_id: i32,
        pub mp_name: String,
        pub constituency_code: String,
        pub constituency_name: String,
        pub recipient: String,
        pub period_start: DateTimeUtc,
        pub item_count: i32,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
