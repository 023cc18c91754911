//! Who holds which admin role, for a service that checks its own callers but does not own the
//! grants. The nomination service owns them (invitations, binding to an account, revocation) and
//! announces every change as `role.changed.v1`; each other service keeps its own copy in its own
//! database (`role_copy`) through [`RoleCopy`], and checks a signed-in caller against it with
//! [`admin`]. Only a bound, unrevoked grant counts, matched by the ID token's `iss` + `sub`.

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use tonic::Status;
use valued_proto::events::Event;
use valued_proto::events::v1::RoleChanged;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::{Identity, OidcSettings, Verifier};
use crate::bus::{HandlerError, Subscription};
use crate::envelope::Envelope;
use crate::inbox::TransactionalHandler;

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

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "role_copy")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub email: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub role: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        pub issuer: String,
        pub subject: String,
        pub revoked: bool,
        /// The grant's version at the owner: a change with a lower one is older than this.
        pub version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The consumer that keeps a service's copy: `<service>-roles`, bound to `role.changed.v1`.
pub fn subscription(service: &str) -> Subscription {
    Subscription::new(&format!("{service}-roles"), &[RoleChanged::TYPE])
}

/// Applies `role.changed.v1` to the `role_copy` table: the highest version of each grant wins, so a
/// change delivered after a later one (or announced again) changes nothing. Wrap it in the inbox.
pub struct RoleCopy;

#[async_trait]
impl TransactionalHandler for RoleCopy {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let change: RoleChanged = envelope
            .decode()
            .map_err(|e| HandlerError::Poison(e.into()))?;
        apply(txn, &change)
            .await
            .map_err(|e| HandlerError::Retry(e.into()))
    }
}

async fn apply(txn: &impl ConnectionTrait, change: &RoleChanged) -> Result<(), sea_orm::DbErr> {
    use entity::Column;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait};
    let version = i64::try_from(change.version).unwrap_or(i64::MAX);
    // Two changes to one grant may be handled at once: the update applies only over an older
    // version, decided by the database as it writes, so the newer one wins in either order.
    let newer = Expr::col((entity::Entity, Column::Version))
        .lt(Expr::col((Alias::new("excluded"), Column::Version)));
    entity::Entity::insert(entity::ActiveModel {
        email: ActiveValue::Set(change.email.clone()),
        role: ActiveValue::Set(change.role.clone()),
        scope: ActiveValue::Set(change.scope.clone()),
        issuer: ActiveValue::Set(change.issuer.clone()),
        subject: ActiveValue::Set(change.subject.clone()),
        revoked: ActiveValue::Set(change.revoked),
        version: ActiveValue::Set(version),
    })
    .on_conflict(
        OnConflict::columns([Column::Email, Column::Role, Column::Scope])
            .update_columns([
                Column::Issuer,
                Column::Subject,
                Column::Revoked,
                Column::Version,
            ])
            .action_and_where(newer)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// A signed-in caller and the roles this service's copy says they hold.
#[derive(Debug, Clone)]
pub struct Admin {
    pub identity: Identity,
    pub grants: Vec<Grant>,
}

impl Admin {
    pub fn holds(&self, role: Role, scope: &str) -> bool {
        self.grants
            .iter()
            .any(|g| g.role == role && g.scope.eq_ignore_ascii_case(scope))
    }

    pub fn is_platform_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::PlatformAdmin)
    }

    /// PERMISSION_DENIED naming `what` unless `allowed`.
    pub fn require(&self, allowed: bool, what: &str) -> Result<(), Status> {
        if allowed {
            Ok(())
        } else {
            tracing::warn!(issuer = %self.identity.iss, subject = %self.identity.sub, what, "permission denied");
            Err(Status::permission_denied(format!(
                "your account may not {what}"
            )))
        }
    }
}

/// What a service checks its signed-in callers with: the ID token verifier and its copy of the
/// grants.
#[derive(Clone)]
pub struct Admins {
    verifier: Arc<Verifier>,
    db: DatabaseConnection,
}

impl Admins {
    pub fn new(settings: OidcSettings, db: DatabaseConnection) -> Self {
        Self {
            verifier: Arc::new(Verifier::new(settings)),
            db,
        }
    }

    /// The signed-in caller (UNAUTHENTICATED without a valid ID token) and what they hold.
    pub async fn admin<T>(&self, request: &tonic::Request<T>) -> Result<Admin, Status> {
        admin(&self.verifier, &self.db, request).await
    }

    /// The caller, if a platform admin: UNAUTHENTICATED without a valid ID token, PERMISSION_DENIED
    /// naming `what` for anyone else.
    pub async fn platform_admin<T>(
        &self,
        request: &tonic::Request<T>,
        what: &str,
    ) -> Result<Admin, Status> {
        let admin = self.admin(request).await?;
        admin.require(admin.is_platform_admin(), what)?;
        Ok(admin)
    }
}

/// Authenticates the request's ID token and reads the caller's grants from `db`'s copy:
/// UNAUTHENTICATED without a valid token, otherwise the admin (who may hold nothing).
pub async fn admin<T>(
    verifier: &Verifier,
    db: &impl ConnectionTrait,
    request: &tonic::Request<T>,
) -> Result<Admin, Status> {
    let identity = super::identify(verifier, request).await?;
    let grants = entity::Entity::find()
        .filter(entity::Column::Issuer.eq(identity.iss.as_str()))
        .filter(entity::Column::Subject.eq(identity.sub.as_str()))
        .filter(entity::Column::Revoked.eq(false))
        .all(db)
        .await
        .map_err(|e| crate::grpc::database_error(&e))?
        .into_iter()
        .filter(|g| !g.issuer.is_empty())
        .filter_map(|g| {
            Role::parse(&g.role).map(|role| Grant {
                role,
                scope: g.scope,
            })
        })
        .collect();
    Ok(Admin { identity, grants })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sea_orm::{Database, DatabaseConnection};
    use sea_orm_migration::MigratorTrait;

    use super::*;

    struct Copy;

    impl MigratorTrait for Copy {
        fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
            crate::migrations::access()
        }
    }

    async fn db() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Copy::up(&db, None).await.unwrap();
        db
    }

    fn change(version: u64, issuer: &str, revoked: bool) -> RoleChanged {
        RoleChanged {
            version,
            email: "ana@trust.nhs.uk".into(),
            role: "trust_admin".into(),
            scope: "RJ1".into(),
            issuer: issuer.into(),
            subject: if issuer.is_empty() { "" } else { "ana" }.into(),
            revoked,
            changed_at: None,
        }
    }

    async fn holder(db: &DatabaseConnection) -> Option<(String, bool)> {
        entity::Entity::find()
            .one(db)
            .await
            .unwrap()
            .map(|g| (g.issuer, g.revoked))
    }

    #[tokio::test]
    async fn the_highest_version_of_a_grant_wins_whatever_order_it_arrives_in() {
        let db = db().await;
        apply(&db, &change(2, "https://id", false)).await.unwrap();
        apply(&db, &change(3, "https://id", true)).await.unwrap();
        // The binding, redelivered late, does not undo the revocation.
        apply(&db, &change(2, "https://id", false)).await.unwrap();
        assert_eq!(holder(&db).await, Some(("https://id".into(), true)));
        // A later re-invitation leaves it unbound until the next binding.
        apply(&db, &change(4, "", false)).await.unwrap();
        assert_eq!(holder(&db).await, Some((String::new(), false)));
    }
}
