//! The vote ledger: every counted vote appended to a hash chain per ballot, so that a changed,
//! deleted, inserted or reordered entry shows, and a maintained tally read without counting.
//!
//! # The construction
//!
//! Every field is hashed as `field(x) = len(x) || x`: the UTF-8 bytes of `x` after their length as a
//! 4-byte big-endian integer, so that no two different lists of fields encode alike. Hashes are
//! SHA-256, written as 64 lowercase hex digits.
//!
//! - **Genesis** of a ballot (the first entry's `prev_hash`):
//!   `SHA-256(field("valued.vote-ledger.v1.genesis") || field(ballot_id))`.
//! - **Voter hash**: `SHA-256(field("valued.vote-ledger.v1.voter") || field(ballot_id) ||
//!   field(voter_key))`, where `voter_key` is the hex HMAC the vote is stored under
//!   ([`VoterKey`](crate::domain::VoterKey)). It is not the vote's key, so a ledger row does not
//!   share a column with the vote row it records; it differs from ballot to ballot, so the
//!   published ledgers of two ballots cannot be joined on it; and since the voter key is keyed
//!   with the service's secret, nobody can test a guessed email address against it.
//! - **Entry hash**: `SHA-256(field("valued.vote-ledger.v1.entry") || field(ballot_id) ||
//!   field(seq) || field(choice_id) || field(voter_hash) || field(cast_hour) || field(prev_hash))`.
//!
//! `ballot_id` is the lowercase hyphenated UUID, `seq` the entry's sequence number in decimal (the
//! first entry is 1, each next one more), `cast_hour` the hour the vote was cast in, UTC, as
//! `YYYY-MM-DDTHH:00:00Z` (never the exact time), and `prev_hash` the previous entry's hash (the
//! genesis for entry 1). The chain's **head** is its last entry's hash: published at the close, it
//! fixes every entry before it.
//!
//! A voter's **receipt** is the first 50 bits of their entry's hash in Crockford base32, in two
//! groups of five (`7K2QD-M0XAF`): [`receipt`] of the `hash` column of the export finds the entry.
//!
//! In Python, for an auditor holding the export:
//!
//! ```text
//! f = lambda s: len(s.encode()).to_bytes(4, "big") + s.encode()
//! entry = sha256(f("valued.vote-ledger.v1.entry") + f(ballot_id) + f(str(seq)) + f(choice_id)
//!                + f(voter_hash) + f(cast_hour) + f(prev_hash)).hexdigest()
//! ```
//!
//! # What it holds about people
//!
//! Nothing personal: a choice, the hour, and a hash of a keyed hash of the voter's address. Without
//! the service's secret it identifies nobody; with it and an address, the voting service finds the
//! vote through the vote table anyway. Erasing a person leaves the ledger as it is (the service
//! keeps nothing by email address), and subject access lists the receipts of their entries.
//!
//! # Checking
//!
//! [`Audit`] walks a ledger in sequence order and names every break: an entry whose hash does not
//! recompute (changed, or moved from another place), a link to a previous entry that is not there,
//! a gap in the sequence, and, given the counted votes, an entry no vote accounts for, a choice
//! other than the vote's, a voter recorded twice, and votes the ledger misses. [`store::verify`]
//! feeds it the database's ledger, votes and maintained tally.

