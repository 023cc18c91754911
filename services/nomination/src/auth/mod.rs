//! Who is calling, and what they may touch. Admin RPCs carry the caller's OpenID Connect ID token;
//! their roles come from this service's own `role_grant` table, each scoped to a trust, a region or
//! a campaign. Every check is made here, in the service that owns the data, whatever the gateway
//! already showed.
//!
//! A role is granted to an email (an invitation) and bound, on that person's first sign-in with an
//! email the issuer has verified, to their account: the token's `iss` and `sub`. From then on only
//! that account holds it, whatever email another account shows. Platform admins named in settings
//! are invited the same way. A revoked grant never counts.
//!
//! Every change to a grant is announced as `role.changed.v1` with the grant's whole state and its
//! version, in the transaction that makes it: the other services keep their own copy from these
//! (`valued_platform::auth::roles`) to check their own callers.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, TransactionTrait,
};
use serde::Deserialize;
use tonic::Status;
use uuid::Uuid;

use secrecy::SecretString;
use valued_platform::auth::OidcSettings;
pub use valued_platform::auth::Verifier;
use valued_platform::auth::sign_in_link::SigningKey;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::{AdminInvited, RoleChanged};

use crate::admin::audit;
use crate::db::entities::{campaign, role_grant, trust};
use crate::error::{Error, Result};

mod claims;
pub mod links;

use claims::Account;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The OpenID Connect issuer URL; empty switches sign-in through a provider off.
    pub issuer: String,
    /// The client id the gateway signs in with: ID tokens must be issued to it.
    pub audience: String,
    /// The key this service signs emailed sign-in links' ID tokens with (32 random bytes, base64;
    /// a secret). Unset: sign-in by email is off. See [`links`].
    pub signing_key: Option<SecretString>,
    /// The public half of `signing_key`, which the other services verify those tokens with; derived
    /// from `signing_key` when empty, refused at start when it does not match.
    pub sign_in_key: String,
    /// How long an emailed sign-in link works.
    pub sign_in_link_minutes: u32,
    /// How long a session begun from an emailed link lasts before signing in again.
    pub sign_in_session_hours: u32,
    /// Emails invited as platform admins (to bootstrap a deployment): each is stored as a grant on
    /// its first sign-in with the email verified, bound to that account and revocable like any other.
    /// A list, or comma-separated text in the environment.
    #[serde(deserialize_with = "valued_platform::settings::comma_separated")]
    pub platform_admins: Vec<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            audience: String::new(),
            signing_key: None,
            sign_in_key: String::new(),
            sign_in_link_minutes: 15,
            sign_in_session_hours: 8,
            platform_admins: Vec::new(),
        }
    }
}

impl AuthSettings {
    /// What the platform's verifier checks ID tokens against: the provider's, and (with a signing
    /// key) emailed links' tokens under its public half.
    pub fn oidc(&self) -> OidcSettings {
        let derived = self
            .signing_key
            .as_ref()
            .and_then(|key| SigningKey::from_secret(SIGNING_KEY, key).ok())
            .map(|key| key.public_key().to_owned());
        OidcSettings {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            sign_in_key: match derived {
                Some(public) if self.sign_in_key.trim().is_empty() => public,
                _ => self.sign_in_key.trim().to_owned(),
            },
        }
    }

    /// The sign-in link key, if sign-in by email is on: an error naming the setting when the key is
    /// malformed or `sign_in_key` is not its public half.
    pub fn signing_key(&self) -> anyhow::Result<Option<SigningKey>> {
        let Some(secret) = &self.signing_key else {
            return Ok(None);
        };
        let key = SigningKey::from_secret(SIGNING_KEY, secret)?;
        let public = self.sign_in_key.trim();
        anyhow::ensure!(
            public.is_empty() || public == key.public_key(),
            "nomination.auth.sign_in_key is not the public half of {SIGNING_KEY}: set it to {} \
             (and the same auth.sign_in_key on every service), or leave it empty",
            key.public_key()
        );
        Ok(Some(key))
    }
}

