//! A fresh RabbitMQ vhost per test (created with `rabbitmqctl`, deleted on drop), so tests never
//! see each other's queues; and, for tests that restart the broker, a RabbitMQ node of the test's
//! own on its own ports, so the machine's broker and the tests beside it are undisturbed.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub struct Vhost {
    pub name: String,
    /// The node it lives on: `None` for the machine's broker.
    node: Option<String>,
    port: u16,
}

impl Vhost {
    /// A vhost on the machine's broker.
    pub fn create() -> anyhow::Result<Self> {
        Self::create_on(None, 5672)
    }

    fn create_on(node: Option<String>, port: u16) -> anyhow::Result<Self> {
        let name = format!("valued-test-{}", uuid::Uuid::new_v4().simple());
        let vhost = Self { name, node, port };
        vhost.ctl(&["add_vhost", &vhost.name])?;
        vhost.ctl(&[
            "set_permissions",
            "-p",
            &vhost.name,
            &user(),
            ".*",
            ".*",
            ".*",
        ])?;
        Ok(vhost)
    }

    /// The AMQP URL of this vhost.
    pub fn amqp_url(&self) -> String {
        format!(
            "amqp://{}:{}@127.0.0.1:{}/{}",
            user(),
            password(),
            self.port,
            self.name
        )
    }

    /// Runs `rabbitmqctl` against the node this vhost lives on.
    pub fn ctl(&self, args: &[&str]) -> anyhow::Result<String> {
        match &self.node {
            Some(node) => {
                let mut all = vec!["-n", node.as_str()];
                all.extend_from_slice(args);
                rabbitmqctl(&all)
            }
            None => rabbitmqctl(args),
        }
    }

    /// Closes every client connection to this vhost, as a network fault would.
    pub fn close_all_connections(&self) -> anyhow::Result<()> {
        self.ctl(&[
            "close_all_connections",
            "-p",
            &self.name,
            "fault injected by test",
        ])
        .map(drop)
    }

    /// Consumers attached to `queue`, as the broker counts them.
    pub fn consumer_count(&self, queue: &str) -> anyhow::Result<usize> {
        let out = self.ctl(&[
            "list_queues",
            "-p",
            &self.name,
            "--quiet",
            "--no-table-headers",
            "name",
            "consumers",
        ])?;
        Ok(out
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .find(|(name, _)| *name == queue)
            .and_then(|(_, count)| count.trim().parse().ok())
            .unwrap_or(0))
    }

    /// Messages ready in `queue`.
    pub fn message_count(&self, queue: &str) -> anyhow::Result<usize> {
        let out = self.ctl(&[
            "list_queues",
            "-p",
            &self.name,
            "--quiet",
            "--no-table-headers",
            "name",
            "messages",
        ])?;
        Ok(out
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .find(|(name, _)| *name == queue)
            .and_then(|(_, count)| count.trim().parse().ok())
            .unwrap_or(0))
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        let _ = self.ctl(&["delete_vhost", &self.name]);
    }
}

/// A RabbitMQ node of the test's own (`<name>@localhost`, AMQP and distribution on free ports, its
/// data in a temporary directory owned by the `rabbitmq` user), stopped and removed on drop. The
/// machine's configuration pins port 5672, so the node gets a config file of its own.
pub struct Node {
    pub name: String,
    pub port: u16,
    dir: PathBuf,
}

impl Node {
    /// Starts the node and waits until it takes connections (about 10 s).
    pub async fn start() -> anyhow::Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("valued-test-{}@localhost", &id[..12]);
        let port = crate::free_port();
        let dist_port = std::iter::repeat_with(crate::free_port)
            .find(|&p| p != port)
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("valued-rabbitmq-{}", &id[..12]));
        std::fs::create_dir_all(dir.join("mnesia"))?;
        std::fs::create_dir_all(dir.join("log"))?;
        std::fs::write(dir.join("plugins"), "")?;
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!("listeners.tcp.1 = 127.0.0.1:{port}\nloopback_users = none\n"),
        )?;
        let owned = Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&dir)
            .status()?;
        anyhow::ensure!(owned.success(), "chown of {} failed", dir.display());
        let path = |file: &str| dir.join(file).display().to_string();
        let started = Command::new("rabbitmq-server")
            .arg("-detached")
            .env("RABBITMQ_NODENAME", &name)
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_CONFIG_FILE", path("rabbitmq"))
            .env("RABBITMQ_MNESIA_BASE", path("mnesia"))
            .env("RABBITMQ_LOG_BASE", path("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", path("plugins"))
            .env("RABBITMQ_FEATURE_FLAGS_FILE", path("feature_flags"))
            .env("RABBITMQ_PID_FILE", path("pid"))
            .status()?;
        anyhow::ensure!(started.success(), "rabbitmq-server -detached failed");
        let node = Self { name, port, dir };
        node.wait_until_listening(Duration::from_secs(90)).await?;
        Ok(node)
    }

    /// A fresh vhost on this node.
    pub fn vhost(&self) -> anyhow::Result<Vhost> {
        Vhost::create_on(Some(self.name.clone()), self.port)
    }

    pub fn ctl(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        rabbitmqctl(&all)
    }

    /// Restarts the broker as an operator would in a maintenance window: `stop_app`, a pause,
    /// `start_app`, then waits until it takes connections again.
    pub async fn restart(&self, pause: Duration) -> anyhow::Result<()> {
        self.ctl(&["stop_app"])?;
        tokio::time::sleep(pause).await;
        self.ctl(&["start_app"])?;
        self.wait_until_listening(Duration::from_secs(60)).await
    }

    async fn wait_until_listening(&self, limit: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let up = self.ctl(&["-q", "await_startup", "--timeout", "5"]).is_ok()
                && tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                    .await
                    .is_ok();
            if up {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "RabbitMQ node {} did not start; its log is in {}",
                self.name,
                self.dir.join("log").display()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.ctl(&["stop"]).is_err()
            && let Ok(pid) = std::fs::read_to_string(self.dir.join("pid"))
        {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn user() -> String {
    std::env::var("TEST_AMQP_USER").unwrap_or_else(|_| "guest".into())
}

fn password() -> String {
    std::env::var("TEST_AMQP_PASSWORD").unwrap_or_else(|_| "guest".into())
}

/// Runs `rabbitmqctl`, killed after a minute (coreutils `timeout`): a node that stops answering
/// fails the test that asked instead of hanging it.
pub fn rabbitmqctl(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("timeout")
        .args(["--kill-after=5", "60", "rabbitmqctl"])
        .args(args)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