pub mod store;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{DateTime, Timelike, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::VoterKey;

const GENESIS_TAG: &str = "valued.vote-ledger.v1.genesis";
const VOTER_TAG: &str = "valued.vote-ledger.v1.voter";
const ENTRY_TAG: &str = "valued.vote-ledger.v1.entry";

/// Crockford's base32 alphabet (no I, L, O or U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// SHA-256 of the fields, each after its length, in lowercase hex.
fn digest(fields: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for field in fields {
        let bytes = field.as_bytes();
        // Fields are ids, hashes and times: far below 4 GiB.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        hasher.update(len.to_be_bytes());
        hasher.update(bytes);
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The first entry's `prev_hash` in `ballot_id`'s ledger.
pub fn genesis(ballot_id: Uuid) -> String {
    digest(&[GENESIS_TAG, &ballot_id.to_string()])
}

/// What the ledger of `ballot_id` records of the voter with `key`.
pub fn voter_hash(ballot_id: Uuid, key: &VoterKey) -> String {
    voter_hash_of(ballot_id, key.as_str())
}

/// [`voter_hash`] of a voter key as stored.
pub fn voter_hash_of(ballot_id: Uuid, voter_key: &str) -> String {
    digest(&[VOTER_TAG, &ballot_id.to_string(), voter_key])
}

/// The hour `at` falls in, which is all the ledger says of when a vote was cast.
pub fn cast_hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(at)
}

/// The hour as it is hashed and exported: `YYYY-MM-DDTHH:00:00Z`.
pub fn hour_text(hour: DateTime<Utc>) -> String {
    cast_hour(hour).format("%Y-%m-%dT%H:00:00Z").to_string()
}

/// One entry of a ballot's ledger, as stored and exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub ballot_id: Uuid,
    pub seq: u64,
    pub choice_id: String,
    pub voter_hash: String,
    pub cast_hour: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The next entry after `prev_hash` (at `seq`), with its hash.
    pub fn next(
        ballot_id: Uuid,
        seq: u64,
        choice_id: &str,
        voter_hash: String,
        cast_at: DateTime<Utc>,
        prev_hash: String,
    ) -> Self {
        let mut entry = Self {
            ballot_id,
            seq,
            choice_id: choice_id.to_owned(),
            voter_hash,
            cast_hour: cast_hour(cast_at),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.hash_at(seq);
        entry
    }

    /// The hash this entry's fields give at position `seq`.
    pub fn hash_at(&self, seq: u64) -> String {
        digest(&[
            ENTRY_TAG,
            &self.ballot_id.to_string(),
            &seq.to_string(),
            &self.choice_id,
            &self.voter_hash,
            &hour_text(self.cast_hour),
            &self.prev_hash,
        ])
    }

    /// The voter's receipt for this entry.
    pub fn receipt(&self) -> String {
        receipt(&self.hash)
    }
}

/// The receipt naming the entry with `hash`: its first 50 bits in Crockford base32, `XXXXX-XXXXX`.
/// Text that is not a hash gives what its hex digits give.
pub fn receipt(hash: &str) -> String {
    let bits = hash
        .chars()
        .take(13)
        .filter_map(|c| c.to_digit(16))
        .fold(0u64, |bits, digit| (bits << 4) | u64::from(digit));
    // 13 hex digits are 52 bits; keep the first 50.
    let bits = bits >> 2;
    let mut code = String::with_capacity(11);
    for index in 0..10 {
        if index == 5 {
            code.push('-');
        }
        let shift = 45 - 5 * index;
        let symbol = usize::try_from((bits >> shift) & 0x1f).unwrap_or(0);
        code.push(char::from(CROCKFORD[symbol]));
    }
    code
}

/// A receipt as a voter typed it: the 50 bits it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt(u64);

impl Receipt {
    /// Reads a receipt as people type it: case, spaces and hyphens do not matter, and the letters
    /// Crockford base32 leaves out read as the digits they look like (I and L as 1, O as 0).
    /// `None` unless it is ten symbols.
    pub fn parse(text: &str) -> Option<Self> {
        let mut bits = 0u64;
        let mut symbols = 0;
        for c in text.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                c => c,
            };
            let value = CROCKFORD
                .iter()
                .position(|&symbol| char::from(symbol) == c)?;
            bits = (bits << 5) | u64::try_from(value).ok()?;
            symbols += 1;
            if symbols > 10 {
                return None;
            }
        }
        (symbols == 10).then_some(Self(bits))
    }

