//! Bursts of votes toward one finalist from one network or one email domain are held for a check,
//! not silently counted: the voter is told, the tally and the ledger wait, and an admin counts or
//! discards the group, with a reason, before the results time.

use sea_orm::{EntityTrait, PaginatorTrait};
use tonic::Code;
use uuid::Uuid;
use valued_proto::events::v1::VoterVoteCounted;
use valued_proto::voting::v1 as pb;
use valued_voting::db::entities::{held_receipt, vote, vote_audit};
use valued_voting::{held, ledger};

use crate::helpers::{
    PLATFORM_ADMIN, TestApp, fields, open_vote, spawn_app_with, spawn_embedded_app_with,
};

const CAMPAIGN: &str = "0193a1b2-0000-7000-8000-0000000000f1";

/// Flags that hold votes past `per_network` from one network and `per_domain` from one domain,
/// toward one finalist within ten minutes.
fn flags(per_network: u32, per_domain: u32) -> impl FnOnce(&mut valued_voting::Settings) {
    move |settings| settings.flags = flag_settings(per_network, per_domain)
}

fn flag_settings(per_network: u32, per_domain: u32) -> held::FlagSettings {
    held::FlagSettings {
        window_minutes: 10,
        per_network,
        per_domain,
        ..held::FlagSettings::default()
    }
}

/// A service on PostgreSQL with those [`flags`].
async fn spawn_guarded(per_network: u32, per_domain: u32) -> TestApp {
    spawn_app_with(flags(per_network, per_domain)).await
}

impl TestApp {
    /// A verified voter at a household domain of their own, voting from `client`.
    async fn vote_as(
        &self,
        who: &str,
        client: &str,
        ballot_id: &str,
        choice_id: &str,
    ) -> pb::CastVoteResponse {
        let pass = self
            .voter_pass(CAMPAIGN, &format!("{who}@{who}-home.org.uk"))
            .await;
        self.vote_from(client, ballot_id, choice_id, &pass)
            .await
            .unwrap()
    }

    async fn held_groups(&self) -> Vec<pb::HeldVoteGroup> {
        self.client
            .clone()
            .list_held_votes(self.signed(pb::ListHeldVotesRequest {
                campaign_id: CAMPAIGN.into(),
            }))
            .await
            .unwrap()
            .into_inner()
            .groups
    }

    async fn decide(
        &self,
        group: &pb::HeldVoteGroup,
        decision: pb::HeldVoteDecision,
        votes: u64,
        reason: &str,
    ) -> Result<u64, tonic::Status> {
        self.client
            .clone()
            .decide_held_votes(self.signed(pb::DecideHeldVotesRequest {
                ballot_id: group.ballot_id.clone(),
                choice_id: group.choice_id.clone(),
                flag: group.flag.clone(),
                decision: decision.into(),
                reason: reason.into(),
                votes,
            }))
            .await
            .map(|r| r.into_inner().decided)
    }

    /// The maintained tally, read directly (the API shows it only after the results time).
    async fn counted(&self, ballot_id: &str, choice_id: &str) -> u64 {
        let counts = ledger::store::tally(&self.db, ballot_id.parse().unwrap())
            .await
            .unwrap();
        counts.get(choice_id).copied().unwrap_or(0)
    }

    async fn ledger(&self, ballot_id: &str) -> pb::VerifyLedgerResponse {
        self.client
            .clone()
            .verify_ledger(self.signed(pb::VerifyLedgerRequest {
                ballot_id: ballot_id.into(),
            }))
            .await
            .unwrap()
            .into_inner()
    }

    async fn turnout(&self) -> pb::GetTurnoutResponse {
        self.client
            .clone()
            .get_turnout(self.signed(pb::GetTurnoutRequest {
                campaign_id: CAMPAIGN.into(),
            }))
            .await
            .unwrap()
            .into_inner()
    }

    async fn audit(&self) -> Vec<vote_audit::Model> {
        vote_audit::Entity::find().all(&self.db).await.unwrap()
    }

