//! VotingService over gRPC: converts requests into domain commands and results into messages.

use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use tonic::{Request, Response, Status};
use valued_platform::auth::roles::Admins;
use valued_platform::limits::{self, Named, RateLimits};
use valued_platform::outbox::Outbox;
use valued_platform::subject_access;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_server::VotingService;

use crate::db::queries;
use crate::domain::{
    BallotRequest, ChoiceRequest, NewBallot, NewVote, VoteRequest, Voter, VoterKey, parse_ballot_id,
};
use crate::error::Error;
use crate::{ledger, schedule, verification};

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// Anyone may vote through the web; creating ballots, reading tallies and exporting a person's votes
/// are for platform admins, checked here against this service's copy of the grants.
pub struct VotingApi {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub voter_key_secret: SecretString,
    pub admins: Admins,
    /// The budgets of the public vote (see `valued_platform::limits`).
    pub rate_limits: RateLimits,
    pub verification: crate::verification::VerificationSettings,
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
        "/valued.voting.v1.VotingService/GetVoterStatus",
        "needs the voter's own pass; says only which of its campaign's ballots they voted in",
    ),
];

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
        let admin = self
            .admins
            .platform_admin(&request, "schedule public votes")
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
        self.admins
            .platform_admin(&request, "see the turnout of public votes")
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
        let voter = Named {
            field: "voter_email",
            typed: &request.get_ref().voter_email,
        };
        limits::admit(&self.db, self.rate_limits, &request, "cast vote", &[voter]).await?;
        let vote = NewVote::parse(&request.into_inner().into()).map_err(Error::Invalid)?;
        let (voter, verified_for, receipt_to) = match &vote.voter {
            Voter::Pass(pass) => {
                let holder = verification::voter_of(&self.db, pass).await?;
                (holder.voter, Some(holder.campaign_id), holder.email)
            }
            Voter::Email(email) => (VoterKey::derive(&self.voter_key_secret, email), None, None),
        };
        let cast = queries::cast_vote(
            &self.db,
            &self.outbox,
            &vote,
            &voter,
            verified_for.as_deref(),
            receipt_to.as_deref(),
        )
        .await?;
        Ok(Response::new(pb::CastVoteResponse {
            vote_id: cast.vote_id.to_string(),
            receipt: cast.receipt,
        }))
    }

    async fn get_tally(
        &self,
        request: Request<pb::GetTallyRequest>,
    ) -> Result<Response<pb::GetTallyResponse>, Status> {
        self.admins.platform_admin(&request, "read tallies").await?;
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
            choices: tally
                .choices
                .into_iter()
                .map(|c| pb::ChoiceTally {
                    choice_id: c.choice_id,
                    label: c.label,
                    votes: c.votes,
                })
                .collect(),
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
        self.admins
            .platform_admin(&request, "verify vote ledgers")
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
        self.admins
            .platform_admin(&request, "export vote ledgers")
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
            page: page
                .into_iter()
                .map(|entry| pb::LedgerEntry {
                    seq: entry.seq,
                    receipt: entry.receipt(),
                    cast_hour: ledger::hour_text(entry.cast_hour),
                    choice_id: entry.choice_id,
                    voter_hash: entry.voter_hash,
                    prev_hash: entry.prev_hash,
                    hash: entry.hash,
                })
                .collect(),
        }))
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

impl From<pb::CastVoteRequest> for VoteRequest {
    fn from(r: pb::CastVoteRequest) -> Self {
        Self {
            ballot_id: r.ballot_id,
            choice_id: r.choice_id,
            voter_email: r.voter_email,
            voter_pass: r.voter_pass,
        }
    }
}
