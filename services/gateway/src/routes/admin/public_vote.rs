//! A campaign's public vote, for the admins who run it: its timetable (schedule it, open it now,
//! extend it, close it now), turnout while it runs (never how the votes fall), a check of each
//! category's vote record (its hash chain) and, from the results time, the results as CSV. The
//! voting service decides who runs which campaign's vote (its trust or region admins, platform
//! admins any) and checks the caller on every call; its refusal shows the usual 403 page. The pages
//! first ask the nomination service who the caller is, to turn away at once anyone who holds no
//! admin role.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_platform::domain::FieldError;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;
use valued_proto::voting::v1::{
    CampaignBallot, DecideHeldVotesRequest, Eligibility, GetTallyRequest, GetTurnoutRequest,
    GetVoteEligibilityRequest, HeldVoteDecision, ListCampaignBallotsRequest, ListHeldVotesRequest,
    ScheduleVoteRequest, SetVoteEligibilityRequest, VerifyLedgerRequest, VerifyLedgerResponse,
    VoteEligibility,
};

use super::notifications::through_grant_copy;
use super::signed::{
    AdminError, AdminResult, ButtonForm, DoneQuery, Signed, check_csrf, csv_download,
};
use crate::clients::{Traced, VOTING};
use crate::error::GatewayError;
use crate::routes::forms::{self, form_page};
use crate::routes::page::{see_other, segment};
use valued_platform::uk_time::{self, TypedTime};

impl Signed {
    /// Whether the caller is a platform admin, as the nomination service knows them; DENIED for
    /// anyone holding no admin role (a judge's alone, or none), who runs no campaign's vote.
    async fn vote_organiser(&self) -> AdminResult<bool> {
        let roles = self.roles().await?;
        if roles.iter().any(|role| role == "platform_admin") {
            Ok(true)
        } else if roles
            .iter()
            .any(|role| matches!(role.as_str(), "trust_admin" | "region_admin"))
        {
            Ok(false)
        } else {
            Err(AdminError::Denied)
        }
    }

    /// Calls the voting service with `message` as the signed-in admin.
    async fn voting<T: Clone, R>(
        &self,
        message: T,
        call: impl AsyncFn(
            VotingServiceClient<Traced>,
            tonic::Request<T>,
        ) -> Result<tonic::Response<R>, tonic::Status>,
    ) -> AdminResult<R> {
        self.voting_answer(message, call)
            .await?
            .map_err(|status| self.failed_at(VOTING, status))
    }

    /// As [`Self::voting`], the service's refusal given back as it came (for a form to show).
    async fn voting_answer<T: Clone, R>(
        &self,
        message: T,
        call: impl AsyncFn(
            VotingServiceClient<Traced>,
            tonic::Request<T>,
        ) -> Result<tonic::Response<R>, tonic::Status>,
    ) -> AdminResult<Result<R, tonic::Status>> {
        let platform_admin = self.vote_organiser().await?;
        let client = self.clients.voting.clone();
        let ask = || call(client.clone(), self.signed(message.clone()));
        // A platform admin refused, or anyone refused just after signing in, is one the voting
        // service's copy of the grants has not caught up with yet: worth waiting for. Whether
        // anyone else runs this campaign's vote, the voting service alone says.
        Ok(if platform_admin || self.just_signed_in() {
            through_grant_copy(ask).await
        } else {
            ask().await.map(tonic::Response::into_inner)
        })
    }

    async fn ballots(&self, campaign_id: &str) -> AdminResult<Vec<CampaignBallot>> {
        Ok(self
            .clients
            .voting
            .clone()
            .list_campaign_ballots(ListCampaignBallotsRequest {
                campaign_id: campaign_id.to_owned(),
            })
            .await
            .map_err(|status| self.failed_at(VOTING, status))?
            .into_inner()
            .ballots)
    }
}

fn path_of(slug: &str) -> String {
    format!("/admin/campaigns/{}/vote", segment(slug))
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// The timetable form's fields, as typed.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct TimetableForm {
    csrf_token: String,
    /// `save` (the times typed), `open_now` or `close_now`.
    action: String,
    opens_at: String,
    closes_at: String,
    results_at: String,
}

impl TimetableForm {
    fn of(ballot: Option<&CampaignBallot>) -> Self {
        let field = |t: Option<&prost_types::Timestamp>| {
            uk_time::of(t).map(uk_time::input).unwrap_or_default()
        };
        Self {
            opens_at: field(ballot.and_then(|b| b.opens_at.as_ref())),
            closes_at: field(ballot.and_then(|b| b.closes_at.as_ref())),
            results_at: field(ballot.and_then(|b| b.results_at.as_ref())),
            ..Self::default()
        }
    }