/// The setting that holds the sign-in link key, as errors name it.
const SIGNING_KEY: &str = "nomination.auth.signing_key";

pub use valued_platform::auth::roles::{Grant, Role};

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

    pub fn require(&self, allowed: bool, what: &str) -> Result<()> {
        if allowed {
            Ok(())
        } else {
            tracing::warn!(caller = %self.email, what, "permission denied");
            Err(Error::Forbidden(what.to_owned()))
        }
    }

    /// The grants this admin manages: may see, invite to and revoke.
    pub async fn managed(&self, db: &impl ConnectionTrait) -> Result<Managed> {
        if self.is_platform_admin() {
            return Ok(Managed::All);
        }
        let regions_trusts = if self.grants.iter().any(|g| g.role == Role::RegionAdmin) {
            trust::Entity::find()
                .filter(trust::Column::RegionCode.is_not_null())
                .all(db)
                .await?
                .into_iter()
                .filter(|t| {
                    t.region_code
                        .as_deref()
                        .is_some_and(|region| self.holds(Role::RegionAdmin, region))
                })
                .map(|t| t.code)
                .collect()
        } else {
            HashSet::new()
        };
        let campaigns = campaign::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .filter(|c| self.administers_campaign(c))
            .map(|c| c.id)
            .collect();
        Ok(Managed::Some {
            trust_admins_of: regions_trusts,
            judges_of: campaigns,
        })
    }

    /// Whether this admin manages the grant of `role` over `scope` (see [`Managed`]).
    async fn manages(&self, db: &impl ConnectionTrait, role: Role, scope: &str) -> Result<bool> {
        Ok(self.managed(db).await?.covers(role, scope))
    }
}

/// The grants an admin manages: every grant for a platform admin; else the trust admins of the
/// trusts in the regions they administer and the judges of the campaigns they run. Nobody else
/// manages a platform or region admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Managed {
    All,
    Some {
        /// Trust codes whose trust admins are managed.
        trust_admins_of: HashSet<String>,
        /// Campaigns whose judges are managed.
        judges_of: HashSet<Uuid>,
    },
}

impl Managed {
    pub fn covers(&self, role: Role, scope: &str) -> bool {
        match self {
            Self::All => true,
            Self::Some {
                trust_admins_of,
                judges_of,
            } => match role {
                Role::PlatformAdmin | Role::RegionAdmin => false,
                Role::TrustAdmin => trust_admins_of.contains(scope),
                Role::Judge => Uuid::parse_str(scope).is_ok_and(|id| judges_of.contains(&id)),
            },
        }
    }

    /// The roles that can be granted over some scope managed.
    pub fn roles(&self) -> Vec<Role> {
        match self {
            Self::All => Role::ALL.to_vec(),
            Self::Some {
                trust_admins_of,
                judges_of,
            } => [
                (!trust_admins_of.is_empty()).then_some(Role::TrustAdmin),
                (!judges_of.is_empty()).then_some(Role::Judge),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }
    }
}

/// Who a grant or revocation is recorded as made by, in `role_grant` and the audit log.
pub enum Actor<'a> {
    /// A signed-in admin, whose roles decide what they may revoke.
    Admin(&'a Principal),
    /// `valued grant` on the server, with the database's own authority.
    CommandLine,
    /// `nomination.auth.platform_admins` in the settings.
    Settings,
}

impl Actor<'_> {
    /// How the audit log and `role_grant` name this actor.
    pub fn name(&self) -> &str {
        match self {
            Self::Admin(principal) => &principal.email,
            Self::CommandLine => "command line",
            Self::Settings => "settings",
        }
    }
}

