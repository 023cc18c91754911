//! Test support shared by the service API tests and the end-to-end tests: a real SMTP server the test
//! controls, a fresh PostgreSQL database per test, a fresh RabbitMQ vhost per test and an
//! in-process platform whose every event is recorded, and an OTLP receiver that keeps the spans and
//! metrics processes export.

pub mod grpc;
pub mod oidc;
pub mod otlp;
pub mod platform;
pub mod postgres;
pub mod rabbitmq;
pub mod roles;
pub mod smtp;
pub mod voting;

/// A port of 127.0.0.1 free now, below the kernel's ephemeral range (32768 and up here), for a
/// server a test starts that binds it only later (after its migrations, an `initdb`, a broker's
/// boot): a port from that range can meanwhile become the source port of any outgoing connection on
/// the machine, and the bind fails "Address already in use".
///
/// Tests run as processes side by side, each picking ports it binds only later, so a port is also
/// reserved for this process (a file named after it, holding the process id, in a directory every
/// test shares) until the process ends: two clusters starting together never pick the same port,
/// where one service would fail to bind and the other cluster's would answer in its place.
pub fn free_port() -> u16 {
    let reservations = std::env::temp_dir().join("valued-test-ports");
    let _ = std::fs::create_dir_all(&reservations);
    loop {
        let offset = u16::try_from(uuid::Uuid::new_v4().as_u128() % 12_000).unwrap_or_default();
        let port = 20_000 + offset;
        if !reserve(&reservations.join(port.to_string())) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Whether this process now holds the reservation `file`: made anew, or taken over from a process
/// that has ended. The directory's lock makes the look and the take one step.
fn reserve(file: &std::path::Path) -> bool {
    let Some(lock) = file
        .parent()
        .and_then(|dir| std::fs::File::create(dir.join(".lock")).ok())
    else {
        return false;
    };
    if lock.lock().is_err() {
        return false;
    }
    let held = std::fs::read_to_string(file)
        .ok()
        .and_then(|holder| holder.trim().parse::<u32>().ok())
        .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
    !held && std::fs::write(file, std::process::id().to_string()).is_ok()
}

/// Prints traces when `TEST_LOG` is set.
pub fn init_test_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// Waits until `done` says so, checking every 100 ms; panics naming `what` after a minute.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
