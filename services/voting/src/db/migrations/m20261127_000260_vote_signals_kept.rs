use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The votes that still keep their network and domain digests, by time cast: what the retention
/// round ([`crate::held::Guard::forget_signals`]) clears once a vote is past the burst window, found
/// without reading the votes already cleared. A partial index, the same on PostgreSQL and SQLite.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS vote_signals_kept ON vote (cast_at) \
                 WHERE network IS NOT NULL OR domain IS NOT NULL",
            )
            .await
            .map(|_| ())
    }
}
