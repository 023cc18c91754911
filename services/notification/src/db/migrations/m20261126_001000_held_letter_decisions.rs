use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, string_len, text, timestamp_with_time_zone, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What the database says to a change or removal of a recorded decision.
const REFUSAL: &str = "held_letter_decision is append-only";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Every decision on a letter held for review: who (the signed-in admin's email as their
        // provider gave it, and the account: issuer and subject), what (send or discard), which
        // letter and MP, when. Written in the decision's own transaction.
        manager
            .create_table(
                Table::create()
                    .table(HeldLetterDecision::Table)
                    .if_not_exists()
                    .col(uuid(HeldLetterDecision::Id).primary_key())
                    .col(uuid(HeldLetterDecision::LetterId))
                    .col(text(HeldLetterDecision::Decision))
                    .col(integer(HeldLetterDecision::MemberId))
                    .col(text(HeldLetterDecision::MpName))
                    .col(string_len(HeldLetterDecision::ConstituencyCode, 9))
                    .col(text(HeldLetterDecision::ConstituencyName))
                    .col(text(HeldLetterDecision::AdminEmail))
                    .col(text(HeldLetterDecision::AdminIssuer))
                    .col(text(HeldLetterDecision::AdminSubject))
                    .col(timestamp_with_time_zone(HeldLetterDecision::DecidedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("held_letter_decision_by_time")
                    .table(HeldLetterDecision::Table)
                    .col(HeldLetterDecision::DecidedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("held_letter_decision_by_letter")
                    .table(HeldLetterDecision::Table)
                    .col(HeldLetterDecision::LetterId)
                    .to_owned(),
            )
            .await?;
        // Append-only in the database itself, not only by the code's habit: an UPDATE, DELETE (or,
        // on PostgreSQL, TRUNCATE) of the table fails.
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => vec![
                format!(
                    "CREATE OR REPLACE FUNCTION held_letter_decision_append_only() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
                ),
                "CREATE TRIGGER held_letter_decision_append_only BEFORE UPDATE OR DELETE \
                 ON held_letter_decision FOR EACH ROW EXECUTE FUNCTION \
                 held_letter_decision_append_only()"
                    .to_owned(),
                "CREATE TRIGGER held_letter_decision_no_truncate BEFORE TRUNCATE \
                 ON held_letter_decision FOR EACH STATEMENT EXECUTE FUNCTION \
                 held_letter_decision_append_only()"
                    .to_owned(),
            ],
            _ => vec![
                format!(
                    "CREATE TRIGGER IF NOT EXISTS held_letter_decision_no_update BEFORE UPDATE \
                     ON held_letter_decision BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                ),
                format!(
                    "CREATE TRIGGER IF NOT EXISTS held_letter_decision_no_delete BEFORE DELETE \
                     ON held_letter_decision BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                ),
            ],
        };
        for statement in statements {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum HeldLetterDecision {
    Table,
    Id,
    LetterId,
    Decision,
    MemberId,
    MpName,
    ConstituencyCode,
    ConstituencyName,
    AdminEmail,
    AdminIssuer,
    AdminSubject,
    DecidedAt,
}
