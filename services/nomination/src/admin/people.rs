//! The people who hold admin roles, for the admins who manage them
//! ([`Managed`](crate::auth::Managed)): the grants they
//! manage, revoked ones too, and invitations. Granting and revoking go through [`auth::grant`] and
//! [`auth::revoke`], which check the caller's rights, write the audit log and announce
//! `role.changed.v1` in the same transaction.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use uuid::Uuid;
use valued_platform::domain::{EmailAddress, FieldError};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::AdminInvited;

use crate::auth::{self, Actor, Principal, Role};
use crate::db::entities::{campaign, region, role_grant, trust};
use crate::error::{Error, Result};

/// A grant as an admin names it: the email, the role and its scope, checked and normalised as
/// `valued grant` does (a platform admin has no scope, every other role one; region and trust
/// codes upper-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantKey {
    pub email: EmailAddress,
    pub role: Role,
    /// A region or trust code, a campaign id (or, when inviting, slug) for a judge, or empty.
    pub scope: String,
}

/// The longest scope anyone types: a campaign id is 36 characters, a slug rarely more.
const SCOPE_MAX: usize = 100;

impl GrantKey {
    /// The fields `email`, `role` and `scope`, each error naming its field.
    pub fn parse(
        email: &str,
        role: &str,
        scope: &str,
    ) -> std::result::Result<Self, Vec<FieldError>> {
        let email = EmailAddress::parse("email", email);
        let role = parse_role(role);
        // A scope is checked against its role; without one, only the role's error is shown.
        let scope = role.as_ref().ok().map(|role| parse_scope(*role, scope));
        match (email, role, scope) {
            (Ok(email), Ok(role), Some(Ok(scope))) => Ok(Self { email, role, scope }),
            (email, role, scope) => Err([
                email.err(),
                role.err(),
                scope.and_then(std::result::Result::err),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

fn parse_role(role: &str) -> std::result::Result<Role, FieldError> {
    let role = role.trim();
    if role.is_empty() {
        return Err(FieldError::new("role", "Select a role"));
    }
    Role::parse(role).ok_or_else(|| FieldError::new("role", "Select a role from the list"))
}

fn parse_scope(role: Role, scope: &str) -> std::result::Result<String, FieldError> {
    let scope = scope.trim();
    let error = |message: &str| Err(FieldError::new("scope", message));
    match role {
        Role::PlatformAdmin if scope.is_empty() => Ok(String::new()),
        Role::PlatformAdmin => {
            error("Leave the scope empty: a platform administrator covers everything")
        }
        Role::RegionAdmin | Role::TrustAdmin => {
            let (what, example) = if role == Role::RegionAdmin {
                ("region", "Y56")
            } else {
                ("trust", "RJ1")
            };
            if scope.is_empty() {
                error(&format!("Enter the {what} code, like {example}"))
            } else if scope.len() > 10 || !scope.chars().all(|c| c.is_ascii_alphanumeric()) {
                error(&format!(
                    "Enter a {what} code in letters and digits only, like {example}"
                ))
            } else {
                Ok(scope.to_ascii_uppercase())
            }
        }
        Role::Judge if scope.is_empty() => error("Enter the campaign the judge will judge"),
        Role::Judge
            if scope.len() > SCOPE_MAX
                || !scope.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            error("Enter the campaign's id, or the short name from its web address")
        }
        Role::Judge => Ok(scope.to_owned()),
    }
}

/// A grant as listed: as stored, with the name of its region, trust or campaign.
#[derive(Debug, Clone)]
pub struct Listed {
    pub grant: role_grant::Model,
    pub scope_name: String,
    /// A grant to the admin who asked.
    pub yours: bool,
}

/// What the people page shows an admin: the grants they manage and the roles they may grant.
pub struct People {
    pub grants: Vec<Listed>,
    pub grantable: Vec<Role>,
}

/// The grants `principal` manages, unrevoked first, then by role, scope and email.
pub async fn list(db: &DatabaseConnection, principal: &Principal) -> Result<People> {
    let managed = principal.managed(db).await?;
    let scopes = Scopes::load(db).await?;
    let mut grants: Vec<(Role, Listed)> = role_grant::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|grant| {
            let role = Role::parse(&grant.role)?;
            managed.covers(role, &grant.scope).then(|| {
                let scope_name = scopes.name(role, &grant.scope);
                let yours = grant.email == principal.email;
                let listed = Listed {
                    grant,
                    scope_name,
                    yours,
                };
                (role, listed)
            })
        })
        .collect();
    let rank = |role: Role| Role::ALL.iter().position(|r| *r == role);
    grants.sort_by(|(a_role, a), (b_role, b)| {
        (
            a.grant.revoked_at.is_some(),
            rank(*a_role),
            &a.grant.scope,
            &a.grant.email,
        )
            .cmp(&(
                b.grant.revoked_at.is_some(),
                rank(*b_role),
                &b.grant.scope,
                &b.grant.email,
            ))
    });
    Ok(People {
        grants: grants.into_iter().map(|(_, listed)| listed).collect(),
        grantable: managed.roles(),
    })
}

/// Invites `key.email` to `key.role` over its scope, which must name a region, trust or campaign
/// that exists (a judge's campaign by id or slug, stored as its id). Refused unless `principal`
/// manages that grant. Returns the grant as stored.
pub async fn invite(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    key: &GrantKey,
) -> Result<Listed> {
    let (scope, scope_name) = Scopes::load(db)
        .await?
        .resolve(key.role, &key.scope)
        .map_err(|e| Error::Invalid(vec![e]))?;
    let email = key.email.normalised();
    let actor = Actor::Admin(principal);
    let invitation = AdminInvited {
        email: email.clone(),
        role: key.role.slug().to_owned(),
        scope_name: scope_name.clone(),
        invited_by: principal.email.clone(),
    };
    auth::grant_and_invite(db, outbox, &actor, (&email, key.role, &scope), &invitation).await?;
    let stored = role_grant::Entity::find_by_id((email, key.role.slug().to_owned(), scope))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound("the grant just stored".to_owned()))?;
    Ok(Listed {
        yours: stored.email == principal.email,
        grant: stored,
        scope_name,
    })
}

/// The regions, trusts and campaigns a grant can be over, to name them and to check they exist.
struct Scopes {
    regions: HashMap<String, String>,
    trusts: HashMap<String, String>,
    campaigns: Vec<campaign::Model>,
}

impl Scopes {
    async fn load(db: &impl ConnectionTrait) -> Result<Self> {
        Ok(Self {
            regions: region::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|r| (r.code, r.name))
                .collect(),
            trusts: trust::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|t| (t.code, t.name))
                .collect(),
            campaigns: campaign::Entity::find().all(db).await?,
        })
    }

