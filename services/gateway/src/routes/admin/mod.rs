//! The admin pages: moderation, the audit log, the CSV export, judging, the shortlist, people's
//! roles and people's data (subject access and erasure). The gateway signs admins in (see
//! [`crate::session`]) and forwards their ID token with every call; the nomination service alone
//! decides what each may see and do. Its UNAUTHENTICATED sends the browser to sign in again, its
//! PERMISSION_DENIED shows a 403 page.

use axum::Router;
use axum::routing::{get, post};

use crate::clients::Clients;
use crate::session::AuthSettings;

mod campaign_page;
mod campaigns;
mod chart;
mod deliveries;
mod email_sign_in;
mod home;
mod hourly;
mod imports;
mod insight;
mod judging;
mod learning_routes;
mod moderation;
mod mp_letter;
mod nomination_view;
mod notifications;
mod people;
mod privacy;
mod public_vote;
mod setup;
mod signed;
mod stories;
mod suggestions;
mod surveys;
mod trusts;
mod upload;

use signed::AdminState;

pub fn router<S>(clients: Clients, auth: &AuthSettings) -> Router<S> {
    let state = AdminState::new(clients, auth);
    Router::new()
        .route("/admin", get(home::index))
        .route("/admin/sign-in", get(home::sign_in))
        .route("/admin/sign-in/email", post(email_sign_in::request))
        .route(
            "/admin/sign-in/email/{token}",
            get(email_sign_in::show_link).post(email_sign_in::use_link),
        )
        .route("/admin/callback", get(home::callback))
        .route("/admin/sign-out", post(home::sign_out))
        .route(
            "/admin/campaigns/new",
            get(campaigns::new).post(campaigns::create),
        )
        .route(
            "/admin/trusts/{code}/settings",
            get(trusts::show).post(trusts::save),
        )
        .route(
            "/admin/organisations",
            get(imports::organisations)
                .post(imports::import_organisations)
                .layer(upload_limit()),
        )
        .route(
            "/admin/organisations/imports/{id}",
            get(imports::organisations_import),
        )
        .route(
            "/admin/mps",
            get(imports::mps)
                .post(imports::import_mps)
                .layer(upload_limit()),
        )
        .route("/admin/trusts/{code}/sites", post(trusts::add_site))
        .route(
            "/admin/trusts/{code}/sites/{site}/remove",
            post(trusts::remove_site),
        )
        .route(
            "/admin/campaigns/{slug}/page",
            get(campaign_page::show).post(campaign_page::add),
        )
        .route(
            "/admin/campaigns/{slug}/routes",
            get(learning_routes::show).post(learning_routes::add),
        )
        .route(
            "/admin/campaigns/{slug}/routes/{id}/remove",
            post(learning_routes::remove),
        )
        .route(
            "/admin/trusts/{code}/routes",
            get(learning_routes::show_trust).post(learning_routes::add_to_trust),
        )
        .route(
            "/admin/trusts/{code}/routes/{id}/remove",
            post(learning_routes::remove_from_trust),
        )
        .route(
            "/admin/campaigns/{slug}/mp-letter",
            get(mp_letter::show).post(mp_letter::save),
        )
        .route(
            "/admin/campaigns/{slug}/mp-letter/clear",
            post(mp_letter::clear),
        )
        .route(
            "/admin/campaigns/{slug}/page/files",
            post(campaign_page::upload).layer(campaign_page::upload_limit()),
        )
        .route(
            "/admin/campaigns/{slug}/page/{id}/remove",
            post(campaign_page::remove),
        )
        .route(
            "/admin/campaigns/{slug}/edit",
            get(campaigns::edit).post(campaigns::update),
        )
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
        .route("/admin/insight", get(insight::index))
        .route("/admin/insight/national", get(insight::national))
        .route(
            "/admin/insight/national/figures.csv",
            get(insight::national_csv),
        )
        .route("/admin/insight/regions/{code}", get(insight::region))
        .route(
            "/admin/insight/regions/{code}/figures.csv",
            get(insight::region_csv),
        )
        .route("/admin/insight/trusts/{code}", get(insight::trust))
        .route(
            "/admin/insight/trusts/{code}/figures.csv",
            get(insight::trust_csv),
        )
        .route("/admin/trusts/{code}/suggestions", get(suggestions::list))
        .route(
            "/admin/trusts/{code}/suggestions/{id}",
            get(suggestions::show_status).post(suggestions::set_status),
        )
        .route(
            "/admin/trusts/{code}/suggestions/{id}/moderate",
            post(suggestions::moderate),
        )
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
        .route("/admin/surveys", get(surveys::list).post(surveys::create))
        .route("/admin/surveys/{id}", get(surveys::show))
        .route("/admin/surveys/{id}/settings", post(surveys::save_settings))
        .route("/admin/surveys/{id}/sections", post(surveys::add_section))
        .route(
            "/admin/surveys/{id}/sections/remove",
            post(surveys::remove_section),
        )
        .route("/admin/surveys/{id}/questions", post(surveys::add_question))
        .route(
            "/admin/surveys/{id}/questions/remove",
            post(surveys::remove_question),
        )
        .route(
            "/admin/surveys/{id}/feeling-valued",
            post(surveys::add_feeling_valued),
        )
        .route("/admin/surveys/{id}/publish", post(surveys::publish))
        .route("/admin/surveys/{id}/close", post(surveys::close))
        .route("/admin/surveys/{id}/preview", get(surveys::preview))
        .route(
            "/admin/surveys/{id}/invitations/email",
            post(surveys::invite),
        )
        .route(
            "/admin/surveys/{id}/invitations/codes",
            post(surveys::codes),
        )
        .route("/admin/surveys/{id}/results", get(surveys::results))
        .route("/admin/surveys/{id}/results.csv", get(surveys::results_csv))
        .route(
            "/admin/surveys/{id}/screening",
            get(surveys::screening).post(surveys::screen),
        )
        .route("/admin/deliveries", get(deliveries::search))
        .route("/admin/people", get(people::people).post(people::invite))
        .route("/admin/people/revoke", post(people::revoke))
        .route("/admin/privacy", get(privacy::privacy))
        .route("/admin/privacy/export", post(privacy::export))
        .route("/admin/privacy/erase", post(privacy::confirm_erasure))
        .route("/admin/privacy/erasures", post(privacy::request_erasure))
        .route("/admin/privacy/erasures/{id}", get(privacy::erasure))
        .route("/admin/stories", get(stories::list))
        .route("/admin/stories/{id}/moderate", post(stories::moderate))
        .route("/admin/stories/{id}/phone", post(stories::reveal))
        .route("/admin/stories/{id}/audit", get(stories::audit))
        .with_state(state)
}

/// The body an import page's upload may have: the file and the rest of its form.
fn upload_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(imports::MAX_FILE_BYTES + 64 * 1024)
}
