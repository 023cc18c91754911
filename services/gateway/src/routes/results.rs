//! A campaign's public vote results: each category's count from its results time (a bar chart drawn
//! on the server as SVG, with the same figures as a table beside it), the winners, the published
//! head of the category's vote ledger, and a check of a voter's receipt against that ledger.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::voting::v1::{
    BallotResult, FindReceiptRequest, FindReceiptResponse, GetCampaignResultsRequest,
};

use super::forms;
use crate::clients::{Clients, VOTING};
use crate::error::{GatewayError, Result};
use crate::routes::page::{self, segment};
use valued_platform::uk_time;

/// The receipt check, asked by GET: it changes nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReceiptQuery {
    ballot: String,
    receipt: String,
}

/// One bar of a chart, laid out.
#[derive(Debug, Serialize, PartialEq)]
struct Bar {
    label: String,
    votes: u64,
    /// Share of the category's votes, "43.5%".
    share: String,
    winner: bool,
    /// The bar's width and the rows' positions in the chart's own units (see `CHART_WIDTH`).
    width: u32,
    label_y: u32,
    bar_y: u32,
    count_x: u32,
}

/// The chart's width in its own units; it scales to the page.
const CHART_WIDTH: u32 = 360;
/// The longest bar, leaving room for its count after it.
const BAR_MAX: u32 = 280;
const ROW: u32 = 52;

fn bars(result: &BallotResult) -> Vec<Bar> {
    let most = result.choices.iter().map(|c| c.votes).max().unwrap_or(0);
    result
        .choices
        .iter()
        .zip(0u32..)
        .map(|(choice, row)| {
            // At least a sliver for any vote, so that 1 is not drawn as 0.
            let width = choice
                .votes
                .saturating_mul(u64::from(BAR_MAX))
                .checked_div(most)
                .map_or(0, |scaled| {
                    u32::try_from(scaled)
                        .unwrap_or(BAR_MAX)
                        .max(u32::from(choice.votes > 0) * 2)
                });
            Bar {
                label: choice.label.clone(),
                votes: choice.votes,
                share: share(choice.votes, result.total_votes),
                winner: result.winner_choice_ids.contains(&choice.choice_id),
                width,
                label_y: row * ROW + 18,
                bar_y: row * ROW + 24,
                count_x: width + 8,
            }
        })
        .collect()
}

