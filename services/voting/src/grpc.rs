//! VotingService over gRPC: converts requests into domain commands and results into messages.

use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use tonic::{Request, Response, Status};
use valued_platform::auth::roles::{Admin, Admins};
use valued_platform::limits::{self, Named, RateLimits};
use valued_platform::outbox::Outbox;
use valued_platform::subject_access;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_server::VotingService;

use crate::db::queries;
use crate::domain::{
    BallotRequest, ChoiceRequest, EligibilityRequest, NewBallot, NewEligibility, NewVote,
    VoteRequest, Voter, VoterKey, parse_ballot_id,
};
use crate::error::Error;
use crate::intake::Incoming;
use crate::organisers::{self, Of};
use crate::{eligibility, held, ledger, schedule, verification};

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// Anyone may vote through the web; a campaign's public vote (its timetable, who may vote, turnout,
/// held votes, and its ballots' tallies and ledgers) is run by the campaign's own admins (see
/// [`organisers`]); creating ballots by hand and exporting a person's votes are for platform
/// admins. Each is checked here against this service's copy of the grants.
pub struct VotingApi {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub voter_key_secret: SecretString,
    pub admins: Admins,
    /// The budgets of the public vote (see `valued_platform::limits`).
    pub rate_limits: RateLimits,
    pub verification: crate::verification::VerificationSettings,
    /// The ballots' writers, which store the votes waiting for a ballot together.
    pub intake: crate::intake::Intake,
}

/// Every RPC an anonymous caller (a member of the public, through the gateway's pages) may make, with
/// why. Reviewed list: every other RPC needs a signed-in admin.
pub const PUBLIC_RPCS: &[(&str, &str)] = &[
    (
        "/valued.voting.v1.VotingService/CastVote",
        "anyone may vote; one counted vote per voter per ballot",
    ),
    (
        "/valued.voting.v1.VotingService/ListCampaignBallots",
        "the public vote page: finalists as their consent allows and the timetable, never a count",
    ),
    (
        "/valued.voting.v1.VotingService/RequestVoterVerification",
        "a voter gives their address; it gets one email, under the unsolicited cap and rate limits",
    ),
    (
        "/valued.voting.v1.VotingService/VerifyVoter",
        "needs the secret link token, or the address and the code emailed to it (five tries)",
    ),
    (
        "/valued.voting.v1.VotingService/GetCampaignResults",
        "the results page: counts only past each ballot's results time, when they are public",
    ),
    (
        "/valued.voting.v1.VotingService/FindReceipt",
        "a voter checks their receipt in the published ledger, only once the results are out",
    ),
    (
        "/valued.voting.v1.VotingService/GetVoterStatus",
        "needs the voter's own pass; says only which of its campaign's ballots they voted in",
    ),
];

impl VotingApi {
    /// The caller, if they run the public vote `of` names (see [`organisers`]).
    async fn campaign_admin<T>(
        &self,
        request: &Request<T>,
        of: Of<'_>,
        what: &str,
    ) -> Result<Admin, Status> {
        organisers::campaign_admin(&self.admins, &self.db, request, of, what).await
    }
}

#[tonic::async_trait]
impl VotingService for VotingApi {
    async fn request_voter_verification(
        &self,
        request: Request<pb::RequestVoterVerificationRequest>,
    ) -> Result<Response<pb::RequestVoterVerificationResponse>, Status> {
        let voter = Named {
            field: "email",
            typed: &request.get_ref().email,
        };
        limits::admit(
            &self.db,
            self.rate_limits,
            &request,
            "verify voter",
            &[voter],
        )
        .await?;
        let r = request.into_inner();
        let expires_at = verification::request(
            &self.db,
            &self.outbox,
            &self.voter_key_secret,
            self.verification,
            &r.campaign_id,
            &r.email,
            r.notify_results,
        )
        .await?;
        Ok(Response::new(pb::RequestVoterVerificationResponse {
            expires_at: Some(timestamp(expires_at)),
        }))
    }

