use sea_orm::entity::prelude::*;

/// A supporter's letter to their MP (see `write_to_mp`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mp_letter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: i32,
    pub constituency_code: String,
    pub supporter_name: String,
    /// Normalised (`EmailAddress::normalised`), so limits count a person once.
    pub supporter_email: String,
    pub supporter_postcode: String,
    pub body: String,
    /// `unconfirmed`, `sent` (handed to the sender), `held` (a copy of a letter already confirmed
    /// to the MP, or unusual volume: a person reviews it) or `discarded` (held, then not sent).
    pub status: String,
    /// SHA-256 of the single-use confirmation link's token; cleared when used.
    pub confirm_token_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    /// When retention replaced the supporter's details and the letter with a marker, keeping the
    /// row for the MP's counts (`crate::retention`).
    pub pseudonymised_at: Option<DateTimeUtc>,
    /// The campaign the letter was written for, when it was (its id at the nomination service).
    pub campaign_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A confirmed letter's MinHash band hashes, by which the copy check finds the letters worth
/// comparing (see `write_to_mp::fingerprint`).
pub mod fingerprint {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mp_letter_fingerprint")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub letter_id: Uuid,
        /// 0 to `BANDS - 1`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub band: i16,
        /// The band's hash, which mixes in the band's number.
        pub band_hash: i64,
        pub member_id: i32,
        pub confirmed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A person's decision on a held letter (see `write_to_mp::review`): append-only, the database
/// refuses to change or remove a row.
pub mod decision {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "held_letter_decision")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub letter_id: Uuid,
        /// `send` or `discard`.
        pub decision: String,
        /// The letter's MP, as the directory named them when the decision was made.
        pub member_id: i32,
        pub mp_name: String,
        pub constituency_code: String,
        pub constituency_name: String,
        /// The signed-in admin: the email their provider gave, and the account (issuer and
        /// subject) that holds the role.
        pub admin_email: String,
        pub admin_issuer: String,
        pub admin_subject: String,
        pub decided_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A campaign's suggested wording (see `write_to_mp::campaigns`): one row per campaign whose
/// wording was ever set, keeping the campaign's scope as first described.
pub mod wording {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mp_letter_wording")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub campaign_id: Uuid,
        pub campaign_slug: String,
        /// `trust`, `region` or `national`, and the trust's or region's code (empty when national).
        pub campaign_scope: String,
        pub campaign_scope_code: String,
        /// The starting letter; `None` once cleared.
        pub wording: Option<String>,
        pub set_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A change of a campaign's wording, with the admin who made it: append-only, the database
/// refuses to change or remove a row.
pub mod wording_change {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mp_letter_wording_change")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub campaign_id: Uuid,
        /// `set` or `clear`.
        pub change: String,
        /// The wording set; `None` for a clearing.
        pub wording: Option<String>,
        pub admin_email: String,
        pub admin_issuer: String,
        pub admin_subject: String,
        pub changed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// How many letters were confirmed: `all`, and per campaign (by its id). Only ever increased.
pub mod tally {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mp_letter_tally")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tally: String,
        pub letters: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
