//! Votes on hold: a burst of votes toward one finalist from one network or one email domain is
//! held for an admin's check instead of being counted.
//!
//! # Flags
//!
//! Each vote in a campaign's public vote carries two signals, kept only as keyed digests
//! ([`signal_digest`], under the voter-key secret): the **network** it came from (the client
//! address the gateway saw, `x-valued-client`, by its IPv4 /24 or IPv6 /64; see [`network_of`])
//! and its voter's **email domain** (from the voter pass). When a vote makes the votes of its
//! ballot toward its finalist from its network, within the last [`FlagSettings::window_minutes`],
//! more than [`FlagSettings::per_network`] (or from its domain more than
//! [`FlagSettings::per_domain`]), the vote is **held**: the first so many of a burst count as
//! usual, every one after them waits. The check is one grouped count per kind of signal, in
//! the votes' own transaction after the ballot's lock (see [`crate::ledger::store::serialise`]), so
//! concurrent votes count each other, and the votes of one batch ([`crate::intake`]) count each
//! other in order as if stored one at a time.
//!
//! Domains where a burst is ordinary are not counted by domain: big mail providers and `nhs.net`
//! ([`FlagSettings::exempt_domains`]), and the domains of a staff-only vote
//! ([`crate::eligibility`]), where every vote comes from a few domains by design. Networks always
//! count: a hospital behind one address that votes as one for a colleague is held and, once an
//! admin has looked, counted.
//!
//! # A held vote
//!
//! It is the voter's one vote in its ballot (a second is refused, as ever), but it is neither in
//! the ledger nor in the tally until an admin decides its group ([`groups`]: ballot, finalist,
//! flag, how many, first and last time; nothing personal): [`decide`] either **counts** each vote
//! (appended to the ledger and tally as it would have been, with the hour it was cast, so that the
//! ledger stays intact) or **discards** them (never counted). Each decision needs a reason and is
//! audited in `vote_audit`; none is taken once the ballot's results time has passed. CastVote tells
//! the voter that their vote is held, and gives no receipt: there is no ledger entry yet. The
//! address the receipt would have gone to is kept beside the held vote (`held_receipt`), and a
//! vote counted later sends its voter the same "your vote counted" receipt then. The address goes
//! when the group is decided either way, or once the ballot's results time has passed
//! ([`forget_receipts`]), or when the person is erased.
//!
//! # For the results
//!
//! [`pending`] says how many votes of a ballot are still on hold: releasing results should wait
//! for it to be 0 (or say that held votes were not counted).
//!
//! # Retention
//!
//! A vote's digests matter only while it can count toward a burst, that is for the window after it
//! is cast: then [`Guard::forget_signals`] clears them (the flag that held a vote stays with it,
//! for the admin's decision).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    TransactionTrait,
};
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;
use valued_platform::domain::{FieldError, FieldErrors, single_line};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::VoterVoteCounted;

use crate::db::entities::{ballot, ballot_choice, held_receipt, vote, vote_audit};
use crate::domain::{VoterKey, parse_ballot_id, signal_digest};
use crate::eligibility::{self, Setting};
use crate::error::{Error, Result};
use crate::ledger;
use crate::verification::Holder;

/// A vote's status: in the ledger and tally.
pub const COUNTED: &str = "counted";
/// On hold for a check.
pub const HELD: &str = "held";
/// Held, then discarded by an admin: never counted.
pub const DISCARDED: &str = "discarded";
/// Being counted, within a decision's transaction only.
const DECIDING: &str = "deciding";

/// The kind under which networks are digested.
const NETWORK: &str = "network";

/// When a burst of votes is held.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct FlagSettings {
    /// The window a burst is counted over, in minutes.
    pub window_minutes: u32,
    /// Votes toward one finalist from one network (IPv4 /24, IPv6 /64) within the window that
    /// count before the next are held; 0 turns the flag off. Generous: a ward shares one address.
    pub per_network: u32,
    /// Likewise from one email domain; 0 turns it off.
    pub per_domain: u32,
    /// Domains never counted by domain: those where many independent voters are ordinary. A list
    /// in a file, or comma-separated (`VALUED__VOTING__FLAGS__EXEMPT_DOMAINS=nhs.net,gmail.com`).
    #[serde(deserialize_with = "valued_platform::settings::comma_separated")]
    pub exempt_domains: Vec<String>,
}

