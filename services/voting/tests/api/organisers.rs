//! Who runs a campaign's public vote: its own trust or region admins, as the finalists' announcement
//! says whose campaign it is, and platform admins any; a ballot made by hand, platform admins only.
//! And a campaign that votes per region: a ballot per region and category.

use sea_orm::EntityTrait;
use tonic::Code;
use valued_platform::Envelope;
use valued_proto::voting::v1 as pb;

use crate::helpers::{TestApp, spawn_app, spawn_embedded_app};
use crate::public_vote::{announced, timetable};

const TRUST_CAMPAIGN: &str = "0193a1b2-0000-7000-8000-0000000000a1";
const REGION_CAMPAIGN: &str = "0193a1b2-0000-7000-8000-0000000000a2";
const NATIONAL_CAMPAIGN: &str = "0193a1b2-0000-7000-8000-0000000000a3";

/// A campaign as its finalists' announcement describes it.
struct Campaign<'a> {
    id: &'a str,
    /// `(scope, code)` as the nomination service announces it.
    scope: (&'a str, &'a str),
    vote_per_region: bool,
}

/// `nominee`, a finalist in `category` of `campaign` from the region `(code, name)`.
fn finalist(
    campaign: &Campaign<'_>,
    nominee: &str,
    category: &str,
    (code, name): (&str, &str),
) -> Envelope {
    let mut announced = announced(nominee, nominee, category, &timetable(-1, 6, 8));
    if let Some(finalist) = announced.finalist.as_mut() {
        finalist.campaign_id = campaign.id.into();
        finalist.region_code = code.into();
        finalist.region_name = name.into();
    }
    announced.campaign_scope = campaign.scope.0.into();
    announced.campaign_scope_code = campaign.scope.1.into();
    announced.vote_per_region = campaign.vote_per_region;
    Envelope::new("nomination", None, &announced)
}

impl TestApp {
    /// Every organiser RPC about `campaign` and its ballot `ballot_id`, as the holder of `token`
    /// (none: anonymous), with what each answered.
    async fn organise(
        &self,
        token: Option<&str>,
        campaign: &str,
        ballot_id: &str,
    ) -> Vec<(&'static str, Code)> {
        valued_testkit::voting::organise(&self.client, token, campaign, ballot_id).await
    }
}