    /// The request the form asks for: the typed times (UK time), or the current ones with the
    /// opening or the closing (and the results, if due sooner) moved to now. Every time that is
    /// missing, not a time, or skipped or repeated by a clock change is named.
    fn request(
        &self,
        campaign_id: &str,
        now: DateTime<Utc>,
    ) -> Result<ScheduleVoteRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut parse = |field: &str, typed: &str, what: &str| match uk_time::parse_input(typed) {
            Ok(t) => Some(t),
            Err(TypedTime::NotATime) => {
                errors.push(FieldError::new(
                    field,
                    format!("Enter when {what}, as a date and time"),
                ));
                None
            }
            Err(change) => {
                errors.push(FieldError::new(field, change.to_string()));
                None
            }
        };
        let opens = parse("opens_at", &self.opens_at, "voting opens");
        let closes = parse("closes_at", &self.closes_at, "voting closes");
        let results = parse("results_at", &self.results_at, "the results come out");
        let (Some(mut opens), Some(mut closes), Some(mut results)) = (opens, closes, results)
        else {
            return Err(errors);
        };
        match self.action.as_str() {
            "open_now" => opens = now,
            "close_now" => {
                closes = now;
                results = results.max(now);
            }
            _ => {}
        }
        Ok(ScheduleVoteRequest {
            campaign_id: campaign_id.to_owned(),
            opens_at: Some(timestamp(opens)),
            closes_at: Some(timestamp(closes)),
            results_at: Some(timestamp(results)),
        })
    }
}

/// `GET /admin/campaigns/{slug}/vote`
pub async fn show(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<DoneQuery>,
) -> AdminResult<Response> {
    let done = match query.done.as_str() {
        "scheduled" => Some("The timetable has been saved for every category."),
        "eligibility" => Some("Who may vote has been saved."),
        "counted" => Some("The held votes have been counted."),
        "discarded" => Some("The held votes have been discarded."),
        _ => None,
    };
    let shown = Shown {
        done,
        ..Shown::default()
    };
    render(&signed, &headers, &slug, shown).await
}

/// What the page shows besides the vote as it stands: a form as typed with its errors, a record
/// check, or what was just done.
#[derive(Default)]
struct Shown<'a> {
    timetable: Option<&'a TimetableForm>,
    eligibility: Option<&'a EligibilityForm>,
    check: Option<(&'a str, &'a VerifyLedgerResponse)>,
    errors: Vec<FieldError>,
    done: Option<&'a str>,
}

/// The page's inputs, in page order, for the error summary.
const FIELDS: [&str; 7] = [
    "opens_at",
    "closes_at",
    "results_at",
    "eligibility",
    "domains",
    "trust_domains",
    "addresses",
];

