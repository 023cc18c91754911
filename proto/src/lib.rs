//! Every gRPC contract and event payload of Valued, generated at build time from `proto/valued`.
//!
//! Event types are declared once, here: the routing key of an event *is* its type string, and it is
//! never derived from a Rust type name.

#![allow(clippy::all, clippy::unwrap_used, clippy::expect_used)]

/// Encoded `FileDescriptorSet` of every package, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/valued_descriptor.bin"));

pub mod nomination {
    pub mod v1 {
        tonic::include_proto!("valued.nomination.v1");
    }
}

pub mod voting {
    pub mod v1 {
        tonic::include_proto!("valued.voting.v1");
    }
}

pub mod survey {
    pub mod v1 {
        tonic::include_proto!("valued.survey.v1");
    }
}

pub mod notification {
    pub mod v1 {
        tonic::include_proto!("valued.notification.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("valued.events.v1");
    }

    /// An event payload and the one type string (= routing key) it travels under.
    pub trait Event: prost::Message + Default {
        const TYPE: &'static str;
    }

    macro_rules! event_types {
        ($($message:ident => $type:literal),* $(,)?) => {
            $(impl Event for v1::$message {
                const TYPE: &'static str = $type;
            })*

            /// Every event type Valued publishes.
            pub const ALL_TYPES: &[&str] = &[$($type),*];
        };
    }

    event_types! {
        NominationSubmitted => "nomination.submitted.v1",
        NominationConfirmationRequested => "nomination.confirmation_requested.v1",
        DraftSaved => "nomination.draft_saved.v1",
        NominationDeclined => "nomination.declined.v1",
        NomineeThanked => "nominee.thanked.v1",
        NomineeClaimed => "nominee.claimed.v1",
        ConsentChanged => "nominee.consent_changed.v1",
        MoreInfoRequested => "nomination.more_info_requested.v1",
        FinalistAnnounced => "finalist.announced.v1",
        WinnerAnnounced => "winner.announced.v1",
        RoleChanged => "role.changed.v1",
        AdminSignInLinkRequested => "admin.sign_in_link_requested.v1",
        AdminInvited => "admin.invited.v1",
        TrustSettingsChanged => "trust.settings_changed.v1",
        ErasureRequested => "person.erasure_requested.v1",
        PersonErased => "person.erased.v1",
        BallotOpened => "ballot.opened.v1",
        VoterVerificationRequested => "voter.verification_requested.v1",
        VoteCast => "vote.cast.v1",
        VoteOpened => "vote.opened.v1",
        VoteResultsReleased => "vote.results_released.v1",
        VoterVoteCounted => "voter.vote_counted.v1",
        VoterResultsReleased => "voter.results_released.v1",
        FinalistVoteOpened => "finalist.vote_opened.v1",
        FinalistResultsReleased => "finalist.results_released.v1",
        SurveyResponseRecorded => "survey.response_recorded.v1",
        SurveyInvitationRequested => "survey.invitation_requested.v1",
        SurveyClosed => "survey.closed.v1",
        StoryDraftSaved => "story.draft_saved.v1",
        StorySubmitted => "story.submitted.v1",
        StoryPublished => "story.published.v1",
        StoryWithdrawn => "story.withdrawn.v1",
        SuggestionStatusChanged => "suggestion.status_changed.v1",
        EmailSent => "email.sent.v1",
        EmailFailed => "email.failed.v1",
    }
}
