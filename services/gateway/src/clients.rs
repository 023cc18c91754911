//! The gRPC clients of the services the gateway calls. Channels connect lazily (the gateway may start
//! first), each call goes to one of the service's replicas in turn, and every call carries the caller's trace context and the gateway's service credential
//! for the callee.

use std::time::Duration;

use anyhow::Context;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
pub use valued_platform::grpc::Credentialed as Traced;
use valued_platform::grpc::credentialed;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::nomination::v1::{
    Campaign, GetCampaignRequest, ListCampaignsRequest, OpenLearningRouteRequest,
};
use valued_proto::notification::v1::notification_service_client::NotificationServiceClient;
use valued_proto::survey::v1::feedback_service_client::FeedbackServiceClient;
use valued_proto::survey::v1::story_service_client::StoryServiceClient;
use valued_proto::survey::v1::survey_service_client::SurveyServiceClient;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;

use crate::Peers;
use crate::error::{GatewayError, Result};

pub const NOMINATION: &str = "nomination";
pub const NOTIFICATION: &str = "notification";
pub const VOTING: &str = "voting";
pub const SURVEY_FEEDBACK: &str = "survey-feedback";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Clients {
    pub nomination: NominationServiceClient<Traced>,
    pub notification: NotificationServiceClient<Traced>,
    /// Only the admin pages call it: readiness does not wait for it.
    pub voting: VotingServiceClient<Traced>,
    /// Surveys; only their pages call it: readiness does not wait for it.
    pub survey: SurveyServiceClient<Traced>,
    /// "Tell us your story"; readiness does not wait for it.
    pub stories: StoryServiceClient<Traced>,
    /// The suggestion box; readiness does not wait for it.
    pub feedback: FeedbackServiceClient<Traced>,
    nomination_channel: Channel,
    notification_channel: Channel,
}

impl Clients {
    pub fn connect_lazy(peers: &Peers) -> anyhow::Result<Self> {
        let nomination_channel = channel(&peers.nomination.url).context("nomination peer")?;
        let notification_channel = channel(&peers.notification.url).context("notification peer")?;
        let voting_channel = channel(&peers.voting.url).context("voting peer")?;
        let survey_feedback_channel =
            channel(&peers.survey_feedback.url).context("survey-feedback peer")?;
        Ok(Self {
            // Campaign files (up to 10 MB) go both ways: above tonic's default 4 MB.
            nomination: NominationServiceClient::new(credentialed(
                nomination_channel.clone(),
                peers.nomination.credential.clone(),
            ))
            .max_decoding_message_size(valued_platform::grpc::FILE_MESSAGE_MAX_BYTES),
            notification: NotificationServiceClient::new(credentialed(
                notification_channel.clone(),
                peers.notification.credential.clone(),
            )),
            voting: VotingServiceClient::new(credentialed(
                voting_channel,
                peers.voting.credential.clone(),
            )),
            survey: SurveyServiceClient::new(credentialed(
                survey_feedback_channel.clone(),
                peers.survey_feedback.credential.clone(),
            )),
            stories: StoryServiceClient::new(credentialed(
                survey_feedback_channel.clone(),
                peers.survey_feedback.credential.clone(),
            )),
            feedback: FeedbackServiceClient::new(credentialed(
                survey_feedback_channel,
                peers.survey_feedback.credential.clone(),
            )),
            nomination_channel,
            notification_channel,
        })
    }

    /// The campaign with this slug; `NotFound` when there is none.
    pub async fn campaign(&self, slug: &str) -> Result<Campaign> {
        crate::retry::idempotent("get campaign", || {
            let mut nomination = self.nomination.clone();
            async move {
                nomination
                    .get_campaign(GetCampaignRequest { slug: slug.into() })
                    .await
            }
        })
        .await
        .map_err(|status| GatewayError::from_status(NOMINATION, status))?
        .into_inner()
        .campaign
        .ok_or(GatewayError::NotFound)
    }

    /// Counts an open of the learning route the request names (a campaign's by its slug, or a
    /// trust's by its code) and answers its stored address; `NotFound` when there is no such route.
    pub async fn open_learning_route(&self, request: OpenLearningRouteRequest) -> Result<String> {
        Ok(self
            .nomination
            .clone()
            .open_learning_route(request)
            .await
            .map_err(|status| GatewayError::from_status(NOMINATION, status))?
            .into_inner()
            .url)
    }

    /// The file uploaded as item `id` of the page of the campaign at `slug`, and its content;
    /// `NotFound` when the campaign has no such file.
    pub async fn campaign_file(
        &self,
        slug: &str,
        id: &str,
    ) -> Result<(valued_proto::nomination::v1::CampaignFile, Vec<u8>)> {
        let found = self
            .nomination
            .clone()
            .get_campaign_file(valued_proto::nomination::v1::GetCampaignFileRequest {
                campaign_slug: slug.into(),
                item_id: id.into(),
            })
            .await
            .map_err(|status| GatewayError::from_status(NOMINATION, status))?
            .into_inner();
        Ok((found.file.unwrap_or_default(), found.content))
    }

    /// Every campaign, in the nomination service's order.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        Ok(self
            .nomination
            .clone()
            .list_campaigns(ListCampaignsRequest {})
            .await
            .map_err(|status| GatewayError::from_status(NOMINATION, status))?
            .into_inner()
            .campaigns)
    }

    /// Whether each service answers its gRPC health check (the empty service name: the whole
    /// server) with SERVING: `(nomination, notification)`.
    pub async fn ready(&self) -> (bool, bool) {
        tokio::join!(
            serving(self.nomination_channel.clone(), NOMINATION),
            serving(self.notification_channel.clone(), NOTIFICATION),
        )
    }
}

/// Balanced per call across the replicas the URL's name resolves to (`valued_platform::balance`).
fn channel(url: &str) -> anyhow::Result<Channel> {
    valued_platform::balance::channel(
        url,
        valued_platform::balance::Timeouts {
            connect: CONNECT_TIMEOUT,
            request: REQUEST_TIMEOUT,
        },
    )
}

async fn serving(channel: Channel, service: &'static str) -> bool {
    let mut client = HealthClient::new(channel);
    let check = client.check(HealthCheckRequest {
        service: String::new(),
    });
    match tokio::time::timeout(HEALTH_TIMEOUT, check).await {
        Ok(Ok(response)) => response.into_inner().status == ServingStatus::Serving as i32,
        Ok(Err(status)) => {
            if status.code() != Code::Unavailable {
                tracing::warn!(service, %status, "health check failed");
            }
            false
        }
        Err(_) => {
            tracing::warn!(service, "health check timed out");
            false
        }
    }
}