async fn render(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    shown: Shown<'_>,
) -> AdminResult<Response> {
    let campaign = signed.campaign(slug).await?;
    let request = GetTurnoutRequest {
        campaign_id: campaign.id.clone(),
    };
    let turnout = signed
        .voting(request, async |mut c, r| c.get_turnout(r).await)
        .await?;
    let request = GetVoteEligibilityRequest {
        campaign_id: campaign.id.clone(),
    };
    let eligibility = signed
        .voting(request, async |mut c, r| c.get_vote_eligibility(r).await)
        .await?
        .eligibility
        .unwrap_or_default();
    let request = ListHeldVotesRequest {
        campaign_id: campaign.id.clone(),
    };
    let held = signed
        .voting(request, async |mut c, r| c.list_held_votes(r).await)
        .await?
        .groups;
    let ballots = signed.ballots(&campaign.id).await?;
    let current = TimetableForm::of(ballots.first());
    let timetable = shown.timetable.unwrap_or(&current);
    let current = EligibilityForm::of(&eligibility);
    let eligibility_form = shown.eligibility.unwrap_or(&current);
    let summary = forms::summary(&shown.errors, &FIELDS, |_| None);
    let path = path_of(&campaign.slug);
    let released = ballots.iter().any(|b| b.stage == "results");
    let status = forms::status_for(&shown.errors);
    let check = shown.check;
    let when = |t: Option<&prost_types::Timestamp>| uk_time::when_of(t).unwrap_or_default();
    Ok(form_page(headers, status, |csrf_token| {
        crate::templates::render(
            "admin/public_vote.html",
            context! {
                page_title => format!("Public vote: {}", campaign.name),
                campaign_name => campaign.name,
                path => path,
                done => shown.done,
                form => timetable,
                eligibility => eligibility_form,
                listed_voters => eligibility.listed_voters,
                domains_from_trusts => eligibility.domains_from_trusts,
                csrf_token => csrf_token,
                errors => summary,
                error => forms::by_field(&summary),
                verified_voters => turnout.verified_voters,
                released => released,
                categories => ballots.iter().map(|b| {
                    let turnout = turnout.ballots.iter().find(|t| t.ballot_id == b.ballot_id);
                    let report = check.filter(|(id, _)| *id == b.ballot_id).map(|(_, r)| report_view(r));
                    context! {
                        id => b.ballot_id,
                        title => b.title,
                        stage => b.stage,
                        finalists => b.finalists.len(),
                        votes => turnout.map_or(0, |t| t.votes),
                        held => turnout.map_or(0, |t| t.held_votes),
                        discarded => turnout.map_or(0, |t| t.discarded_votes),
                        hourly => super::hourly::view(turnout.map_or(&[], |t| t.hours.as_slice())),
                        report => report,
                    }
                }).collect::<Vec<_>>(),
                held => held.iter().map(|g| context! {
                    ballot_id => g.ballot_id,
                    category => g.ballot_title,
                    choice_id => g.choice_id,
                    finalist => g.finalist,
                    kind => if g.kind == "network" { "one network" } else { "one email domain" },
                    flag => g.flag,
                    votes => g.votes,
                    first => when(g.first_cast_at.as_ref()),
                    last => when(g.last_cast_at.as_ref()),
                    decidable => g.decidable,
                }).collect::<Vec<_>>(),
            },
        )
    })?)
}

/// A form's answer from the voting service: taken, to the page saying it is `done`; refused as
/// INVALID_ARGUMENT, the page again as `refused` shows it with the refusal's field errors; any other
/// refusal is the service's failure.
async fn answered<'a, R>(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    answer: Result<R, tonic::Status>,
    done: &str,
    refused: impl FnOnce(Vec<FieldError>) -> Shown<'a>,
) -> AdminResult<Response> {
    match answer {
        Ok(_) => Ok(see_other(&format!("{}?done={done}", path_of(slug)))?),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let shown = refused(valued_platform::grpc::field_errors(&status));
            render(signed, headers, slug, shown).await
        }
        Err(status) => Err(signed.failed_at(VOTING, status)),
    }
}

/// Who may vote, as the form has it: `public` or `staff`, domains and addresses one per line.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct EligibilityForm {
    csrf_token: String,
    eligibility: String,
    domains: String,
    addresses: String,
    /// "yes": keep the list already uploaded.
    keep_addresses: String,
    /// "yes": the trusts' own domains count too.
    trust_domains: String,
}

impl EligibilityForm {
    fn of(current: &VoteEligibility) -> Self {
        Self {
            eligibility: if current.eligibility == Eligibility::Staff as i32 {
                "staff".into()
            } else {
                "public".into()
            },
            domains: current.domains.join("\n"),
            trust_domains: if current.trust_domains {
                "yes".into()
            } else {
                String::new()
            },
            keep_addresses: if current.listed_voters > 0 {
                "yes".into()
            } else {
                String::new()
            },
            ..Self::default()
        }
    }

    fn request(&self, campaign_id: &str) -> SetVoteEligibilityRequest {
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .flat_map(|line| line.split(','))
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let staff = self.eligibility == "staff";
        SetVoteEligibilityRequest {
            campaign_id: campaign_id.to_owned(),
            eligibility: match self.eligibility.as_str() {
                "staff" => Eligibility::Staff,
                "public" => Eligibility::Public,
                _ => Eligibility::Unspecified,
            } as i32,
            domains: if staff {
                lines(&self.domains)
            } else {
                Vec::new()
            },
            addresses: if staff {
                self.addresses
                    .lines()
                    .map(str::trim)
                    .map(str::to_owned)
                    .collect()
            } else {
                Vec::new()
            },
            keep_addresses: staff
                && self.keep_addresses == "yes"
                && self.addresses.trim().is_empty(),
            trust_domains: staff && self.trust_domains == "yes",
        }
    }
}

/// A refusal's field errors on the page's inputs: `domains[2]` is the domains box's.
fn on_inputs(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            let field = e.field.split('[').next().unwrap_or_default().to_owned();
            FieldError::new(&field, e.message)
        })
        .collect()
}

