use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, double, integer};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The token bucket every replica's sender draws on before it claims emails, so that the whole
/// deployment hands the SMTP relay at most `sender.max_per_second` (`crate::db::smtp_rate`). One
/// row: the tokens left as of `refilled_at` (seconds since the Unix epoch by the database's own
/// clock) and the last grant. It starts empty at the epoch, so the first taker finds it full.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SmtpRate::Table)
                    .if_not_exists()
                    .col(integer(SmtpRate::Id).primary_key())
                    .col(double(SmtpRate::Tokens))
                    .col(double(SmtpRate::RefilledAt))
                    .col(big_integer(SmtpRate::Granted))
                    .to_owned(),
            )
            .await?;
        let mut row = Query::insert()
            .into_table(SmtpRate::Table)
            .columns([
                SmtpRate::Id,
                SmtpRate::Tokens,
                SmtpRate::RefilledAt,
                SmtpRate::Granted,
            ])
            .on_conflict(OnConflict::column(SmtpRate::Id).do_nothing().to_owned())
            .to_owned();
        row.values([1.into(), 0.0.into(), 0.0.into(), 0.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        manager.exec_stmt(row).await
    }
}

#[derive(DeriveIden)]
enum SmtpRate {
    Table,
    Id,
    Tokens,
    RefilledAt,
    Granted,
}