impl Default for FlagSettings {
    fn default() -> Self {
        Self {
            window_minutes: 10,
            per_network: 20,
            per_domain: 30,
            exempt_domains: [
                "nhs.net",
                "gmail.com",
                "googlemail.com",
                "outlook.com",
                "hotmail.com",
                "hotmail.co.uk",
                "live.com",
                "live.co.uk",
                "msn.com",
                "yahoo.com",
                "yahoo.co.uk",
                "icloud.com",
                "me.com",
                "aol.com",
                "btinternet.com",
                "sky.com",
                "virginmedia.com",
                "talktalk.net",
                "protonmail.com",
                "proton.me",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// The network a client address is in, as flags count it: an IPv4 address (or an IPv4-mapped
/// IPv6 one) by its /24, an IPv6 address by its /64. A `/64` the gateway already wrote is read as
/// its address. None for what is not an address.
pub fn network_of(client: &str) -> Option<String> {
    let client = client.trim();
    let address = client
        .split_once('/')
        .map_or(client, |(address, _)| address);
    let v4 = |v4: std::net::Ipv4Addr| {
        let [a, b, c, _] = v4.octets();
        format!("{a}.{b}.{c}.0/24")
    };
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(address) => Some(v4(address)),
        IpAddr::V6(address) => Some(match address.to_ipv4_mapped() {
            Some(address) => v4(address),
            None => {
                let [a, b, c, d, ..] = address.segments();
                format!("{}/64", std::net::Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        }),
    }
}

/// What a vote says about where it came from, as digests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    pub network: Option<String>,
    /// None when the domain is exempt.
    pub domain: Option<String>,
}

impl Signals {
    /// The digest of the `kind` of signal, if the vote carries one.
    fn of(&self, kind: Kind) -> Option<&str> {
        match kind {
            Kind::Network => self.network.as_deref(),
            Kind::Domain => self.domain.as_deref(),
        }
    }
}

/// What held a vote: a burst from one network or one domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Flag {
    pub kind: Kind,
    pub digest: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Network,
    Domain,
}

impl Kind {
    /// The vote's column that holds this kind of signal's digest.
    fn column(self) -> vote::Column {
        match self {
            Self::Network => vote::Column::Network,
            Self::Domain => vote::Column::Domain,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::Domain => "domain",
        }
    }
}

impl Flag {
    /// As stored and shown: `network:<digest>` or `domain:<digest>`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.slug(), self.digest)
    }

    pub fn parse(field: &str, value: &str) -> std::result::Result<Self, FieldError> {
        let invalid = || FieldError::new(field, "Choose a group of held votes");
        let (kind, digest) = value.trim().split_once(':').ok_or_else(invalid)?;
        let kind = match kind {
            "network" => Kind::Network,
            "domain" => Kind::Domain,
            _ => return Err(invalid()),
        };
        if digest.len() != 32 || !digest.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(invalid());
        }
        Ok(Self {
            kind,
            digest: digest.to_owned(),
        })
    }
}

/// The flags, with the secret their digests are keyed with.
#[derive(Clone)]
pub struct Guard {
    settings: FlagSettings,
    secret: SecretString,
    exempt: HashSet<String>,
}

impl Guard {
    pub fn new(settings: &FlagSettings, secret: &SecretString) -> Self {
        let exempt = settings
            .exempt_domains
            .iter()
            .map(|domain| signal_digest(secret, eligibility::DOMAIN, &domain.to_lowercase()))
            .collect();
        Self {
            settings: settings.clone(),
            secret: secret.clone(),
            exempt,
        }
    }