    /// The "your vote counted" receipts published to addresses starting `prefix`.
    async fn receipts_to(&self, prefix: &str) -> Vec<VoterVoteCounted> {
        self.published_of::<VoterVoteCounted>()
            .await
            .into_iter()
            .filter(|r| r.email.starts_with(prefix))
            .collect()
    }

    /// How many held votes' receipt addresses are kept.
    async fn kept_receipt_addresses(&self) -> u64 {
        held_receipt::Entity::find().count(&self.db).await.unwrap()
    }
}

fn pending(app: &TestApp, ballot_id: &str) -> impl Future<Output = u64> {
    let db = app.db.clone();
    let ballot_id: Uuid = ballot_id.parse().unwrap();
    async move { held::pending(&db, ballot_id).await.unwrap() }
}

#[tokio::test]
async fn a_burst_from_one_network_is_held_until_an_admin_counts_it_into_an_intact_ledger() {
    let app = spawn_guarded(3, 100).await;
    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("jo", "porters")]).await;
    let ballot = &ballots[0].ballot_id;

    // Ordinary voters, each from their own network, count at once.
    for (who, client) in [
        ("alex", "198.51.100.7"),
        ("kim", "192.0.2.5"),
        ("ali", "2001:db8:1:2::9"),
    ] {
        let cast = app.vote_as(who, client, ballot, "sam").await;
        assert!(!cast.held, "{who}");
        assert!(!cast.receipt.is_empty());
    }
    // Ten voters from one /24 toward Jo: the first three count, the rest wait for a check.
    let mut held_votes = 0;
    for i in 0..10 {
        let cast = app
            .vote_as(
                &format!("bot{i}"),
                &format!("203.0.113.{}", 10 + i),
                ballot,
                "jo",
            )
            .await;
        assert_eq!(cast.held, i >= 3, "vote {i}");
        if cast.held {
            held_votes += 1;
            assert!(cast.receipt.is_empty());
        }
    }
    // Held votes are in neither the tally nor the ledger, which stays whole.
    assert_eq!(app.counted(ballot, "jo").await, 3);
    assert_eq!(app.counted(ballot, "sam").await, 3);
    let checked = app.ledger(ballot).await;
    assert!(checked.intact, "{:?}", checked.breaks);
    assert_eq!(checked.entries, 6);
    assert_eq!(pending(&app, ballot).await, held_votes);
    // No receipt yet for a held vote; its voter's address waits beside it for one.
    assert_eq!(app.receipts_to("bot").await.len(), 3);
    assert_eq!(app.kept_receipt_addresses().await, 7);

    // A held vote is still the voter's one vote.
    let pass = app.voter_pass(CAMPAIGN, "bot9@bot9-home.org.uk").await;
    let again = app
        .vote_from("198.51.100.99", ballot, "sam", &pass)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);

    // Admins see the group and the flags in the turnout, and nothing of who or where.
    let groups = app.held_groups().await;
    assert_eq!(groups.len(), 1);
    let group = &groups[0];
    assert_eq!(
        (group.choice_id.as_str(), group.kind.as_str(), group.votes),
        ("jo", "network", 7)
    );
    assert_eq!(group.finalist, "jo");
    assert!(group.decidable);
    let seconds = |t: &Option<prost_types::Timestamp>| t.as_ref().unwrap().seconds;
    assert!(seconds(&group.first_cast_at) <= seconds(&group.last_cast_at));
    assert!(!group.flag.contains("203.0.113"), "{}", group.flag);
    let rows = vote::Entity::find().all(&app.db).await.unwrap();
    assert!(
        rows.iter()
            .filter_map(|v| v.network.as_deref())
            .all(|n| !n.contains("203.0.113") && !n.contains("198.51"))
    );
    let turnout = app.turnout().await;
    let porters = &turnout.ballots[0];
    assert_eq!(
        (porters.votes, porters.held_votes, porters.held_groups),
        (13, 7, 1)
    );

    // A decision needs a reason and the number the admin saw; anonymous callers get nowhere.
    let no_reason = app
        .decide(group, pb::HeldVoteDecision::Count, 7, " ")
        .await
        .unwrap_err();
    assert_eq!(fields(&no_reason), ["reason"]);
    let stale = app
        .decide(group, pb::HeldVoteDecision::Count, 6, "checked")
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    let anonymous = app
        .client
        .clone()
        .decide_held_votes(pb::DecideHeldVotesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    assert_eq!(pending(&app, ballot).await, 7);

    // Counted: in the tally and ledger as if never held, the chain intact, each vote published.
    let decided = app
        .decide(
            group,
            pb::HeldVoteDecision::Count,
            7,
            "A staff room shares the address; the voters are real",
        )
        .await
        .unwrap();
    assert_eq!(decided, 7);
    assert_eq!(pending(&app, ballot).await, 0);
    assert_eq!(app.counted(ballot, "jo").await, 10);
    let checked = app.ledger(ballot).await;
    assert!(checked.intact, "{:?}", checked.breaks);
    assert_eq!(checked.entries, 13);
    assert!(app.held_groups().await.is_empty());
    // Each voter whose vote waited now gets its receipt, naming their own entry in the ledger,
    // and the addresses kept for it are gone.
    let receipts = app.receipts_to("bot").await;
    assert_eq!(receipts.len(), 10);
    let ballot_id: Uuid = ballot.parse().unwrap();
    for i in 3..10 {
        let to = format!("bot{i}@bot{i}-home.org.uk");
        let mine: Vec<_> = receipts.iter().filter(|r| r.email == to).collect();
        assert_eq!(mine.len(), 1, "{to}");
        assert_eq!(mine[0].ballot_title, receipts[0].ballot_title);
        assert!(mine[0].cast_at.is_some());
        let named = ledger::Receipt::parse(&mine[0].receipt).unwrap();
        let entry = ledger::store::find_receipt(&app.db, ballot_id, named)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{to}'s receipt is in the ledger"));
        assert_eq!(entry.choice_id, "jo");
    }
    assert_eq!(app.kept_receipt_addresses().await, 0);
    let again = app
        .decide(group, pb::HeldVoteDecision::Count, 7, "twice")
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::NotFound);

    let audit = app.audit().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "count_held_votes");
    assert_eq!(audit[0].actor, PLATFORM_ADMIN);
    assert_eq!(audit[0].campaign_id, CAMPAIGN);
    assert!(
        audit[0].detail.contains("the voters are real"),
        "{}",
        audit[0].detail
    );
}

