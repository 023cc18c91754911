//! The start of every journey: the campaigns and each campaign's start page.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use valued_proto::nomination::v1::{
    Campaign, ListRecognisedRequest, OpenLearningRouteRequest, RecognisedEntry,
};
use valued_proto::voting::v1::ListCampaignBallotsRequest;

use crate::clients::Clients;
use crate::error::Result;
use crate::routes::campaign_view::CampaignView;
use crate::routes::page::{self, see_other};
use crate::routes::write_to_mp;

/// `GET /`: straight to the campaign when there is one, else the list of campaigns.
pub async fn index(State(clients): State<Clients>) -> Result<Response> {
    let campaigns = clients.campaigns().await?;
    let campaigns: Vec<CampaignView> = campaigns.iter().map(CampaignView::from).collect();
    if let [only] = campaigns.as_slice() {
        return see_other(&format!("/campaigns/{}", only.slug));
    }
    page::render(
        "campaigns.html",
        context! {
            page_title => "Do you know a health hero?",
            campaigns => campaigns,
        },
    )
}

/// `GET /campaigns/{slug}`: the campaign's start page.
pub async fn show(State(clients): State<Clients>, Path(slug): Path<String>) -> Result<Response> {
    let campaign = clients.campaign(&slug).await?;
    let recognised = recognised(&clients, &campaign.id).await;
    let vote = public_vote(&clients, &campaign.id).await;
    let stories = crate::routes::story::published(&clients, &campaign).await;
    let mp_letter = mp_letter(&clients, &campaign).await;
    let campaign = CampaignView::from(&campaign);
    page::render(
        "campaign.html",
        context! {
            page_title => campaign.name.clone(),
            campaign => campaign,
            winners => recognised.iter().filter(|e| e.kind == "winner").map(entry_view).collect::<Vec<_>>(),
            finalists => recognised.iter().filter(|e| e.kind == "finalist").map(entry_view).collect::<Vec<_>>(),
            vote => vote,
            stories => stories,
            mp_letter => mp_letter,
        },
    )
}

/// `GET /campaigns/{slug}/routes/{id}`: a campaign's learning route's link. The nomination
/// service counts the open (a number, nothing about who) and answers the address its admins
/// stored; the visitor is sent there and nowhere else: nothing in the request becomes the
/// destination.
pub async fn open_route(
    State(clients): State<Clients>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response> {
    followed(
        &clients,
        OpenLearningRouteRequest {
            campaign_slug: slug,
            route_id: id,
            trust_code: String::new(),
        },
    )
    .await
}

/// `GET /trusts/{code}/routes/{id}`: a trust's learning route's link, from its nominees' emails
/// and its own campaigns' pages; counted and followed as a campaign's.
pub async fn open_trust_route(
    State(clients): State<Clients>,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response> {
    followed(
        &clients,
        OpenLearningRouteRequest {
            campaign_slug: String::new(),
            route_id: id,
            trust_code: code,
        },
    )
    .await
}

/// Counts the open of the route `request` names and sends the visitor to its stored address.
async fn followed(clients: &Clients, request: OpenLearningRouteRequest) -> Result<Response> {
    let url = clients.open_learning_route(request).await?;
    // The service takes only https:// addresses; anything else stored is not followed.
    if !url.starts_with("https://") {
        return Err(crate::error::GatewayError::NotFound);
    }
    see_other(&url)
}

/// The types a campaign's page takes, and whether a browser may show each in place (PDF and
/// images: it renders them without running anything of theirs, under the `sandbox` policy) or
/// should save it (Office files).
const FILE_TYPES: &[(&str, bool)] = &[
    ("application/pdf", true),
    ("image/png", true),
    ("image/jpeg", true),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        false,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        false,
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        false,
    ),
];

/// How long a browser or a cache may keep a campaign's file: it never changes under its address
/// (a new upload is a new item), but a removed one should go within the hour.
const FILE_CACHE_CONTROL: &str = "public, max-age=3600";

/// `GET /campaigns/{slug}/files/{id}/{name}`: a file uploaded as a resource of the campaign's page,
/// as the nomination service found its type from its content. The name in the address is for
/// people; the download is named as stored. Served so that it can never act as a page of this
/// site: `nosniff`, a `sandbox` policy, and saved rather than shown unless it is a PDF or image.
pub async fn file(
    State(clients): State<Clients>,
    Path((slug, id, _name)): Path<(String, String, String)>,
) -> Result<Response> {
    let (file, content) = clients.campaign_file(&slug, &id).await?;
    let (content_type, inline) = FILE_TYPES
        .iter()
        .find(|(known, _)| *known == file.content_type)
        .copied()
        .unwrap_or(("application/octet-stream", false));
    let name: String = file
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let disposition = format!(
        "{}; filename=\"{}\"",
        if inline { "inline" } else { "attachment" },
        if name.is_empty() { "file" } else { &name }
    );
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition)
                .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(FILE_CACHE_CONTROL),
        ),
        (header::CONTENT_LENGTH, HeaderValue::from(content.len())),
    ];
    Ok((headers, content).into_response())
}

