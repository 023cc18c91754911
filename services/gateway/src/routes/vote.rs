//! The public vote: a campaign's finalists per category, and voting in each once the voter has
//! confirmed their email address.
//!
//! - `/campaigns/{slug}/vote` lists the categories. A voter gives their email address once; one
//!   email carries a link and a 6-digit code (for people reading mail on another device). The link
//!   opens a button (`/vote/verify/{token}`: opening a link, as mail scanners do, does nothing);
//!   the code goes in the form the "check your email" page shows.
//! - Either gives the browser a voter pass, kept in an HttpOnly cookie scoped to the campaign's
//!   pages for as long as the pass lasts, which votes in every category without another email.
//! - `/campaigns/{slug}/vote/{ballot}` shows a category's finalists with their stories and takes
//!   the vote; the voter gets a receipt naming their entry in the ballot's published ledger.
//!
//! The voting service decides everything (who may vote, when, once); these pages ask and show.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::{EmailAddress, FieldError};
use valued_proto::nomination::v1::Campaign;
use valued_proto::voting::v1::{
    CampaignBallot, CastVoteRequest, GetVoterStatusRequest, ListCampaignBallotsRequest,
    RequestVoterVerificationRequest, VerifyVoterRequest,
};

use super::forms::{self, Button, PublicForm, PublicPost, Sender, form_page, status_for};
use crate::clients::{Clients, VOTING};
use crate::cookies;
use crate::error::{GatewayError, Result, rate_limited};
use crate::routes::page::{self, see_other, segment};
use crate::templates;
use valued_platform::uk_time::when_of;

/// The cookie holding the browser's voter pass.
pub const COOKIE: &str = "valued_voter";

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EmailForm {
    email: String,
    /// "yes" when the voter asks to hear when the results are out.
    notify_results: String,
}

impl PublicPost for EmailForm {
    const NAME: &'static str = "voter email form";
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CodeForm {
    email: String,
    code: String,
}

impl PublicPost for CodeForm {
    const NAME: &'static str = "voter code form";