#[tokio::test]
async fn a_discarded_group_is_never_counted_and_no_decision_is_taken_after_the_results_time() {
    let app = spawn_guarded(2, 100).await;
    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("jo", "porters")]).await;
    let ballot = &ballots[0].ballot_id;
    app.vote_as("alex", "198.51.100.7", ballot, "sam").await;
    for i in 0..5 {
        app.vote_as(&format!("bot{i}"), "2001:db8:7:7::1", ballot, "jo")
            .await;
    }
    // Another address in the same /64 is the same network.
    let cast = app
        .vote_as("bot5", "2001:db8:7:7:ffff::2", ballot, "jo")
        .await;
    assert!(cast.held);
    let group = app.held_groups().await.remove(0);
    assert_eq!(group.votes, 4);
    let decided = app
        .decide(&group, pb::HeldVoteDecision::Discard, 4, "Made-up voters")
        .await
        .unwrap();
    assert_eq!(decided, 4);
    // Discarded: no receipt, and the addresses kept for one are gone.
    assert_eq!(app.receipts_to("bot").await.len(), 2);
    assert_eq!(app.kept_receipt_addresses().await, 0);
    assert_eq!(app.counted(ballot, "jo").await, 2);
    let checked = app.ledger(ballot).await;
    assert!(checked.intact, "{:?}", checked.breaks);
    assert_eq!(checked.entries, 3);
    let porters = app.turnout().await.ballots.remove(0);
    assert_eq!(
        (porters.votes, porters.held_votes, porters.discarded_votes),
        (7, 0, 4)
    );
    // A discarded vote was the voter's one vote.
    let pass = app.voter_pass(CAMPAIGN, "bot5@bot5-home.org.uk").await;
    let again = app
        .vote_from("198.51.100.99", ballot, "sam", &pass)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let audit = app.audit().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "discard_held_votes");
    assert!(audit[0].detail.contains("Made-up voters"));

    // The burst goes on: held again. Then the vote closes and its results time comes.
    let cast = app.vote_as("bot6", "2001:db8:7:7::3", ballot, "jo").await;
    assert!(cast.held);
    let group = app.held_groups().await.remove(0);
    let at = |seconds: i64| {
        Some(prost_types::Timestamp {
            seconds: chrono::Utc::now().timestamp() + seconds,
            nanos: 0,
        })
    };
    app.client
        .clone()
        .schedule_vote(app.signed(pb::ScheduleVoteRequest {
            campaign_id: CAMPAIGN.into(),
            opens_at: at(-86_400),
            closes_at: at(0),
            results_at: at(0),
        }))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let late = app
        .decide(&group, pb::HeldVoteDecision::Count, 1, "checked")
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert!(
        late.message().contains("results time"),
        "{}",
        late.message()
    );
    assert!(!app.held_groups().await[0].decidable);
    assert_eq!(pending(&app, ballot).await, 1);
    assert_eq!(app.tally(ballot).await.total_votes, 3);
    // Past the results time nothing can count the held vote, so its receipt's address is
    // forgotten by retention.
    assert_eq!(app.kept_receipt_addresses().await, 1);
    let forgotten = held::forget_receipts(&app.db, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(forgotten, 1);
    assert_eq!(app.kept_receipt_addresses().await, 0);
}

