//! The public vote's moments, as the voting service announces them, told to the people they
//! concern. The nomination service holds finalists' addresses and consent, so it is the one that
//! tells them:
//!
//! - `vote.opened.v1`: each finalist on a ballot hears that voting opened
//!   (`finalist.vote_opened.v1`).
//! - `vote.results_released.v1`: each winner is announced as the category's winner, through the
//!   same path as an admin's announcement ([`announce_vote_winner`]: recognition, audit entry
//!   under the actor [`PUBLIC_VOTE`], `winner.announced.v1`, whose emails and MP digests follow);
//!   every other finalist hears that the results are out (`finalist.results_released.v1`).
//!
//! A finalist who withdrew consent to be listed is neither announced nor emailed. Runs in each
//! event's inbox transaction; a recognition or `vote_notice` row per finalist and moment makes a
//! repeated moment (a replay, or a second release) tell nobody twice.
//!
//! [`PUBLIC_VOTE`]: crate::admin::recognition::PUBLIC_VOTE

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    TryInsertResult,
};
use uuid::Uuid;
use valued_platform::inbox::TransactionalHandler;
use valued_platform::outbox::Outbox;
use valued_platform::{Envelope, HandlerError, Subscription};
use valued_proto::events::Event;
use valued_proto::events::v1::{
    FinalistResultsReleased, FinalistVoteOpened, RecognisedNominee, VoteOpened, VoteResultsReleased,
};

use crate::admin::recognition::{FINALIST, announce_vote_winner, public_of};
use crate::db::entities::{nomination, recognition, trust, vote_notice};
use crate::error::{Error, Result};

pub const CONSUMER: &str = "nomination-public-vote";

const VOTE_OPENED: &str = "vote_opened";
const RESULTS_RELEASED: &str = "results_released";

/// The public vote's moments.
pub fn subscription() -> Subscription {
    Subscription::new(CONSUMER, &[VoteOpened::TYPE, VoteResultsReleased::TYPE])
}

/// Wrap it in the inbox.
pub struct PublicVote {
    pub outbox: Outbox,
}

#[async_trait]
impl TransactionalHandler for PublicVote {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> std::result::Result<(), HandlerError> {
        let poison = |e: valued_platform::envelope::EnvelopeError| HandlerError::Poison(e.into());
        let handled = match envelope.event_type.as_str() {
            VoteOpened::TYPE => {
                let opened = envelope.decode::<VoteOpened>().map_err(poison)?;
                self.opened(txn, &opened).await
            }
            VoteResultsReleased::TYPE => {
                let released = envelope.decode::<VoteResultsReleased>().map_err(poison)?;
                self.released(txn, &released).await
            }
            _ => Ok(()),
        };
        handled.map_err(|e| HandlerError::Retry(e.into()))
    }

    fn after_commit(&self) {
        self.outbox.wake();
    }
}

impl PublicVote {
    async fn opened(&self, txn: &DatabaseTransaction, opened: &VoteOpened) -> Result<()> {
        for ballot in &opened.ballots {
            for choice_id in &ballot.choice_ids {
                let Some((trust, public)) = to_tell(
                    txn,
                    (&opened.campaign_id, &ballot.category_id, choice_id),
                    VOTE_OPENED,
                )
                .await?
                else {
                    continue;
                };
                let event = FinalistVoteOpened {
                    finalist: Some(public),
                    closes_at: opened.closes_at,
                    results_at: opened.results_at,
                };
                self.outbox.enqueue(txn, Some(&trust.code), &event).await?;
            }
        }
        Ok(())
    }

    async fn released(
        &self,
        txn: &DatabaseTransaction,
        released: &VoteResultsReleased,
    ) -> Result<()> {
        let winners: HashSet<&str> = released
            .winner_choice_ids
            .iter()
            .map(String::as_str)
            .collect();
        let (campaign, category) = (&released.campaign_id, &released.category_id);
        let mut winner_names = Vec::new();
        for choice_id in &released.winner_choice_ids {
            let Some(found) = finalist(txn, campaign, category, choice_id).await? else {
                tracing::warn!(choice_id = %choice_id, "a public vote's winner is not a finalist here");
                continue;
            };
            let Some((_, public)) = public_of(txn, &found).await? else {
                tracing::info!(
                    nomination_id = %found.id,
                    "the public vote's winner is not listed publicly: not announced"
                );
                continue;
            };
            winner_names.push(public.nominee_name);
            match announce_vote_winner(txn, &self.outbox, &found).await {
                Ok(true) => {
                    tracing::info!(nomination_id = %found.id, "public vote winner announced")
                }
                Ok(false) => {}
                Err(Error::Closed(why)) => {
                    tracing::warn!(nomination_id = %found.id, %why, "public vote winner not announced");
                }
                Err(e) => return Err(e),
            }
        }
        for count in &released.counts {
            if winners.contains(count.choice_id.as_str()) || count.withdrawn {
                continue;
            }
            let choice = (
                campaign.as_str(),
                category.as_str(),
                count.choice_id.as_str(),
            );
            let Some((trust, public)) = to_tell(txn, choice, RESULTS_RELEASED).await? else {
                continue;
            };
            let event = FinalistResultsReleased {
                finalist: Some(public),
                winner_names: winner_names.clone(),
            };
            self.outbox.enqueue(txn, Some(&trust.code), &event).await?;
        }
        Ok(())
    }
}

/// The nomination announced as a finalist in the campaign's category for the nominee a ballot's
/// choice stands for (its choice id is the nominee id).
async fn finalist(
    db: &impl ConnectionTrait,
    campaign_id: &str,
    category_id: &str,
    choice_id: &str,
) -> Result<Option<nomination::Model>> {
    let (Ok(campaign_id), Ok(category_id), Ok(nominee_id)) = (
        Uuid::parse_str(campaign_id),
        Uuid::parse_str(category_id),
        Uuid::parse_str(choice_id),
    ) else {
        return Ok(None);
    };
    let nominations = nomination::Entity::find()
        .filter(nomination::Column::CampaignId.eq(campaign_id))
        .filter(nomination::Column::CategoryId.eq(category_id))
        .filter(nomination::Column::NomineeId.eq(nominee_id))
        .all(db)
        .await?;
    for found in nominations {
        let announced = recognition::Entity::find_by_id((found.id, FINALIST.to_owned()))
            .one(db)
            .await?
            .is_some();
        if announced {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The finalist behind a ballot's choice (campaign, category and choice ids) as events may carry
/// them, with their trust, when they are still listed publicly and were not told of `notice` before
/// (recording that they now are).
async fn to_tell(
    txn: &DatabaseTransaction,
    (campaign_id, category_id, choice_id): (&str, &str, &str),
    notice: &str,
) -> Result<Option<(trust::Model, RecognisedNominee)>> {
    let Some(found) = finalist(txn, campaign_id, category_id, choice_id).await? else {
        return Ok(None);
    };
    let Some(public) = public_of(txn, &found).await? else {
        return Ok(None);
    };
    if !first_notice(txn, found.id, notice).await? {
        return Ok(None);
    }
    Ok(Some(public))
}

/// Records that the finalist was told of `notice`; false when they were before.
async fn first_notice(
    txn: &DatabaseTransaction,
    nomination_id: Uuid,
    notice: &str,
) -> Result<bool> {
    let inserted = vote_notice::Entity::insert(vote_notice::ActiveModel {
        nomination_id: ActiveValue::Set(nomination_id),
        notice: ActiveValue::Set(notice.to_owned()),
        at: ActiveValue::Set(Utc::now()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(txn)
    .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0))
}
