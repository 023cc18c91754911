//! People and roles: the role grants the signed-in admin manages, each with a button to revoke it,
//! and a form to invite someone to a role. The nomination service decides who manages which grants
//! and checks every invitation; the page shows what it says.

use axum::Form;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_proto::nomination::v1::{
    GrantRoleRequest, ListRoleGrantsRequest, RevokeRoleRequest, RoleGrant,
};

use super::home::role_name;
use super::signed::{AdminError, AdminResult, Signed, check_csrf, field_errors};
use crate::routes::forms::{self, SummaryError};
use crate::routes::page::see_other;
use crate::templates;

const PEOPLE_PATH: &str = "/admin/people";

/// The invitation form's inputs, in page order.
const INVITE_FIELDS: &[&str] = &["email", "role", "scope"];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PeopleQuery {
    done: String,
}

/// The invitation form, as typed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct InviteForm {
    #[serde(skip_serializing)]
    csrf_token: String,
    email: String,
    role: String,
    scope: String,
}

/// A revoke button's form: the grant it revokes, as the list gave it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RevokeForm {
    csrf_token: String,
    email: String,
    role: String,
    scope: String,
}

/// One grant as the table shows it.
#[derive(Debug, Serialize)]
struct GrantView {
    email: String,
    /// The email in pieces, each ending after an `@` or `.`, for a narrow column to break between.
    email_parts: Vec<String>,
    role: String,
    role_name: &'static str,
    scope: String,
    /// What the role covers, in words.
    covers: String,
    bound: bool,
    revoked: bool,
    /// The admin's own: shown without a button to revoke it.
    yours: bool,
    /// "Revoked by … on …", for revoked grants.
    revoked_note: String,
}

impl From<RoleGrant> for GrantView {
    fn from(g: RoleGrant) -> Self {
        let covers = match (g.role.as_str(), g.scope_name.is_empty()) {
            ("platform_admin", _) => "Everything".to_owned(),
            (_, true) => g.scope.clone(),
            ("judge", false) => g.scope_name,
            (_, false) => format!("{} ({})", g.scope_name, g.scope),
        };
        let revoked_on = valued_platform::uk_time::when_of(g.revoked_at.as_ref())
            .map(|t| format!(" on {t}"))
            .unwrap_or_default();
        Self {
            role_name: role_name(&g.role),
            email_parts: g
                .email
                .split_inclusive(['@', '.'])
                .map(str::to_owned)
                .collect(),
            revoked_note: if g.revoked {
                format!("Revoked by {}{revoked_on}", g.revoked_by)
            } else {
                String::new()
            },
            email: g.email,
            role: g.role,
            scope: g.scope,
            covers,
            bound: g.bound,
            revoked: g.revoked,
            yours: g.yours,
        }
    }
}

/// `GET /admin/people`
pub async fn people(
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<PeopleQuery>,
) -> AdminResult<Response> {
    let done = match query.done.as_str() {
        "invited" => Some(
            "Invitation saved, and we have emailed them how to sign in. The role starts when they first sign in with that email address.",
        ),
        "revoked" => Some("Role revoked. It stopped working straight away."),
        _ => None,
    };
    people_page(&signed, &headers, InviteForm::default(), Vec::new(), done).await
}

/// The grants the admin manages and the invitation form (with `errors`, as `form` was typed).
async fn people_page(
    signed: &Signed,
    headers: &HeaderMap,
    form: InviteForm,
    errors: Vec<SummaryError>,
    done: Option<&str>,
) -> AdminResult<Response> {
    let listed = signed
        .nomination()
        .list_role_grants(signed.signed(ListRoleGrantsRequest {}))
        .await
        .map_err(|s| signed.fail(s))?
        .into_inner();
    let grants: Vec<GrantView> = listed.grants.into_iter().map(GrantView::from).collect();
    let roles: Vec<_> = listed
        .grantable_roles
        .iter()
        .map(|role| context! { value => role, label => role_name(role) })
        .collect();
    let scope_hint = scope_hint(&listed.grantable_roles);
    let messages = forms::by_field(&errors);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(forms::form_page(headers, status, |csrf_token| {
        templates::render(
            "admin/people.html",
            context! {
                page_title => "People and roles",
                grants => grants,
                roles => roles,
                scope_hint => scope_hint,
                form => form,
                errors => errors,
                messages => messages,
                done => done,
                csrf_token => csrf_token,
            },
        )
    })?)
}