    /// Clears the network and domain digests of every vote cast a whole window before `now`, which
    /// no burst count can reach any more; how many votes it cleared.
    pub async fn forget_signals(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> std::result::Result<u64, DbErr> {
        let window = Duration::minutes(i64::from(Ord::max(self.settings.window_minutes, 1)));
        let cleared = vote::Entity::update_many()
            .col_expr(vote::Column::Network, Expr::value(Option::<String>::None))
            .col_expr(vote::Column::Domain, Expr::value(Option::<String>::None))
            .filter(
                vote::Column::Network
                    .is_not_null()
                    .or(vote::Column::Domain.is_not_null()),
            )
            .filter(vote::Column::CastAt.lt(now - window))
            .exec(db)
            .await?;
        Ok(cleared.rows_affected)
    }

    /// The signals of a vote by the holder of a pass, from `client`, in a vote set as `setting`.
    pub fn signals(&self, client: Option<&str>, holder: &Holder, setting: &Setting) -> Signals {
        let network = client
            .and_then(network_of)
            .map(|network| signal_digest(&self.secret, NETWORK, &network));
        let staff_domain = |digest: &str| {
            setting.staff
                && setting
                    .accepted_domains()
                    .into_iter()
                    .any(|d| signal_digest(&self.secret, eligibility::DOMAIN, d.as_str()) == digest)
        };
        let domain = holder
            .domain()
            .filter(|digest| !self.exempt.contains(*digest) && !staff_domain(digest))
            .map(str::to_owned);
        Signals { network, domain }
    }

    /// The flag each of `votes` (just stored together in `txn`, after the ballot's lock, in the
    /// order given, at `cast_at`) raises, if any: the votes toward its choice in the window up to
    /// `cast_at` from its network, then from its domain, counting the votes stored before these
    /// (one grouped count per kind of signal for the whole batch) and those of `votes` up to and
    /// including it, so the answer is the one storing them one at a time would give.
    pub async fn flags(
        &self,
        txn: &impl ConnectionTrait,
        ballot_id: Uuid,
        votes: &[(Uuid, &str, &Signals)],
        cast_at: DateTime<Utc>,
    ) -> std::result::Result<Vec<Option<Flag>>, DbErr> {
        let since =
            cast_at - Duration::minutes(i64::from(Ord::max(self.settings.window_minutes, 1)));
        let batch: Vec<Uuid> = votes.iter().map(|(id, _, _)| *id).collect();
        let checks = [
            (Kind::Network, self.settings.per_network),
            (Kind::Domain, self.settings.per_domain),
        ];
        // Per (signal, choice, digest): the votes before this batch (one grouped count per kind of
        // signal), then one more per vote of it.
        let mut seen: HashMap<(Kind, String, String), u64> = HashMap::new();
        for (kind, limit) in checks {
            if limit == 0 {
                continue;
            }
            let column = kind.column();
            let asked: HashSet<(&str, &str)> = votes
                .iter()
                .filter_map(|(_, choice_id, signals)| {
                    signals.of(kind).map(|digest| (*choice_id, digest))
                })
                .collect();
            if asked.is_empty() {
                continue;
            }
            let before: Vec<(String, Option<String>, i64)> = vote::Entity::find()
                .select_only()
                .column(vote::Column::ChoiceId)
                .column(column)
                .column_as(Expr::col(vote::Column::Id).count(), "votes")
                .filter(vote::Column::BallotId.eq(ballot_id))
                .filter(vote::Column::ChoiceId.is_in(asked.iter().map(|(c, _)| *c)))
                .filter(column.is_in(asked.iter().map(|(_, d)| *d)))
                .filter(vote::Column::CastAt.gte(since))
                .filter(vote::Column::Id.is_not_in(batch.iter().copied()))
                .group_by(vote::Column::ChoiceId)
                .group_by(column)
                .into_tuple()
                .all(txn)
                .await?;
            for (choice_id, digest, votes) in before {
                if let Some(digest) = digest {
                    seen.insert((kind, choice_id, digest), u64::try_from(votes).unwrap_or(0));
                }
            }
        }
        let mut found = Vec::with_capacity(votes.len());
        for (_, choice_id, signals) in votes {
            let mut flag = None;
            for (kind, limit) in checks {
                let Some(digest) = signals.of(kind).filter(|_| limit > 0) else {
                    continue;
                };
                let burst = seen
                    .entry((kind, (*choice_id).to_owned(), digest.to_owned()))
                    .or_insert(0);
                *burst += 1;
                if flag.is_none() && *burst > u64::from(limit) {
                    flag = Some(Flag {
                        kind,
                        digest: digest.to_owned(),
                    });
                }
            }
            found.push(flag);
        }
        Ok(found)
    }
}

/// Puts the vote `vote_id` on hold under `flag` (in the vote's transaction), keeping the address
/// its receipt goes to once it is counted (`receipt_to`: the voter and their address), if any.
pub async fn hold(
    txn: &impl ConnectionTrait,
    vote_id: Uuid,
    flag: &Flag,
    receipt_to: Option<(&VoterKey, &str)>,
) -> std::result::Result<(), DbErr> {
    vote::Entity::update_many()
        .col_expr(vote::Column::Status, Expr::value(HELD))
        .col_expr(vote::Column::HeldBy, Expr::value(flag.key()))
        .filter(vote::Column::Id.eq(vote_id))
        .exec(txn)
        .await?;
    if let Some((voter, email)) = receipt_to {
        held_receipt::Entity::insert(held_receipt::ActiveModel {
            vote_id: ActiveValue::Set(vote_id),
            voter_key: ActiveValue::Set(voter.as_str().to_owned()),
            email: ActiveValue::Set(email.to_owned()),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Forgets the receipt addresses no decision can use any more: of votes no longer on hold, and of
/// ballots whose results time has passed (after which nothing held is decided). Returns how many.
/// It reads from the kept addresses (few, and usually none), never across the votes.
pub async fn forget_receipts(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    /// Votes looked up per statement.
    const AT_ONCE: usize = 1_000;
    let kept: Vec<Uuid> = held_receipt::Entity::find()
        .select_only()
        .column(held_receipt::Column::VoteId)
        .into_tuple()
        .all(db)
        .await?;
    let mut forgotten = 0;
    for chunk in kept.chunks(AT_ONCE) {
        let ended = ballot::Entity::find()
            .select_only()
            .column(ballot::Column::Id)
            .filter(ballot::Column::ResultsAt.lte(now))
            .into_query();
        let decidable: HashSet<Uuid> = vote::Entity::find()
            .select_only()
            .column(vote::Column::Id)
            .filter(vote::Column::Id.is_in(chunk.iter().copied()))
            .filter(vote::Column::Status.eq(HELD))
            .filter(vote::Column::BallotId.not_in_subquery(ended))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let done: Vec<Uuid> = chunk
            .iter()
            .copied()
            .filter(|id| !decidable.contains(id))
            .collect();
        if !done.is_empty() {
            forgotten += held_receipt::Entity::delete_many()
                .filter(held_receipt::Column::VoteId.is_in(done))
                .exec(db)
                .await?
                .rows_affected;
        }
    }
    Ok(forgotten)
}

/// How many votes of `ballot_id` are on hold, awaiting an admin's decision.
pub async fn pending(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<u64> {
    Ok(vote::Entity::find()
        .filter(vote::Column::BallotId.eq(ballot_id))
        .filter(vote::Column::Status.eq(HELD))
        .count(db)
        .await?)
}

/// Held and discarded votes of one ballot, for its turnout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub held: u64,
    pub groups: u32,
    pub discarded: u64,
}

/// [`Counts`] of `ballot_id`.
pub async fn counts(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<Counts> {
    let held = held_rows(db, ballot_id).await?;
    let discarded = vote::Entity::find()
        .filter(vote::Column::BallotId.eq(ballot_id))
        .filter(vote::Column::Status.eq(DISCARDED))
        .count(db)
        .await?;
    Ok(Counts {
        held: held
            .iter()
            .map(|row| u64::try_from(row.votes).unwrap_or(0))
            .sum(),
        groups: u32::try_from(held.len()).unwrap_or(u32::MAX),
        discarded,
    })
}

/// One group of a ballot's held votes, as the database sums it up.
#[derive(Debug, FromQueryResult)]
struct HeldRow {
    choice_id: String,
    held_by: Option<String>,
    votes: i64,
    first_cast_at: DateTime<Utc>,
    last_cast_at: DateTime<Utc>,
}

/// The groups of `ballot_id`'s held votes: one range of the status index.
async fn held_rows(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<Vec<HeldRow>> {
    Ok(vote::Entity::find()
        .select_only()
        .column(vote::Column::ChoiceId)
        .column(vote::Column::HeldBy)
        .column_as(Expr::col(vote::Column::Id).count(), "votes")
        .column_as(Expr::col(vote::Column::CastAt).min(), "first_cast_at")
        .column_as(Expr::col(vote::Column::CastAt).max(), "last_cast_at")
        .filter(vote::Column::BallotId.eq(ballot_id))
        .filter(vote::Column::Status.eq(HELD))
        .group_by(vote::Column::ChoiceId)
        .group_by(vote::Column::HeldBy)
        .into_model::<HeldRow>()
        .all(db)
        .await?)
}

/// Votes on hold that one flag caught in one ballot, toward one finalist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub ballot_id: Uuid,
    pub ballot_title: String,
    pub choice_id: String,
    pub finalist: String,
    pub flag: Flag,
    pub votes: u64,
    pub first_cast_at: DateTime<Utc>,
    pub last_cast_at: DateTime<Utc>,
    /// The ballot's results time has not passed.
    pub decidable: bool,
}

/// Every group of held votes in the campaign's public vote (NOT_FOUND when it has none), ballot
/// by ballot, the largest first.
pub async fn groups(db: &impl ConnectionTrait, campaign_id: &str) -> Result<Vec<Group>> {
    let ballots = ballot::Entity::find()
        .filter(ballot::Column::CampaignId.eq(campaign_id.trim()))
        .order_by_asc(ballot::Column::CreatedAt)
        .all(db)
        .await?;
    if ballots.is_empty() {
        return Err(Error::NotFound("public vote".into()));
    }
    let now = Utc::now();
    let mut groups = Vec::new();
    for ballot in ballots {
        let rows = held_rows(db, ballot.id).await?;
        if rows.is_empty() {
            continue;
        }
        let labels: HashMap<String, String> = ballot_choice::Entity::find()
            .filter(ballot_choice::Column::BallotId.eq(ballot.id))
            .all(db)
            .await?
            .into_iter()
            .map(|choice| (choice.choice_id, choice.label))
            .collect();
        let decidable = before_results(&ballot, now).is_ok();
        let mut found: Vec<Group> = rows
            .into_iter()
            .filter_map(|row| {
                let flag = Flag::parse("flag", row.held_by.as_deref()?).ok()?;
                Some(Group {
                    ballot_id: ballot.id,
                    ballot_title: ballot.title.clone(),
                    finalist: labels.get(&row.choice_id).cloned().unwrap_or_default(),
                    choice_id: row.choice_id,
                    flag,
                    votes: u64::try_from(row.votes).unwrap_or(0),
                    first_cast_at: row.first_cast_at,
                    last_cast_at: row.last_cast_at,
                    decidable,
                })
            })
            .collect();
        found.sort_by(|a, b| {
            b.votes
                .cmp(&a.votes)
                .then(a.first_cast_at.cmp(&b.first_cast_at))
        });
        groups.extend(found);
    }
    Ok(groups)
}

/// An admin's decision on a group, as sent.
#[derive(Debug, Clone, Default)]
pub struct DecisionRequest {
    pub ballot_id: String,
    pub choice_id: String,
    pub flag: String,
    /// `Some(true)` count, `Some(false)` discard, `None` not chosen.
    pub count: Option<bool>,
    pub reason: String,
    pub votes: u64,
}

/// A well-formed decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub ballot_id: Uuid,
    pub choice_id: String,
    pub flag: Flag,
    pub count: bool,
    pub reason: String,
    /// How many votes the group held when the admin looked.
    pub votes: u64,
}

impl Decision {
    pub const REASON_MAX_CHARS: usize = 500;

    pub fn parse(request: &DecisionRequest) -> std::result::Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let ballot_id = errors.check(parse_ballot_id(&request.ballot_id));
        let choice_id = errors.check(single_line(
            "choice_id",
            "the finalist",
            &request.choice_id,
            crate::domain::NewBallot::CHOICE_ID_MAX_CHARS,
        ));
        let flag = errors.check(Flag::parse("flag", &request.flag));
        if request.count.is_none() {
            errors.push(FieldError::new(
                "decision",
                "Choose whether to count the votes or discard them",
            ));
        }
        let reason = errors.check(single_line(
            "reason",
            "why you decided so",
            &request.reason,
            Self::REASON_MAX_CHARS,
        ));
        errors.into_result()?;
        match (ballot_id, choice_id, flag, request.count, reason) {
            (Some(ballot_id), Some(choice_id), Some(flag), Some(count), Some(reason)) => Ok(Self {
                ballot_id,
                choice_id,
                flag,
                count,
                reason,
                votes: request.votes,
            }),
            _ => Err(vec![FieldError::new("form", "The form could not be read")]),
        }
    }
}

/// Counts or discards every vote of the group, as the admin `actor` decided, and audits it; how
/// many votes it decided. Refused once the ballot's results time has passed, and when the group
/// holds another number of votes than the admin saw.
pub async fn decide(
    db: &DatabaseConnection,
    outbox: &Outbox,
    actor: &str,
    decision: &Decision,
) -> Result<u64> {
    let ballot_id = decision.ballot_id;
    let found = ballot::Entity::find_by_id(ballot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("ballot {ballot_id}")))?;
    before_results(&found, Utc::now())?;
    let in_group = || {
        vote::Entity::update_many()
            .filter(vote::Column::BallotId.eq(ballot_id))
            .filter(vote::Column::ChoiceId.eq(decision.choice_id.as_str()))
            .filter(vote::Column::HeldBy.eq(decision.flag.key()))
    };
    let txn = db.begin().await?;
    // Decisions and votes in the ballot take turns, as votes do with each other.
    ledger::store::serialise(&txn, ballot_id).await?;
    let next = if decision.count { DECIDING } else { DISCARDED };
    let taken = in_group()
        .col_expr(vote::Column::Status, Expr::value(next))
        .filter(vote::Column::Status.eq(HELD))
        .exec(&txn)
        .await?
        .rows_affected;
    if taken == 0 {
        return Err(Error::NotFound("held votes".into()));
    }
    if taken != decision.votes {
        return Err(Error::Closed(format!(
            "The group now holds {taken} votes, not {}: look at it again before deciding",
            decision.votes
        )));
    }
    let mut receipts = Vec::new();
    if decision.count {
        let votes = vote::Entity::find()
            .filter(vote::Column::BallotId.eq(ballot_id))
            .filter(vote::Column::ChoiceId.eq(decision.choice_id.as_str()))
            .filter(vote::Column::HeldBy.eq(decision.flag.key()))
            .filter(vote::Column::Status.eq(DECIDING))
            .order_by_asc(vote::Column::CastAt)
            .order_by_asc(vote::Column::Id)
            .all(&txn)
            .await?;
        let voters: Vec<VoterKey> = votes
            .iter()
            .map(|held| VoterKey::from_stored(held.voter_key.clone()))
            .collect();
        let appended: Vec<_> = votes
            .iter()
            .zip(&voters)
            .map(|(held, voter)| (held.choice_id.as_str(), voter, held.cast_at))
            .collect();
        let entries = ledger::store::append(&txn, ballot_id, &appended).await?;
        in_group()
            .col_expr(vote::Column::Status, Expr::value(COUNTED))
            .filter(vote::Column::Status.eq(DECIDING))
            .exec(&txn)
            .await?;
        // Each voter who gave an address hears that their vote counted, with its receipt, as
        // they would have when they cast it.
        let addresses: HashMap<Uuid, String> = held_receipt::Entity::find()
            .filter(held_receipt::Column::VoteId.is_in(votes.iter().map(|held| held.id)))
            .all(&txn)
            .await?
            .into_iter()
            .map(|kept| (kept.vote_id, kept.email))
            .collect();
        receipts = votes
            .iter()
            .zip(&entries)
            .filter_map(|(held, entry)| {
                addresses.get(&held.id).map(|email| VoterVoteCounted {
                    email: email.clone(),
                    campaign_name: found.campaign_name.clone(),
                    ballot_title: found.title.clone(),
                    receipt: entry.receipt(),
                    cast_at: Some(prost_types::Timestamp {
                        seconds: held.cast_at.timestamp(),
                        nanos: 0,
                    }),
                })
            })
            .collect();
        outbox.enqueue_all(&txn, None, &receipts).await?;
    }
    // Decided either way: the addresses kept for the receipts are done with.
    held_receipt::Entity::delete_many()
        .filter(
            held_receipt::Column::VoteId.in_subquery(
                vote::Entity::find()
                    .select_only()
                    .column(vote::Column::Id)
                    .filter(vote::Column::BallotId.eq(ballot_id))
                    .filter(vote::Column::ChoiceId.eq(decision.choice_id.as_str()))
                    .filter(vote::Column::HeldBy.eq(decision.flag.key()))
                    .filter(vote::Column::Status.ne(HELD))
                    .into_query(),
            ),
        )
        .exec(&txn)
        .await?;
    let action = if decision.count {
        "count_held_votes"
    } else {
        "discard_held_votes"
    };
    vote_audit::Entity::insert(vote_audit::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        campaign_id: ActiveValue::Set(found.campaign_id.clone().unwrap_or_default()),
        actor: ActiveValue::Set(actor.to_owned()),
        action: ActiveValue::Set(action.into()),
        detail: ActiveValue::Set(format!(
            "ballot {ballot_id} finalist {} {}: {taken} votes; reason: {}",
            decision.choice_id,
            decision.flag.key(),
            decision.reason
        )),
        at: ActiveValue::Set(Utc::now()),
    })
    .exec_without_returning(&txn)
    .await?;
    if receipts.is_empty() {
        txn.commit().await?;
    } else {
        outbox.commit(txn).await?;
    }
    tracing::info!(%ballot_id, votes = taken, receipts = receipts.len(), action, "held votes decided");
    Ok(taken)
}

/// Refuses a decision once the ballot's results time has passed.
fn before_results(ballot: &ballot::Model, now: DateTime<Utc>) -> Result<()> {
    match ballot.results_at {
        Some(results_at) if now >= results_at => Err(Error::Closed(
            "The results time has passed: held votes can no longer be counted or discarded".into(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_ipv4_slash_24_and_ipv6_slash_64() {
        assert_eq!(network_of("203.0.113.7").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(
            network_of(" 203.0.113.250 ").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            network_of("::ffff:203.0.113.9").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            network_of("2001:db8:1:2:3:4:5:6").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(
            network_of("2001:db8:1:2::/64").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(network_of("not an address"), None);
        assert_eq!(network_of(""), None);
    }

    #[test]
    fn the_flags_are_configured_by_file_or_environment() {
        let settings: crate::Settings = valued_platform::settings::load_from(
            "[flags]\nper_network = 5\nexempt_domains = [\"nhs.net\"]\n",
            None,
            [("VALUED__FLAGS__PER_DOMAIN".to_owned(), "7".to_owned())],
        )
        .unwrap();
        assert_eq!(
            (settings.flags.per_network, settings.flags.per_domain),
            (5, 7)
        );
        assert_eq!(settings.flags.exempt_domains, ["nhs.net"]);
        let settings: crate::Settings = valued_platform::settings::load_from(
            "",
            None,
            [(
                "VALUED__FLAGS__EXEMPT_DOMAINS".to_owned(),
                " nhs.net, gstt.nhs.uk ,".to_owned(),
            )],
        )
        .unwrap();
        assert_eq!(settings.flags.exempt_domains, ["nhs.net", "gstt.nhs.uk"]);
        assert_eq!(settings.flags.window_minutes, 10);
    }

    #[test]
    fn a_flag_reads_back_as_it_is_stored() {
        let flag = Flag {
            kind: Kind::Network,
            digest: "0123456789abcdef0123456789abcdef".into(),
        };
        assert_eq!(Flag::parse("flag", &flag.key()), Ok(flag));
        for bad in [
            "",
            "network",
            "network:xyz",
            "host:0123456789abcdef0123456789abcdef",
        ] {
            assert!(Flag::parse("flag", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_decision_needs_a_choice_and_a_reason() {
        let errors = Decision::parse(&DecisionRequest {
            ballot_id: "x".into(),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["ballot_id", "choice_id", "flag", "decision", "reason"]
        );
    }
}
