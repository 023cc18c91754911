//! Who is calling, and what they may touch. Admin RPCs carry the caller's OpenID Connect ID token;
//! their roles come from this service's own `role_grant` table (plus platform admins named in
//! settings), each scoped to a trust, a region or a campaign. Every check is made here, in the
//! service that owns the data, whatever the gateway already showed.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use tonic::Status;
use uuid::Uuid;

use valued_platform::auth::OidcSettings;
pub use valued_platform::auth::Verifier;

use crate::db::entities::{campaign, role_grant, trust};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The OpenID Connect issuer URL; empty switches admin sign-in off.
    pub issuer: String,
    /// The client id the gateway signs in with: ID tokens must be issued to it.
    pub audience: String,
    /// Emails that are platform admins without a stored grant (to bootstrap a deployment): a list,
    /// or comma-separated text in the environment.
    #[serde(deserialize_with = "valued_platform::settings::comma_separated")]
    pub platform_admins: Vec<String>,
}

impl AuthSettings {
    /// What the platform's verifier checks ID tokens against.
    pub fn oidc(&self) -> OidcSettings {
        OidcSettings {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    PlatformAdmin,
    RegionAdmin,
    TrustAdmin,
    Judge,
}

impl Role {
    pub const ALL: [Self; 4] = [
        Self::PlatformAdmin,
        Self::RegionAdmin,
        Self::TrustAdmin,
        Self::Judge,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::PlatformAdmin => "platform_admin",
            Self::RegionAdmin => "region_admin",
            Self::TrustAdmin => "trust_admin",
            Self::Judge => "judge",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.slug() == slug)
    }
}

/// A role over a scope: a region or trust code, a campaign id for judges, nothing for platform admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub scope: String,
}

/// The signed-in caller and everything they hold.
#[derive(Debug, Clone)]
pub struct Principal {
    pub email: String,
    pub name: String,
    pub grants: Vec<Grant>,
}

impl Principal {
    fn holds(&self, role: Role, scope: &str) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.scope.eq_ignore_ascii_case(scope))
    }

    pub fn is_platform_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::PlatformAdmin)
    }

    /// Moderating, exporting and reading the audit log of one trust.
    pub fn administers_trust(&self, trust: &trust::Model) -> bool {
        self.is_platform_admin()
            || self.holds(Role::TrustAdmin, &trust.code)
            || trust
                .region_code
                .as_deref()
                .is_some_and(|region| self.holds(Role::RegionAdmin, region))
    }

    pub fn administers_region(&self, region: &str) -> bool {
        self.is_platform_admin() || self.holds(Role::RegionAdmin, region)
    }

    /// Setting a campaign's rubric and panels, announcing its winners: whoever owns its scope.
    pub fn administers_campaign(&self, campaign: &campaign::Model) -> bool {
        match (campaign.scope.as_str(), campaign.scope_code.as_deref()) {
            ("trust", Some(code)) => self.is_platform_admin() || self.holds(Role::TrustAdmin, code),
            ("region", Some(code)) => self.administers_region(code),
            _ => self.is_platform_admin(),
        }
    }

    pub fn judges(&self, campaign_id: Uuid) -> bool {
        self.holds(Role::Judge, &campaign_id.to_string())
    }

    pub fn require(&self, allowed: bool, what: &str) -> crate::error::Result<()> {
        if allowed {
            Ok(())
        } else {
            tracing::warn!(caller = %self.email, what, "permission denied");
            Err(crate::error::Error::Forbidden(what.to_owned()))
        }
    }
}

/// Authenticates the caller from the request's `authorization: Bearer` metadata.
pub async fn principal<T>(
    verifier: &Verifier,
    settings: &AuthSettings,
    db: &impl ConnectionTrait,
    request: &tonic::Request<T>,
) -> Result<Principal, Status> {
    let identity = valued_platform::auth::identify(verifier, request).await?;
    let email = identity.email.trim().to_lowercase();
    if email.is_empty() {
        return Err(Status::unauthenticated("the ID token carries no email"));
    }
    let mut grants: Vec<Grant> = role_grant::Entity::find()
        .filter(role_grant::Column::Email.eq(email.clone()))
        .all(db)
        .await
        .map_err(|e| valued_platform::grpc::database_error(&e))?
        .into_iter()
        .filter_map(|g| {
            Role::parse(&g.role).map(|role| Grant {
                role,
                scope: g.scope,
            })
        })
        .collect();
    if settings
        .platform_admins
        .iter()
        .any(|admin| admin.trim().eq_ignore_ascii_case(&email))
    {
        grants.push(Grant {
            role: Role::PlatformAdmin,
            scope: String::new(),
        });
    }
    Ok(Principal {
        email,
        name: identity.name,
        grants,
    })
}

/// Gives `email` a role over `scope` (idempotent).
pub async fn grant(
    db: &impl ConnectionTrait,
    email: &str,
    role: Role,
    scope: &str,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::ActiveValue::Set;
    role_grant::Entity::insert(role_grant::ActiveModel {
        email: Set(email.trim().to_lowercase()),
        role: Set(role.slug().to_owned()),
        scope: Set(scope.to_owned()),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(db)
    .await?;
    Ok(())
}
