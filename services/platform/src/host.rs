//! The life of a service process, the same for every service: connect and migrate its database,
//! bind its gRPC port, run its outbox relay and consumers, serve until shutdown, then drain.

use anyhow::Context;
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::service::Routes;

use crate::auth::OidcSettings;
use crate::auth::roles::{self, Admins};
use crate::auth::service::Gate;
use crate::erasure::{self, Erase, Eraser};
use crate::grpc::Readiness;
use crate::inbox::{Idempotent, InboxRetention};
use crate::outbox::{Outbox, OutboxRelay};
use crate::settings::{DatabaseSettings, GrpcSettings};
use crate::{EventHandler, Platform, Subscription};

pub struct ServiceHost {
    pub name: &'static str,
    pub db: DatabaseConnection,
    pub platform: Platform,
    listener: TcpListener,
    reflection: bool,
    gate: Gate,
    bounds: crate::grpc::Bounds,
    relay: OutboxRelay,
    consumers: Vec<JoinHandle<()>>,
    deferred: Vec<JoinHandle<()>>,
    retention: Option<InboxRetention>,
}

impl ServiceHost {
    /// Connects (and, when configured, migrates) the database and binds the gRPC port.
    pub async fn start<M: MigratorTrait>(
        name: &'static str,
        database: &DatabaseSettings,
        grpc: &GrpcSettings,
        platform: Platform,
    ) -> anyhow::Result<Self> {
        let gate = grpc.gate(name)?;
        let db = crate::db::connect(database, &platform.data_dir, name)
            .await
            .with_context(|| format!("connecting to the {name} database"))?;
        if database.migrate_on_start {
            // On a connection of its own, closed once done: the schema statements it prepared
            // would otherwise stay cached on a connection of the pool for as long as it lives.
            // An in-memory SQLite database exists only on its own connections, so it is migrated
            // on the pool's.
            let url = database.resolved_url(&platform.data_dir, name);
            if url.contains(":memory:") || url.contains("mode=memory") {
                migrate_when_reachable::<M>(name, &db, &platform.shutdown).await?;
            } else {
                let one = DatabaseSettings {
                    max_connections: 1,
                    ..database.clone()
                };
                let migrating = crate::db::connect_lazily(&one, &platform.data_dir, name)
                    .await
                    .with_context(|| format!("connecting to the {name} database"))?;
                migrate_when_reachable::<M>(name, &migrating, &platform.shutdown).await?;
                let _ = migrating.close().await;
            }
        }
        let listener = crate::grpc::bind(grpc)
            .await
            .with_context(|| format!("binding {name} gRPC to {}:{}", grpc.host, grpc.port))?;
        crate::metrics::watch_pool(name, &db);
        let relay = OutboxRelay::new(
            name,
            db.clone(),
            platform.bus.clone(),
            platform.relay.clone(),
        );
        Ok(Self {
            name,
            db,
            platform,
            listener,
            reflection: grpc.reflection,
            gate,
            bounds: crate::grpc::Bounds::of(grpc),
            relay,
            consumers: Vec::new(),
            deferred: Vec::new(),
            retention: None,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// How the service publishes: events stamped with its name, the relay woken on commit.
    pub fn outbox(&self) -> Outbox {
        Outbox::new(self.name, self.relay.handle())
    }

    /// Starts consuming `subscription` with `handler` (which should be wrapped in the inbox).
    pub async fn consume(
        &mut self,
        subscription: Subscription,
        handler: std::sync::Arc<dyn EventHandler>,
    ) -> anyhow::Result<()> {
        let consumer = subscription.consumer.clone();
        let task = self
            .platform
            .bus
            .subscribe(subscription, handler, self.platform.shutdown.clone())
            .await
            .with_context(|| format!("subscribing {consumer}"))?;
        self.consumers.push(task);
        Ok(())
    }

    /// Runs `job`, start-up work on the database, now; when the database cannot be reached yet,
    /// again in the background (backing off to 5 s) until it can, so that the service starts and
    /// serves what it can meanwhile. Any other error fails the start, or, in the background, is
    /// logged.
    pub async fn once_database_reachable<F, Fut>(
        &mut self,
        what: &'static str,
        job: F,
    ) -> anyhow::Result<()>
    where
        F: Fn(DatabaseConnection) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
    {
        match job(self.db.clone()).await {
            Err(error) if crate::db::unreachable_in(&error) => {
                tracing::warn!(%error, what, "database unreachable: will do this once it is back");
            }
            done => return done.with_context(|| what),
        }
        let (db, shutdown) = (self.db.clone(), self.platform.shutdown.clone());
        self.deferred.push(tokio::spawn(async move {
            let mut attempt = 0;
            loop {
                attempt += 1;
                tokio::select! {
                    _ = shutdown.wait() => return,
                    _ = tokio::time::sleep(crate::bus::retry_delay(attempt, std::time::Duration::from_secs(5))) => {}
                }
                match job(db.clone()).await {
                    Ok(()) => {
                        tracing::info!(what, attempt, "done once the database was back");
                        return;
                    }
                    Err(error) if crate::db::unreachable_in(&error) => {}
                    Err(error) => {
                        tracing::error!(%error, what, "failed once the database was back");
                        return;
                    }
                }
            }
        }));
        Ok(())
    }

    /// Keeps this service's copy of the admin role grants (consuming `role.changed.v1` through the
    /// inbox; the service's migrator must list `migrations::access()`) and returns what checks its
    /// signed-in callers against it.
    pub async fn admins(&mut self, oidc: &OidcSettings) -> anyhow::Result<Admins> {
        let subscription = roles::subscription(self.name);
        let consumer = subscription.consumer.clone();
        self.consume(
            subscription,
            Idempotent::new(&consumer, self.db.clone(), roles::RoleCopy),
        )
        .await?;
        Ok(Admins::new(oidc.clone(), self.db.clone()))
    }

    /// Takes this service's part in erasing people: each `person.erasure_requested.v1` is handled
    /// by `erase` through the inbox and answered with `person.erased.v1`.
    pub async fn erasure(&mut self, erase: impl Erase) -> anyhow::Result<()> {
        let subscription = erasure::subscription(self.name);
        let consumer = subscription.consumer.clone();
        let eraser = Eraser {
            service: self.name,
            outbox: self.outbox(),
            erase,
        };
        self.consume(
            subscription,
            Idempotent::new(&consumer, self.db.clone(), eraser),
        )
        .await
    }

    /// While serving, deletes on a schedule the inbox rows of events handled longer ago than
    /// `retention` says, and the counters of rate-limit windows that have ended. (Notification's
    /// own retention job does both itself.)
    pub fn retain_messaging(&mut self, retention: InboxRetention) {
        self.retention = Some(retention);
    }

    /// Serves until shutdown, then waits for consumers and the relay to finish what they started.
    pub async fn run(
        self,
        routes: Routes,
        grpc_names: &'static [&'static str],
    ) -> anyhow::Result<()> {
        let shutdown = self.platform.shutdown.clone();
        let relay = self.relay.spawn(shutdown.clone());
        let retention = self.retention.map(|retention| {
            let db = self.db.clone();
            crate::periodic::every(
                "messaging retention",
                std::time::Duration::from_secs(retention.check_seconds.max(1)),
                shutdown.clone(),
                move || {
                    let db = db.clone();
                    async move {
                        let now = chrono::Utc::now();
                        if let Some(before) = retention.due_before(now) {
                            let inbox = crate::inbox::purge(&db, before).await?;
                            if inbox > 0 {
                                tracing::info!(inbox, "retention purge");
                            }
                        }
                        crate::limits::purge(&db).await?;
                        Ok(())
                    }
                },
            )
        });
        let readiness = Readiness {
            db: Some(self.db.clone()),
            bus: Some(self.platform.bus.clone()),
        };
        tracing::info!(
            service = self.name,
            port = self.listener.local_addr()?.port(),
            "serving gRPC"
        );
        crate::grpc::serve(
            self.listener,
            routes,
            grpc_names,
            readiness,
            self.reflection,
            self.gate,
            self.bounds,
            shutdown,
        )
        .await
        .with_context(|| format!("serving {} gRPC", self.name))?;
        for consumer in self.consumers {
            let _ = consumer.await;
        }
        for deferred in self.deferred {
            let _ = deferred.await;
        }
        let _ = relay.await;
        if let Some(retention) = retention {
            let _ = retention.await;
        }
        tracing::info!(service = self.name, "stopped");
        Ok(())
    }
}

/// Applies `M`'s migrations at start, waiting (backing off to 5 s) while the database cannot be
/// reached yet: a schema that is not there must be made before anything is served.
async fn migrate_when_reachable<M: MigratorTrait>(
    name: &str,
    db: &DatabaseConnection,
    shutdown: &crate::shutdown::Shutdown,
) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        match M::up(db, None).await {
            Err(error) if crate::db::unreachable(&error) && !shutdown.is_triggered() => {
                attempt += 1;
                tracing::warn!(%error, attempt, "database unreachable: migrations wait for it");
                tokio::select! {
                    _ = shutdown.wait() => {}
                    _ = tokio::time::sleep(crate::bus::retry_delay(attempt, std::time::Duration::from_secs(5))) => {}
                }
            }
            migrated => return migrated.with_context(|| format!("migrating the {name} database")),
        }
    }
}

/// Applies a service's migrations (`valued migrate <service>`).
pub async fn migrate<M: MigratorTrait>(
    name: &str,
    database: &DatabaseSettings,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let db = crate::db::connect(database, data_dir, name)
        .await
        .with_context(|| format!("connecting to the {name} database"))?;
    M::up(&db, None)
        .await
        .with_context(|| format!("migrating the {name} database"))?;
    tracing::info!(service = name, "migrations applied");
    Ok(())
}