/// The path a campaign's page links an uploaded file by.
pub fn file_path(slug: &str, id: &str, name: &str) -> String {
    format!(
        "/campaigns/{}/files/{}/{}",
        page::segment(slug),
        page::segment(id),
        page::segment(name)
    )
}

/// "Email your MP" on the campaign's page: the link to its letter page when its organisers
/// suggest a letter, and how many have written for it. Nothing when neither (or the notification
/// service cannot say).
async fn mp_letter(clients: &Clients, campaign: &Campaign) -> Option<minijinja::Value> {
    let (wording, written) = tokio::join!(
        write_to_mp::suggested_wording(clients, &campaign.id),
        write_to_mp::letters_written(clients, Some(&campaign.id))
    );
    let written = written.and_then(|(_, ours)| write_to_mp::people_have_written(ours));
    let path = (!wording.is_empty()).then(|| write_to_mp::campaign_path(campaign));
    (path.is_some() || written.is_some()).then(|| context! { path => path, written => written })
}

/// The campaign's finalists and winners, only as their consent allows (the service leaves out the
/// rest). The start page still shows without them if the call fails.
async fn recognised(clients: &Clients, campaign_id: &str) -> Vec<RecognisedEntry> {
    match clients
        .nomination
        .clone()
        .list_recognised(ListRecognisedRequest {
            campaign_id: campaign_id.to_owned(),
        })
        .await
    {
        Ok(response) => response.into_inner().entries,
        Err(status) => {
            tracing::warn!(%status, "cannot list the campaign's finalists and winners");
            Vec::new()
        }
    }
}

/// Where the campaign's public vote stands, when it has one: open when any category is, else
/// waiting, closed or with results. The start page still shows without it if the call fails.
async fn public_vote(clients: &Clients, campaign_id: &str) -> Option<&'static str> {
    let ballots = match clients
        .voting
        .clone()
        .list_campaign_ballots(ListCampaignBallotsRequest {
            campaign_id: campaign_id.to_owned(),
        })
        .await
    {
        Ok(response) => response.into_inner().ballots,
        Err(status) => {
            tracing::warn!(%status, "cannot find the campaign's public vote");
            return None;
        }
    };
    ["open", "closed", "results", "waiting"]
        .into_iter()
        .find(|stage| ballots.iter().any(|b| b.stage == *stage))
}

