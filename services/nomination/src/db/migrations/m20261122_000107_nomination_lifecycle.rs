use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, text, text_null, timestamp_with_time_zone, timestamp_with_time_zone_null,
    uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Adds columns one at a time: SQLite accepts one `ADD COLUMN` per `ALTER TABLE`.
async fn add_columns(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + Clone + 'static,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for mut column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(table.clone())
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            Nomination::Table,
            vec![
                text(Nomination::NomineeEmail).default("").to_owned(),
                text(Nomination::SiteCode).default("").to_owned(),
                text(Nomination::NomineeDescription).default("").to_owned(),
                boolean(Nomination::Team).default(false).to_owned(),
                // SHA-256 of the single-use link the nominator confirms with; cleared once used.
                text_null(Nomination::ConfirmTokenHash).to_owned(),
                timestamp_with_time_zone_null(Nomination::ConfirmedAt).to_owned(),
                text(Nomination::MatchReviewedBy).default("").to_owned(),
                text(Nomination::ModerationReason).default("").to_owned(),
                uuid_null(Nomination::ForwardedFrom).to_owned(),
            ],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("nomination_confirm_token")
                    .table(Nomination::Table)
                    .col(Nomination::ConfirmTokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        add_columns(
            manager,
            Nominee::Table,
            vec![
                text_null(Nominee::ConsentTokenHash).to_owned(),
                text(Nominee::Email).default("").to_owned(),
                boolean(Nominee::ListedPublicly).default(false).to_owned(),
                boolean(Nominee::StoryPublished).default(false).to_owned(),
                boolean(Nominee::SharedWithMp).default(false).to_owned(),
                timestamp_with_time_zone_null(Nominee::ConsentAnsweredAt).to_owned(),
                timestamp_with_time_zone_null(Nominee::ThankedAt).to_owned(),
            ],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("nominee_consent_token")
                    .table(Nominee::Table)
                    .col(Nominee::ConsentTokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        add_columns(
            manager,
            Campaign::Table,
            vec![integer(Campaign::FinalistsPerRegion).default(3).to_owned()],
        )
        .await?;

        for table in [
            Table::create()
                .table(Draft::Table)
                .if_not_exists()
                .col(uuid(Draft::Id).primary_key())
                .col(text(Draft::TokenHash).unique_key())
                .col(uuid(Draft::CampaignId))
                .col(text(Draft::Answers))
                .col(timestamp_with_time_zone(Draft::UpdatedAt))
                .col(timestamp_with_time_zone(Draft::ExpiresAt))
                .to_owned(),
            Table::create()
                .table(AuditLog::Table)
                .if_not_exists()
                .col(uuid(AuditLog::Id).primary_key())
                .col(timestamp_with_time_zone(AuditLog::At))
                .col(text(AuditLog::Actor))
                .col(text(AuditLog::Action))
                .col(uuid_null(AuditLog::NominationId))
                .col(text(AuditLog::TrustCode))
                .col(text(AuditLog::Detail))
                .to_owned(),
            Table::create()
                .table(RoleGrant::Table)
                .if_not_exists()
                .col(text(RoleGrant::Email))
                .col(text(RoleGrant::Role))
                .col(text(RoleGrant::Scope))
                .primary_key(
                    Index::create()
                        .col(RoleGrant::Email)
                        .col(RoleGrant::Role)
                        .col(RoleGrant::Scope),
                )
                .to_owned(),
            Table::create()
                .table(Criterion::Table)
                .if_not_exists()
                .col(uuid(Criterion::Id).primary_key())
                .col(uuid(Criterion::CampaignId))
                .col(text(Criterion::Name))
                .col(integer(Criterion::Weight))
                .col(integer(Criterion::Position))
                .to_owned(),
            Table::create()
                .table(JudgeAssignment::Table)
                .if_not_exists()
                .col(uuid(JudgeAssignment::CampaignId))
                .col(uuid(JudgeAssignment::CategoryId))
                .col(text(JudgeAssignment::JudgeEmail))
                .primary_key(
                    Index::create()
                        .col(JudgeAssignment::CampaignId)
                        .col(JudgeAssignment::CategoryId)
                        .col(JudgeAssignment::JudgeEmail),
                )
                .to_owned(),
            Table::create()
                .table(Score::Table)
                .if_not_exists()
                .col(uuid(Score::NominationId))
                .col(text(Score::JudgeEmail))
                .col(uuid(Score::CriterionId))
                .col(integer(Score::Score))
                .col(timestamp_with_time_zone(Score::ScoredAt))
                .primary_key(
                    Index::create()
                        .col(Score::NominationId)
                        .col(Score::JudgeEmail)
                        .col(Score::CriterionId),
                )
                .to_owned(),
            Table::create()
                .table(Conflict::Table)
                .if_not_exists()
                .col(uuid(Conflict::NominationId))
                .col(text(Conflict::JudgeEmail))
                .col(text(Conflict::Reason))
                .col(timestamp_with_time_zone(Conflict::DeclaredAt))
                .primary_key(
                    Index::create()
                        .col(Conflict::NominationId)
                        .col(Conflict::JudgeEmail),
                )
                .to_owned(),
            Table::create()
                .table(Recognition::Table)
                .if_not_exists()
                .col(uuid(Recognition::NominationId))
                .col(text(Recognition::Kind))
                .col(uuid(Recognition::CampaignId))
                .col(uuid(Recognition::CategoryId))
                .col(text(Recognition::RegionCode))
                .col(text(Recognition::AnnouncedBy))
                .col(timestamp_with_time_zone(Recognition::AnnouncedAt))
                .primary_key(
                    Index::create()
                        .col(Recognition::NominationId)
                        .col(Recognition::Kind),
                )
                .to_owned(),
        ] {
            manager.create_table(table).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("audit_log_by_trust")
                    .table(AuditLog::Table)
                    .col(AuditLog::TrustCode)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone)]
enum Nomination {
    Table,
    NomineeEmail,
    SiteCode,
    NomineeDescription,
    Team,
    ConfirmTokenHash,
    ConfirmedAt,
    MatchReviewedBy,
    ModerationReason,
    ForwardedFrom,
}

#[derive(DeriveIden, Clone)]
enum Nominee {
    Table,
    ConsentTokenHash,
    Email,
    ListedPublicly,
    StoryPublished,
    SharedWithMp,
    ConsentAnsweredAt,
    ThankedAt,
}

#[derive(DeriveIden, Clone)]
enum Campaign {
    Table,
    FinalistsPerRegion,
}

#[derive(DeriveIden)]
enum Draft {
    Table,
    Id,
    TokenHash,
    CampaignId,
    Answers,
    UpdatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    NominationId,
    TrustCode,
    Detail,
}

#[derive(DeriveIden)]
enum RoleGrant {
    Table,
    Email,
    Role,
    Scope,
}

#[derive(DeriveIden)]
enum Criterion {
    Table,
    Id,
    CampaignId,
    Name,
    Weight,
    Position,
}

#[derive(DeriveIden)]
enum JudgeAssignment {
    Table,
    CampaignId,
    CategoryId,
    JudgeEmail,
}

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)]
enum Score {
    Table,
    NominationId,
    JudgeEmail,
    CriterionId,
    Score,
    ScoredAt,
}

#[derive(DeriveIden)]
enum Conflict {
    Table,
    NominationId,
    JudgeEmail,
    Reason,
    DeclaredAt,
}

#[derive(DeriveIden)]
enum Recognition {
    Table,
    NominationId,
    Kind,
    CampaignId,
    CategoryId,
    RegionCode,
    AnnouncedBy,
    AnnouncedAt,
}