    fn back(_path: &str, params: &forms::PathParams) -> String {
        vote_path(&segment(params.get("slug")))
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ChoiceForm {
    choice: String,
}

impl PublicPost for ChoiceForm {
    const NAME: &'static str = "vote form";
}

fn vote_path(slug: &str) -> String {
    format!("/campaigns/{slug}/vote")
}

/// The campaign, its ballots and where this browser's voter stands.
struct Vote {
    campaign: Campaign,
    ballots: Vec<CampaignBallot>,
    /// The browser's voter pass, while it lasts, and the ballots it has voted in.
    voter: Option<Voter>,
}

struct Voter {
    voted: Vec<String>,
}

impl Vote {
    async fn load(clients: &Clients, slug: &str, headers: &HeaderMap) -> Result<Self> {
        let campaign = clients.campaign(slug).await?;
        let ballots = clients
            .voting
            .clone()
            .list_campaign_ballots(ListCampaignBallotsRequest {
                campaign_id: campaign.id.clone(),
            })
            .await
            .map_err(|status| GatewayError::from_status(VOTING, status))?
            .into_inner()
            .ballots;
        let voter = match cookies::value(headers, COOKIE).filter(|p| forms::is_token(p)) {
            Some(pass) => voter(clients, pass, &campaign.id).await?,
            None => None,
        };
        Ok(Self {
            campaign,
            ballots,
            voter,
        })
    }

    fn slug(&self) -> String {
        segment(&self.campaign.slug)
    }

    fn ballot(&self, id: &str) -> Option<&CampaignBallot> {
        self.ballots.iter().find(|b| b.ballot_id == id)
    }

    fn voted_in(&self, ballot: &CampaignBallot) -> bool {
        self.voter
            .as_ref()
            .is_some_and(|v| v.voted.contains(&ballot.ballot_id))
    }

    /// What the pages say of the vote as a whole: open when any ballot is.
    fn stage(&self) -> &str {
        for stage in ["open", "closed", "results"] {
            if self.ballots.iter().any(|b| b.stage == stage) {
                return stage;
            }
        }
        "waiting"
    }

    fn view(&self) -> minijinja::Value {
        let slug = self.slug();
        let first = self.ballots.first();
        context! {
            name => self.campaign.name,
            slug => slug,
            stage => self.stage(),
            opens_on => first.and_then(|b| when_of(b.opens_at.as_ref())),
            closes_on => first.and_then(|b| when_of(b.closes_at.as_ref())),
            results_on => first.and_then(|b| when_of(b.results_at.as_ref())),
            verified => self.voter.is_some(),
            ballots => self.ballots.iter().map(|b| context! {
                id => b.ballot_id,
                title => b.title,
                stage => b.stage,
                href => format!("{}/{}", vote_path(&slug), segment(&b.ballot_id)),
                voted => self.voted_in(b),
                finalists => b.finalists.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            }).collect::<Vec<_>>(),
        }
    }
}

/// The voter a pass names, when it is a live pass for this campaign.
async fn voter(clients: &Clients, pass: &str, campaign_id: &str) -> Result<Option<Voter>> {
    let status = clients
        .voting
        .clone()
        .get_voter_status(GetVoterStatusRequest {
            voter_pass: pass.to_owned(),
        })
        .await;
    match status {
        Ok(status) => {
            let status = status.into_inner();
            Ok((status.campaign_id == campaign_id).then_some(Voter {
                voted: status.voted_ballot_ids,
            }))
        }
        // Ended or unknown: the voter confirms their address again.
        Err(status) if matches!(status.code(), Code::FailedPrecondition | Code::NotFound) => {
            Ok(None)
        }
        Err(status) => Err(GatewayError::from_status(VOTING, status)),
    }
}

/// `GET /campaigns/{slug}/vote`
pub async fn show(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let vote = Vote::load(&clients, &slug, &headers).await?;
    overview(&headers, &vote, &EmailForm::default(), &[])
}

fn overview(
    headers: &HeaderMap,
    vote: &Vote,
    form: &EmailForm,
    errors: &[FieldError],
) -> Result<Response> {
    if vote.ballots.is_empty() {
        return Err(GatewayError::NotFound);
    }
    let summary = forms::summary(errors, &["email"], |_| None);
    form_page(headers, status_for(errors), |csrf_token| {
        templates::render(
            "vote/overview.html",
            context! {
                page_title => format!("Vote for the {} finalists", vote.campaign.name),
                vote => vote.view(),
                email => form.email,
                notify_results => form.notify_results == "yes",
                action => vote_path(&vote.slug()),
                csrf_token => csrf_token,
                field_errors => forms::by_field(&summary),
                errors => summary,
            },
        )
    })
}

/// `POST /campaigns/{slug}/vote`: the voter's email address.
pub async fn request(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<EmailForm>,
) -> Result<Response> {
    let vote = Vote::load(&clients, &slug, &headers).await?;
    let address = match EmailAddress::parse("email", &form.email) {
        Ok(address) => address,
        Err(error) => return overview(&headers, &vote, &form, &[error]),
    };
    if sender == Sender::Bot {
        return code_page(&headers, &vote, address.as_str(), "", &[]);
    }
    let requested = clients
        .voting
        .clone()
        .request_voter_verification(RequestVoterVerificationRequest {
            campaign_id: vote.campaign.id.clone(),
            email: address.as_str().to_owned(),
            notify_results: form.notify_results == "yes",
        })
        .await;
    match requested {
        Ok(_) => code_page(&headers, &vote, address.as_str(), "", &[]),
        Err(status) => match refusal(&status) {
            Some(errors) => overview(&headers, &vote, &form, &errors),
            None => Err(GatewayError::from_status(VOTING, status)),
        },
    }
}

/// What the voting service refused, as the form's errors: a field's own (a bad or ineligible
/// address, or one used too often today), or the whole form's (not open, the session ended, too
/// many from the voter's network); `None` for a failure that is not about the form.
fn refusal(status: &tonic::Status) -> Option<Vec<FieldError>> {
    match status.code() {
        Code::InvalidArgument => Some(valued_platform::grpc::field_errors(status)),
        Code::FailedPrecondition => Some(vec![FieldError::new("", status.message())]),
        _ if rate_limited(status) => Some(vec![FieldError::new("", status.message())]),
        _ => None,
    }
}

/// "Check your email", with the form for the code.
fn code_page(
    headers: &HeaderMap,
    vote: &Vote,
    email: &str,
    code: &str,
    errors: &[FieldError],
) -> Result<Response> {
    let summary = forms::summary(errors, &["code"], |_| Some("code"));
    form_page(headers, status_for(errors), |csrf_token| {
        templates::render(
            "vote/check_email.html",
            context! {
                page_title => "Check your email",
                vote => vote.view(),
                email => email,
                code => code,
                action => format!("{}/code", vote_path(&vote.slug())),
                csrf_token => csrf_token,
                field_errors => forms::by_field(&summary),
                errors => summary,
            },
        )
    })
}

/// `POST /campaigns/{slug}/vote/code`: the 6-digit code from the email.
pub async fn code(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<CodeForm>,
) -> Result<Response> {
    let vote = Vote::load(&clients, &slug, &headers).await?;
    let code: String = form.code.chars().filter(char::is_ascii_digit).collect();
    if code.len() != 6 || form.code.chars().any(|c| c.is_alphabetic()) {
        let error = FieldError::new("code", "Enter the 6-digit code from the email, like 042917");
        return code_page(&headers, &vote, &form.email, &form.code, &[error]);
    }
    if sender == Sender::Bot {
        return see_other(&vote_path(&vote.slug()));
    }
    let verified = clients
        .voting
        .clone()
        .verify_voter(VerifyVoterRequest {
            campaign_id: vote.campaign.id.clone(),
            email: form.email.clone(),
            code,
            ..Default::default()
        })
        .await;
    match verified {
        Ok(response) => verified_redirect(&headers, &vote.campaign, response.into_inner()),
        Err(status) if status.code() == Code::NotFound => {
            let error = FieldError::new(
                "code",
                "The code is not right, or has expired. Check the latest email we sent you, \
                 or ask for a new code",
            );
            code_page(&headers, &vote, &form.email, &form.code, &[error])
        }
        Err(status) => match refusal(&status) {
            Some(errors) => code_page(&headers, &vote, &form.email, &form.code, &errors),
            None => Err(GatewayError::from_status(VOTING, status)),
        },
    }
}

/// To the campaign's vote page, with the voter pass in the browser.
fn verified_redirect(
    headers: &HeaderMap,
    campaign: &Campaign,
    verified: valued_proto::voting::v1::VerifyVoterResponse,
) -> Result<Response> {
    let slug = segment(&campaign.slug);
    let mut response = see_other(&vote_path(&slug))?;
    let lasts = verified
        .expires_at
        .map_or(0, |t| t.seconds - chrono::Utc::now().timestamp())
        .max(0);
    let secure = if crate::csrf::is_https(headers) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={}; Path=/campaigns/{slug}; Max-Age={lasts}; HttpOnly; SameSite=Lax{secure}",
        verified.voter_pass
    );
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| GatewayError::Internal("a voter pass that is not a cookie value".into()))?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `GET /vote/verify/{token}`: the emailed link opens a button, not the verification.
pub async fn show_verify(Path(token): Path<String>, headers: HeaderMap) -> Result<Response> {
    if !forms::is_token(&token) {
        return link_not_found();
    }
    forms::button_page(
        &headers,
        "vote/verify.html",
        "Confirm your email address",
        &format!("/vote/verify/{}", segment(&token)),
    )
}

/// `POST /vote/verify/{token}`
pub async fn verify(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    headers: HeaderMap,
    PublicForm { sender, .. }: PublicForm<Button>,
) -> Result<Response> {
    if !forms::is_token(&token) || sender == Sender::Bot {
        return link_not_found();
    }
    let verified = clients
        .voting
        .clone()
        .verify_voter(VerifyVoterRequest {
            token,
            ..Default::default()
        })
        .await;
    let verified = match verified {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == Code::NotFound => return link_not_found(),
        Err(status) if rate_limited(&status) => {
            return forms::message_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Please try again later",
                &[status.message()],
                None,
            );
        }
        Err(status) => return Err(GatewayError::from_status(VOTING, status)),
    };
    let campaign = clients
        .campaigns()
        .await?
        .into_iter()
        .find(|c| c.id == verified.campaign_id)
        .ok_or(GatewayError::NotFound)?;
    verified_redirect(&headers, &campaign, verified)
}

fn link_not_found() -> Result<Response> {
    forms::message_page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        &[
            "Check that you opened the whole link from the latest email we sent you. Each link \
             works once, for 30 minutes.",
            "If it has expired, go back to the vote and give your email address again, or type \
             the code from the email.",
        ],
        None,
    )
}