/// What to type as the scope, for the roles the admin may grant.
fn scope_hint(roles: &[String]) -> String {
    let grants = |role: &str| roles.iter().any(|r| r == role);
    let kinds: Vec<&str> = [
        ("region_admin", "a region code (like Y56)"),
        ("trust_admin", "a trust code (like RJ1)"),
        (
            "judge",
            "for a judge, the short name at the end of the campaign's web address (like \
             health-heroes-2026)",
        ),
    ]
    .into_iter()
    .filter(|(role, _)| grants(role))
    .map(|(_, kind)| kind)
    .collect();
    let mut hint = match kinds.split_last() {
        Some((last, [])) => format!("{last}."),
        Some((last, rest)) => format!("{} or {last}.", rest.join(", ")),
        None => String::new(),
    };
    if let Some(first) = hint.get(..1) {
        hint.replace_range(..1, &first.to_uppercase());
    }
    if grants("platform_admin") {
        hint.push_str(" Leave it empty for a platform administrator.");
    }
    hint
}

/// `POST /admin/people`: invites someone; the service names each field it refuses.
pub async fn invite(
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, PEOPLE_PATH)?;
    let invited = signed
        .nomination()
        .grant_role(signed.signed(GrantRoleRequest {
            email: form.email.clone(),
            role: form.role.clone(),
            scope: form.scope.clone(),
        }))
        .await;
    let errors = match invited {
        Ok(_) => return Ok(see_other(&format!("{PEOPLE_PATH}?done=invited"))?),
        // A role over a trust, region or campaign they do not look after: said by the field, so
        // that what they typed stays to be corrected.
        Err(status) if status.code() == Code::PermissionDenied => vec![SummaryError {
            field: "scope".to_owned(),
            message: match form.scope.trim() {
                "" => "You cannot give anyone this role.".to_owned(),
                scope => format!(
                    "You cannot give anyone this role over {scope}. Choose a trust, region or \
                     campaign you look after."
                ),
            },
        }],
        Err(status) => forms::summary(&field_errors(&signed, status)?, INVITE_FIELDS, |_| None),
    };
    people_page(&signed, &headers, form, errors, None).await
}

/// `POST /admin/people/revoke`
pub async fn revoke(
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> AdminResult<Response> {
    check_csrf(&headers, &form.csrf_token, PEOPLE_PATH)?;
    let revoked = signed
        .nomination()
        .revoke_role(signed.signed(RevokeRoleRequest {
            email: form.email.clone(),
            role: form.role,
            scope: form.scope,
        }))
        .await;
    match revoked {
        Ok(_) => Ok(see_other(&format!("{PEOPLE_PATH}?done=revoked"))?),
        // Revoked a moment ago, perhaps in another tab.
        Err(status) if status.code() == Code::NotFound => Err(AdminError::Refused(format!(
            "{} does not hold that role any more: it may have been revoked already.",
            form.email
        ))),
        Err(status) => Err(signed.refused(status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(roles: &[&str]) -> String {
        scope_hint(&roles.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn the_scope_hint_names_only_the_roles_offered() {
        assert_eq!(hint(&["trust_admin"]), "A trust code (like RJ1).");
        assert_eq!(
            hint(&["trust_admin", "judge"]),
            "A trust code (like RJ1) or for a judge, the short name at the end of the campaign's \
             web address (like health-heroes-2026)."
        );
        assert_eq!(
            hint(&["platform_admin", "region_admin", "trust_admin", "judge"]),
            "A region code (like Y56), a trust code (like RJ1) or for a judge, the short name at \
             the end of the campaign's web address (like health-heroes-2026). Leave it empty for a \
             platform administrator."
        );
        assert_eq!(hint(&[]), "");
    }
}