    /// The hashes whose receipt this is: those from the first (inclusive) to the second
    /// (exclusive, `None` for no end), as lowercase hex compares. The receipt fixes the first 12
    /// hex digits and the top two bits of the 13th.
    pub fn hash_range(self) -> (String, Option<String>) {
        let low = self.0 << 2;
        let high = (low + 4 < 1 << 52).then(|| format!("{:013x}", low + 4));
        (format!("{low:013x}"), high)
    }

    /// Whether the entry with `hash` is the one this receipt names.
    pub fn names(self, hash: &str) -> bool {
        receipt(hash) == self.to_string()
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&receipt(&format!("{:013x}", self.0 << 2)))
    }
}

/// Something wrong with a ledger, at the sequence number it is at where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The entry's fields do not give its hash: it was changed after it was written.
    Altered { seq: u64 },
    /// The entry is intact but belongs at another place in the chain.
    Moved { seq: u64, belongs_at: u64 },
    /// The entry's `prev_hash` is not the hash of the entry before it.
    BrokenLink { seq: u64 },
    /// Entries `seq..=through` are not there.
    Missing { seq: u64, through: u64 },
    /// An entry at a sequence number no chain has (0).
    Inserted { seq: u64 },
    /// No counted vote has this entry's voter hash.
    Unmatched { seq: u64 },
    /// The voter's counted vote is for another choice than this entry records.
    ChoiceDiffers { seq: u64, vote: String },
    /// The voter is already recorded at `first`.
    DuplicateVoter { seq: u64, first: u64 },
    /// Counted votes that no entry records.
    Unrecorded { votes: u64 },
    /// The maintained tally of a choice differs from the ledger's count.
    TallyMismatch {
        choice_id: String,
        ledger: u64,
        tally: u64,
    },
    /// The counted votes for a choice differ from the ledger's count.
    VotesMismatch {
        choice_id: String,
        ledger: u64,
        votes: u64,
    },
}

impl Break {
    /// The sequence number of the entry the break is at, if it is at one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Altered { seq }
            | Self::Moved { seq, .. }
            | Self::BrokenLink { seq }
            | Self::Missing { seq, .. }
            | Self::Inserted { seq }
            | Self::Unmatched { seq }
            | Self::ChoiceDiffers { seq, .. }
            | Self::DuplicateVoter { seq, .. } => Some(*seq),
            Self::Unrecorded { .. } | Self::TallyMismatch { .. } | Self::VotesMismatch { .. } => {
                None
            }
        }
    }

    /// A short name for the kind of break, as the API reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Altered { .. } => "altered",
            Self::Moved { .. } => "moved",
            Self::BrokenLink { .. } => "broken_link",
            Self::Missing { .. } => "missing",
            Self::Inserted { .. } => "inserted",
            Self::Unmatched { .. } => "unmatched",
            Self::ChoiceDiffers { .. } => "choice_differs",
            Self::DuplicateVoter { .. } => "duplicate_voter",
            Self::Unrecorded { .. } => "unrecorded",
            Self::TallyMismatch { .. } => "tally_mismatch",
            Self::VotesMismatch { .. } => "votes_mismatch",
        }
    }
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Altered { seq } => {
                write!(f, "entry {seq} was changed: its hash does not recompute")
            }
            Self::Moved { seq, belongs_at } => {
                write!(f, "entry {seq} is entry {belongs_at} moved out of place")
            }
            Self::BrokenLink { seq } => write!(
                f,
                "entry {seq} does not link to the entry before it (prev_hash differs)"
            ),
            Self::Missing { seq, through } if seq == through => {
                write!(f, "entry {seq} is missing")
            }
            Self::Missing { seq, through } => write!(f, "entries {seq} to {through} are missing"),
            Self::Inserted { seq } => write!(f, "entry {seq} was inserted: sequences start at 1"),
            Self::Unmatched { seq } => {
                write!(f, "entry {seq} records no counted vote (inserted?)")
            }
            Self::ChoiceDiffers { seq, vote } => write!(
                f,
                "entry {seq} records another choice than the counted vote's ({vote})"
            ),
            Self::DuplicateVoter { seq, first } => {
                write!(f, "entry {seq} records a voter already recorded at {first}")
            }
            Self::Unrecorded { votes } => write!(f, "{votes} counted votes have no ledger entry"),
            Self::TallyMismatch {
                choice_id,
                ledger,
                tally,
            } => write!(
                f,
                "choice {choice_id}: the ledger counts {ledger}, the maintained tally {tally}"
            ),
            Self::VotesMismatch {
                choice_id,
                ledger,
                votes,
            } => write!(
                f,
                "choice {choice_id}: the ledger counts {ledger}, the counted votes {votes}"
            ),
        }
    }
}

