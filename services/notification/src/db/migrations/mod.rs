use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261122_000400_create_delivery;
mod m20261122_000401_delivery_reply_to;
mod m20261122_000500_mp_alerts;
mod m20261122_000600_trusted_sending;
mod m20261122_000700_mp_letters;
mod m20261122_000701_delivery_sender_name;
mod m20261122_000800_unsolicited_cap;
mod m20261126_000900_letter_fingerprints;
mod m20261126_001000_held_letter_decisions;
mod m20261126_001100_retention;
mod m20261126_001200_digest_item_nominee;
mod m20261126_001300_unsolicited_key;
mod m20261127_001400_letter_wording;
mod m20261127_001500_trust_sender;
mod m20261128_001600_smtp_rate;
mod m20261128_001700_delivery_traceparent;
mod m20261128_001800_delivery_claims;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = valued_platform::migrations::messaging();
        migrations.extend(valued_platform::migrations::limits());
        migrations.extend(valued_platform::migrations::access());
        migrations.push(Box::new(m20261122_000400_create_delivery::Migration));
        migrations.push(Box::new(m20261122_000401_delivery_reply_to::Migration));
        migrations.push(Box::new(m20261122_000500_mp_alerts::Migration));
        migrations.push(Box::new(m20261122_000600_trusted_sending::Migration));
        migrations.push(Box::new(m20261122_000700_mp_letters::Migration));
        migrations.push(Box::new(m20261122_000701_delivery_sender_name::Migration));
        migrations.push(Box::new(m20261122_000800_unsolicited_cap::Migration));
        migrations.push(Box::new(m20261126_000900_letter_fingerprints::Migration));
        migrations.push(Box::new(m20261126_001000_held_letter_decisions::Migration));
        migrations.push(Box::new(m20261126_001100_retention::Migration));
        migrations.push(Box::new(m20261126_001200_digest_item_nominee::Migration));
        migrations.push(Box::new(m20261126_001300_unsolicited_key::Migration));
        migrations.push(Box::new(m20261127_001400_letter_wording::Migration));
        migrations.push(Box::new(m20261127_001500_trust_sender::Migration));
        migrations.push(Box::new(m20261128_001600_smtp_rate::Migration));
        migrations.push(Box::new(m20261128_001700_delivery_traceparent::Migration));
        migrations.push(Box::new(m20261128_001800_delivery_claims::Migration));
        migrations
    }
}
