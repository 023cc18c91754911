//! A campaign's vote for staff only: by work-email domain and/or an uploaded list kept only as voter
//! keys; an address it does not accept is refused before any email goes, and a pass issued before
//! the vote tightened no longer votes for a voter it does not admit.

use sea_orm::EntityTrait;
use tonic::Code;
use valued_platform::Envelope;
use valued_proto::events::v1 as ev;
use valued_proto::voting::v1 as pb;
use valued_voting::db::entities::{eligible_voter, vote_audit};

use crate::helpers::{PLATFORM_ADMIN, TestApp, fields, open_vote, spawn_app};
use crate::public_vote::{announced, timetable};

const CAMPAIGN: &str = "0193a1b2-0000-7000-8000-0000000000e1";

fn staff(domains: &[&str], addresses: &[&str]) -> pb::SetVoteEligibilityRequest {
    pb::SetVoteEligibilityRequest {
        campaign_id: CAMPAIGN.into(),
        eligibility: pb::Eligibility::Staff.into(),
        domains: domains.iter().map(|d| (*d).to_owned()).collect(),
        addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
        keep_addresses: false,
        trust_domains: false,
    }
}

impl TestApp {
    async fn set_eligibility(
        &self,
        request: pb::SetVoteEligibilityRequest,
    ) -> Result<pb::VoteEligibility, tonic::Status> {
        self.client
            .clone()
            .set_vote_eligibility(self.signed(request))
            .await
            .map(|r| r.into_inner().eligibility.unwrap())
    }

    async fn eligibility(&self) -> pb::VoteEligibility {
        self.client
            .clone()
            .get_vote_eligibility(self.signed(pb::GetVoteEligibilityRequest {
                campaign_id: CAMPAIGN.into(),
            }))
            .await
            .unwrap()
            .into_inner()
            .eligibility
            .unwrap()
    }

    async fn ask_to_verify(&self, email: &str) -> Result<(), tonic::Status> {
        self.client
            .clone()
            .request_voter_verification(pb::RequestVoterVerificationRequest {
                campaign_id: CAMPAIGN.into(),
                email: email.into(),
                ..Default::default()
            })
            .await
            .map(|_| ())
    }

    async fn emails_sent(&self) -> usize {
        self.published_of::<ev::VoterVerificationRequested>()
            .await
            .len()
    }
}