/// One choice's votes three ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceCheck {
    pub choice_id: String,
    /// Entries recording it.
    pub ledger: u64,
    /// The maintained tally.
    pub tally: u64,
    /// Counted votes for it.
    pub votes: u64,
}

/// What checking a ballot's ledger found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub ballot_id: Uuid,
    /// The last entry's hash.
    pub head: Option<String>,
    pub entries: u64,
    pub counts: Vec<ChoiceCheck>,
    pub breaks: Vec<Break>,
}

impl Report {
    /// Whether nothing is wrong.
    pub fn intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// The counted votes, by the first 128 bits of the voter hash their voter key gives (16 bytes
/// rather than the 64 hex digits, so that ten million fit in a few hundred megabytes).
#[derive(Debug, Default)]
pub struct Votes {
    choices: Vec<String>,
    by_voter: HashMap<u128, Voter>,
}

#[derive(Debug)]
struct Voter {
    choice: usize,
    /// Where the ledger records them, once the walk has met them.
    recorded_at: Option<u64>,
}

impl Votes {
    /// Adds the counted vote of `voter_hash` for `choice_id`.
    pub fn add(&mut self, voter_hash: &str, choice_id: &str) {
        let choice = match self.choices.iter().position(|c| c == choice_id) {
            Some(index) => index,
            None => {
                self.choices.push(choice_id.to_owned());
                self.choices.len() - 1
            }
        };
        self.by_voter.insert(
            prefix(voter_hash),
            Voter {
                choice,
                recorded_at: None,
            },
        );
    }

    /// Counted votes per choice.
    fn counts(&self) -> BTreeMap<String, u64> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for voter in self.by_voter.values() {
            if let Some(choice) = self.choices.get(voter.choice) {
                *counts.entry(choice.clone()).or_default() += 1;
            }
        }
        counts
    }
}

fn prefix(hash: &str) -> u128 {
    hash.get(..32)
        .and_then(|hex| u128::from_str_radix(hex, 16).ok())
        .unwrap_or_default()
}

/// A walk along one ballot's ledger, fed its entries in sequence order.
#[derive(Debug)]
pub struct Audit {
    ballot_id: Uuid,
    next_seq: u64,
    /// The hash the next entry must link to, unless a gap came before it.
    prev_hash: Option<String>,
    head: Option<String>,
    entries: u64,
    counts: BTreeMap<String, u64>,
    votes: Votes,
    breaks: Vec<Break>,
    /// How many entries have been looked into for a place they belong at.
    searches: usize,
}

/// How far from its place an entry is looked for when its hash does not recompute there.
const MOVE_SEARCH: u64 = 1_000;
/// How many entries are looked into so.
const MOVE_SEARCHES: usize = 100;

impl Audit {
    /// A walk along `ballot_id`'s ledger, checked against the counted `votes`.
    pub fn new(ballot_id: Uuid, votes: Votes) -> Self {
        Self {
            ballot_id,
            next_seq: 1,
            prev_hash: Some(genesis(ballot_id)),
            head: None,
            entries: 0,
            counts: BTreeMap::new(),
            votes,
            breaks: Vec::new(),
            searches: 0,
        }
    }