#[tokio::test]
async fn a_burst_from_one_email_domain_is_held_but_big_providers_are_not_counted_by_domain() {
    let app = spawn_guarded(100, 2).await;
    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("jo", "porters")]).await;
    let ballot = &ballots[0].ballot_id;
    let mut held_at = Vec::new();
    for i in 0..4 {
        let pass = app
            .voter_pass(CAMPAIGN, &format!("voter{i}@catch-all.example.org"))
            .await;
        let cast = app
            .vote_from(&format!("192.0.{i}.1"), ballot, "jo", &pass)
            .await
            .unwrap();
        held_at.push(cast.held);
        let pass = app
            .voter_pass(CAMPAIGN, &format!("voter{i}@gmail.com"))
            .await;
        let cast = app
            .vote_from(&format!("198.51.{i}.1"), ballot, "jo", &pass)
            .await
            .unwrap();
        assert!(!cast.held, "gmail voter {i}");
    }
    assert_eq!(held_at, [false, false, true, true]);
    let groups = app.held_groups().await;
    assert_eq!(groups.len(), 1);
    assert_eq!((groups[0].kind.as_str(), groups[0].votes), ("domain", 2));
    assert!(groups[0].flag.starts_with("domain:"));
}

#[tokio::test]
async fn the_embedded_sqlite_default_holds_lists_and_counts_a_burst_too() {
    let app = spawn_embedded_app_with(flags(1, 100)).await;
    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("jo", "porters")]).await;
    let ballot = &ballots[0].ballot_id;
    assert!(!app.vote_as("bot0", "203.0.113.1", ballot, "jo").await.held);
    assert!(app.vote_as("bot1", "203.0.113.2", ballot, "jo").await.held);
    assert!(app.vote_as("bot2", "203.0.113.3", ballot, "jo").await.held);
    let group = app.held_groups().await.remove(0);
    assert_eq!(group.votes, 2);
    assert!(group.first_cast_at.unwrap().seconds <= group.last_cast_at.unwrap().seconds);
    app.decide(&group, pb::HeldVoteDecision::Count, 2, "checked")
        .await
        .unwrap();
    let checked = app.ledger(ballot).await;
    assert!(checked.intact, "{:?}", checked.breaks);
    assert_eq!(checked.entries, 3);
    assert_eq!(app.counted(ballot, "jo").await, 3);
}

