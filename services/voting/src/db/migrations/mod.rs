use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000200_create_ballots_and_votes;
mod m20261126_000201_vote_ledger;
mod m20261126_000202_public_vote;
mod m20261126_000203_voter_verification;
mod m20261126_000204_vote_audit;
mod m20261126_000210_vote_eligibility;
mod m20261126_000211_held_votes;
mod m20261126_000220_vote_moments;
mod m20261126_000221_voter_addresses;
mod m20261126_000230_ledger_receipts;
mod m20261127_000240_ballot_campaign_scope;
mod m20261127_000260_vote_signals_kept;
mod m20261127_000270_trust_domains;
mod m20261128_000280_held_receipts;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = valued_platform::migrations::messaging();
        migrations.extend(valued_platform::migrations::access());
        migrations.extend(valued_platform::migrations::limits());
        migrations.push(Box::new(
            m20261122_000200_create_ballots_and_votes::Migration,
        ));
        migrations.push(Box::new(m20261126_000201_vote_ledger::Migration));
        migrations.push(Box::new(m20261126_000202_public_vote::Migration));
        migrations.push(Box::new(m20261126_000203_voter_verification::Migration));
        migrations.push(Box::new(m20261126_000204_vote_audit::Migration));
        migrations.push(Box::new(m20261126_000210_vote_eligibility::Migration));
        migrations.push(Box::new(m20261126_000211_held_votes::Migration));
        migrations.push(Box::new(m20261126_000220_vote_moments::Migration));
        migrations.push(Box::new(m20261126_000221_voter_addresses::Migration));
        migrations.push(Box::new(m20261126_000230_ledger_receipts::Migration));
        migrations.push(Box::new(m20261127_000240_ballot_campaign_scope::Migration));
        migrations.push(Box::new(m20261127_000260_vote_signals_kept::Migration));
        migrations.push(Box::new(m20261127_000270_trust_domains::Migration));
        migrations.push(Box::new(m20261128_000280_held_receipts::Migration));
        migrations
    }
}