    async fn verify_voter(
        &self,
        request: Request<pb::VerifyVoterRequest>,
    ) -> Result<Response<pb::VerifyVoterResponse>, Status> {
        limits::admit(&self.db, self.rate_limits, &request, "check voter", &[]).await?;
        let r = request.into_inner();
        let pass = if r.token.trim().is_empty() {
            verification::verify_code(
                &self.db,
                &self.voter_key_secret,
                self.verification,
                &r.campaign_id,
                &r.email,
                &r.code,
            )
            .await?
        } else {
            verification::verify_link(&self.db, self.verification, r.token.trim()).await?
        };
        Ok(Response::new(pb::VerifyVoterResponse {
            voter_pass: pass.token,
            campaign_id: pass.campaign_id,
            expires_at: Some(timestamp(pass.expires_at)),
        }))
    }

    async fn schedule_vote(
        &self,
        request: Request<pb::ScheduleVoteRequest>,
    ) -> Result<Response<pb::ScheduleVoteResponse>, Status> {
        let of = Of::Campaign(&request.get_ref().campaign_id);
        let admin = self
            .campaign_admin(&request, of, "schedule this public vote")
            .await?;
        let r = request.into_inner();
        let at = |t: Option<prost_types::Timestamp>| {
            t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        };
        let timetable =
            schedule::Timetable::parse(at(r.opens_at), at(r.closes_at), at(r.results_at))
                .map_err(Error::Invalid)?;
        let ballots =
            schedule::set(&self.db, &admin.identity.email, &r.campaign_id, timetable).await?;
        Ok(Response::new(pb::ScheduleVoteResponse {
            ballots: u32::try_from(ballots).unwrap_or(u32::MAX),
        }))
    }

    async fn get_turnout(
        &self,
        request: Request<pb::GetTurnoutRequest>,
    ) -> Result<Response<pb::GetTurnoutResponse>, Status> {
        let of = Of::Campaign(&request.get_ref().campaign_id);
        self.campaign_admin(&request, of, "see the turnout of this public vote")
            .await?;
        let (ballots, verified_voters) =
            schedule::turnout(&self.db, &request.into_inner().campaign_id).await?;
        Ok(Response::new(pb::GetTurnoutResponse {
            ballots: ballots
                .into_iter()
                .map(|t| pb::BallotTurnout {
                    ballot_id: t.ballot.id.to_string(),
                    title: t.ballot.title,
                    votes: t.votes,
                    held_votes: t.held.held,
                    held_groups: t.held.groups,
                    discarded_votes: t.held.discarded,
                    hours: t
                        .hours
                        .into_iter()
                        .map(|h| pb::HourTurnout {
                            hour: Some(timestamp(h.hour)),
                            counted: h.counted,
                            held: h.held,
                            discarded: h.discarded,
                        })
                        .collect(),
                })
                .collect(),
            verified_voters,
        }))
    }

    async fn get_voter_status(
        &self,
        request: Request<pb::GetVoterStatusRequest>,
    ) -> Result<Response<pb::GetVoterStatusResponse>, Status> {
        let holder = verification::voter_of(&self.db, request.get_ref().voter_pass.trim()).await?;
        let voted = queries::voted_in(&self.db, &holder.campaign_id, &holder.voter).await?;
        Ok(Response::new(pb::GetVoterStatusResponse {
            campaign_id: holder.campaign_id,
            voted_ballot_ids: voted.iter().map(ToString::to_string).collect(),
        }))
    }

    async fn list_campaign_ballots(
        &self,
        request: Request<pb::ListCampaignBallotsRequest>,
    ) -> Result<Response<pb::ListCampaignBallotsResponse>, Status> {
        let campaign_id = request.into_inner().campaign_id;
        let now = chrono::Utc::now();
        let at = |time: Option<chrono::DateTime<chrono::Utc>>| {
            time.map(|t| prost_types::Timestamp {
                seconds: t.timestamp(),
                nanos: 0,
            })
        };
        let ballots = queries::campaign_ballots(&self.db, campaign_id.trim())
            .await?
            .into_iter()
            .map(|(ballot, choices)| pb::CampaignBallot {
                ballot_id: ballot.id.to_string(),
                category_id: ballot.category_id.clone().unwrap_or_default(),
                title: ballot.title.clone(),
                stage: ballot.timetable().stage_at(now).slug().into(),
                opens_at: at(ballot.opens_at),
                closes_at: at(ballot.closes_at),
                results_at: at(ballot.results_at),
                finalists: choices
                    .into_iter()
                    .map(|choice| pb::Finalist {
                        choice_id: choice.choice_id,
                        name: choice.label,
                        job_title: choice.job_title,
                        trust_name: choice.trust_name,
                        region_name: choice.region_name,
                        story_excerpt: choice.story_excerpt,
                    })
                    .collect(),
            })
            .collect();
        Ok(Response::new(pb::ListCampaignBallotsResponse { ballots }))
    }

