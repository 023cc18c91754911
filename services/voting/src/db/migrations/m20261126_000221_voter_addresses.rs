use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, text, text_null, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The few places a voter's address is kept, each as briefly as its email needs: on a
/// verification until it is used or expires (to pass on), on a voter pass until it expires (for
/// "your vote counted"), and for a voter who asked to hear the results until that email is
/// enqueued. Retention and erasure clear them.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text_null(VoterVerification::Email),
            boolean(VoterVerification::NotifyResults)
                .default(false)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(VoterVerification::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(VoterPass::Table)
                    .add_column(text_null(VoterPass::Email))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResultsSubscriber::Table)
                    .if_not_exists()
                    .col(text(ResultsSubscriber::CampaignId))
                    .col(text(ResultsSubscriber::VoterKey))
                    .col(text(ResultsSubscriber::Email))
                    .col(timestamp_with_time_zone(ResultsSubscriber::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ResultsSubscriber::CampaignId)
                            .col(ResultsSubscriber::VoterKey),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum VoterVerification {
    Table,
    Email,
    NotifyResults,
}

#[derive(DeriveIden)]
enum VoterPass {
    Table,
    Email,
}

#[derive(DeriveIden)]
enum ResultsSubscriber {
    Table,
    CampaignId,
    VoterKey,
    Email,
    CreatedAt,
}