    /// The campaign a judge's scope names, by id or slug.
    fn campaign(&self, scope: &str) -> Option<&campaign::Model> {
        let id = Uuid::parse_str(scope).ok();
        self.campaigns
            .iter()
            .find(|c| Some(c.id) == id || c.slug == scope)
    }

    /// What `role` over `scope` is over, by name; empty for platform admins and unknown scopes.
    fn name(&self, role: Role, scope: &str) -> String {
        let name = match role {
            Role::PlatformAdmin => None,
            Role::RegionAdmin => self.regions.get(scope),
            Role::TrustAdmin => self.trusts.get(scope),
            Role::Judge => self.campaign(scope).map(|c| &c.name),
        };
        name.cloned().unwrap_or_default()
    }

    /// The scope to store for `role` over `scope` (a judge's campaign as its id) and its name, or
    /// the error for the scope field when it names nothing.
    fn resolve(
        &self,
        role: Role,
        scope: &str,
    ) -> std::result::Result<(String, String), FieldError> {
        let unknown = |message: String| Err(FieldError::new("scope", message));
        match role {
            Role::PlatformAdmin => Ok((String::new(), String::new())),
            Role::Judge => match self.campaign(scope) {
                Some(c) => Ok((c.id.to_string(), c.name.clone())),
                None => unknown(format!("There is no campaign {scope}")),
            },
            Role::RegionAdmin | Role::TrustAdmin => {
                let (names, what) = if role == Role::RegionAdmin {
                    (&self.regions, "region")
                } else {
                    (&self.trusts, "trust")
                };
                match names.get(scope) {
                    Some(name) => Ok((scope.to_owned(), name.clone())),
                    None => unknown(format!("There is no {what} with the code {scope}")),
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    fn fields(result: std::result::Result<GrantKey, Vec<FieldError>>) -> Vec<String> {
        result.unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn grants_are_normalised_as_valued_grant_does() {
        let key = GrantKey::parse(" Ana@Example.ORG ", "trust_admin", " rj1 ").unwrap();
        assert_eq!(key.email.normalised(), "ana@example.org");
        assert_eq!((key.role, key.scope.as_str()), (Role::TrustAdmin, "RJ1"));
        let key = GrantKey::parse("a@example.org", "platform_admin", " ").unwrap();
        assert_eq!(key.scope, "");
        let key = GrantKey::parse("a@example.org", "judge", "staff-awards-2026").unwrap();
        assert_eq!(key.scope, "staff-awards-2026");
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(fields(GrantKey::parse("", "", "")), ["email", "role"]);
        assert_eq!(
            fields(GrantKey::parse("nope", "king", "RJ1")),
            ["email", "role"]
        );
        for (role, scope) in [
            ("platform_admin", "RJ1"),
            ("region_admin", ""),
            ("trust_admin", "R J1"),
            ("trust_admin", "RJ1;DROP"),
            ("judge", ""),
            ("judge", "a/b"),
        ] {
            assert_eq!(
                fields(GrantKey::parse("a@example.org", role, scope)),
                ["scope"],
                "{role} {scope:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_scope_is_refused_with_a_reason_or_kept_plain(scope in hostile::TEXT) {
            for role in Role::ALL {
                match GrantKey::parse("a@example.org", role.slug(), &scope) {
                    Ok(key) => prop_assert!(key
                        .scope
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')),
                    Err(errors) => {
                        prop_assert_eq!(errors.len(), 1);
                        prop_assert!(hostile::readable(&errors[0], "scope"));
                    }
                }
            }
        }
    }
}