    /// Checks the next entry.
    pub fn entry(&mut self, entry: &Entry) {
        let seq = entry.seq;
        if seq < self.next_seq {
            // Stored in sequence order with the sequence a key, only a number below 1 gets here.
            self.breaks.push(Break::Inserted { seq });
        } else if seq > self.next_seq {
            self.breaks.push(Break::Missing {
                seq: self.next_seq,
                through: seq - 1,
            });
            // What the missing entries' hashes were is gone: the link cannot be checked.
            self.prev_hash = None;
        }
        if entry.hash_at(seq) != entry.hash {
            let moved = self.belongs_at(entry);
            self.breaks.push(match moved {
                Some(belongs_at) => Break::Moved { seq, belongs_at },
                None => Break::Altered { seq },
            });
        }
        if let Some(prev) = &self.prev_hash
            && *prev != entry.prev_hash
        {
            self.breaks.push(Break::BrokenLink { seq });
        }
        self.reconcile(entry);
        *self.counts.entry(entry.choice_id.clone()).or_default() += 1;
        self.entries += 1;
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
        self.prev_hash = Some(entry.hash.clone());
        self.head = Some(entry.hash.clone());
    }

    /// Where an entry whose hash does not recompute at its own place would: somewhere within
    /// [`MOVE_SEARCH`] of it. Only the first [`MOVE_SEARCHES`] such entries are looked into, so a
    /// ledger rewritten throughout is checked as fast as an intact one.
    fn belongs_at(&mut self, entry: &Entry) -> Option<u64> {
        if self.searches >= MOVE_SEARCHES {
            return None;
        }
        self.searches += 1;
        let from = entry.seq.saturating_sub(MOVE_SEARCH).max(1);
        (from..=entry.seq.saturating_add(MOVE_SEARCH))
            .filter(|at| *at != entry.seq)
            .find(|at| entry.hash_at(*at) == entry.hash)
    }

    fn reconcile(&mut self, entry: &Entry) {
        let seq = entry.seq;
        let Some(voter) = self.votes.by_voter.get_mut(&prefix(&entry.voter_hash)) else {
            self.breaks.push(Break::Unmatched { seq });
            return;
        };
        if let Some(first) = voter.recorded_at {
            self.breaks.push(Break::DuplicateVoter { seq, first });
            return;
        }
        voter.recorded_at = Some(seq);
        let vote = self.votes.choices.get(voter.choice).cloned();
        if let Some(vote) = vote
            && vote != entry.choice_id
        {
            self.breaks.push(Break::ChoiceDiffers { seq, vote });
        }
    }

