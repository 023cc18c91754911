//! The start of every journey: the campaigns and each campaign's start page.

use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::context;
use valued_proto::nomination::v1::ListCampaignsRequest;

use super::{CampaignView, page, see_other};
use crate::clients::{Clients, NOMINATION};
use crate::error::{GatewayError, Result};

/// `GET /`: straight to the campaign when there is one, else the list of campaigns.
pub async fn index(State(clients): State<Clients>) -> Result<Response> {
    let campaigns = clients
        .nomination
        .clone()
        .list_campaigns(ListCampaignsRequest {})
        .await
        .map_err(|status| GatewayError::from_status(NOMINATION, status))?
        .into_inner()
        .campaigns;
    let campaigns: Vec<CampaignView> = campaigns.iter().map(CampaignView::from).collect();
    if let [only] = campaigns.as_slice() {
        return see_other(&format!("/campaigns/{}", only.slug));
    }
    page(
        "campaigns.html",
        context! {
            page_title => "Do you know a health hero?",
            campaigns => campaigns,
        },
    )
}

/// `GET /campaigns/{slug}`: the campaign's start page.
pub async fn show(State(clients): State<Clients>, Path(slug): Path<String>) -> Result<Response> {
    let campaign = CampaignView::from(&clients.campaign(&slug).await?);
    page(
        "campaign.html",
        context! {
            page_title => campaign.name.clone(),
            campaign => campaign,
        },
    )
}
