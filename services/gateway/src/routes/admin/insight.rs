//! The Insight dashboard (`/admin/insight`): for a trust, a region or the whole country, how many
//! nominations were received, confirmed, and announced as finalists and winners, by month, staff
//! group, band (and trust or region), as charts with the same figures in tables beside them and
//! as CSV; beside them, the "feeling valued" results of the scope's closed staff surveys (the
//! recognition and retention view). Aggregate only: the nomination service withholds any count
//! under 11 and whatever would give it away, and decides who may see which dashboard; the
//! survey-feedback service does the same for its results.

use axum::extract::Path;
use axum::response::Response;
use minijinja::context;
use serde::Serialize;
use valued_platform::uk_time;
use valued_proto::nomination::v1::{
    GetInsightRequest, GetInsightResponse, InsightCount, InsightDimension, InsightRow,
};
use valued_proto::survey::v1 as survey;

use super::chart::{self, Bar};
use super::moderation::neutralise;
use super::signed::{AdminResult, Signed, csv_download};
use crate::error::GatewayError;
use crate::routes::page::segment;

const INSIGHT_PATH: &str = "/admin/insight";
/// How many closed surveys the dashboard shows results of, newest first.
const SURVEYS_SHOWN: usize = 3;

/// Whose dashboard: the scope as the nomination service names it, and the code.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    Trust(&'a str),
    Region(&'a str),
    National,
}

impl Scope<'_> {
    fn request(self) -> GetInsightRequest {
        let (scope, code) = match self {
            Self::Trust(code) => ("trust", code),
            Self::Region(code) => ("region", code),
            Self::National => ("national", ""),
        };
        GetInsightRequest {
            scope: scope.to_owned(),
            scope_code: code.to_owned(),
        }
    }

    fn path(self) -> String {
        match self {
            Self::Trust(code) => format!("{INSIGHT_PATH}/trusts/{}", segment(code)),
            Self::Region(code) => format!("{INSIGHT_PATH}/regions/{}", segment(code)),
            Self::National => format!("{INSIGHT_PATH}/national"),
        }
    }
}

/// A dashboard the caller may open, as the index lists it.
#[derive(Debug, Serialize)]
struct Dashboard {
    label: String,
    path: String,
}

/// `GET /admin/insight`: the dashboards of the caller's roles.
pub async fn index(signed: Signed) -> AdminResult<Response> {
    let me = signed.who_am_i().await?;
    let mut dashboards = Vec::new();
    for grant in &me.grants {
        let (label, scope) = match grant.role.as_str() {
            "platform_admin" => (
                "England, with every region and trust".to_owned(),
                Scope::National,
            ),
            "region_admin" => (
                format!("Region {}, with its trusts", grant.scope),
                Scope::Region(&grant.scope),
            ),
            "trust_admin" => (format!("Trust {}", grant.scope), Scope::Trust(&grant.scope)),
            _ => continue,
        };
        dashboards.push(Dashboard {
            label,
            path: scope.path(),
        });
    }
    Ok(crate::routes::page::render(
        "admin/insight.html",
        context! {
            page_title => "Insight",
            index => true,
            dashboards => dashboards,
        },
    )?)
}

/// `GET /admin/insight/national`
pub async fn national(signed: Signed) -> AdminResult<Response> {
    page(&signed, Scope::National).await
}

/// `GET /admin/insight/regions/{code}`
pub async fn region(signed: Signed, Path(code): Path<String>) -> AdminResult<Response> {
    page(&signed, Scope::Region(&code)).await
}

/// `GET /admin/insight/trusts/{code}`
pub async fn trust(signed: Signed, Path(code): Path<String>) -> AdminResult<Response> {
    page(&signed, Scope::Trust(&code)).await
}

/// `GET /admin/insight/national/figures.csv`
pub async fn national_csv(signed: Signed) -> AdminResult<Response> {
    download(&signed, Scope::National).await
}

/// `GET /admin/insight/regions/{code}/figures.csv`
pub async fn region_csv(signed: Signed, Path(code): Path<String>) -> AdminResult<Response> {
    download(&signed, Scope::Region(&code)).await
}