    async fn get_campaign_results(
        &self,
        request: Request<pb::GetCampaignResultsRequest>,
    ) -> Result<Response<pb::GetCampaignResultsResponse>, Status> {
        let campaign_id = request.into_inner().campaign_id;
        let now = chrono::Utc::now();
        let ballots = queries::campaign_results(&self.db, campaign_id.trim())
            .await?
            .into_iter()
            .map(|found| {
                let ballot = &found.ballot;
                let mut result = pb::BallotResult {
                    ballot_id: ballot.id.to_string(),
                    category_id: ballot.category_id.clone().unwrap_or_default(),
                    title: ballot.title.clone(),
                    stage: ballot.timetable().stage_at(now).slug().into(),
                    results_at: ballot.results_at.map(timestamp),
                    ..Default::default()
                };
                if let Some((tally, head)) = found.released {
                    result.released = true;
                    result.winner_choice_ids = tally
                        .winners()
                        .iter()
                        .map(|c| c.choice_id.clone())
                        .collect();
                    result.total_votes = tally.total;
                    result.choices = tally.choices.into_iter().map(Into::into).collect();
                    result.ledger_entries = head.as_ref().map_or(0, |h| h.seq);
                    result.ledger_head = head.map(|h| h.hash).unwrap_or_default();
                }
                result
            })
            .collect();
        Ok(Response::new(pb::GetCampaignResultsResponse { ballots }))
    }

    async fn find_receipt(
        &self,
        request: Request<pb::FindReceiptRequest>,
    ) -> Result<Response<pb::FindReceiptResponse>, Status> {
        let r = request.into_inner();
        let ballot_id =
            parse_ballot_id(&r.ballot_id).map_err(|error| Error::Invalid(vec![error]))?;
        let receipt = ledger::Receipt::parse(&r.receipt).ok_or_else(|| {
            Error::Invalid(vec![valued_platform::domain::FieldError::new(
                "receipt",
                "Enter your receipt as it was given to you, like 7K2QD-M0XAF",
            )])
        })?;
        let (entry, choice_label) = queries::find_receipt(&self.db, ballot_id, receipt).await?;
        Ok(Response::new(pb::FindReceiptResponse {
            entry: Some(ledger_entry(entry)),
            choice_label,
        }))
    }

    async fn create_ballot(
        &self,
        request: Request<pb::CreateBallotRequest>,
    ) -> Result<Response<pb::CreateBallotResponse>, Status> {
        self.admins
            .platform_admin(&request, "create ballots")
            .await?;
        let ballot = NewBallot::parse(&request.into_inner().into()).map_err(Error::Invalid)?;
        let id = queries::create_ballot(&self.db, &self.outbox, &ballot).await?;
        Ok(Response::new(pb::CreateBallotResponse {
            ballot_id: id.to_string(),
        }))
    }