/// Authenticates the caller from the request's `authorization: Bearer` metadata, binding the
/// invitations for their email to their account if the issuer has verified that email.
pub async fn principal<T>(
    verifier: &Verifier,
    settings: &AuthSettings,
    db: &DatabaseConnection,
    outbox: &Outbox,
    request: &tonic::Request<T>,
) -> std::result::Result<Principal, Status> {
    let identity = valued_platform::auth::identify(verifier, request).await?;
    let account = Account::of(&identity)
        .ok_or_else(|| Status::unauthenticated("the ID token names no issuer"))?;
    let email = identity.email.trim().to_lowercase();
    if email.is_empty() {
        return Err(Status::unauthenticated("the ID token carries no email"));
    }
    if account.email_verified {
        let named_admin = settings
            .platform_admins
            .iter()
            .any(|admin| admin.trim().eq_ignore_ascii_case(&email));
        bind_invitations(db, outbox, &account, &email, named_admin).await?;
    }
    let grants = role_grant::Entity::find()
        .filter(role_grant::Column::Issuer.eq(account.issuer.as_str()))
        .filter(role_grant::Column::Subject.eq(account.subject.as_str()))
        .filter(role_grant::Column::RevokedAt.is_null())
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
    Ok(Principal {
        email,
        name: identity.name,
        grants,
    })
}

/// The unbound, unrevoked grants to `email`.
fn invitations(email: &str) -> sea_orm::Select<role_grant::Entity> {
    role_grant::Entity::find()
        .filter(role_grant::Column::Email.eq(email))
        .filter(role_grant::Column::Issuer.is_null())
        .filter(role_grant::Column::RevokedAt.is_null())
}

fn primary_key(email: &str, role: &str, scope: &str) -> sea_orm::sea_query::Condition {
    sea_orm::Condition::all()
        .add(role_grant::Column::Email.eq(email))
        .add(role_grant::Column::Role.eq(role))
        .add(role_grant::Column::Scope.eq(scope))
}