/// `GET /admin/insight/trusts/{code}/figures.csv`
pub async fn trust_csv(signed: Signed, Path(code): Path<String>) -> AdminResult<Response> {
    download(&signed, Scope::Trust(&code)).await
}

async fn figures(signed: &Signed, scope: Scope<'_>) -> AdminResult<GetInsightResponse> {
    Ok(signed
        .nomination()
        .get_insight(signed.signed(scope.request()))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner())
}

/// What the nomination service calls a breakdown, as a page heads it.
fn caption(dimension: i32) -> &'static str {
    match InsightDimension::try_from(dimension).unwrap_or_default() {
        InsightDimension::Month => "By month",
        InsightDimension::StaffGroup => "By staff group",
        InsightDimension::Band => "By pay band",
        InsightDimension::Trust => "By trust",
        InsightDimension::Region => "By region",
        InsightDimension::Unspecified => "By group",
    }
}

/// One count as a page shows it.
#[derive(Debug, Serialize)]
struct Figure {
    withheld: bool,
    /// The number, or why it is withheld ("fewer than 11").
    text: String,
}

fn figure(count: Option<&InsightCount>) -> Figure {
    match count {
        Some(c) if !c.withheld => Figure {
            withheld: false,
            text: c.value.to_string(),
        },
        Some(c) => Figure {
            withheld: true,
            text: c.withheld_reason.clone(),
        },
        None => Figure {
            withheld: true,
            text: "withheld".to_owned(),
        },
    }
}

#[derive(Debug, Serialize)]
struct RowView {
    label: String,
    /// The group's own dashboard (a region's trusts, the country's regions).
    path: Option<String>,
    received: Figure,
    confirmed: Figure,
    finalists: Figure,
    winners: Figure,
}

fn row_view(row: &InsightRow, path: Option<String>) -> RowView {
    RowView {
        label: row.label.clone(),
        path,
        received: figure(row.received.as_ref()),
        confirmed: figure(row.confirmed.as_ref()),
        finalists: figure(row.finalists.as_ref()),
        winners: figure(row.winners.as_ref()),
    }
}

/// The chart of a breakdown: nominations received per group, withheld groups drawn without a bar
/// and saying why.
fn received_chart(name: &str, caption: &str, rows: &[InsightRow]) -> Option<minijinja::Value> {
    let shown = |row: &InsightRow| {
        row.received
            .as_ref()
            .filter(|c| !c.withheld)
            .map(|c| c.value)
    };
    let scale = rows.iter().filter_map(shown).max()?;
    let bars: Vec<Bar> = rows
        .iter()
        .map(|row| Bar {
            // "Estates and ancillary (porters, …)": the table beside gives the whole name.
            label: row.label.split(" (").next().unwrap_or_default().to_owned(),
            length: shown(row).unwrap_or(0),
            figure: figure(row.received.as_ref()).text,
        })
        .collect();
    Some(chart::bar_chart(
        &format!("Nominations received, {name}"),
        &caption.to_lowercase(),
        &bars,
        scale,
    ))
}

async fn page(signed: &Signed, scope: Scope<'_>) -> AdminResult<Response> {
    let figures = figures(signed, scope).await?;
    let breakdowns: Vec<minijinja::Value> = figures
        .breakdowns
        .iter()
        .map(|b| {
            let caption = caption(b.dimension);
            let link = |row: &InsightRow| match InsightDimension::try_from(b.dimension) {
                Ok(InsightDimension::Trust) => Some(Scope::Trust(&row.code).path()),
                Ok(InsightDimension::Region) if !row.code.is_empty() => {
                    Some(Scope::Region(&row.code).path())
                }
                _ => None,
            };
            context! {
                caption => caption,
                chart => received_chart(&figures.name, caption, &b.rows),
                rows => b.rows.iter().map(|r| row_view(r, link(r))).collect::<Vec<_>>(),
            }
        })
        .collect();
    let total = figures.total.as_ref().map(|t| row_view(t, None));
    let surveys = feeling_valued(signed, scope, &figures).await;
    Ok(crate::routes::page::render(
        "admin/insight.html",
        context! {
            page_title => format!("Insight: {}", figures.name),
            index => false,
            name => figures.name,
            scope => figures.scope,
            code => figures.scope_code,
            csv => format!("{}/figures.csv", scope.path()),
            minimum_group_size => figures.minimum_group_size,
            total => total,
            breakdowns => breakdowns,
            surveys => surveys,
        },
    )?)
}

