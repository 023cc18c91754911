//! Real surveys replace the one-question survey: the builder's surveys (their content as one JSON
//! document), single-use invitations (hashes only), responses kept so they cannot be joined to an
//! invitation (pending, then mixed), results computed at the close, and screened free text.
//!
//! The old tables held only test data (no production survey existed): they are dropped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, binary, integer, text, timestamp_with_time_zone, timestamp_with_time_zone_null,
    uuid,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Old::SurveyResponse)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Old::Survey).if_exists().to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Survey::Table)
                    .col(uuid(Survey::Id).primary_key())
                    .col(text(Survey::Scope))
                    .col(text(Survey::ScopeCode))
                    .col(text(Survey::Title))
                    .col(text(Survey::Introduction))
                    .col(text(Survey::Status))
                    .col(text(Survey::Distribution))
                    .col(text(Survey::Slug).unique_key())
                    .col(timestamp_with_time_zone_null(Survey::ClosesAt))
                    .col(text(Survey::Definition))
                    .col(text(Survey::Demographics))
                    .col(integer(Survey::MinimumGroupSize))
                    .col(big_integer(Survey::InvitationsIssued))
                    .col(big_integer(Survey::Responses))
                    .col(timestamp_with_time_zone(Survey::CreatedAt))
                    .col(timestamp_with_time_zone_null(Survey::PublishedAt))
                    .col(timestamp_with_time_zone_null(Survey::ClosedAt))
                    .to_owned(),
            )
            .await?;

        // Issued invitations: the hash of each code, and nothing about who it was sent to, when,
        // or whether it was used (see SurveyUsedCode).
        manager
            .create_table(
                Table::create()
                    .table(SurveyInvitation::Table)
                    .col(text(SurveyInvitation::CodeHash).primary_key())
                    .col(uuid(SurveyInvitation::SurveyId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("survey_invitation_by_survey")
                    .table(SurveyInvitation::Table)
                    .col(SurveyInvitation::SurveyId)
                    .to_owned(),
            )
            .await?;

        // Used invitation codes. The primary key is what makes a code answer once, however many
        // try at the same time; the mixer rewrites the whole table in random order, so a mark's
        // row position and transaction id say nothing about when it was used.
        manager
            .create_table(
                Table::create()
                    .table(SurveyUsedCode::Table)
                    .col(text(SurveyUsedCode::CodeHash).primary_key())
                    .col(uuid(SurveyUsedCode::SurveyId))
                    .to_owned(),
            )
            .await?;

        // Responses land here first, and are moved by the mixer into survey_response.
        for table in [Responses::Pending, Responses::Mixed] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(uuid(Responses::Id).primary_key())
                        .col(uuid(Responses::SurveyId))
                        .col(text(Responses::Sheet))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("survey_response_by_survey")
                    .table(Responses::Mixed)
                    .col(Responses::SurveyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SurveyResults::Table)
                    .col(uuid(SurveyResults::SurveyId).primary_key())
                    .col(binary(SurveyResults::Snapshot))
                    .col(timestamp_with_time_zone(SurveyResults::ComputedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SurveyFreeText::Table)
                    .col(uuid(SurveyFreeText::Id).primary_key())
                    .col(uuid(SurveyFreeText::SurveyId))
                    .col(text(SurveyFreeText::QuestionId))
                    .col(text(SurveyFreeText::Trust))
                    .col(text(SurveyFreeText::Text))
                    .col(text(SurveyFreeText::Flags))
                    .col(text(SurveyFreeText::Flagged))
                    .col(text(SurveyFreeText::Status))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("survey_free_text_by_question")
                    .table(SurveyFreeText::Table)
                    .col(SurveyFreeText::SurveyId)
                    .col(SurveyFreeText::QuestionId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Old {
    Survey,
    SurveyResponse,
}

#[derive(DeriveIden)]
enum Survey {
    Table,
    Id,
    Scope,
    ScopeCode,
    Title,
    Introduction,
    Status,
    Distribution,
    Slug,
    ClosesAt,
    Definition,
    Demographics,
    MinimumGroupSize,
    InvitationsIssued,
    Responses,
    CreatedAt,
    PublishedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum SurveyInvitation {
    Table,
    CodeHash,
    SurveyId,
}

#[derive(DeriveIden)]
enum SurveyUsedCode {
    Table,
    CodeHash,
    SurveyId,
}

#[derive(DeriveIden)]
enum Responses {
    #[sea_orm(iden = "survey_pending_response")]
    Pending,
    #[sea_orm(iden = "survey_response")]
    Mixed,
    Id,
    SurveyId,
    Sheet,
}

#[derive(DeriveIden)]
enum SurveyResults {
    Table,
    SurveyId,
    Snapshot,
    ComputedAt,
}

#[derive(DeriveIden)]
enum SurveyFreeText {
    Table,
    Id,
    SurveyId,
    QuestionId,
    Trust,
    Text,
    Flags,
    Flagged,
    Status,
}
