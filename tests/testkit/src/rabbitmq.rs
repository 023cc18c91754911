//! A fresh RabbitMQ vhost per test (created with `rabbitmqctl`, deleted on drop), so tests never
//! see each other's queues.

use std::process::Command;

pub struct Vhost {
    pub name: String,
}

impl Vhost {
    pub fn create() -> anyhow::Result<Self> {
        let name = format!("valued-test-{}", uuid::Uuid::new_v4().simple());
        rabbitmqctl(&["add_vhost", &name])?;
        rabbitmqctl(&["set_permissions", "-p", &name, &user(), ".*", ".*", ".*"])?;
        Ok(Self { name })
    }

    /// The AMQP URL of this vhost on the machine's broker.
    pub fn amqp_url(&self) -> String {
        format!(
            "amqp://{}:{}@127.0.0.1:5672/{}",
            user(),
            password(),
            self.name
        )
    }

    /// Consumers attached to `queue`, as the broker counts them.
    pub fn consumer_count(&self, queue: &str) -> anyhow::Result<usize> {
        let out = rabbitmqctl(&[
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
        let out = rabbitmqctl(&[
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
        let _ = rabbitmqctl(&["delete_vhost", &self.name]);
    }
}

fn user() -> String {
    std::env::var("TEST_AMQP_USER").unwrap_or_else(|_| "guest".into())
}

fn password() -> String {
    std::env::var("TEST_AMQP_PASSWORD").unwrap_or_else(|_| "guest".into())
}

pub fn rabbitmqctl(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("rabbitmqctl").args(args).output()?;
    anyhow::ensure!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
