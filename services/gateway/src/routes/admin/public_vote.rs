//! A campaign's public vote, for platform admins: its timetable (schedule it, open it now, extend
//! it, close it now), turnout while it runs (never how the votes fall), a check of each category's
//! vote record (its hash chain) and, from the results time, the results as CSV. The voting service
//! checks the caller on every call; the pages first ask the nomination service who the caller is.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_platform::domain::FieldError;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;
use valued_proto::voting::v1::{
    CampaignBallot, GetTallyRequest, GetTurnoutRequest, ListCampaignBallotsRequest,
    ScheduleVoteRequest, VerifyLedgerRequest, VerifyLedgerResponse,
};

use super::notifications::through_grant_copy;
use super::signed::{AdminError, AdminResult, Signed, check_csrf, csv_download};
use crate::clients::{Traced, VOTING};
use crate::error::GatewayError;
use crate::routes::forms::{self, form_page};
use crate::routes::page::{see_other, segment};

/// How the timetable's times are typed and shown: a `datetime-local` input's value, in UTC.
const INPUT_TIME: &str = "%Y-%m-%dT%H:%M";

impl Signed {
    /// Calls the voting service with `message` as the signed-in platform admin.
    async fn voting<T: Clone, R>(
        &self,
        message: T,
        call: impl AsyncFn(
            VotingServiceClient<Traced>,
            tonic::Request<T>,
        ) -> Result<tonic::Response<R>, tonic::Status>,
    ) -> AdminResult<R> {
        self.platform_admin().await?;
        let client = self.clients.voting.clone();
        through_grant_copy(|| call(client.clone(), self.signed(message.clone())))
            .await
            .map_err(|status| self.failed_at(VOTING, status))
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

fn time_of(t: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, 0))
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
            time_of(t)
                .map(|t| t.format(INPUT_TIME).to_string())
                .unwrap_or_default()
        };
        Self {
            opens_at: field(ballot.and_then(|b| b.opens_at.as_ref())),
            closes_at: field(ballot.and_then(|b| b.closes_at.as_ref())),
            results_at: field(ballot.and_then(|b| b.results_at.as_ref())),
            ..Self::default()
        }
    }

    /// The request the form asks for: the typed times, or the current ones with the opening or
    /// the closing (and the results, if due sooner) moved to now. Every time that is missing or
    /// not a time is named.
    fn request(
        &self,
        campaign_id: &str,
        now: DateTime<Utc>,
    ) -> Result<ScheduleVoteRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut parse = |field: &str, typed: &str, what: &str| match NaiveDateTime::parse_from_str(
            typed.trim(),
            INPUT_TIME,
        ) {
            Ok(t) => Some(t.and_utc()),
            Err(_) => {
                errors.push(FieldError::new(
                    field,
                    format!("Enter when {what}, as a date and time"),
                ));
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    done: String,
}

/// `GET /admin/campaigns/{slug}/vote`
pub async fn show(
    signed: Signed,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
) -> AdminResult<Response> {
    let done = match query.done.as_str() {
        "scheduled" => Some("The timetable has been saved for every category."),
        _ => None,
    };
    render(&signed, &headers, &slug, None, None, &[], done).await
}

/// The page, with the timetable form as typed (or as it stands), its errors, and a record check.
async fn render(
    signed: &Signed,
    headers: &HeaderMap,
    slug: &str,
    form: Option<&TimetableForm>,
    check: Option<(&str, &VerifyLedgerResponse)>,
    errors: &[FieldError],
    done: Option<&str>,
) -> AdminResult<Response> {
    let campaign = signed.campaign(slug).await?;
    let turnout = signed
        .voting(
            GetTurnoutRequest {
                campaign_id: campaign.id.clone(),
            },
            async |mut c, r| c.get_turnout(r).await,
        )
        .await?;
    let ballots = signed.ballots(&campaign.id).await?;
    let current = TimetableForm::of(ballots.first());
    let form = form.unwrap_or(&current);
    let summary = forms::summary(errors, &["opens_at", "closes_at", "results_at"], |_| None);
    let path = path_of(&campaign.slug);
    let released = ballots.iter().any(|b| b.stage == "results");
    let status = forms::status_for(errors);
    Ok(form_page(headers, status, |csrf_token| {
        crate::templates::render(
            "admin/public_vote.html",
            context! {
                page_title => format!("Public vote: {}", campaign.name),
                campaign_name => campaign.name,
                path => path,
                done => done,
                form => form,
                csrf_token => csrf_token,
                errors => summary,
                error => forms::by_field(&summary),
                verified_voters => turnout.verified_voters,
                released => released,
                categories => ballots.iter().map(|b| {
                    let votes = turnout.ballots.iter().find(|t| t.ballot_id == b.ballot_id).map_or(0, |t| t.votes);
                    let report = check.filter(|(id, _)| *id == b.ballot_id).map(|(_, r)| report_view(r));
                    context! {
                        id => b.ballot_id,
                        title => b.title,
                        stage => b.stage,
                        finalists => b.finalists.len(),
                        votes => votes,
                        report => report,
                    }
                }).collect::<Vec<_>>(),
            },
        )
    })?)
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
            return render(&signed, &headers, &slug, Some(&form), None, &errors, None).await;
        }
    };
    signed.platform_admin().await?;
    let client = signed.clients.voting.clone();
    let saved = through_grant_copy(|| {
        let mut client = client.clone();
        let request = signed.signed(request.clone());
        async move { client.schedule_vote(request).await }
    })
    .await;
    match saved {
        Ok(_) => Ok(see_other(&format!("{path}?done=scheduled"))?),
        // The service names each time out of order.
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            let errors = valued_platform::grpc::field_errors(&status);
            render(&signed, &headers, &slug, Some(&form), None, &errors, None).await
        }
        Err(status) => Err(signed.failed_at(VOTING, status)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CheckForm {
    csrf_token: String,
}

/// `POST /admin/campaigns/{slug}/vote/check/{ballot}`: recomputes a category's vote record.
pub async fn check(
    signed: Signed,
    headers: HeaderMap,
    Path((slug, ballot_id)): Path<(String, String)>,
    Form(form): Form<CheckForm>,
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
    render(
        &signed,
        &headers,
        &slug,
        None,
        Some((&ballot_id, &report)),
        &[],
        None,
    )
    .await
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

    fn at(text: &str) -> Option<prost_types::Timestamp> {
        Some(timestamp(
            NaiveDateTime::parse_from_str(text, INPUT_TIME)
                .unwrap()
                .and_utc(),
        ))
    }

    #[test]
    fn typed_times_are_utc_and_every_bad_one_is_named() {
        let now = Utc::now();
        let saved = form(
            "save",
            "2026-12-01T09:00",
            "2026-12-08T17:00",
            "2026-12-09T10:00",
        )
        .request("c", now)
        .unwrap();
        assert_eq!(saved.opens_at, at("2026-12-01T09:00"));
        assert_eq!(saved.results_at, at("2026-12-09T10:00"));
        let errors = form("save", "", "next week", "2026-12-09T10:00")
            .request("c", now)
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["opens_at", "closes_at"]);
    }

    #[test]
    fn closing_now_brings_results_due_earlier_forward_to_now() {
        let now = NaiveDateTime::parse_from_str("2026-12-05T12:00", INPUT_TIME)
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