#[tokio::test]
async fn a_staff_vote_accepts_its_domains_and_list_and_refuses_others_before_any_email() {
    let app = spawn_app().await;
    open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("ali", "cleaners")]).await;
    assert_eq!(
        app.eligibility().await.eligibility(),
        pb::Eligibility::Public
    );

    let set = app
        .set_eligibility(staff(
            &["nhs.net", "@GSTT.nhs.uk"],
            &[
                "Jo.Bloggs@trust.example.org",
                "",
                "jo.bloggs@trust.example.org",
            ],
        ))
        .await
        .unwrap();
    assert_eq!(set.eligibility(), pb::Eligibility::Staff);
    assert_eq!(set.domains, ["nhs.net", "gstt.nhs.uk"]);
    assert_eq!(set.listed_voters, 1);
    assert_eq!(set.updated_by, PLATFORM_ADMIN);
    assert_eq!(app.eligibility().await, set);

    // Its domains, their subdomains, and the listed address however it is typed.
    for email in [
        "sam@nhs.net",
        "ali@ward.gstt.nhs.uk",
        "jo.bloggs+vote@TRUST.example.org",
    ] {
        app.ask_to_verify(email).await.unwrap();
    }
    assert_eq!(app.emails_sent().await, 3);
    // Anything else is refused at the field, saying what the vote accepts; nothing is sent.
    for email in [
        "kim@gmail.com",
        "kim@notgstt.nhs.uk",
        "kim@gstt.nhs.uk.example.org",
    ] {
        let refused = app.ask_to_verify(email).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{email}");
        assert_eq!(fields(&refused), ["email"]);
        let message = &valued_platform::grpc::field_errors(&refused)[0].message;
        assert!(
            message.contains("ending nhs.net or gstt.nhs.uk"),
            "{message}"
        );
    }
    assert_eq!(app.emails_sent().await, 3);

    // The list is kept as voter keys only, and the change is audited.
    let listed = eligible_voter::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].voter_key.contains('@'));
    assert!(!listed[0].voter_key.contains("bloggs"));
    let audit = vote_audit::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "set_vote_eligibility");
    assert_eq!(audit[0].actor, PLATFORM_ADMIN);
    assert!(!audit[0].detail.contains("bloggs"), "{}", audit[0].detail);

    // Public again: anyone verified, the list gone.
    let public = app
        .set_eligibility(pb::SetVoteEligibilityRequest {
            campaign_id: CAMPAIGN.into(),
            eligibility: pb::Eligibility::Public.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((public.listed_voters, public.domains.len()), (0, 0));
    app.ask_to_verify("kim@gmail.com").await.unwrap();
    assert!(
        eligible_voter::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn every_bad_domain_and_line_is_named_and_nothing_changes() {
    let app = spawn_app().await;
    open_vote(&app, CAMPAIGN, &[("sam", "porters")]).await;
    let refused = app
        .set_eligibility(staff(
            &["nhs.net", "not a domain", "nhs"],
            &["ok@nhs.net", "jo at the trust", "", "ali@"],
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        fields(&refused),
        ["domains[1]", "domains[2]", "addresses[1]", "addresses[3]"]
    );
    let errors = valued_platform::grpc::field_errors(&refused);
    assert!(errors[3].message.starts_with("Line 4: "), "{errors:?}");
    let none = app.set_eligibility(staff(&[], &[])).await.unwrap_err();
    assert_eq!(fields(&none), ["domains"]);
    let unchosen = app
        .set_eligibility(pb::SetVoteEligibilityRequest {
            campaign_id: CAMPAIGN.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&unchosen), ["eligibility"]);
    assert_eq!(
        app.eligibility().await.eligibility(),
        pb::Eligibility::Public
    );
    assert!(
        vote_audit::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    let unknown = app
        .set_eligibility(pb::SetVoteEligibilityRequest {
            campaign_id: "no-such-campaign".into(),
            ..staff(&["nhs.net"], &[])
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let anonymous = app
        .client
        .clone()
        .set_vote_eligibility(staff(&["nhs.net"], &[]))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_pass_issued_before_the_vote_tightened_votes_only_while_its_voter_is_eligible() {
    let app = spawn_app().await;
    let ballots = open_vote(&app, CAMPAIGN, &[("sam", "porters"), ("ali", "cleaners")]).await;
    let (porters, cleaners) = (&ballots[0].ballot_id, &ballots[1].ballot_id);
    let alex = app.voter_pass(CAMPAIGN, "alex@example.org").await;
    let kim = app.voter_pass(CAMPAIGN, "kim@ward.gstt.nhs.uk").await;

    // Staff at gstt.nhs.uk only: Alex's pass, from the public vote, no longer votes.
    app.set_eligibility(staff(&["gstt.nhs.uk"], &[]))
        .await
        .unwrap();
    let refused = app.vote_with_pass(porters, "sam", &alex).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("gstt.nhs.uk"),
        "{}",
        refused.message()
    );
    app.vote_with_pass(porters, "sam", &kim).await.unwrap();

    // A list with Alex on it, and no domain: Alex votes, Kim's domain no longer counts.
    app.set_eligibility(staff(&[], &["ALEX@example.org"]))
        .await
        .unwrap();
    app.vote_with_pass(porters, "sam", &alex).await.unwrap();
    let kim_refused = app.vote_with_pass(cleaners, "ali", &kim).await.unwrap_err();
    assert_eq!(kim_refused.code(), Code::FailedPrecondition);

    // The domain back, the list kept: both vote.
    let kept = app
        .set_eligibility(pb::SetVoteEligibilityRequest {
            keep_addresses: true,
            ..staff(&["gstt.nhs.uk"], &[])
        })
        .await
        .unwrap();
    assert_eq!(kept.listed_voters, 1);
    app.vote_with_pass(cleaners, "ali", &kim).await.unwrap();
    app.vote_with_pass(cleaners, "ali", &alex).await.unwrap();
    let audit = vote_audit::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(audit.len(), 3);
}

#[tokio::test]
async fn an_erased_person_leaves_every_staff_list() {
    let app = spawn_app().await;
    open_vote(&app, CAMPAIGN, &[("sam", "porters")]).await;
    app.set_eligibility(staff(&[], &["alex@example.org", "jo@example.org"]))
        .await
        .unwrap();
    app.announce(&[valued_platform::Envelope::new(
        "nomination",
        None,
        &ev::ErasureRequested {
            request_id: uuid::Uuid::now_v7().to_string(),
            email: "Alex@Example.org".into(),
            requested_at: None,
            names: Vec::new(),
        },
    )])
    .await;
    let mut answered = Vec::new();
    for _ in 0..100 {
        answered = app.published_of::<ev::PersonErased>().await;
        if !answered.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(answered.len(), 1);
    assert_eq!(
        (answered[0].service.as_str(), answered[0].records),
        ("voting", 1)
    );
    assert_eq!(app.eligibility().await.listed_voters, 1);
    let refused = app.ask_to_verify("alex@example.org").await.unwrap_err();
    assert_eq!(fields(&refused), ["email"]);
    app.ask_to_verify("jo@example.org").await.unwrap();
}

/// A trust's settings as the nomination service announces them, changed `seconds` after the epoch.
fn trust_settings(code: &str, region: &str, domains: &[&str], seconds: i64) -> Envelope {
    Envelope::new(
        "nomination",
        Some(code),
        &ev::TrustSettingsChanged {
            trust_code: code.into(),
            sender_name: String::new(),
            reply_to: String::new(),
            work_email_domains: domains.iter().map(|d| (*d).to_owned()).collect(),
            changed_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
            region_code: region.into(),
        },
    )
}

impl TestApp {
    /// Sets a staff-only vote on the trusts' own domains alone, once this service's copy of them
    /// includes `expected`.
    async fn staff_on_trust_domains(&self, expected: &str) -> pb::VoteEligibility {
        let request = pb::SetVoteEligibilityRequest {
            trust_domains: true,
            ..staff(&[], &[])
        };
        for _ in 0..100 {
            if let Ok(set) = self.set_eligibility(request.clone()).await
                && set.domains_from_trusts.iter().any(|d| d == expected)
            {
                return set;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the trusts' domains never included {expected}");
    }
}

#[tokio::test]
async fn a_staff_vote_takes_the_domains_its_regions_trusts_set_and_follows_their_changes() {
    let app = spawn_app().await;
    // A region's campaign (London, Y56), as its finalists' announcement says.
    let mut finalist = announced("sam", "Sam", "porters", &timetable(-1, 6, 8));
    if let Some(f) = finalist.finalist.as_mut() {
        f.campaign_id = CAMPAIGN.into();
    }
    finalist.campaign_scope = "region".into();
    finalist.campaign_scope_code = "Y56".into();
    app.announce(&[Envelope::new("nomination", None, &finalist)])
        .await;
    app.ballots_of(CAMPAIGN, 1).await;

    // No trust has set any domain yet: the trusts' domains alone are refused at their field.
    let none = app
        .set_eligibility(pb::SetVoteEligibilityRequest {
            trust_domains: true,
            ..staff(&[], &[])
        })
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::InvalidArgument);
    assert_eq!(fields(&none), ["trust_domains"]);

    // Two London trusts and one in the North West set theirs.
    app.announce(&[
        trust_settings("RJ1", "Y56", &["gstt.nhs.uk", "nhs.net"], 100),
        trust_settings("RYJ", "Y56", &["imperial.nhs.uk"], 100),
        trust_settings("R0A", "Y62", &["mft.nhs.uk"], 100),
    ])
    .await;
    let set = app.staff_on_trust_domains("imperial.nhs.uk").await;
    assert!(set.trust_domains);
    assert!(set.domains.is_empty());
    assert_eq!(
        set.domains_from_trusts,
        ["gstt.nhs.uk", "imperial.nhs.uk", "nhs.net"]
    );
    assert_eq!(app.eligibility().await, set);
    for email in ["sam@gstt.nhs.uk", "jo@ward.imperial.nhs.uk", "ali@nhs.net"] {
        app.ask_to_verify(email).await.unwrap();
    }
    let refused = app.ask_to_verify("kim@mft.nhs.uk").await.unwrap_err();
    assert_eq!(fields(&refused), ["email"]);
    let message = &valued_platform::grpc::field_errors(&refused)[0].message;
    assert!(
        message.contains("ending gstt.nhs.uk, imperial.nhs.uk or nhs.net"),
        "{message}"
    );

    // A later change takes gstt.nhs.uk away; a late copy older than it changes nothing.
    app.announce(&[
        trust_settings("RJ1", "Y56", &["nhs.net"], 200),
        trust_settings("RJ1", "Y56", &["gstt.nhs.uk", "nhs.net"], 150),
    ])
    .await;
    let mut followed = false;
    for _ in 0..100 {
        if app.eligibility().await.domains_from_trusts == ["imperial.nhs.uk", "nhs.net"] {
            followed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(followed, "{:?}", app.eligibility().await);
    assert_eq!(
        fields(&app.ask_to_verify("sam2@gstt.nhs.uk").await.unwrap_err()),
        ["email"]
    );

    // The audit says the trusts' domains were taken.
    let audit = vote_audit::Entity::find().all(&app.db).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.detail.contains("the trusts' own domains")),
        "{audit:?}"
    );
}

#[tokio::test]
async fn a_public_vote_refuses_the_trusts_domains() {
    let app = spawn_app().await;
    open_vote(&app, CAMPAIGN, &[("sam", "porters")]).await;
    let refused = app
        .set_eligibility(pb::SetVoteEligibilityRequest {
            campaign_id: CAMPAIGN.into(),
            eligibility: pb::Eligibility::Public.into(),
            trust_domains: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&refused), ["trust_domains"]);
}