fn entry_view(entry: &RecognisedEntry) -> minijinja::Value {
    context! {
        category => entry.category_name,
        region => entry.region_name,
        trust => entry.trust_name,
        name => entry.nominee_name,
        job_title => entry.nominee_job_title,
        story => entry.story,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::routes::nominate::tests::campaign;
    use crate::templates::render;

    #[test]
    fn the_start_page_shows_the_campaign_and_links_to_the_form() {
        let mut campaign = campaign();
        campaign.name = "Heroes & <friends>".into();
        let view = CampaignView::from(&campaign);
        let html = render(
            "campaign.html",
            context! { page_title => view.name.clone(), campaign => view },
        )
        .unwrap();
        assert!(html.contains("<title>Heroes &amp; &lt;friends&gt; – Valued – NHS</title>"));
        assert!(html.contains("<h1>Heroes &amp; &lt;friends&gt;</h1>"));
        assert!(html.contains(
            r#"<p class="nhsuk-lede-text">Thank the people who keep the NHS running.</p>"#
        ));
        assert!(html.contains("<p>Nominations close in March.</p>"));
        assert!(html.contains("Unsung hero"));
        assert!(html.contains("Someone who makes the whole team better."));
        assert!(html.contains(
            r#"<a class="nhsuk-button" data-module="nhsuk-button" href="/campaigns/health-heroes/nominate" role="button" draggable="false">"#
        ));
        assert!(html.contains("up to 300 words"));
        let closes = (chrono::Utc::now() + chrono::Duration::days(30))
            .format("%-d %B %Y")
            .to_string();
        assert!(html.contains(&format!("Nominations close on <strong>{closes}</strong>")));
    }

    #[test]
    fn an_open_public_vote_is_offered_and_results_are_linked_once_out() {
        let view = CampaignView::from(&campaign());
        let page = |vote: &str| {
            render(
                "campaign.html",
                context! { page_title => "x", campaign => view.clone(), vote => vote },
            )
            .unwrap()
        };
        assert!(page("open").contains(r#"href="/campaigns/health-heroes/vote" role="button""#));
        assert!(page("results").contains(r#"<a href="/campaigns/health-heroes/results">"#));
        assert!(page("waiting").contains("Read about the finalists in the public vote"));
        assert!(!page("").contains("/vote"));
    }

    #[test]
    fn a_suggested_letter_is_linked_with_how_many_have_written() {
        let view = CampaignView::from(&campaign());
        let page = |mp_letter: Option<minijinja::Value>| {
            render(
                "campaign.html",
                context! { page_title => "x", campaign => view.clone(), mp_letter => mp_letter },
            )
            .unwrap()
        };
        let html = page(Some(context! {
            path => "/campaigns/health-heroes/write-to-your-mp",
            written => "1,234 people have written to their MP",
        }));
        assert!(
            html.contains(
                r#"<a href="/campaigns/health-heroes/write-to-your-mp">Email your MP</a>"#
            )
        );
        assert!(html.contains("<strong>1,234 people have written to their MP.</strong>"));
        // Letters written, the wording since cleared: the count without the link.
        let counted = page(Some(context! {
            path => None::<String>,
            written => "1 person has written to their MP",
        }));
        assert!(counted.contains("1 person has written to their MP."));
        assert!(!counted.contains("write-to-your-mp"));
        assert!(!page(None).contains("Email your MP"));
    }

    #[test]
    fn learning_routes_are_grouped_by_category_and_linked_through_the_counter() {
        use valued_proto::nomination::v1::{Choice, LearningRoute};
        let mut campaign = campaign();
        campaign.staff_groups = vec![Choice {
            value: "estates-and-ancillary".into(),
            label: "Estates and ancillary".into(),
        }];
        campaign.learning_routes = vec![
            LearningRoute {
                id: "r-team".into(),
                title: "Team leader course".into(),
                url: "https://example.org/team".into(),
                category_id: "cat-team".into(),
                ..LearningRoute::default()
            },
            LearningRoute {
                id: "r-all".into(),
                title: "Apprenticeships".into(),
                url: "https://example.org/apprenticeships".into(),
                description: "Earn while you learn.".into(),
                staff_group: "estates-and-ancillary".into(),
                ..LearningRoute::default()
            },
            LearningRoute {
                id: "r-gone".into(),
                title: "From a removed category".into(),
                url: "https://example.org/gone".into(),
                category_id: "cat-removed".into(),
                ..LearningRoute::default()
            },
        ];
        let view = CampaignView::from(&campaign);
        let html = render(
            "campaign.html",
            context! { page_title => "x", campaign => view },
        )
        .unwrap();
        let everyone = html
            .find(r#"<a href="/campaigns/health-heroes/routes/r-all">Apprenticeships</a>: Earn while you learn. <span class="nhsuk-body-s">(Estates and ancillary)</span>"#)
            .expect("the route for everyone, with its staff group");
        let gone = html
            .find(r#"<a href="/campaigns/health-heroes/routes/r-gone">"#)
            .expect("a removed category's route, for everyone");
        let heading = html
            .find("For Team player</h3>")
            .expect("the category's heading");
        let team = html
            .find(r#"<a href="/campaigns/health-heroes/routes/r-team">Team leader course</a>"#)
            .expect("the category's route");
        assert!(
            everyone < gone && gone < heading && heading < team,
            "{html}"
        );
        assert!(
            !html.contains("example.org"),
            "only the counting links: {html}"
        );
        assert!(
            !render(
                "campaign.html",
                context! { page_title => "x", campaign => CampaignView::from(&crate::routes::nominate::tests::campaign()) },
            )
            .unwrap()
            .contains("Learning and career routes")
        );
    }

    #[test]
    fn a_closed_campaign_has_no_start_button() {
        let mut closed = campaign();
        closed.nominations_open_at = Some(crate::routes::nominate::tests::days_from_now(-30));
        closed.nominations_close_at = Some(crate::routes::nominate::tests::days_from_now(-1));
        let view = CampaignView::from(&closed);
        let html = render(
            "campaign.html",
            context! { page_title => view.name.clone(), campaign => view },
        )
        .unwrap();
        assert!(!html.contains("Nominate someone"));
        assert!(html.contains("Nominations are not open: they run from"));
    }

    #[test]
    fn the_list_links_every_campaign() {
        let mut other = campaign();
        other.slug = "porters 2026".into();
        let views = vec![CampaignView::from(&campaign()), CampaignView::from(&other)];
        let html = render(
            "campaigns.html",
            context! { page_title => "Do you know a health hero?", campaigns => views },
        )
        .unwrap();
        assert!(html.contains(r#"<a href="/campaigns/health-heroes">Health Heroes 2026</a>"#));
        assert!(html.contains(r#"<a href="/campaigns/porters%202026">"#));
    }
}