    /// The report, given the maintained tally of every choice (`choices`, in ballot order, and any
    /// other tally rows in `tally`).
    pub fn finish(mut self, choices: &[String], tally: &HashMap<String, u64>) -> Report {
        let unrecorded = self
            .votes
            .by_voter
            .values()
            .filter(|v| v.recorded_at.is_none())
            .count();
        if unrecorded > 0 {
            self.breaks.push(Break::Unrecorded {
                votes: u64::try_from(unrecorded).unwrap_or(u64::MAX),
            });
        }
        let votes = self.votes.counts();
        let mut listed: Vec<String> = choices.to_vec();
        for other in self.counts.keys().chain(tally.keys()).chain(votes.keys()) {
            if !listed.contains(other) {
                listed.push(other.clone());
            }
        }
        let mut counts = Vec::with_capacity(listed.len());
        for choice_id in listed {
            let check = ChoiceCheck {
                ledger: self.counts.get(&choice_id).copied().unwrap_or(0),
                tally: tally.get(&choice_id).copied().unwrap_or(0),
                votes: votes.get(&choice_id).copied().unwrap_or(0),
                choice_id,
            };
            if check.tally != check.ledger {
                self.breaks.push(Break::TallyMismatch {
                    choice_id: check.choice_id.clone(),
                    ledger: check.ledger,
                    tally: check.tally,
                });
            }
            if check.votes != check.ledger {
                self.breaks.push(Break::VotesMismatch {
                    choice_id: check.choice_id.clone(),
                    ledger: check.ledger,
                    votes: check.votes,
                });
            }
            counts.push(check);
        }
        Report {
            ballot_id: self.ballot_id,
            head: self.head,
            entries: self.entries,
            counts,
            breaks: self.breaks,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn ballot() -> Uuid {
        "0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b".parse().unwrap()
    }

    /// A ledger of `choices` by voters v1, v2, ..., and the votes it records.
    fn ledger(choices: &[&str]) -> (Vec<Entry>, Vec<(String, String)>) {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 18, 42, 7).unwrap();
        let mut entries: Vec<Entry> = Vec::new();
        let mut votes = Vec::new();
        for (index, choice) in choices.iter().enumerate() {
            let voter = voter_hash_of(ballot(), &format!("key-{index}"));
            let prev = entries
                .last()
                .map_or_else(|| genesis(ballot()), |e| e.hash.clone());
            let seq = u64::try_from(index).unwrap() + 1;
            entries.push(Entry::next(ballot(), seq, choice, voter.clone(), at, prev));
            votes.push((voter, (*choice).to_owned()));
        }
        (entries, votes)
    }

    fn audit(entries: &[Entry], votes: &[(String, String)], tally: &[(&str, u64)]) -> Report {
        let mut counted = Votes::default();
        for (voter, choice) in votes {
            counted.add(voter, choice);
        }
        let mut walk = Audit::new(ballot(), counted);
        for entry in entries {
            walk.entry(entry);
        }
        let tally = tally.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect();
        walk.finish(&["sam".to_owned(), "jo".to_owned()], &tally)
    }

    #[test]
    fn the_construction_never_changes() {
        // Computed independently with Python's hashlib from the construction in the module docs.
        // If this changes, every published head and receipt stops matching.
        let key = "3c4acef22781bc7245ae3896747d047d30d67152d79611f44b667d1ab99f784e";
        assert_eq!(
            genesis(ballot()),
            "3ec4eb8c60bd7b447ccb6019ac4082e0b2de71b381e0391ea84b38844b87fd51"
        );
        let voter = voter_hash_of(ballot(), key);
        assert_eq!(
            voter,
            "dc83ba1a0a8887903b9c69558a1e8d3aed40e35be9902ee865f5022df285f9a7"
        );
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 18, 42, 7).unwrap();
        let first = Entry::next(ballot(), 1, "sam", voter, at, genesis(ballot()));
        assert_eq!(hour_text(first.cast_hour), "2026-11-26T18:00:00Z");
        assert_eq!(
            first.hash,
            "15200bffcdfcb47a58618ace429be53f20bb2e88f56c70e070821d4a0c131374"
        );
        assert_eq!(first.receipt(), "2MG0Q-ZYDZJ");
    }

    #[test]
    fn a_receipt_reads_back_as_typed_and_its_range_holds_only_its_hashes() {
        let hash = "7b3c9e0f41a2d5c6b7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0";
        let given = receipt(hash);
        let typed = given.to_lowercase().replace('-', " ").replace('1', "l");
        let parsed = Receipt::parse(&typed).unwrap();
        assert_eq!(parsed.to_string(), given);
        assert!(parsed.names(hash));
        let (low, high) = parsed.hash_range();
        let high = high.unwrap();
        assert!(
            low.as_str() <= hash && hash < high.as_str(),
            "{low} {hash} {high}"
        );
        // A hash just past the range has another receipt.
        let past = format!("{high}{}", &hash[13..]);
        assert!(!parsed.names(&past));
        assert_eq!(Receipt::parse("ZZZZZ-ZZZZZ").unwrap().hash_range().1, None);
    }

