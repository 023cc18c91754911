use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What the sender reads each time it claims: the due emails in the order they fell due, and the
/// claims that lapsed. `delivery_due` (status, next_attempt_at) could not give both in one ordered
/// scan, so each claim read every due row and sorted them; two partial indexes hold only the rows
/// waiting (`pending`) and those claimed (`sending`), so a claim reads what it takes. On PostgreSQL
/// the bodies are compressed with lz4 where the server has it: cheaper than pglz for a body
/// written once and read once.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS delivery_due")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS delivery_pending_due ON delivery (next_attempt_at) \
             WHERE status = 'pending'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS delivery_claimed ON delivery (claimed_until) \
             WHERE status = 'sending'",
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "DO $$ BEGIN \
                   IF EXISTS (SELECT 1 FROM pg_settings \
                              WHERE name = 'default_toast_compression' \
                                AND 'lz4' = ANY (enumvals)) THEN \
                     ALTER TABLE delivery ALTER COLUMN html_body SET COMPRESSION lz4, \
                                          ALTER COLUMN text_body SET COMPRESSION lz4; \
                   END IF; \
                 END $$",
            )
            .await?;
        }
        Ok(())
    }
}