/// `GET /campaigns/{slug}/vote/{ballot}`: a category's finalists, and the vote.
pub async fn ballot(
    State(clients): State<Clients>,
    Path((slug, ballot_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let vote = Vote::load(&clients, &slug, &headers).await?;
    ballot_page(&headers, &vote, &ballot_id, "", &[])
}

fn ballot_page(
    headers: &HeaderMap,
    vote: &Vote,
    ballot_id: &str,
    choice: &str,
    errors: &[FieldError],
) -> Result<Response> {
    let ballot = vote.ballot(ballot_id).ok_or(GatewayError::NotFound)?;
    let summary = forms::summary(errors, &["choice"], |_| Some("choice"));
    let slug = vote.slug();
    form_page(headers, status_for(errors), |csrf_token| {
        templates::render(
            "vote/ballot.html",
            context! {
                page_title => ballot.title,
                vote => vote.view(),
                stage => ballot.stage,
                voted => vote.voted_in(ballot),
                finalists => ballot.finalists.iter().map(|f| context! {
                    value => f.choice_id,
                    label => f.name,
                    job_title => f.job_title,
                    trust => f.trust_name,
                    region => f.region_name,
                    story => f.story_excerpt,
                }).collect::<Vec<_>>(),
                choice => choice,
                action => format!("{}/{}", vote_path(&slug), segment(&ballot.ballot_id)),
                csrf_token => csrf_token,
                field_errors => forms::by_field(&summary),
                errors => summary,
            },
        )
    })
}

/// `POST /campaigns/{slug}/vote/{ballot}`: the vote. One call to the voting service, whose answer
/// carries what the receipt page shows; the campaign and its ballots are read only to explain a
/// refusal.
pub async fn cast(
    State(clients): State<Clients>,
    Path((slug, ballot_id)): Path<(String, String)>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<ChoiceForm>,
) -> Result<Response> {
    let pass = cookies::value(&headers, COOKIE).filter(|p| forms::is_token(p));
    let Some(pass) = pass else {
        return refused(
            &clients,
            (&slug, &ballot_id),
            &headers,
            &form.choice,
            Vec::new(),
        )
        .await;
    };
    if form.choice.trim().is_empty() {
        return refused(
            &clients,
            (&slug, &ballot_id),
            &headers,
            &form.choice,
            vec![choose()],
        )
        .await;
    }
    if sender == Sender::Bot {
        return see_other(&vote_path(&segment(&slug)));
    }
    let cast = clients
        .voting
        .clone()
        .cast_vote(CastVoteRequest {
            ballot_id: ballot_id.clone(),
            choice_id: form.choice.clone(),
            voter_pass: pass.to_owned(),
            ..Default::default()
        })
        .await;
    match cast {
        Ok(response) => voted(&segment(&slug), &response.into_inner()),
        Err(status) if status.code() == Code::AlreadyExists => forms::message_page(
            StatusCode::CONFLICT,
            "You have already voted in this category",
            &[
                "Each person can vote once in each category. Your first vote is the one that counts.",
            ],
            Some((&vote_path(&segment(&slug)), "Vote in the other categories")),
        ),
        Err(status) => match refusal(&status) {
            Some(errors) => {
                let errors = errors
                    .into_iter()
                    .map(|e| if e.field == "choice_id" { choose() } else { e })
                    .collect();
                refused(
                    &clients,
                    (&slug, &ballot_id),
                    &headers,
                    &form.choice,
                    errors,
                )
                .await
            }
            None => Err(GatewayError::from_status(VOTING, status)),
        },
    }
}

/// The page that explains a vote not taken: the category page with `errors`, or, when the pass has
/// ended, the first page asking for the address again.
async fn refused(
    clients: &Clients,
    (slug, ballot_id): (&str, &str),
    headers: &HeaderMap,
    choice: &str,
    errors: Vec<FieldError>,
) -> Result<Response> {
    let vote = Vote::load(clients, slug, headers).await?;
    if vote.ballot(ballot_id).is_none() {
        return Err(GatewayError::NotFound);
    }
    if vote.voter.is_none() {
        // The pass ended (or never was): confirm the address again, then vote.
        let error = FieldError::new(
            "email",
            "Your voting session has ended. Enter your email address again to vote",
        );
        return overview(headers, &vote, &EmailForm::default(), &[error]);
    }
    ballot_page(headers, &vote, ballot_id, choice, &errors)
}

fn choose() -> FieldError {
    FieldError::new("choice", "Select the finalist you are voting for")
}

fn voted(slug: &str, cast: &valued_proto::voting::v1::CastVoteResponse) -> Result<Response> {
    page::render(
        "vote/voted.html",
        context! {
            page_title => if cast.held { "Your vote has been recorded" } else { "Your vote has been counted" },
            vote => context! { name => cast.campaign_name },
            category => cast.ballot_title,
            finalist => cast.choice_label,
            held => cast.held,
            receipt => cast.receipt,
            others => cast.open_ballots_left,
            back => vote_path(slug),
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_stays_at_its_field_and_a_closed_vote_is_the_forms() {
        let limited = valued_platform::grpc::invalid_argument(&[FieldError::new("email", "x")]);
        assert_eq!(refusal(&limited).unwrap()[0].field, "email");
        let closed = tonic::Status::failed_precondition("Voting closed on 1 December");
        let errors = refusal(&closed).unwrap();
        assert_eq!(
            (errors[0].field.as_str(), errors[0].message.as_str()),
            ("", "Voting closed on 1 December")
        );
        assert!(refusal(&tonic::Status::internal("boom")).is_none());
    }
}