    #[test]
    fn only_ten_crockford_symbols_make_a_receipt() {
        for bad in ["", "7K2QD", "7K2QD-M0XAF-1", "7K2QD-M0XA!", "UUUUU-UUUUU"] {
            assert_eq!(Receipt::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_receipt_is_the_hashs_first_fifty_bits_in_crockford_base32() {
        assert_eq!(receipt(&"0".repeat(64)), "00000-00000");
        assert_eq!(receipt(&"f".repeat(64)), "ZZZZZ-ZZZZZ");
        // 0x08421084210842... is 00001 00001 ... in bits.
        assert_eq!(receipt("08421084210842108421"), "11111-11111");
    }

    #[test]
    fn an_untouched_ledger_is_intact() {
        let (entries, votes) = ledger(&["sam", "jo", "sam"]);
        let report = audit(&entries, &votes, &[("sam", 2), ("jo", 1)]);
        assert_eq!(report.breaks, []);
        assert_eq!(report.head.as_deref(), Some(entries[2].hash.as_str()));
        let counts: Vec<(&str, u64, u64)> = report
            .counts
            .iter()
            .map(|c| (c.choice_id.as_str(), c.ledger, c.votes))
            .collect();
        assert_eq!(counts, [("sam", 2, 2), ("jo", 1, 1)]);
    }

    #[test]
    fn a_changed_choice_is_named_by_its_sequence() {
        let (mut entries, votes) = ledger(&["sam", "jo", "sam"]);
        entries[1].choice_id = "sam".into();
        let report = audit(&entries, &votes, &[("sam", 2), ("jo", 1)]);
        assert!(report.breaks.contains(&Break::Altered { seq: 2 }));
        assert!(report.breaks.contains(&Break::ChoiceDiffers {
            seq: 2,
            vote: "jo".into()
        }));
        assert!(report.breaks.iter().all(|b| b.seq().is_none_or(|s| s == 2)));
    }

    #[test]
    fn a_deleted_entry_is_missing_and_its_vote_unrecorded() {
        let (mut entries, votes) = ledger(&["sam", "jo", "sam"]);
        entries.remove(1);
        let report = audit(&entries, &votes, &[("sam", 2), ("jo", 1)]);
        assert_eq!(
            report.breaks,
            [
                Break::Missing { seq: 2, through: 2 },
                Break::Unrecorded { votes: 1 },
                Break::TallyMismatch {
                    choice_id: "jo".into(),
                    ledger: 0,
                    tally: 1
                },
                Break::VotesMismatch {
                    choice_id: "jo".into(),
                    ledger: 0,
                    votes: 1
                },
            ]
        );
    }

    #[test]
    fn a_well_forged_extra_entry_records_no_vote() {
        let (mut entries, votes) = ledger(&["sam", "jo"]);
        let last = entries[1].clone();
        let forged = Entry::next(
            ballot(),
            3,
            "jo",
            voter_hash_of(ballot(), "nobody"),
            last.cast_hour,
            last.hash,
        );
        entries.push(forged);
        let report = audit(&entries, &votes, &[("sam", 1), ("jo", 1)]);
        assert_eq!(report.breaks[0], Break::Unmatched { seq: 3 });
        let copied = Entry::next(
            ballot(),
            3,
            "jo",
            entries[1].voter_hash.clone(),
            entries[1].cast_hour,
            entries[1].hash.clone(),
        );
        entries[2] = copied;
        let report = audit(&entries, &votes, &[("sam", 1), ("jo", 1)]);
        assert_eq!(report.breaks[0], Break::DuplicateVoter { seq: 3, first: 2 });
    }

    #[test]
    fn swapped_entries_are_each_found_out_of_place() {
        let (mut entries, votes) = ledger(&["sam", "jo", "sam", "jo"]);
        entries.swap(1, 2);
        entries[1].seq = 2;
        entries[2].seq = 3;
        let report = audit(&entries, &votes, &[("sam", 2), ("jo", 2)]);
        assert_eq!(
            report.breaks,
            [
                Break::Moved {
                    seq: 2,
                    belongs_at: 3
                },
                Break::BrokenLink { seq: 2 },
                Break::Moved {
                    seq: 3,
                    belongs_at: 2
                },
                Break::BrokenLink { seq: 3 },
                Break::BrokenLink { seq: 4 },
            ]
        );
    }
}
