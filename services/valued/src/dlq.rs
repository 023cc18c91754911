//! `valued dlq list|replay CONSUMER`: a consumer's dead-letter queue on RabbitMQ, for the
//! operator (deploy/DLQ.md). The work is in `valued_platform::bus::dlq`.

use anyhow::Context;
use valued_platform::bus::dlq::{DeadLetter, DeadLetters, Replay};

use crate::Settings;

/// Prints one line per dead letter of `consumer` (the first `limit`) and the total; the messages
/// stay where they are, in their order.
pub async fn list(settings: &Settings, consumer: &str, limit: usize) -> anyhow::Result<()> {
    let dead_letters = connect(settings).await?;
    let listing = dead_letters
        .list(consumer, limit)
        .await
        .with_context(|| format!("listing the dead letters of {consumer}"))?;
    for letter in &listing.letters {
        println!("{}", line(letter));
    }
    let shown = listing.letters.len();
    if u32::try_from(shown).unwrap_or(u32::MAX) < listing.total {
        println!(
            "{} dead-lettered in {} (the first {shown} shown; --limit for more)",
            listing.total, listing.queue
        );
    } else {
        println!("{} dead-lettered in {}", listing.total, listing.queue);
    }
    Ok(())
}

/// Moves the chosen dead letters of `consumer` back to its queue and prints each one moved.
pub async fn replay(
    settings: &Settings,
    consumer: &str,
    ids: Vec<String>,
    all: bool,
) -> anyhow::Result<()> {
    let which = if all { Replay::All } else { Replay::Ids(ids) };
    let dead_letters = connect(settings).await?;
    let queue = dead_letters.queue_name(consumer);
    let done = dead_letters
        .replay(consumer, &which)
        .await
        .with_context(|| format!("replaying the dead letters of {consumer}"))?;
    for letter in &done.replayed {
        println!("replayed {}", line(letter));
    }
    println!(
        "{} replayed to {queue}; {} left in {}",
        done.replayed.len(),
        done.left,
        dead_letters.dead_letter_queue(consumer)
    );
    anyhow::ensure!(
        done.not_found.is_empty(),
        "not in the dead-letter queue: {}",
        done.not_found.join(", ")
    );
    Ok(())
}

async fn connect(settings: &Settings) -> anyhow::Result<DeadLetters> {
    DeadLetters::connect(&settings.bus)
        .await
        .context("connecting to the broker (bus.amqp_url)")
}

/// `<id> <type> occurred <when> dead-lettered <when> reason <why> deaths <n> dlq-deliveries <n>`,
/// with `-` for what the message does not carry.
fn line(letter: &DeadLetter) -> String {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    format!(
        "{id} {event_type} occurred {occurred} dead-lettered {dead} reason {reason} deaths {deaths} dlq-deliveries {deliveries}",
        id = or_dash(letter.id.clone()),
        event_type = or_dash(letter.event_type.clone()),
        occurred = or_dash(letter.occurred_at.clone()),
        dead = or_dash(letter.dead_lettered_at.map(|at| at.to_rfc3339())),
        reason = or_dash(letter.reason.clone()),
        deaths = letter.deaths,
        deliveries = or_dash(letter.delivery_count.map(|n| n.to_string())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_what_the_message_carries_and_dashes_the_rest() {
        let letter = DeadLetter {
            id: Some("0197-e1".into()),
            event_type: Some("nomination.submitted.v1".into()),
            occurred_at: Some("2026-11-27T10:00:00+00:00".into()),
            dead_lettered_at: chrono::DateTime::from_timestamp(1_800_000_000, 0),
            reason: Some("delivery_limit".into()),
            deaths: 1,
            delivery_count: None,
        };
        assert_eq!(
            line(&letter),
            "0197-e1 nomination.submitted.v1 occurred 2026-11-27T10:00:00+00:00 \
             dead-lettered 2027-01-15T08:00:00+00:00 reason delivery_limit deaths 1 \
             dlq-deliveries -"
        );
    }
}
