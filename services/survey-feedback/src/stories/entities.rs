//! The stories' tables (see the `m20261127_000500_create_stories` migration).

pub mod story {
    use sea_orm::entity::prelude::*;

    /// A story from draft to moderation. Its `Debug` leaves out the sealed phone number and the
    /// teller's email.
    #[derive(Clone, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "story")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub campaign_id: Uuid,
        pub campaign_slug: String,
        pub campaign_name: String,
        pub campaign_scope: String,
        pub campaign_scope_code: String,
        /// "draft", "submitted", "approved", "rejected" or "withdrawn".
        pub status: String,
        pub works_in_nhs: String,
        pub nhs_role: String,
        pub story: String,
        pub consent_publish: bool,
        pub consent_press: bool,
        pub consent_mp: bool,
        pub consent_contact: bool,
        /// `valued_platform::sealed::Sealed` under the context `story:<id>:phone`.
        pub phone_sealed: Option<String>,
        pub email: String,
        /// SHA-256 of the resume link's token, while a draft.
        pub draft_token_hash: Option<String>,
        /// SHA-256 of the withdrawal link's token, once submitted.
        pub withdraw_token_hash: Option<String>,
        pub updated_at: DateTimeUtc,
        /// When a draft is forgotten.
        pub expires_at: Option<DateTimeUtc>,
        pub submitted_at: Option<DateTimeUtc>,
        pub moderated_at: Option<DateTimeUtc>,
    }

    impl std::fmt::Debug for Model {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Story")
                .field("id", &self.id)
                .field("campaign_id", &self.campaign_id)
                .field("status", &self.status)
                .finish_non_exhaustive()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod story_audit {
    use sea_orm::entity::prelude::*;

    /// One thing done to a story: submitted, approved, rejected, its phone number revealed,
    /// withdrawn.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "story_audit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub story_id: Uuid,
        pub action: String,
        /// The admin's email; empty for the teller.
        pub actor: String,
        pub reason: String,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
