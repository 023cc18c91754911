//! Sample events, realistic enough to render every email from.

use valued_platform::Envelope;
use valued_proto::events::v1 as ev;

/// One event of every type handled, with `typed` wherever a person writes the text: the templates'
/// tests and the admin preview.
pub fn samples(typed: &str) -> Vec<Envelope> {
    let submitted = ev::NominationSubmitted {
        campaign_name: typed.into(),
        trust_name: typed.into(),
        category_name: typed.into(),
        nominee_name: typed.into(),
        nominee_job_title: typed.into(),
        staff_group: typed.into(),
        nominator_name: typed.into(),
        relationship: typed.into(),
        story_excerpt: typed.into(),
        nominator_email: "alex@example.org".into(),
        trust_admin_email: "awards@example.org".into(),
        ..Default::default()
    };
    let confirm = ev::NominationConfirmationRequested {
        campaign_name: typed.into(),
        nominator_name: typed.into(),
        nominee_name: typed.into(),
        nominator_email: "alex@example.org".into(),
        confirm_token: "c0ffee".into(),
        ..Default::default()
    };
    let draft = ev::DraftSaved {
        campaign_name: typed.into(),
        nominator_email: "alex@example.org".into(),
        resume_token: "d00d".into(),
        expires_at: Some(prost_types::Timestamp {
            seconds: 1_795_354_200,
            nanos: 0,
        }),
        ..Default::default()
    };
    let declined = |reason: &str| ev::NominationDeclined {
        campaign_name: typed.into(),
        nominee_name: typed.into(),
        category_name: typed.into(),
        nominator_email: "alex@example.org".into(),
        reason: reason.into(),
        limit: 20,
        ..Default::default()
    };
    let thanked = |via_manager, nomination_count| ev::NomineeThanked {
        campaign_name: typed.into(),
        trust_name: typed.into(),
        nominee_name: typed.into(),
        recipient_email: "sam@example.org".into(),
        via_manager,
        consent_token: if via_manager { "" } else { "beef" }.into(),
        claim_token: if via_manager { "ca1m" } else { "" }.into(),
        nomination_count,
        learning_routes: vec![
            ev::LearningRouteLink {
                title: typed.into(),
                description: typed.into(),
                campaign_slug: "health-heroes-2026".into(),
                route_id: "0193a1b2-0000-7000-8000-000000000001".into(),
                trust_code: String::new(),
            },
            ev::LearningRouteLink {
                title: typed.into(),
                description: typed.into(),
                campaign_slug: String::new(),
                route_id: "0193a1b2-0000-7000-8000-000000000002".into(),
                trust_code: "RJ1".into(),
            },
        ],
        ..Default::default()
    };
    let claimed = ev::NomineeClaimed {
        campaign_name: typed.into(),
        trust_name: typed.into(),
        nominee_name: typed.into(),
        recipient_email: "sam@example.org".into(),
        consent_token: "feed".into(),
        ..Default::default()
    };
    let more_info = |reply_to: &str| ev::MoreInfoRequested {
        campaign_name: typed.into(),
        trust_name: typed.into(),
        nominee_name: typed.into(),
        nominator_name: typed.into(),
        nominator_email: "alex@example.org".into(),
        question: typed.into(),
        reply_to: reply_to.into(),
        ..Default::default()
    };
    let recognised = ev::RecognisedNominee {
        campaign_name: typed.into(),
        category_name: typed.into(),
        trust_name: typed.into(),
        nominee_name: typed.into(),
        nominee_job_title: typed.into(),
        nominee_email: "sam@example.org".into(),
        nominator_emails: vec!["alex@example.org".into()],
        ..Default::default()
    };
    let verification = ev::VoterVerificationRequested {
        campaign_name: typed.into(),
        email: "alex@example.org".into(),
        token: "b0a7".into(),
        code: "042917".into(),
        expires_at: Some(prost_types::Timestamp {
            seconds: 1_795_354_200,
            nanos: 0,
        }),
    };
    let survey_invitation = ev::SurveyInvitationRequested {
        survey_title: typed.into(),
        email: "alex@example.org".into(),
        code: "K7QM-3XWP-9DHT-R2VC".into(),
        closes_at: Some(prost_types::Timestamp {
            seconds: 1_795_354_200,
            nanos: 0,
        }),
        organisation: typed.into(),
    };
    let counted = ev::VoterVoteCounted {
        email: "alex@example.org".into(),
        campaign_name: typed.into(),
        ballot_title: typed.into(),
        receipt: "7K3QZ-M9D2A".into(),
        cast_at: Some(prost_types::Timestamp {
            seconds: 1_795_354_200,
            nanos: 0,
        }),
    };
    let results = ev::VoterResultsReleased {
        email: "alex@example.org".into(),
        campaign_id: "0193a1b2-0000-7000-8000-000000000001".into(),
        campaign_name: typed.into(),
        ballots: vec![
            ev::BallotResult {
                title: typed.into(),
                winner_names: vec![typed.into()],
                total_votes: 1_204,
            },
            ev::BallotResult {
                title: typed.into(),
                winner_names: vec![typed.into(), typed.into()],
                total_votes: 880,
            },
        ],
    };
    let vote_opened = ev::FinalistVoteOpened {
        finalist: Some(recognised.clone()),
        closes_at: Some(prost_types::Timestamp {
            seconds: 1_795_354_200,
            nanos: 0,
        }),
        results_at: Some(prost_types::Timestamp {
            seconds: 1_795_440_600,
            nanos: 0,
        }),
    };
    let finalist_results = ev::FinalistResultsReleased {
        finalist: Some(recognised.clone()),
        winner_names: vec![typed.into()],
    };
    let finalist = ev::FinalistAnnounced {
        finalist: Some(recognised.clone()),
        announced_at: None,
        vote: None,
        ..Default::default()
    };
    let winner = ev::WinnerAnnounced {
        winner: Some(recognised),
        announced_at: None,
    };
    let suggestion_status = ev::SuggestionStatusChanged {
        suggester_email: "alex@example.org".into(),
        suggester_name: typed.into(),
        trust_code: "RXX".into(),
        text: typed.into(),
        status: "done".into(),
        status_label: "We did it".into(),
        public_reason: typed.into(),
        changed_at: Some(prost_types::Timestamp {
            seconds: 1_795_354_200,
            nanos: 0,
        }),
    };
    vec![
        Envelope::new("test", None, &submitted),
        Envelope::new("test", None, &confirm),
        Envelope::new("test", None, &draft),
        Envelope::new("test", None, &declined("already_nominated")),
        Envelope::new("test", None, &declined("limit_reached")),
        Envelope::new("test", None, &thanked(false, 1)),
        Envelope::new("test", None, &thanked(false, 3)),
        Envelope::new("test", None, &thanked(true, 2)),
        Envelope::new("test", None, &claimed),
        Envelope::new("test", None, &more_info("awards@example.org")),
        Envelope::new("test", None, &more_info("")),
        Envelope::new("test", None, &finalist),
        Envelope::new("test", None, &winner),
        Envelope::new("test", None, &verification),
        Envelope::new("test", None, &counted),
        Envelope::new("test", None, &results),
        Envelope::new("test", None, &vote_opened),
        Envelope::new("test", None, &finalist_results),
        Envelope::new("test", None, &survey_invitation),
        Envelope::new(
            "test",
            None,
            &ev::StoryDraftSaved {
                campaign_name: typed.into(),
                email: "alex@example.org".into(),
                resume_token: "5a7ed".into(),
                ..Default::default()
            },
        ),
        Envelope::new(
            "test",
            None,
            &ev::StorySubmitted {
                campaign_name: typed.into(),
                email: "alex@example.org".into(),
                withdraw_token: "90ne".into(),
                ..Default::default()
            },
        ),
        Envelope::new("test", None, &suggestion_status),
        Envelope::new(
            "test",
            None,
            &ev::AdminSignInLinkRequested {
                email: "alex@example.org".into(),
                link_token: "519n".into(),
                ..Default::default()
            },
        ),
        Envelope::new(
            "test",
            None,
            &ev::AdminInvited {
                email: "alex@example.org".into(),
                role: "trust_admin".into(),
                scope_name: typed.into(),
                invited_by: "sam@example.org".into(),
            },
        ),
    ]
}