/// A closed survey's "feeling valued" results, as the dashboard shows them beside the counts.
#[derive(Debug, Serialize)]
struct SurveyView {
    title: String,
    closed_on: Option<String>,
    path: String,
    /// Whose figures: the survey's own, or a trust's within a wider survey.
    whose: String,
    questions: Vec<QuestionView>,
}

#[derive(Debug, Serialize)]
struct QuestionView {
    text: String,
    withheld: bool,
    reason: String,
    answered: u64,
    score: String,
}

/// The results of the scope's closed surveys that the survey-feedback service lets the caller
/// read, newest first: its standard questions' totals (for a trust, its own row of a region's or
/// the country's survey too). `None` when that service does not answer; the counts are shown
/// whatever it says.
async fn feeling_valued(
    signed: &Signed,
    scope: Scope<'_>,
    figures: &GetInsightResponse,
) -> Option<Vec<SurveyView>> {
    let listed = signed
        .survey_answer(survey::ListSurveysRequest {}, async |mut c, r| {
            c.list_surveys(r).await
        })
        .await;
    let listed = match listed {
        Ok(listed) => listed.surveys,
        Err(status) => {
            tracing::warn!(code = ?status.code(), "survey results not shown beside the insight figures");
            return None;
        }
    };
    let code = figures.scope_code.as_str();
    let mut shown = Vec::new();
    // A wider survey may have no row for the trust: a few more are read, never every one.
    for summary in listed
        .iter()
        .filter(|s| relevant(scope, code, s))
        .take(SURVEYS_SHOWN * 2)
    {
        if shown.len() >= SURVEYS_SHOWN {
            break;
        }
        let results = signed
            .survey_answer(
                survey::GetResultsRequest {
                    survey_id: summary.id.clone(),
                },
                async |mut c, r| c.get_results(r).await,
            )
            .await;
        let results = match results {
            Ok(results) => results,
            Err(status) => {
                tracing::warn!(code = ?status.code(), "a survey's results not shown beside the insight figures");
                continue;
            }
        };
        let own = survey::Scope::try_from(summary.scope).unwrap_or_default()
            != survey::Scope::Trust
            && matches!(scope, Scope::Trust(_));
        let questions = standard_results(&results, own.then_some(code));
        if questions.is_empty() {
            continue;
        }
        shown.push(SurveyView {
            title: results.title.clone(),
            closed_on: uk_time::when_of(results.closed_at.as_ref()),
            path: format!("/admin/surveys/{}/results", segment(&summary.id)),
            whose: if own {
                format!("{} within the survey", figures.name)
            } else {
                "Everyone who answered".to_owned()
            },
            questions,
        });
    }
    Some(shown)
}

/// Whether a dashboard shows a survey's results: a closed survey of the same trust or region, or
/// the country's for the country; for a trust, also a region's or the country's (its own row).
fn relevant(scope: Scope<'_>, code: &str, summary: &survey::SurveySummary) -> bool {
    let covers = match (
        scope,
        survey::Scope::try_from(summary.scope).unwrap_or_default(),
    ) {
        (Scope::Trust(_), survey::Scope::Trust) | (Scope::Region(_), survey::Scope::Region) => {
            summary.scope_code.eq_ignore_ascii_case(code)
        }
        (Scope::National, survey::Scope::National)
        | (Scope::Trust(_), survey::Scope::Region | survey::Scope::National) => true,
        _ => false,
    };
    covers && summary.status == survey::SurveyStatus::Closed as i32
}

