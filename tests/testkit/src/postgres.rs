//! A fresh PostgreSQL database per test on the machine's server (`TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432`). Names start with `valued_test_` so CI can sweep leftovers.
//! For tests that restart the database, a PostgreSQL server of the test's own ([`Server`]).

use std::path::PathBuf;
use std::process::Command;

use sea_orm::{ConnectionTrait, Database};

pub fn server_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// Creates an empty database on the machine's server and returns its URL.
pub async fn fresh_database(hint: &str) -> anyhow::Result<String> {
    fresh_database_on(&server_url(), hint).await
}

/// Creates an empty database on the server at `server` (`postgres://user@host:port`).
pub async fn fresh_database_on(server: &str, hint: &str) -> anyhow::Result<String> {
    let name = format!(
        "valued_test_{}_{}",
        hint.replace('-', "_"),
        uuid::Uuid::new_v4().simple()
    );
    let admin = Database::connect(format!("{server}/postgres")).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    admin.close().await?;
    Ok(format!("{server}/{name}"))
}

/// A PostgreSQL server of the test's own: `initdb` into a temporary directory as the `postgres`
/// user, listening on a free port of 127.0.0.1 with trust authentication; stopped and removed on
/// drop. Restart it freely: the machine's server and the tests beside it are undisturbed.
pub struct Server {
    pub port: u16,
    dir: PathBuf,
}

const BIN: &str = "/usr/lib/postgresql/15/bin";

impl Server {
    pub async fn start() -> anyhow::Result<Self> {
        let port = crate::free_port();
        let dir = std::env::temp_dir().join(format!(
            "valued-postgres-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        std::fs::create_dir_all(&dir)?;
        let owned = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()?;
        anyhow::ensure!(owned.success(), "chown of {} failed", dir.display());
        let server = Self { port, dir };
        server.as_postgres(&[
            &format!("{BIN}/initdb"),
            "-D",
            &server.data(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ])?;
        server.pg_ctl(&["start", "-w"])?;
        Ok(server)
    }

    /// `postgres://postgres@127.0.0.1:<port>`, for [`fresh_database_on`].
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// Restarts the server; `immediate` stops it as a crash would (no checkpoint, clients cut off).
    pub fn restart(&self, immediate: bool) -> anyhow::Result<()> {
        let mode = if immediate { "immediate" } else { "fast" };
        self.pg_ctl(&["restart", "-w", "-m", mode])
    }

    /// Stops the server as a crash would; [`Server::start_again`] brings it back.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.pg_ctl(&["stop", "-w", "-m", "immediate"])
    }

    pub fn start_again(&self) -> anyhow::Result<()> {
        self.pg_ctl(&["start", "-w"])
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn pg_ctl(&self, args: &[&str]) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").display().to_string();
        let (pg_ctl, data) = (format!("{BIN}/pg_ctl"), self.data());
        let mut all = vec![pg_ctl.as_str(), "-D", &data, "-o", &options, "-l", &log];
        all.extend_from_slice(args);
        self.as_postgres(&all)
    }

    fn as_postgres(&self, command: &[&str]) -> anyhow::Result<()> {
        let output = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(command)
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