/// Binds every invitation to `email` to `account` (whose issuer verified that email), the settings'
/// platform admin invitation first stored if `named_admin` and never stored before. Each binding is
/// audited; an invitation another account bound first stays theirs.
async fn bind_invitations(
    db: &DatabaseConnection,
    outbox: &Outbox,
    account: &Account,
    email: &str,
    named_admin: bool,
) -> Result<()> {
    let admin_key = (
        email.to_owned(),
        Role::PlatformAdmin.slug().to_owned(),
        String::new(),
    );
    let invite_admin = named_admin
        && role_grant::Entity::find_by_id(admin_key)
            .one(db)
            .await?
            .is_none();
    if !invite_admin && invitations(email).one(db).await?.is_none() {
        return Ok(());
    }
    let txn = db.begin().await?;
    if invite_admin {
        grant(
            &txn,
            outbox,
            &Actor::Settings,
            email,
            Role::PlatformAdmin,
            "",
        )
        .await?;
    }
    for invitation in invitations(email).all(&txn).await? {
        let bound = role_grant::Entity::update_many()
            .col_expr(
                role_grant::Column::Issuer,
                Expr::value(account.issuer.clone()),
            )
            .col_expr(
                role_grant::Column::Subject,
                Expr::value(account.subject.clone()),
            )
            .col_expr(role_grant::Column::Version, next_version())
            .filter(primary_key(email, &invitation.role, &invitation.scope))
            .filter(role_grant::Column::Issuer.is_null())
            .filter(role_grant::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        if bound == 1 {
            let detail = format!(
                "{email} {} {} bound to {} {}",
                invitation.role, invitation.scope, account.issuer, account.subject
            );
            let trust_code = audit_trust(&txn, &invitation.role, &invitation.scope).await?;
            audit::record_as(&txn, email, "bind_role", None, &trust_code, &detail).await?;
            announce(&txn, outbox, (email, &invitation.role, &invitation.scope)).await?;
        }
    }
    outbox.commit(txn).await?;
    Ok(())
}

/// The grant's version, one more.
fn next_version() -> Expr {
    Expr::col(role_grant::Column::Version).add(1)
}

/// Announces the grant `(email, role, scope)` as it now stands in `txn`.
async fn announce(
    txn: &DatabaseTransaction,
    outbox: &Outbox,
    (email, role, scope): (&str, &str, &str),
) -> Result<()> {
    let key = (email.to_owned(), role.to_owned(), scope.to_owned());
    if let Some(grant) = role_grant::Entity::find_by_id(key).one(txn).await? {
        outbox.enqueue(txn, None, &role_changed(&grant)).await?;
    }
    Ok(())
}

fn role_changed(grant: &role_grant::Model) -> RoleChanged {
    RoleChanged {
        email: grant.email.clone(),
        role: grant.role.clone(),
        scope: grant.scope.clone(),
        issuer: grant.issuer.clone().unwrap_or_default(),
        subject: grant.subject.clone().unwrap_or_default(),
        revoked: grant.revoked_at.is_some(),
        changed_at: Some(prost_types::Timestamp {
            seconds: Utc::now().timestamp(),
            nanos: 0,
        }),
        version: u64::try_from(grant.version).unwrap_or_default(),
    }
}

/// Announces every grant as it stands (at start-up), so that a service whose copy missed a change,
/// or that was added later, catches up. The versions make announcing again harmless.
pub async fn announce_all(db: &DatabaseConnection, outbox: &Outbox) -> Result<()> {
    let grants = role_grant::Entity::find().all(db).await?;
    let txn = db.begin().await?;
    for grant in &grants {
        outbox.enqueue(&txn, None, &role_changed(grant)).await?;
    }
    outbox.commit(txn).await?;
    tracing::info!(grants = grants.len(), "announced the role grants");
    Ok(())
}

/// The trust an entry about a grant is filed under in the audit log: a trust admin's trust, a judge's
/// campaign's trust; none for regions, national campaigns and platform admins.
async fn audit_trust(db: &impl ConnectionTrait, role: &str, scope: &str) -> Result<String> {
    Ok(match Role::parse(role) {
        Some(Role::TrustAdmin) => scope.to_owned(),
        Some(Role::Judge) => match Uuid::parse_str(scope) {
            Ok(id) => campaign::Entity::find_by_id(id)
                .one(db)
                .await?
                .filter(|c| c.scope == "trust")
                .and_then(|c| c.scope_code)
                .unwrap_or_default(),
            Err(_) => String::new(),
        },
        _ => String::new(),
    })
}

/// The grant to an email of a role over a scope.
type GrantKey<'a> = (&'a str, Role, &'a str);

/// Sets `changes` on the grant `key` if it is revoked (`revoked`), or if not; how many rows changed.
async fn update_grant(
    txn: &impl ConnectionTrait,
    (email, role, scope): GrantKey<'_>,
    revoked: bool,
    changes: role_grant::ActiveModel,
) -> Result<u64> {
    let revoked_at = role_grant::Column::RevokedAt;
    Ok(role_grant::Entity::update_many()
        .set(changes)
        .col_expr(role_grant::Column::Version, next_version())
        .filter(primary_key(email, role.slug(), scope))
        .filter(if revoked {
            revoked_at.is_not_null()
        } else {
            revoked_at.is_null()
        })
        .exec(txn)
        .await?
        .rows_affected)
}

/// Writes a change to the grant `key` to the audit log.
async fn audit_grant(
    txn: &impl ConnectionTrait,
    actor: &Actor<'_>,
    action: &str,
    (email, role, scope): GrantKey<'_>,
) -> Result<()> {
    let trust_code = audit_trust(txn, role.slug(), scope).await?;
    let detail = format!("{email} {} {scope}", role.slug());
    audit::record_as(txn, actor.name(), action, None, &trust_code, &detail).await
}

/// Refuses an admin `actor` who does not manage the grant of `role` over `scope` (see
/// [`Principal::managed`]); `what` they tried names it in the refusal. The command line and the
/// settings act with the database's own authority.
async fn require_manages(
    txn: &impl ConnectionTrait,
    actor: &Actor<'_>,
    what: &str,
    role: Role,
    scope: &str,
) -> Result<()> {
    if let Actor::Admin(principal) = actor {
        let allowed = principal.manages(txn, role, scope).await?;
        principal.require(allowed, &format!("{what} {} {scope}", role.slug()))?;
    }
    Ok(())
}

/// Invites `email` to `role` over `scope`: the grant binds to the account that first signs in with
/// that email verified. Granting a held role again changes nothing; granting a revoked one invites
/// afresh. An admin may grant only what they manage (as with [`revoke`]). Each change is audited as
/// made by `actor`.
pub async fn grant(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    actor: &Actor<'_>,
    email: &str,
    role: Role,
    scope: &str,
) -> Result<()> {
    grant_with(db, outbox, actor, (email, role, scope), None).await
}

/// As [`grant`], and when the grant is new (or renewed after a revocation) `invitation` is
/// published with it, in the same transaction, so that the invitee is emailed once.
pub async fn grant_and_invite(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    actor: &Actor<'_>,
    (email, role, scope): (&str, Role, &str),
    invitation: &AdminInvited,
) -> Result<()> {
    grant_with(db, outbox, actor, (email, role, scope), Some(invitation)).await
}

async fn grant_with(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    actor: &Actor<'_>,
    (email, role, scope): (&str, Role, &str),
    invitation: Option<&AdminInvited>,
) -> Result<()> {
    let email = email.trim().to_lowercase();
    let txn = db.begin().await?;
    require_manages(&txn, actor, "invite someone as", role, scope).await?;
    let renewed = role_grant::ActiveModel {
        issuer: ActiveValue::Set(None),
        subject: ActiveValue::Set(None),
        revoked_at: ActiveValue::Set(None),
        revoked_by: ActiveValue::Set(None),
        ..Default::default()
    };
    let renewed = update_grant(&txn, (&email, role, scope), true, renewed).await?;
    let inserted = role_grant::Entity::insert(role_grant::ActiveModel {
        email: ActiveValue::Set(email.clone()),
        role: ActiveValue::Set(role.slug().to_owned()),
        scope: ActiveValue::Set(scope.to_owned()),
        issuer: ActiveValue::Set(None),
        subject: ActiveValue::Set(None),
        revoked_at: ActiveValue::Set(None),
        revoked_by: ActiveValue::Set(None),
        version: ActiveValue::Set(1),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(&txn)
    .await?;
    let inserted = matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0);
    if renewed > 0 || inserted {
        audit_grant(&txn, actor, "grant_role", (&email, role, scope)).await?;
        announce(&txn, outbox, (&email, role.slug(), scope)).await?;
        if let Some(invitation) = invitation {
            outbox.enqueue(&txn, None, invitation).await?;
        }
    }
    outbox.commit(txn).await?;
    Ok(())
}

/// Revokes `email`'s `role` over `scope` at once, recording who revoked it and when. An admin may
/// revoke only what they manage ([`Principal::managed`]); a grant not held (or already revoked) is
/// NotFound.
pub async fn revoke(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    actor: &Actor<'_>,
    email: &str,
    role: Role,
    scope: &str,
) -> Result<()> {
    let email = email.trim().to_lowercase();
    // Whoever revokes another's platform admin role is one, so one always remains; revoking one's
    // own could leave none (short of the command line).
    if let Actor::Admin(principal) = actor
        && role == Role::PlatformAdmin
        && principal.email.eq_ignore_ascii_case(&email)
    {
        return Err(Error::Closed(
            "You cannot revoke your own platform admin role: ask another platform admin".into(),
        ));
    }
    let txn = db.begin().await?;
    require_manages(&txn, actor, "revoke", role, scope).await?;
    let revoked = role_grant::ActiveModel {
        revoked_at: ActiveValue::Set(Some(Utc::now())),
        revoked_by: ActiveValue::Set(Some(actor.name().to_owned())),
        ..Default::default()
    };
    let revoked = update_grant(&txn, (&email, role, scope), false, revoked).await?;
    if revoked == 0 {
        return Err(Error::NotFound(format!(
            "a grant of {} {scope} to {email}",
            role.slug()
        )));
    }
    audit_grant(&txn, actor, "revoke_role", (&email, role, scope)).await?;
    announce(&txn, outbox, (&email, role.slug(), scope)).await?;
    outbox.commit(txn).await?;
    Ok(())
}