/// The standard ("feeling valued") questions' figures: the survey's total, or the row of the
/// trust `trust_row` (nothing where the survey has no row for it).
fn standard_results(
    results: &survey::GetResultsResponse,
    trust_row: Option<&str>,
) -> Vec<QuestionView> {
    results
        .questions
        .iter()
        .filter(|q| !q.standard_key.is_empty() && q.kind != survey::QuestionKind::FreeText as i32)
        .filter_map(|q| {
            let cell = q.cells.iter().find(|c| match trust_row {
                Some(code) => {
                    c.dimension == survey::Dimension::Trust as i32
                        && c.code.eq_ignore_ascii_case(code)
                }
                None => c.dimension == survey::Dimension::Total as i32,
            })?;
            Some(QuestionView {
                text: q.text.clone(),
                withheld: cell.withheld,
                reason: cell.withheld_reason.clone(),
                answered: cell.responses,
                score: match survey::QuestionKind::try_from(q.kind).unwrap_or_default() {
                    survey::QuestionKind::Agreement => format!("{:.0}% agree", cell.score),
                    survey::QuestionKind::Recommend => {
                        format!("{:+.0} net recommend score", cell.score)
                    }
                    _ => String::new(),
                },
            })
        })
        .collect()
}

const CSV_HEADER: [&str; 7] = [
    "breakdown",
    "code",
    "group",
    "received",
    "confirmed",
    "finalists",
    "winners",
];

