//! `valued serve` as a deployment runs it, given settings it must refuse: a misspelt variable or
//! file key, or a secret that the other settings call for and that is missing. The process exits at
//! once, before it connects to anything, naming what to set.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::cluster::binary;

/// Runs `valued args` with only `variables` (and PATH) set: whether it exited successfully, and
/// what it printed.
async fn valued(args: &[&str], variables: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(binary())
        .args(args)
        .env_clear()
        .envs(variables.iter().copied())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .expect("valued stopped at once")
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

#[tokio::test]
async fn a_misspelt_variable_stops_serve_naming_it_and_the_one_meant() {
    let (started, printed) = valued(
        &["serve", "notification"],
        &[("VALUED__NOTIFICATION__SMTP__PROT", "2525")],
    )
    .await;
    assert!(!started, "{printed}");
    assert!(
        printed.contains(
            "unknown setting: VALUED__NOTIFICATION__SMTP__PROT \
             (did you mean VALUED__NOTIFICATION__SMTP__PORT?)"
        ),
        "{printed}"
    );
}

#[tokio::test]
async fn a_misspelt_file_key_stops_serve_naming_it_and_the_file() {
    let dir = std::env::temp_dir().join(format!("valued-e2e-settings-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("valued.toml");
    std::fs::write(&file, "[gateway.auth]\nclient_secert = \"issued\"\n").unwrap();
    let config = file.display().to_string();
    let (started, printed) = valued(&["--config", &config, "serve", "gateway"], &[]).await;
    assert!(!started, "{printed}");
    assert!(
        printed.contains(&format!(
            "unknown setting: gateway.auth.client_secert in {config} \
             (did you mean gateway.auth.client_secret?)"
        )),
        "{printed}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_gateway_does_not_serve_sign_in_without_its_client_secret() {
    let (started, printed) = valued(
        &["serve", "gateway"],
        &[
            ("VALUED__GATEWAY__AUTH__ISSUER", "https://login.example.org"),
            ("VALUED__GATEWAY__AUTH__CLIENT_ID", "valued"),
        ],
    )
    .await;
    assert!(!started, "{printed}");
    assert!(
        printed.contains("set VALUED__GATEWAY__AUTH__CLIENT_SECRET"),
        "{printed}"
    );
}

#[tokio::test]
async fn notification_lists_every_missing_or_weak_secret_at_once() {
    let (started, printed) = valued(
        &["serve", "notification"],
        &[
            ("VALUED__NOTIFICATION__DKIM__SELECTOR", "valued"),
            ("VALUED__NOTIFICATION__DKIM__DOMAIN", "valued.example.org"),
            ("VALUED__NOTIFICATION__WEBHOOK__SECRET", "webhook-secret"),
            ("VALUED__NOTIFICATION__DEVELOPER_OUTBOX", "true"),
        ],
    )
    .await;
    assert!(!started, "{printed}");
    for variable in [
        "set VALUED__NOTIFICATION__DKIM__PRIVATE_KEY_PEM",
        "set VALUED__NOTIFICATION__WEBHOOK__SECRET",
        "unset VALUED__NOTIFICATION__DEVELOPER_OUTBOX",
    ] {
        assert!(printed.contains(variable), "{variable}: {printed}");
    }
}
