use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, text, text_null, timestamp_with_time_zone, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What the database says to a change or removal of a recorded change of wording.
const REFUSAL: &str = "mp_letter_wording_change is append-only";

/// "Email your MP" for campaigns: the campaign a letter was written for, each campaign's suggested
/// wording with the record of who changed it, and the counts of confirmed letters.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MpLetter::Table)
                    .add_column(uuid_null(MpLetter::CampaignId))
                    .to_owned(),
            )
            .await?;
        // One row per campaign whose wording was ever set: the wording (null once cleared) and the
        // campaign's scope as first described, which decides who may change it.
        manager
            .create_table(
                Table::create()
                    .table(MpLetterWording::Table)
                    .if_not_exists()
                    .col(uuid(MpLetterWording::CampaignId).primary_key())
                    .col(text(MpLetterWording::CampaignSlug))
                    .col(text(MpLetterWording::CampaignScope))
                    .col(text(MpLetterWording::CampaignScopeCode))
                    .col(text_null(MpLetterWording::Wording))
                    .col(timestamp_with_time_zone(MpLetterWording::SetAt))
                    .to_owned(),
            )
            .await?;
        // Every change of a campaign's wording: who (the signed-in admin's email and account),
        // what (set, with the wording, or clear), when. Written in the change's own transaction.
        manager
            .create_table(
                Table::create()
                    .table(MpLetterWordingChange::Table)
                    .if_not_exists()
                    .col(uuid(MpLetterWordingChange::Id).primary_key())
                    .col(uuid(MpLetterWordingChange::CampaignId))
                    .col(text(MpLetterWordingChange::Change))
                    .col(text_null(MpLetterWordingChange::Wording))
                    .col(text(MpLetterWordingChange::AdminEmail))
                    .col(text(MpLetterWordingChange::AdminIssuer))
                    .col(text(MpLetterWordingChange::AdminSubject))
                    .col(timestamp_with_time_zone(MpLetterWordingChange::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mp_letter_wording_change_by_campaign")
                    .table(MpLetterWordingChange::Table)
                    .col(MpLetterWordingChange::CampaignId)
                    .col(MpLetterWordingChange::ChangedAt)
                    .to_owned(),
            )
            .await?;
        // Confirmed letters, counted in the transaction that confirms each: `all`, and one row per
        // campaign (its id). Retention deletes letters, never these.
        manager
            .create_table(
                Table::create()
                    .table(MpLetterTally::Table)
                    .if_not_exists()
                    .col(text(MpLetterTally::Tally).primary_key())
                    .col(big_integer(MpLetterTally::Letters))
                    .to_owned(),
            )
            .await?;
        // The letters confirmed before the count existed are counted once, here: those still held.
        // (Letters retention has deleted are gone; campaigns did not exist for letters then.)
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO mp_letter_tally (tally, letters) \
             SELECT 'all', COUNT(*) FROM mp_letter WHERE confirmed_at IS NOT NULL",
        )
        .await?;
        // Append-only in the database itself, as the decisions on held letters are.
        let statements = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => vec![
                format!(
                    "CREATE OR REPLACE FUNCTION mp_letter_wording_change_append_only() \
                     RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSAL}'; \
                     END $$"
                ),
                "CREATE TRIGGER mp_letter_wording_change_append_only BEFORE UPDATE OR DELETE \
                 ON mp_letter_wording_change FOR EACH ROW EXECUTE FUNCTION \
                 mp_letter_wording_change_append_only()"
                    .to_owned(),
                "CREATE TRIGGER mp_letter_wording_change_no_truncate BEFORE TRUNCATE \
                 ON mp_letter_wording_change FOR EACH STATEMENT EXECUTE FUNCTION \
                 mp_letter_wording_change_append_only()"
                    .to_owned(),
            ],
            _ => vec![
                format!(
                    "CREATE TRIGGER IF NOT EXISTS mp_letter_wording_change_no_update BEFORE \
                     UPDATE ON mp_letter_wording_change BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                ),
                format!(
                    "CREATE TRIGGER IF NOT EXISTS mp_letter_wording_change_no_delete BEFORE \
                     DELETE ON mp_letter_wording_change BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
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
enum MpLetter {
    Table,
    CampaignId,
}

#[derive(DeriveIden)]
enum MpLetterWording {
    Table,
    CampaignId,
    CampaignSlug,
    CampaignScope,
    CampaignScopeCode,
    Wording,
    SetAt,
}

#[derive(DeriveIden)]
enum MpLetterWordingChange {
    Table,
    Id,
    CampaignId,
    Change,
    Wording,
    AdminEmail,
    AdminIssuer,
    AdminSubject,
    ChangedAt,
}

#[derive(DeriveIden)]
enum MpLetterTally {
    Table,
    Tally,
    Letters,
}