/// `votes` as a share of `total`, to one decimal place.
fn share(votes: u64, total: u64) -> String {
    if total == 0 {
        return "0%".into();
    }
    let tenths = (votes.saturating_mul(1000) + total / 2) / total;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// `GET /campaigns/{slug}/results[?ballot=…&receipt=…]`
pub async fn show(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    Query(query): Query<ReceiptQuery>,
) -> Result<Response> {
    let campaign = clients.campaign(&slug).await?;
    let ballots = clients
        .voting
        .clone()
        .get_campaign_results(GetCampaignResultsRequest {
            campaign_id: campaign.id.clone(),
        })
        .await
        .map_err(|status| GatewayError::from_status(VOTING, status))?
        .into_inner()
        .ballots;
    if ballots.is_empty() {
        return Err(GatewayError::NotFound);
    }
    let (found, errors) = if query.receipt.trim().is_empty() && query.ballot.is_empty() {
        (None, Vec::new())
    } else {
        check_receipt(&clients, &ballots, &query).await?
    };
    let summary = forms::summary(&errors, &["ballot", "receipt"], |_| None);
    let released: Vec<&BallotResult> = ballots.iter().filter(|b| b.released).collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    page::render_with_status(
        status,
        "vote/results.html",
        context! {
            page_title => format!("{} results", campaign.name),
            name => campaign.name,
            slug => segment(&campaign.slug),
            categories => ballots.iter().zip(1u32..).map(|(b, n)| {
                let bars = bars(b);
                context! {
                    n => n,
                    id => b.ballot_id,
                    title => b.title,
                    released => b.released,
                    results_on => uk_time::when_of(b.results_at.as_ref()),
                    total => b.total_votes,
                    winners => bars.iter().filter(|bar| bar.winner).map(|bar| bar.label.clone()).collect::<Vec<_>>(),
                    height => u32::try_from(bars.len()).unwrap_or(0) * ROW + 8,
                    width => CHART_WIDTH,
                    bars => bars,
                    head => b.ledger_head,
                    entries => b.ledger_entries,
                }
            }).collect::<Vec<_>>(),
            receipt_ballots => released.iter().map(|b| context! { value => b.ballot_id, label => b.title }).collect::<Vec<_>>(),
            ballot => query.ballot,
            receipt => query.receipt,
            found => found,
            field_errors => forms::by_field(&summary),
            errors => summary,
        },
    )
}

/// Looks the receipt up in the chosen category's ledger: what the page shows of the entry, or why
/// it cannot.
async fn check_receipt(
    clients: &Clients,
    ballots: &[BallotResult],
    query: &ReceiptQuery,
) -> Result<(Option<minijinja::Value>, Vec<FieldError>)> {
    let Some(ballot) = ballots
        .iter()
        .find(|b| b.released && b.ballot_id == query.ballot)
    else {
        return Ok((
            None,
            vec![FieldError::new(
                "ballot",
                "Select the category you voted in",
            )],
        ));
    };
    let found = clients
        .voting
        .clone()
        .find_receipt(FindReceiptRequest {
            ballot_id: ballot.ballot_id.clone(),
            receipt: query.receipt.clone(),
        })
        .await;
    match found {
        Ok(found) => Ok((Some(entry_view(ballot, &found.into_inner())), Vec::new())),
        Err(status) if status.code() == Code::InvalidArgument => Ok((
            None,
            vec![FieldError::new(
                "receipt",
                "Enter your receipt as it was shown to you, like 7K2QD-M0XAF",
            )],
        )),
        Err(status) if status.code() == Code::NotFound => Ok((
            None,
            vec![FieldError::new(
                "receipt",
                format!(
                    "No vote in {} has this receipt. Check it, and that you chose the category \
                     you voted in",
                    ballot.title
                ),
            )],
        )),
        Err(status) => Err(GatewayError::from_status(VOTING, status)),
    }
}

fn entry_view(ballot: &BallotResult, found: &FindReceiptResponse) -> minijinja::Value {
    let entry = found.entry.clone().unwrap_or_default();
    context! {
        category => ballot.title,
        finalist => found.choice_label,
        seq => entry.seq,
        receipt => entry.receipt,
        hour => chrono::DateTime::parse_from_rfc3339(&entry.cast_hour)
            .map(|t| uk_time::hour(t.to_utc()))
            .unwrap_or(entry.cast_hour),
        hash => entry.hash,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use valued_proto::voting::v1::ChoiceTally;

    use super::*;

    fn result(votes: &[(&str, u64)], winners: &[&str]) -> BallotResult {
        BallotResult {
            choices: votes
                .iter()
                .map(|(label, votes)| ChoiceTally {
                    choice_id: label.to_lowercase(),
                    label: (*label).into(),
                    votes: *votes,
                })
                .collect(),
            total_votes: votes.iter().map(|(_, v)| v).sum(),
            winner_choice_ids: winners.iter().map(|w| w.to_lowercase()).collect(),
            released: true,
            ..Default::default()
        }
    }

    #[test]
    fn bars_scale_to_the_most_votes_and_mark_the_winner() {
        let bars = bars(&result(&[("Sam", 150), ("Jo", 300), ("Ali", 1)], &["Jo"]));
        let widths: Vec<u32> = bars.iter().map(|b| b.width).collect();
        assert_eq!(widths, [BAR_MAX / 2, BAR_MAX, 2]);
        let shares: Vec<&str> = bars.iter().map(|b| b.share.as_str()).collect();
        assert_eq!(shares, ["33.3%", "66.5%", "0.2%"]);
        assert_eq!(
            bars.iter()
                .filter(|b| b.winner)
                .map(|b| &b.label)
                .collect::<Vec<_>>(),
            ["Jo"]
        );
        assert_eq!((bars[1].label_y, bars[1].bar_y), (ROW + 18, ROW + 24));
    }

    #[test]
    fn a_category_without_votes_draws_empty_bars() {
        let bars = bars(&result(&[("Sam", 0), ("Jo", 0)], &[]));
        assert!(
            bars.iter()
                .all(|b| b.width == 0 && b.share == "0%" && !b.winner)
        );
    }
}