#[tokio::test]
async fn concurrent_votes_from_one_network_count_exactly_up_to_the_threshold() {
    let app = spawn_guarded(4, 100).await;
    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("jo", "porters")]).await;
    let ballot = &ballots[0].ballot_id;
    let mut passes = Vec::new();
    for i in 0..12 {
        passes.push(
            app.voter_pass(CAMPAIGN, &format!("bot{i}@bot{i}-home.org.uk"))
                .await,
        );
    }
    let casts = futures::future::join_all(passes.iter().enumerate().map(|(i, pass)| {
        let client = format!("203.0.113.{i}");
        let app = &app;
        async move { app.vote_from(&client, ballot, "jo", pass).await.unwrap() }
    }))
    .await;
    let held = casts.iter().filter(|cast| cast.held).count();
    assert_eq!(held, 8);
    assert_eq!(app.counted(ballot, "jo").await, 4);
    assert_eq!(pending(&app, ballot).await, 8);
    let checked = app.ledger(ballot).await;
    assert!(checked.intact, "{:?}", checked.breaks);
    assert_eq!(checked.entries, 4);
}

/// Turnout per hour: the votes of each UTC hour of the window by what became of them, from the
/// votes' cast times, with hours outside the window left out; on both databases.
async fn votes_per_hour_are_counted_held_and_discarded_apart(app: TestApp) {
    use chrono::{DurationRound, TimeDelta, Utc};
    use sea_orm::{ActiveModelTrait, ActiveValue, IntoActiveModel};

    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("jo", "porters")]).await;
    let ballot = &ballots[0].ballot_id;
    app.vote_as("alex", "198.51.100.7", ballot, "sam").await;
    app.vote_as("kim", "192.0.2.5", ballot, "sam").await;
    for i in 0..4 {
        let cast = app
            .vote_as(&format!("bot{i}"), &format!("203.0.113.{i}"), ballot, "jo")
            .await;
        assert_eq!(cast.held, i >= 2, "vote {i}");
    }
    // The votes as if cast over the last hours: the window opened a day ago.
    let first = (Utc::now() - TimeDelta::hours(5))
        .duration_trunc(TimeDelta::hours(1))
        .unwrap();
    let third = first + TimeDelta::hours(2);
    let minutes = TimeDelta::minutes;
    let mut rows = vote::Entity::find().all(&app.db).await.unwrap();
    rows.sort_by_key(|v| (v.status.clone(), v.choice_id.clone()));
    // counted jo, counted jo, counted sam, counted sam, held jo, held jo
    let moved = [
        first + minutes(50),
        third,
        first + minutes(10),
        // Before the window opened: left out of every hour.
        Utc::now() - TimeDelta::days(2),
        third + minutes(30),
        third + minutes(59),
    ];
    assert_eq!(rows.len(), moved.len());
    for (row, at) in rows.into_iter().zip(moved) {
        let mut row = row.into_active_model();
        row.cast_at = ActiveValue::Set(at);
        row.update(&app.db).await.unwrap();
    }
    let hours = |turnout: pb::GetTurnoutResponse| {
        turnout.ballots[0]
            .hours
            .iter()
            .map(|h| (h.hour.unwrap().seconds, h.counted, h.held, h.discarded))
            .collect::<Vec<_>>()
    };
    let turnout = app.turnout().await;
    assert_eq!(turnout.ballots[0].votes, 6);
    assert_eq!(
        hours(turnout),
        [(first.timestamp(), 2, 0, 0), (third.timestamp(), 1, 2, 0)]
    );
    let group = app.held_groups().await.remove(0);
    app.decide(&group, pb::HeldVoteDecision::Discard, 2, "Made-up voters")
        .await
        .unwrap();
    assert_eq!(
        hours(app.turnout().await),
        [(first.timestamp(), 2, 0, 0), (third.timestamp(), 1, 0, 2)]
    );
}