/// `POST /admin/campaigns/{slug}/vote/eligibility`
pub async fn set_eligibility(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<EligibilityForm>,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let campaign = signed.campaign(&slug).await?;
    let request = form.request(&campaign.id);
    let saved = signed
        .voting_answer(request, async |mut c, r| c.set_vote_eligibility(r).await)
        .await?;
    answered(&signed, &headers, &slug, saved, "eligibility", |errors| {
        Shown {
            eligibility: Some(&form),
            errors: on_inputs(errors),
            ..Shown::default()
        }
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    csrf_token: String,
    ballot_id: String,
    choice_id: String,
    flag: String,
    votes: u64,
    /// `count` or `discard`.
    decision: String,
    reason: String,
}

/// `POST /admin/campaigns/{slug}/vote/held`: counts or discards a group of held votes.
pub async fn decide_held(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<DecisionForm>,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let decision = match form.decision.as_str() {
        "count" => HeldVoteDecision::Count,
        "discard" => HeldVoteDecision::Discard,
        _ => HeldVoteDecision::Unspecified,
    };
    let request = DecideHeldVotesRequest {
        ballot_id: form.ballot_id.clone(),
        choice_id: form.choice_id.clone(),
        flag: form.flag.clone(),
        decision: decision as i32,
        reason: form.reason.clone(),
        votes: form.votes,
    };
    let decided = signed
        .voting_answer(request, async |mut c, r| c.decide_held_votes(r).await)
        .await?;
    let done = if decision == HeldVoteDecision::Count {
        "counted"
    } else {
        "discarded"
    };
    // No reason, no decision, or the group changed since the page was shown: say so above the
    // page as it is now.
    answered(&signed, &headers, &slug, decided, done, |errors| Shown {
        errors: errors
            .into_iter()
            .map(|e| FieldError::new("", e.message))
            .collect(),
        ..Shown::default()
    })
    .await
}

fn report_view(report: &VerifyLedgerResponse) -> minijinja::Value {
    context! {
        intact => report.intact,
        entries => report.entries,
        head => report.head,
        breaks => report.breaks.iter().map(|b| context! {
            seq => b.seq,
            kind => b.kind.replace('_', " "),
            detail => b.detail,
        }).collect::<Vec<_>>(),
        counts => report.counts.iter().map(|c| context! {
            choice => c.choice_id,
            ledger => c.ledger,
            tally => c.tally,
            votes => c.votes,
        }).collect::<Vec<_>>(),
    }
}

/// `POST /admin/campaigns/{slug}/vote/timetable`
pub async fn schedule(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(form): Form<TimetableForm>,
) -> AdminResult<Response> {
    let path = path_of(&slug);
    check_csrf(&headers, &form.csrf_token, &path)?;
    let campaign = signed.campaign(&slug).await?;
    let request = match form.request(&campaign.id, Utc::now()) {
        Ok(request) => request,
        Err(errors) => {
            let shown = Shown {
                timetable: Some(&form),
                errors,
                ..Shown::default()
            };
            return render(&signed, &headers, &slug, shown).await;
        }
    };
    let saved = signed
        .voting_answer(request, async |mut c, r| c.schedule_vote(r).await)
        .await?;
    // The service names each time out of order.
    answered(&signed, &headers, &slug, saved, "scheduled", |errors| {
        Shown {
            timetable: Some(&form),
            errors,
            ..Shown::default()
        }
    })
    .await
}

/// `POST /admin/campaigns/{slug}/vote/check/{ballot}`: recomputes a category's vote record.
pub async fn check(
    signed: Signed,
    headers: HeaderMap,
    Path((slug, ballot_id)): Path<(String, String)>,
    Form(form): Form<ButtonForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, &path_of(&slug))?;
    let report = signed
        .voting(
            VerifyLedgerRequest {
                ballot_id: ballot_id.clone(),
            },
            async |mut c, r| c.verify_ledger(r).await,
        )
        .await?;
    let shown = Shown {
        check: Some((&ballot_id, &report)),
        ..Shown::default()
    };
    render(&signed, &headers, &slug, shown).await
}

/// `GET /admin/campaigns/{slug}/vote/results.csv`: every category whose results are out.
pub async fn results_csv(signed: Signed, Path(slug): Path<String>) -> AdminResult<Response> {
    let campaign = signed.campaign(&slug).await?;
    let ballots = signed.ballots(&campaign.id).await?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    let write = |csv: &mut csv::Writer<Vec<u8>>, row: &[&str]| {
        csv.write_record(row)
            .map_err(|e| AdminError::Gateway(GatewayError::Internal(e.to_string())))
    };
    write(
        &mut csv,
        &[
            "category",
            "finalist",
            "votes",
            "category_total",
            "ledger_entries",
            "ledger_head",
        ],
    )?;
    let mut released = 0;
    for ballot in ballots.iter().filter(|b| b.stage == "results") {
        released += 1;
        let tally = signed
            .voting(
                GetTallyRequest {
                    ballot_id: ballot.ballot_id.clone(),
                },
                async |mut c, r| c.get_tally(r).await,
            )
            .await?;
        for choice in &tally.choices {
            write(
                &mut csv,
                &[
                    &ballot.title,
                    &choice.label,
                    &choice.votes.to_string(),
                    &tally.total_votes.to_string(),
                    &tally.ledger_entries.to_string(),
                    &tally.ledger_head,
                ],
            )?;
        }
    }
    if released == 0 {
        return Err(AdminError::Refused(
            "No category's results are out yet: the CSV is there from the results time".into(),
        ));
    }
    let body = csv
        .into_inner()
        .map_err(|e| AdminError::Gateway(GatewayError::Internal(e.to_string())))?;
    Ok(csv_download(&campaign.slug, "vote-results", body)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn form(action: &str, opens: &str, closes: &str, results: &str) -> TimetableForm {
        TimetableForm {
            action: action.into(),
            opens_at: opens.into(),
            closes_at: closes.into(),
            results_at: results.into(),
            ..TimetableForm::default()
        }
    }

    /// A UTC time, as `2026-12-01T09:00`.
    fn at(text: &str) -> Option<prost_types::Timestamp> {
        Some(timestamp(
            chrono::NaiveDateTime::parse_from_str(text, uk_time::INPUT)
                .unwrap()
                .and_utc(),
        ))
    }

    #[test]
    fn typed_times_are_uk_time_and_every_bad_one_is_named() {
        let now = Utc::now();
        let save = |opens, closes, results| form("save", opens, closes, results).request("c", now);
        let saved = save("2026-12-01T09:00", "2026-12-08T17:00", "2026-12-09T10:00").unwrap();
        assert_eq!(saved.opens_at, at("2026-12-01T09:00"));
        assert_eq!(saved.results_at, at("2026-12-09T10:00"));
        let errors = save("", "next week", "2026-12-09T10:00").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["opens_at", "closes_at"]);

        // In summer, UK time is an hour ahead of UTC.
        let summer = save("2027-06-01T10:00", "2027-06-08T17:00", "2027-06-09T10:00").unwrap();
        assert_eq!(summer.opens_at, at("2027-06-01T09:00"));
        assert_eq!(summer.closes_at, at("2027-06-08T16:00"));
        assert_eq!(
            TimetableForm::of(Some(&CampaignBallot {
                opens_at: summer.opens_at,
                closes_at: at("2026-12-01T09:00"),
                ..CampaignBallot::default()
            }))
            .opens_at,
            "2027-06-01T10:00"
        );

        // A time the clocks skip or repeat is refused at its field, saying why.
        let errors = save("2027-03-28T01:30", "2026-10-25T01:30", "2027-06-09T10:00").unwrap_err();
        for (error, (field, start)) in errors.iter().zip([
            ("opens_at", "There is no 01:30 on 28 March 2027"),
            ("closes_at", "01:30 on 25 October 2026 happens twice"),
        ]) {
            assert_eq!(error.field, field);
            assert!(error.message.starts_with(start), "{}", error.message);
        }
    }

    #[test]
    fn closing_now_brings_results_due_earlier_forward_to_now() {
        let now = chrono::NaiveDateTime::parse_from_str("2026-12-05T12:00", uk_time::INPUT)
            .unwrap()
            .and_utc();
        let closed = form(
            "close_now",
            "2026-12-01T09:00",
            "2026-12-08T17:00",
            "2026-12-09T10:00",
        )
        .request("c", now)
        .unwrap();
        assert_eq!(closed.closes_at, Some(timestamp(now)));
        assert_eq!(closed.results_at, at("2026-12-09T10:00"));
        let late = form(
            "close_now",
            "2026-12-01T09:00",
            "2026-12-02T17:00",
            "2026-12-03T10:00",
        )
        .request("c", now)
        .unwrap();
        assert_eq!(late.results_at, Some(timestamp(now)));
        let opened = form(
            "open_now",
            "2026-12-07T09:00",
            "2026-12-08T17:00",
            "2026-12-09T10:00",
        )
        .request("c", now)
        .unwrap();
        assert_eq!(opened.opens_at, Some(timestamp(now)));
    }
}