    async fn cast_vote(
        &self,
        request: Request<pb::CastVoteRequest>,
    ) -> Result<Response<pb::CastVoteResponse>, Status> {
        let client = request
            .metadata()
            .get(limits::CLIENT_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let vote = NewVote::parse(&request.get_ref().into()).map_err(Error::Invalid)?;
        let incoming = match &vote.voter {
            // No budget per client address here: a pass votes once per ballot, passes are
            // budgeted where they are issued (per address and per client), and many staff behind
            // one hospital address must all be able to vote; a burst from one network toward one
            // finalist is held for a check instead ([`held`]). Who holds the pass is read with
            // the other votes waiting for the ballot ([`crate::intake`]).
            Voter::Pass(pass) => Incoming::Pass {
                pass: pass.clone(),
                choice_id: vote.choice_id.clone(),
                client,
            },
            // A ballot made by hand: not a public vote, no flags; the typed address is budgeted.
            Voter::Email(email) => {
                let voter = Named {
                    field: "voter_email",
                    typed: &request.get_ref().voter_email,
                };
                limits::admit(&self.db, self.rate_limits, &request, "cast vote", &[voter]).await?;
                Incoming::Known(queries::Ballotted {
                    choice_id: vote.choice_id.clone(),
                    voter: VoterKey::derive(&self.voter_key_secret, email),
                    verified_for: None,
                    signals: None,
                    receipt_to: None,
                })
            }
        };
        let cast = self.intake.cast(vote.ballot_id, incoming).await?;
        Ok(Response::new(pb::CastVoteResponse {
            vote_id: cast.vote_id.to_string(),
            receipt: cast.receipt,
            held: cast.held,
            ballot_title: cast.ballot_title,
            campaign_name: cast.campaign_name,
            choice_label: cast.choice_label,
            open_ballots_left: cast.open_ballots_left,
        }))
    }

    async fn set_vote_eligibility(
        &self,
        request: Request<pb::SetVoteEligibilityRequest>,
    ) -> Result<Response<pb::SetVoteEligibilityResponse>, Status> {
        let of = Of::Campaign(&request.get_ref().campaign_id);
        let admin = self
            .campaign_admin(&request, of, "set who may vote in this public vote")
            .await?;
        let r = request.into_inner();
        let new = NewEligibility::parse(&EligibilityRequest::from(&r)).map_err(Error::Invalid)?;
        let setting = eligibility::set(
            &self.db,
            &self.voter_key_secret,
            &admin.identity.email,
            &r.campaign_id,
            &new,
        )
        .await?;
        Ok(Response::new(pb::SetVoteEligibilityResponse {
            eligibility: Some(setting.into()),
        }))
    }

    async fn get_vote_eligibility(
        &self,
        request: Request<pb::GetVoteEligibilityRequest>,
    ) -> Result<Response<pb::GetVoteEligibilityResponse>, Status> {
        let of = Of::Campaign(&request.get_ref().campaign_id);
        self.campaign_admin(&request, of, "see who may vote in this public vote")
            .await?;
        let setting = eligibility::get(&self.db, &request.into_inner().campaign_id).await?;
        Ok(Response::new(pb::GetVoteEligibilityResponse {
            eligibility: Some(setting.into()),
        }))
    }

    async fn list_held_votes(
        &self,
        request: Request<pb::ListHeldVotesRequest>,
    ) -> Result<Response<pb::ListHeldVotesResponse>, Status> {
        let of = Of::Campaign(&request.get_ref().campaign_id);
        self.campaign_admin(
            &request,
            of,
            "see the votes held for a check in this public vote",
        )
        .await?;
        let groups = held::groups(&self.db, &request.into_inner().campaign_id).await?;
        Ok(Response::new(pb::ListHeldVotesResponse {
            groups: groups
                .into_iter()
                .map(|g| pb::HeldVoteGroup {
                    ballot_id: g.ballot_id.to_string(),
                    ballot_title: g.ballot_title,
                    choice_id: g.choice_id,
                    finalist: g.finalist,
                    kind: g.flag.kind.slug().into(),
                    flag: g.flag.key(),
                    votes: g.votes,
                    first_cast_at: Some(timestamp(g.first_cast_at)),
                    last_cast_at: Some(timestamp(g.last_cast_at)),
                    decidable: g.decidable,
                })
                .collect(),
        }))
    }

    async fn decide_held_votes(
        &self,
        request: Request<pb::DecideHeldVotesRequest>,
    ) -> Result<Response<pb::DecideHeldVotesResponse>, Status> {
        let of = Of::Ballot(&request.get_ref().ballot_id);
        let admin = self
            .campaign_admin(&request, of, "count or discard held votes of this ballot")
            .await?;
        let decision =
            held::Decision::parse(&request.into_inner().into()).map_err(Error::Invalid)?;
        let decided =
            held::decide(&self.db, &self.outbox, &admin.identity.email, &decision).await?;
        Ok(Response::new(pb::DecideHeldVotesResponse { decided }))
    }

    async fn get_tally(
        &self,
        request: Request<pb::GetTallyRequest>,
    ) -> Result<Response<pb::GetTallyResponse>, Status> {
        let of = Of::Ballot(&request.get_ref().ballot_id);
        self.campaign_admin(&request, of, "read this ballot's tally")
            .await?;
        let ballot_id = parse_ballot_id(&request.into_inner().ballot_id)
            .map_err(|error| Error::Invalid(vec![error]))?;
        queries::results_released(&self.db, ballot_id).await?;
        // The head first: the tally, read after it, counts at least its entries.
        let head = ledger::store::head(&self.db, ballot_id)
            .await
            .map_err(Error::Database)?;
        let tally = queries::tally(&self.db, ballot_id).await?;
        let entries = head.as_ref().map_or(0, |h| h.seq);
        if tally.total < entries {
            tracing::error!(
                %ballot_id,
                entries,
                total = tally.total,
                "the tally counts fewer votes than the ledger has entries"
            );
        }
        Ok(Response::new(pb::GetTallyResponse {
            ballot_id: ballot_id.to_string(),
            choices: tally.choices.into_iter().map(Into::into).collect(),
            total_votes: tally.total,
            ledger_head: head.map(|h| h.hash).unwrap_or_default(),
            ledger_entries: entries,
        }))
    }

    async fn export_person(
        &self,
        request: Request<pb::ExportPersonRequest>,
    ) -> Result<Response<pb::ExportPersonResponse>, Status> {
        let (admin, email) =
            subject_access::exporter(&self.admins, &request, &request.get_ref().email).await?;
        let held = crate::subject_access::export(&self.db, &self.voter_key_secret, &email)
            .await
            .map_err(Error::Database)?;
        // The nomination service's audit log records the export; this says who asked here too.
        tracing::info!(admin = %admin.identity.email, "votes exported for subject access");
        Ok(Response::new(pb::ExportPersonResponse {
            json: held.to_string(),
        }))
    }

    async fn verify_ledger(
        &self,
        request: Request<pb::VerifyLedgerRequest>,
    ) -> Result<Response<pb::VerifyLedgerResponse>, Status> {
        let of = Of::Ballot(&request.get_ref().ballot_id);
        self.campaign_admin(&request, of, "verify this ballot's vote ledger")
            .await?;
        let ballot_id = parse_ballot_id(&request.into_inner().ballot_id)
            .map_err(|error| Error::Invalid(vec![error]))?;
        let report = queries::verify_ledger(&self.db, ballot_id).await?;
        let mut response: pb::VerifyLedgerResponse = report.into();
        // Before the results time the check still says whether the chain is whole, but nothing
        // that tells who is ahead: no counts, and breaks by kind and place only.
        if queries::results_released(&self.db, ballot_id)
            .await
            .is_err()
        {
            response.counts.clear();
            for broken in &mut response.breaks {
                broken.detail = "details once the results are out".into();
            }
        }
        Ok(Response::new(response))
    }

    async fn export_ledger(
        &self,
        request: Request<pb::ExportLedgerRequest>,
    ) -> Result<Response<pb::ExportLedgerResponse>, Status> {
        let of = Of::Ballot(&request.get_ref().ballot_id);
        self.campaign_admin(&request, of, "export this ballot's vote ledger")
            .await?;
        let request = request.into_inner();
        let ballot_id =
            parse_ballot_id(&request.ballot_id).map_err(|error| Error::Invalid(vec![error]))?;
        let limit = match request.limit {
            0 => EXPORT_PAGE,
            limit => u64::from(limit).min(EXPORT_PAGE_MAX),
        };
        // The entries say what was chosen: not before the results time.
        queries::results_released(&self.db, ballot_id).await?;
        let (head, page) =
            queries::ledger_page(&self.db, ballot_id, request.after_seq, limit).await?;
        let next_after_seq = match page.last() {
            Some(last) if head.as_ref().is_some_and(|h| h.seq > last.seq) => last.seq,
            _ => 0,
        };
        Ok(Response::new(pb::ExportLedgerResponse {
            ballot_id: ballot_id.to_string(),
            genesis: ledger::genesis(ballot_id),
            entries: head.as_ref().map_or(0, |h| h.seq),
            head: head.map(|h| h.hash).unwrap_or_default(),
            next_after_seq,
            page: page.into_iter().map(ledger_entry).collect(),
        }))
    }
}

impl From<crate::domain::ChoiceCount> for pb::ChoiceTally {
    fn from(c: crate::domain::ChoiceCount) -> Self {
        Self {
            choice_id: c.choice_id,
            label: c.label,
            votes: c.votes,
        }
    }
}

fn ledger_entry(entry: ledger::Entry) -> pb::LedgerEntry {
    pb::LedgerEntry {
        seq: entry.seq,
        receipt: entry.receipt(),
        cast_hour: ledger::hour_text(entry.cast_hour),
        choice_id: entry.choice_id,
        voter_hash: entry.voter_hash,
        prev_hash: entry.prev_hash,
        hash: entry.hash,
    }
}

/// Ledger entries an export page holds unless asked for fewer, and at most.
const EXPORT_PAGE: u64 = 1_000;
const EXPORT_PAGE_MAX: u64 = 10_000;

impl From<ledger::Report> for pb::VerifyLedgerResponse {
    fn from(report: ledger::Report) -> Self {
        Self {
            ballot_id: report.ballot_id.to_string(),
            intact: report.intact(),
            head: report.head.unwrap_or_default(),
            entries: report.entries,
            counts: report
                .counts
                .into_iter()
                .map(|c| pb::LedgerCount {
                    choice_id: c.choice_id,
                    ledger: c.ledger,
                    tally: c.tally,
                    votes: c.votes,
                })
                .collect(),
            breaks: report
                .breaks
                .iter()
                .map(|b| pb::LedgerBreak {
                    seq: b.seq().unwrap_or(0),
                    kind: b.kind().to_owned(),
                    detail: b.to_string(),
                })
                .collect(),
        }
    }
}

impl From<pb::CreateBallotRequest> for BallotRequest {
    fn from(r: pb::CreateBallotRequest) -> Self {
        Self {
            title: r.title,
            choices: r
                .choices
                .into_iter()
                .map(|c| ChoiceRequest {
                    id: c.id,
                    label: c.label,
                })
                .collect(),
        }
    }
}

impl From<&pb::CastVoteRequest> for VoteRequest {
    fn from(r: &pb::CastVoteRequest) -> Self {
        Self {
            ballot_id: r.ballot_id.clone(),
            choice_id: r.choice_id.clone(),
            voter_email: r.voter_email.clone(),
            voter_pass: r.voter_pass.clone(),
        }
    }
}

impl From<&pb::SetVoteEligibilityRequest> for EligibilityRequest {
    fn from(r: &pb::SetVoteEligibilityRequest) -> Self {
        Self {
            staff: match pb::Eligibility::try_from(r.eligibility) {
                Ok(pb::Eligibility::Public) => Some(false),
                Ok(pb::Eligibility::Staff) => Some(true),
                _ => None,
            },
            domains: r.domains.clone(),
            addresses: r.addresses.clone(),
            keep_addresses: r.keep_addresses,
            trust_domains: r.trust_domains,
        }
    }
}

impl From<eligibility::Setting> for pb::VoteEligibility {
    fn from(setting: eligibility::Setting) -> Self {
        let eligibility = if setting.staff {
            pb::Eligibility::Staff
        } else {
            pb::Eligibility::Public
        };
        let (updated_at, updated_by) = setting.updated.unzip();
        Self {
            campaign_id: setting.campaign_id,
            eligibility: eligibility.into(),
            domains: setting.domains.iter().map(ToString::to_string).collect(),
            listed_voters: setting.listed,
            updated_at: updated_at.map(timestamp),
            updated_by: updated_by.unwrap_or_default(),
            trust_domains: setting.trust_domains,
            domains_from_trusts: setting
                .from_trusts
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

impl From<pb::DecideHeldVotesRequest> for held::DecisionRequest {
    fn from(r: pb::DecideHeldVotesRequest) -> Self {
        Self {
            ballot_id: r.ballot_id,
            choice_id: r.choice_id,
            flag: r.flag,
            count: match pb::HeldVoteDecision::try_from(r.decision) {
                Ok(pb::HeldVoteDecision::Count) => Some(true),
                Ok(pb::HeldVoteDecision::Discard) => Some(false),
                _ => None,
            },
            reason: r.reason,
            votes: r.votes,
        }
    }
}