#[tokio::test]
async fn turnout_per_hour_keeps_counted_held_and_discarded_votes_apart() {
    votes_per_hour_are_counted_held_and_discarded_apart(spawn_guarded(2, 100).await).await;
}

#[tokio::test]
async fn turnout_per_hour_on_the_embedded_sqlite_default_too() {
    votes_per_hour_are_counted_held_and_discarded_apart(
        spawn_embedded_app_with(flags(2, 100)).await,
    )
    .await;
}

/// A vote's network and domain digests are kept only while it can count toward a burst: once a
/// whole window has passed, the retention round clears them, and the vote itself, its count and
/// the ledger are untouched.
#[tokio::test]
async fn signals_are_forgotten_once_no_burst_can_count_them() {
    let app = spawn_guarded(20, 30).await;
    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("jo", "porters")]).await;
    let ballot = &ballots[0].ballot_id;
    app.vote_as("ann", "203.0.113.5", ballot, "sam").await;
    let guard = held::Guard::new(
        &flag_settings(20, 30),
        &secrecy::SecretString::from("test-voter-key-secret"),
    );

    // Within the window: kept, a later burst may still count it.
    let now = chrono::Utc::now();
    assert_eq!(guard.forget_signals(&app.db, now).await.unwrap(), 0);
    let kept = vote::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert!(kept.network.is_some() && kept.domain.is_some());

    // A whole window later: cleared, once.
    let later = now + chrono::Duration::minutes(11);
    assert_eq!(guard.forget_signals(&app.db, later).await.unwrap(), 1);
    assert_eq!(guard.forget_signals(&app.db, later).await.unwrap(), 0);
    let cleared = vote::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!((cleared.network, cleared.domain), (None, None));
    assert_eq!(cleared.status, held::COUNTED);
    assert_eq!(app.counted(ballot, "sam").await, 1);
    let checked = app.ledger(ballot).await;
    assert!(checked.intact, "{:?}", checked.breaks);
    assert_eq!(checked.entries, 1);
}

#[tokio::test]
async fn a_held_votes_receipt_address_is_in_the_voters_export_and_goes_with_their_erasure() {
    let app = spawn_guarded(1, 100).await;
    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters")]).await;
    let ballot = &ballots[0].ballot_id;
    app.vote_as("alex", "203.0.113.1", ballot, "sam").await;
    assert!(app.vote_as("kim", "203.0.113.2", ballot, "sam").await.held);
    let before = app.export_person("KIM@kim-home.org.uk").await;
    let kept = before["addresses_kept"]["held_vote_receipts"]
        .as_array()
        .unwrap();
    assert_eq!(kept.len(), 1, "{before:#}");
    assert_eq!(kept[0]["email"], "kim@kim-home.org.uk");

    let answered = app.erase("erasure-held", "kim@kim-home.org.uk").await;
    assert_eq!(
        answered.records, 2,
        "the voter pass's address and the held vote's receipt address"
    );
    let after = app.export_person("KIM@kim-home.org.uk").await;
    assert!(!after.to_string().contains("kim@"), "{after:#}");
    assert_eq!(app.kept_receipt_addresses().await, 0);

    // Counted after the erasure: the vote counts, and no email goes to the erased address.
    let group = app.held_groups().await.remove(0);
    app.decide(&group, pb::HeldVoteDecision::Count, 1, "checked")
        .await
        .unwrap();
    assert_eq!(app.counted(ballot, "sam").await, 2);
    assert!(app.receipts_to("kim").await.is_empty());
}