/// The dashboard's figures as CSV: the total, then every breakdown's groups; a withheld count says
/// "withheld", never a number.
fn to_csv(figures: &GetInsightResponse) -> AdminResult<String> {
    let internal = |e: csv::Error| GatewayError::Internal(format!("CSV export: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER).map_err(internal)?;
    let cell = |count: Option<&InsightCount>| match count {
        Some(c) if !c.withheld => c.value.to_string(),
        _ => "withheld".to_owned(),
    };
    let rows =
        figures
            .total
            .iter()
            .map(|t| ("total", t))
            .chain(figures.breakdowns.iter().flat_map(|b| {
                let name = match InsightDimension::try_from(b.dimension).unwrap_or_default() {
                    InsightDimension::Month => "month",
                    InsightDimension::StaffGroup => "staff group",
                    InsightDimension::Band => "band",
                    InsightDimension::Trust => "trust",
                    InsightDimension::Region => "region",
                    InsightDimension::Unspecified => "",
                };
                b.rows.iter().map(move |r| (name, r))
            }));
    for (breakdown, row) in rows {
        let record = [
            breakdown.to_owned(),
            row.code.clone(),
            row.label.clone(),
            cell(row.received.as_ref()),
            cell(row.confirmed.as_ref()),
            cell(row.finalists.as_ref()),
            cell(row.winners.as_ref()),
        ];
        writer
            .write_record(record.iter().map(|c| neutralise(c).into_owned()))
            .map_err(internal)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| GatewayError::Internal(format!("CSV export: {e}")))?;
    Ok(String::from_utf8(bytes).map_err(|e| GatewayError::Internal(e.to_string()))?)
}

async fn download(signed: &Signed, scope: Scope<'_>) -> AdminResult<Response> {
    let figures = figures(signed, scope).await?;
    let name = match scope {
        Scope::National => "england".to_owned(),
        _ => figures.scope_code.to_lowercase(),
    };
    Ok(csv_download(
        &format!("insight-{name}"),
        "figures",
        to_csv(&figures)?.into_bytes(),
    )?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use valued_proto::nomination::v1::InsightBreakdown;

    use super::*;

    fn count(value: u64, withheld: bool) -> Option<InsightCount> {
        Some(InsightCount {
            value,
            withheld,
            withheld_reason: if withheld {
                "fewer than 11".into()
            } else {
                String::new()
            },
        })
    }

    fn row(code: &str, label: &str, received: Option<InsightCount>) -> InsightRow {
        InsightRow {
            code: code.into(),
            label: label.into(),
            received,
            confirmed: count(0, true),
            finalists: count(0, true),
            winners: count(0, true),
        }
    }

    #[test]
    fn the_csv_has_the_total_then_each_breakdown_and_never_a_withheld_number() {
        let figures = GetInsightResponse {
            total: Some(row("", "All nominations", count(14, false))),
            breakdowns: vec![InsightBreakdown {
                dimension: InsightDimension::Month as i32,
                rows: vec![
                    row("2026-10", "October 2026", count(14, false)),
                    row("2026-11", "November 2026", count(0, true)),
                ],
            }],
            ..GetInsightResponse::default()
        };
        let csv = to_csv(&figures).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "breakdown,code,group,received,confirmed,finalists,winners"
        );
        assert_eq!(
            lines[1],
            "total,,All nominations,14,withheld,withheld,withheld"
        );
        assert_eq!(
            lines[2],
            "month,2026-10,October 2026,14,withheld,withheld,withheld"
        );
        assert_eq!(
            lines[3],
            "month,2026-11,November 2026,withheld,withheld,withheld,withheld"
        );
    }

    #[test]
    fn a_chart_needs_one_shown_figure() {
        let rows = [row("2026-10", "October 2026", count(0, true))];
        assert!(received_chart("RJ1", "By month", &rows).is_none());
        let rows = [
            row("2026-10", "October 2026", count(14, false)),
            row("2026-11", "November 2026", count(0, true)),
        ];
        let svg = received_chart("RJ1", "By month", &rows)
            .unwrap()
            .to_string();
        assert!(svg.contains(">fewer than 11<"), "{svg}");
    }

    #[test]
    fn a_trusts_dashboard_shows_its_own_closed_surveys_and_its_row_of_wider_ones() {
        let summary = |scope: survey::Scope, code: &str, status: survey::SurveyStatus| {
            survey::SurveySummary {
                scope: scope as i32,
                scope_code: code.into(),
                status: status as i32,
                ..survey::SurveySummary::default()
            }
        };
        let closed = survey::SurveyStatus::Closed;
        let trust = Scope::Trust("RJ1");
        assert!(relevant(
            trust,
            "RJ1",
            &summary(survey::Scope::Trust, "rj1", closed)
        ));
        assert!(!relevant(
            trust,
            "RJ1",
            &summary(survey::Scope::Trust, "RRK", closed)
        ));
        assert!(!relevant(
            trust,
            "RJ1",
            &summary(survey::Scope::Trust, "RJ1", survey::SurveyStatus::Published)
        ));
        assert!(relevant(
            trust,
            "RJ1",
            &summary(survey::Scope::Region, "Y56", closed)
        ));
        assert!(!relevant(
            Scope::Region("Y56"),
            "Y56",
            &summary(survey::Scope::National, "", closed)
        ));
        assert!(relevant(
            Scope::National,
            "",
            &summary(survey::Scope::National, "", closed)
        ));

        let cell =
            |dimension: survey::Dimension, code: &str, withheld: bool, score: f64| survey::Cell {
                dimension: dimension as i32,
                code: code.into(),
                withheld,
                withheld_reason: if withheld {
                    "fewer than 11 responses".into()
                } else {
                    String::new()
                },
                responses: if withheld { 0 } else { 40 },
                score,
                ..survey::Cell::default()
            };
        let results = survey::GetResultsResponse {
            questions: vec![
                survey::QuestionResult {
                    text: "I feel valued by my organisation".into(),
                    standard_key: "feeling-valued/valued".into(),
                    kind: survey::QuestionKind::Agreement as i32,
                    cells: vec![
                        cell(survey::Dimension::Total, "", false, 62.4),
                        cell(survey::Dimension::Trust, "RJ1", true, 0.0),
                    ],
                    ..survey::QuestionResult::default()
                },
                survey::QuestionResult {
                    text: "Anything else?".into(),
                    kind: survey::QuestionKind::FreeText as i32,
                    cells: vec![cell(survey::Dimension::Total, "", false, 0.0)],
                    ..survey::QuestionResult::default()
                },
            ],
            ..survey::GetResultsResponse::default()
        };
        let total = standard_results(&results, None);
        assert_eq!(total.len(), 1, "only the standard questions");
        assert_eq!(
            (total[0].answered, total[0].score.as_str()),
            (40, "62% agree")
        );
        let row = standard_results(&results, Some("RJ1"));
        assert!(row[0].withheld && row[0].reason == "fewer than 11 responses");
        assert!(standard_results(&results, Some("RRK")).is_empty());
    }
}
