//! Every RPC by which a campaign's admins run its public vote, called in one go: the voting
//! service's tests and the authorisation matrix ask the same questions with it.

use tonic::Code;
use valued_platform::grpc::Credentialed;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;

/// `days` from now, to the second.
fn days_from_now(days: i64) -> Option<prost_types::Timestamp> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    Some(prost_types::Timestamp {
        seconds: now + days * 86_400,
        nanos: 0,
    })
}

/// Calls every organiser RPC of the voting service about `campaign` and its ballot `ballot_id`
/// as the holder of `token` (none: anonymous): each RPC's name (`ScheduleVote`) with the code it
/// answered (`Code::Ok` for an answer). What each does when allowed is harmless: the timetable set
/// open from a day ago for six days (results in eight), the vote public, no held vote decided.
pub async fn organise(
    client: &VotingServiceClient<Credentialed>,
    token: Option<&str>,
    campaign: &str,
    ballot_id: &str,
) -> Vec<(&'static str, Code)> {
    fn signed<T>(token: Option<&str>, message: T) -> tonic::Request<T> {
        match token {
            Some(token) => crate::roles::signed(token, message),
            None => tonic::Request::new(message),
        }
    }
    fn code<T>(answer: Result<tonic::Response<T>, tonic::Status>) -> Code {
        answer.map_or_else(|status| status.code(), |_| Code::Ok)
    }
    let campaign_id = campaign.to_owned();
    let ballot_id = ballot_id.to_owned();
    let schedule = pb::ScheduleVoteRequest {
        campaign_id: campaign_id.clone(),
        opens_at: days_from_now(-1),
        closes_at: days_from_now(6),
        results_at: days_from_now(8),
    };
    let turnout = pb::GetTurnoutRequest {
        campaign_id: campaign_id.clone(),
    };
    let set_eligibility = pb::SetVoteEligibilityRequest {
        campaign_id: campaign_id.clone(),
        eligibility: pb::Eligibility::Public.into(),
        ..Default::default()
    };
    let eligibility = pb::GetVoteEligibilityRequest {
        campaign_id: campaign_id.clone(),
    };
    let held = pb::ListHeldVotesRequest { campaign_id };
    let decide = pb::DecideHeldVotesRequest {
        ballot_id: ballot_id.clone(),
        ..Default::default()
    };
    let tally = pb::GetTallyRequest {
        ballot_id: ballot_id.clone(),
    };
    let verify = pb::VerifyLedgerRequest {
        ballot_id: ballot_id.clone(),
    };
    let export = pb::ExportLedgerRequest {
        ballot_id,
        ..Default::default()
    };
    let mut c = client.clone();
    vec![
        (
            "ScheduleVote",
            code(c.schedule_vote(signed(token, schedule)).await),
        ),
        (
            "GetTurnout",
            code(c.get_turnout(signed(token, turnout)).await),
        ),
        (
            "SetVoteEligibility",
            code(c.set_vote_eligibility(signed(token, set_eligibility)).await),
        ),
        (
            "GetVoteEligibility",
            code(c.get_vote_eligibility(signed(token, eligibility)).await),
        ),
        (
            "ListHeldVotes",
            code(c.list_held_votes(signed(token, held)).await),
        ),
        (
            "DecideHeldVotes",
            code(c.decide_held_votes(signed(token, decide)).await),
        ),
        ("GetTally", code(c.get_tally(signed(token, tally)).await)),
        (
            "VerifyLedger",
            code(c.verify_ledger(signed(token, verify)).await),
        ),
        (
            "ExportLedger",
            code(c.export_ledger(signed(token, export)).await),
        ),
    ]
}
