use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{date, integer, text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Survey::Table)
                    .if_not_exists()
                    .col(uuid(Survey::Id).primary_key())
                    .col(text(Survey::Title))
                    .col(text(Survey::Question))
                    .col(timestamp_with_time_zone(Survey::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // Anonymous by construction: no respondent, no address, and only the day, so that a
        // response cannot be matched to a request log by its time.
        manager
            .create_table(
                Table::create()
                    .table(SurveyResponse::Table)
                    .if_not_exists()
                    .col(uuid(SurveyResponse::Id).primary_key())
                    .col(uuid(SurveyResponse::SurveyId))
                    .col(text(SurveyResponse::StaffGroup))
                    .col(
                        integer(SurveyResponse::Score)
                            .check(Expr::col(SurveyResponse::Score).between(1, 5)),
                    )
                    .col(date(SurveyResponse::SubmittedOn))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SurveyResponse::Table, SurveyResponse::SurveyId)
                            .to(Survey::Table, Survey::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("survey_response_by_survey_group")
                    .table(SurveyResponse::Table)
                    .col(SurveyResponse::SurveyId)
                    .col(SurveyResponse::StaffGroup)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Survey {
    Table,
    Id,
    Title,
    Question,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SurveyResponse {
    Table,
    Id,
    SurveyId,
    StaffGroup,
    Score,
    SubmittedOn,
}