/// The RPCs of `answers` that refused the caller as `code` does.
fn refused(answers: &[(&'static str, Code)], code: Code) -> Vec<&'static str> {
    answers
        .iter()
        .filter(|(_, answered)| *answered == code)
        .map(|(rpc, _)| *rpc)
        .collect()
}

/// The names of every RPC [`TestApp::organise`] calls.
fn every(answers: &[(&'static str, Code)]) -> Vec<&'static str> {
    answers.iter().map(|(rpc, _)| *rpc).collect()
}

async fn a_campaigns_own_admins_run_its_vote_and_nobody_else(app: TestApp) {
    let trust = Campaign {
        id: TRUST_CAMPAIGN,
        scope: ("trust", "RJ1"),
        vote_per_region: false,
    };
    let region = Campaign {
        id: REGION_CAMPAIGN,
        scope: ("region", "Y56"),
        vote_per_region: false,
    };
    let national = Campaign {
        id: NATIONAL_CAMPAIGN,
        scope: ("national", ""),
        vote_per_region: false,
    };
    let london = ("Y56", "London");
    app.announce(&[
        finalist(&trust, "nominee-sam", "Porter", london),
        finalist(&region, "nominee-jo", "Porter", london),
        finalist(&national, "nominee-ali", "Porter", london),
    ])
    .await;
    let ballot = |campaign: &'static str| {
        let app = &app;
        async move { app.ballots_of(campaign, 1).await.remove(0).ballot_id }
    };
    let (trust_ballot, region_ballot, national_ballot) = (
        ballot(TRUST_CAMPAIGN).await,
        ballot(REGION_CAMPAIGN).await,
        ballot(NATIONAL_CAMPAIGN).await,
    );
    let rj1 = app
        .admin_holding("awards@rj1.example.org", ("trust_admin", "RJ1"))
        .await;
    let rj2 = app
        .admin_holding("awards@rj2.example.org", ("trust_admin", "RJ2"))
        .await;
    let y56 = app
        .admin_holding("awards@london.example.org", ("region_admin", "Y56"))
        .await;
    let judge = app
        .admin_holding("judge@example.org", ("judge", TRUST_CAMPAIGN))
        .await;

    // The trust's own admins run the trust's campaign's vote; another trust's, the region's
    // (as in the nomination service) and a judge of it may not; anonymous callers sign in first.
    let answers = app
        .organise(Some(&rj1), TRUST_CAMPAIGN, &trust_ballot)
        .await;
    assert!(
        refused(&answers, Code::PermissionDenied).is_empty(),
        "{answers:?}"
    );
    assert!(
        refused(&answers, Code::Unauthenticated).is_empty(),
        "{answers:?}"
    );
    for token in [&rj2, &y56, &judge] {
        let answers = app
            .organise(Some(token), TRUST_CAMPAIGN, &trust_ballot)
            .await;
        assert_eq!(refused(&answers, Code::PermissionDenied), every(&answers));
    }
    let answers = app.organise(None, TRUST_CAMPAIGN, &trust_ballot).await;
    assert_eq!(refused(&answers, Code::Unauthenticated), every(&answers));
    // Checked before anything is done: the trust admin's timetable is the one audited.
    let audit = valued_voting::db::entities::vote_audit::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let actors: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.action == "schedule_vote")
        .map(|a| (a.actor.as_str(), a.campaign_id.as_str()))
        .collect();
    assert_eq!(actors, [("awards@rj1.example.org", TRUST_CAMPAIGN)]);

    // A region's campaign: its region admins, not a trust admin of the region.
    let answers = app
        .organise(Some(&y56), REGION_CAMPAIGN, &region_ballot)
        .await;
    assert!(
        refused(&answers, Code::PermissionDenied).is_empty(),
        "{answers:?}"
    );
    let answers = app
        .organise(Some(&rj1), REGION_CAMPAIGN, &region_ballot)
        .await;
    assert_eq!(refused(&answers, Code::PermissionDenied), every(&answers));

    // A national campaign: platform admins only.
    for token in [&rj1, &y56] {
        let answers = app
            .organise(Some(token), NATIONAL_CAMPAIGN, &national_ballot)
            .await;
        assert_eq!(refused(&answers, Code::PermissionDenied), every(&answers));
    }
    let answers = app
        .organise(Some(&app.admin_token), NATIONAL_CAMPAIGN, &national_ballot)
        .await;
    assert!(
        refused(&answers, Code::PermissionDenied).is_empty(),
        "{answers:?}"
    );

    // The trust's ballot named under another campaign gets nobody in who runs only that one: each
    // call is judged by what it names.
    let answers = app
        .organise(Some(&rj1), NATIONAL_CAMPAIGN, &trust_ballot)
        .await;
    let by_ballot = [
        "DecideHeldVotes",
        "GetTally",
        "VerifyLedger",
        "ExportLedger",
    ];
    let by_campaign: Vec<&str> = every(&answers)
        .into_iter()
        .filter(|rpc| !by_ballot.contains(rpc))
        .collect();
    assert_eq!(refused(&answers, Code::PermissionDenied), by_campaign);

    // A ballot made by hand, and a campaign or ballot nobody announced: platform admins only, and
    // a refusal says nothing of whether it exists.
    let by_hand = app.create_ballot("Raffle", &[("a", "A"), ("b", "B")]).await;
    let unknown = "0193a1b2-0000-7000-8000-0000000000ff";
    for (campaign, ballot) in [(TRUST_CAMPAIGN, by_hand.as_str()), (unknown, unknown)] {
        let answers = app.organise(Some(&rj1), campaign, ballot).await;
        let expected: Vec<&str> = every(&answers)
            .into_iter()
            .filter(|rpc| campaign == unknown || by_ballot.contains(rpc))
            .collect();
        assert_eq!(refused(&answers, Code::PermissionDenied), expected);
    }
    let answers = app.organise(Some(&app.admin_token), unknown, unknown).await;
    assert!(
        refused(&answers, Code::PermissionDenied).is_empty(),
        "{answers:?}"
    );
}

#[tokio::test]
async fn a_campaigns_own_admins_run_its_vote_and_nobody_else_on_postgres() {
    a_campaigns_own_admins_run_its_vote_and_nobody_else(spawn_app().await).await;
}

#[tokio::test]
async fn a_campaigns_own_admins_run_its_vote_and_nobody_else_on_sqlite() {
    a_campaigns_own_admins_run_its_vote_and_nobody_else(spawn_embedded_app().await).await;
}

async fn a_campaign_voting_per_region_has_a_ballot_per_region_and_category(app: TestApp) {
    let per_region = Campaign {
        id: TRUST_CAMPAIGN,
        scope: ("national", ""),
        vote_per_region: true,
    };
    let per_category = Campaign {
        id: NATIONAL_CAMPAIGN,
        scope: ("national", ""),
        vote_per_region: false,
    };
    let (london, north_west) = (("Y56", "London"), ("Y62", "North West"));
    let mut announced = Vec::new();
    for campaign in [&per_region, &per_category] {
        announced.extend([
            finalist(campaign, "nominee-sam", "Porter", london),
            finalist(campaign, "nominee-jo", "Porter", north_west),
            finalist(campaign, "nominee-ali", "Porter", london),
            finalist(campaign, "nominee-kim", "Cleaner", north_west),
        ]);
    }
    app.announce(&announced).await;
    // Announced again: nothing doubles.
    app.announce(&announced[..1]).await;

    let shown = |ballots: Vec<pb::CampaignBallot>| {
        let mut shown: Vec<(String, Vec<String>)> = ballots
            .into_iter()
            .map(|b| {
                let names = b.finalists.into_iter().map(|f| f.name).collect();
                (b.title, names)
            })
            .collect();
        shown.sort();
        shown
    };
    let owned = |title: &str, names: &[&str]| {
        (
            title.to_owned(),
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        shown(app.ballots_of(TRUST_CAMPAIGN, 4).await),
        [
            owned("Cleaner of the year — North West", &["nominee-kim"]),
            owned(
                "Porter of the year — London",
                &["nominee-sam", "nominee-ali"]
            ),
            owned("Porter of the year — North West", &["nominee-jo"]),
        ]
    );
    assert_eq!(
        shown(app.ballots_of(NATIONAL_CAMPAIGN, 4).await),
        [
            owned("Cleaner of the year", &["nominee-kim"]),
            owned(
                "Porter of the year",
                &["nominee-sam", "nominee-jo", "nominee-ali"]
            ),
        ]
    );
}

#[tokio::test]
async fn a_campaign_voting_per_region_has_a_ballot_per_region_and_category_on_postgres() {
    a_campaign_voting_per_region_has_a_ballot_per_region_and_category(spawn_app().await).await;
}

#[tokio::test]
async fn a_campaign_voting_per_region_has_a_ballot_per_region_and_category_on_sqlite() {
    a_campaign_voting_per_region_has_a_ballot_per_region_and_category(spawn_embedded_app().await)
        .await;
}
