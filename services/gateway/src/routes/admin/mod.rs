//! The admin pages: moderation, the audit log, the CSV export, judging, the shortlist, people's
//! roles and people's data (subject access and erasure). The gateway signs admins in (see
//! [`crate::session`]) and forwards their ID token with every call; the nomination service alone
//! decides what each may see and do. Its UNAUTHENTICATED sends the browser to sign in again, its
//! PERMISSION_DENIED shows a 403 page.

use axum::Router;
use axum::routing::{get, post};

use crate::clients::Clients;
use crate::session::AuthSettings;

mod deliveries;
mod home;
mod hourly;
mod judging;
mod moderation;
mod nomination_view;
mod notifications;
mod people;
mod privacy;
mod public_vote;
mod setup;
mod signed;

use signed::AdminState;

pub fn router<S>(clients: Clients, auth: &AuthSettings) -> Router<S> {
    let state = AdminState::new(clients, auth);
    Router::new()
        .route("/admin", get(home::index))
        .route("/admin/sign-in", get(home::sign_in))
        .route("/admin/callback", get(home::callback))
        .route("/admin/sign-out", post(home::sign_out))
        .route("/admin/campaigns/{slug}/moderation", get(moderation::queue))
        .route(
            "/admin/campaigns/{slug}/moderation/{id}",
            post(moderation::moderate),
        )
        .route(
            "/admin/campaigns/{slug}/matches/{id}",
            post(moderation::review_match),
        )
        .route(
            "/admin/campaigns/{slug}/nominations.csv",
            get(moderation::export),
        )
        .route("/admin/trusts/{code}/audit", get(moderation::audit))
        .route("/admin/templates", get(notifications::templates))
        .route("/admin/templates/{name}", get(notifications::template_html))
        .route("/admin/mp-emails", get(notifications::mp_emails))
        .route("/admin/held-letters", get(notifications::held_letters))
        .route(
            "/admin/held-letters/{id}",
            post(notifications::review_held_letter),
        )
        .route(
            "/admin/campaigns/{slug}/rubric",
            get(setup::rubric).post(setup::save_rubric),
        )
        .route(
            "/admin/campaigns/{slug}/judges",
            get(setup::judges).post(setup::assign_judge),
        )
        .route("/admin/campaigns/{slug}/judging", get(judging::work))
        .route(
            "/admin/campaigns/{slug}/judging/{id}/score",
            post(judging::score),
        )
        .route(
            "/admin/campaigns/{slug}/judging/{id}/conflict",
            post(judging::conflict),
        )
        .route("/admin/campaigns/{slug}/shortlist", get(judging::shortlist))
        .route(
            "/admin/campaigns/{slug}/shortlist/finalists",
            post(judging::finalists),
        )
        .route(
            "/admin/campaigns/{slug}/shortlist/winner",
            post(judging::winner),
        )
        .route(
            "/admin/campaigns/{slug}/shortlist/forward",
            post(judging::forward),
        )
        .route("/admin/campaigns/{slug}/vote", get(public_vote::show))
        .route(
            "/admin/campaigns/{slug}/vote/timetable",
            post(public_vote::schedule),
        )
        .route(
            "/admin/campaigns/{slug}/vote/eligibility",
            post(public_vote::set_eligibility),
        )
        .route(
            "/admin/campaigns/{slug}/vote/held",
            post(public_vote::decide_held),
        )
        .route(
            "/admin/campaigns/{slug}/vote/check/{ballot}",
            post(public_vote::check),
        )
        .route(
            "/admin/campaigns/{slug}/vote/results.csv",
            get(public_vote::results_csv),
        )
        .route("/admin/deliveries", get(deliveries::search))
        .route("/admin/people", get(people::people).post(people::invite))
        .route("/admin/people/revoke", post(people::revoke))
        .route("/admin/privacy", get(privacy::privacy))
        .route("/admin/privacy/export", post(privacy::export))
        .route("/admin/privacy/erase", post(privacy::confirm_erasure))
        .route("/admin/privacy/erasures", post(privacy::request_erasure))
        .route("/admin/privacy/erasures/{id}", get(privacy::erasure))
        .with_state(state)
}
