//! Every service's settings in one tree, loaded defaults → optional file → `VALUED__…`
//! environment; a key that nothing reads is refused.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use valued_platform::{BusSettings, RelaySettings, TelemetrySettings};

const DEFAULTS: &str = include_str!("defaults.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// This is a developer's machine: `valued serve` may then serve the developer outbox
    /// (`gateway.outbox`, `notification.developer_outbox`), which shows every email with the
    /// personal details in it. Off unless set; `valued up` needs no such word.
    #[serde(default)]
    pub developer_machine: bool,
    /// After SIGTERM, how long the process may take to finish what it started before it exits
    /// anyway (status 1, saying so): below the orchestrator's grace period less its preStop pause,
    /// so that the process, not a SIGKILL, decides how it ends.
    pub shutdown_seconds: u64,
    pub telemetry: TelemetrySettings,
    pub bus: BusSettings,
    #[serde(default)]
    pub relay: RelaySettings,
    pub nomination: Peer<valued_nomination::Settings>,
    pub voting: Peer<valued_voting::Settings>,
    pub survey_feedback: Peer<valued_survey_feedback::Settings>,
    pub notification: Peer<valued_notification::Settings>,
    #[serde(default)]
    pub gateway: valued_gateway::Settings,
}

impl Settings {
    /// Defaults → optional file → `VALUED__…` environment; refuses keys that no setting has.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_from(file, valued_platform::settings::environment()?)
    }

    /// [`Settings::load`] with `environment` (name, value) in place of the process's variables.
    pub fn load_from(
        file: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let settings: Self = valued_platform::settings::load_from(DEFAULTS, file, environment)
            .context("reading configuration")?;
        Ok(settings.with_shared_sign_in())
    }

    /// [`Settings::load_from`] with the environment read from `NAME=VALUE` lines (blank lines and
    /// `#` comments skipped) and no file: `valued check-settings`, which checks the variables a
    /// manifest sets. A name that no setting has, or a value of the wrong type, is an error naming
    /// it; so is a line that is not `VALUED__…=…`.
    pub fn check_lines(input: impl std::io::BufRead) -> anyhow::Result<Self> {
        let mut environment = Vec::new();
        for (index, line) in input.lines().enumerate() {
            let line = line.context("reading NAME=VALUE lines")?;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let number = index + 1;
            let (name, value) = line
                .split_once('=')
                .with_context(|| format!("line {number}: {line:?} is not NAME=VALUE"))?;
            anyhow::ensure!(
                name.starts_with("VALUED__"),
                "line {number}: {name} is not a Valued setting (VALUED__SECTION__KEY)"
            );
            environment.push((name.to_owned(), value.to_owned()));
        }
        Self::load_from(None, environment)
    }

    /// The same settings on free ports under `data_dir` (tests).
    pub fn embedded_on_free_ports(data_dir: &Path) -> anyhow::Result<Self> {
        let mut settings = Self::load(None)?;
        settings.data_dir = data_dir.to_owned();
        settings.nomination.settings.grpc.port = 0;
        settings.voting.settings.grpc.port = 0;
        settings.survey_feedback.settings.grpc.port = 0;
        settings.notification.settings.grpc.port = 0;
        settings.gateway.http.port = 0;
        Ok(settings)
    }
}

impl Settings {
    /// These settings with what every service shares filled in where a service has not set its
    /// own, from `nomination.auth`: the OpenID Connect issuer and audience admins sign in with, and
    /// the public key of emailed sign-in links' tokens (`nomination.auth.sign_in_key`, or the
    /// public half of the signing key where this process holds it).
    pub fn with_shared_sign_in(mut self) -> Self {
        let nomination = self.nomination.settings.auth.oidc();
        for auth in [
            &mut self.voting.settings.auth,
            &mut self.survey_feedback.settings.auth,
            &mut self.notification.settings.auth,
        ] {
            if auth.issuer.is_empty() {
                auth.issuer.clone_from(&nomination.issuer);
                auth.audience.clone_from(&nomination.audience);
            }
            if auth.sign_in_key.is_empty() {
                auth.sign_in_key.clone_from(&nomination.sign_in_key);
            }
        }
        self
    }

    /// These settings with a new sign-in link key where none is set, and the audience `valued`
    /// where none is: for `valued up`, so that a newcomer signs in by link with nothing else
    /// installed. The key lives as long as the process (its sessions end with it).
    pub fn with_sign_in_links(&self) -> Self {
        let mut settings = self.clone();
        let auth = &mut settings.nomination.settings.auth;
        if auth.signing_key.is_none() {
            let (secret, _) = valued_platform::auth::sign_in_link::SigningKey::generate();
            auth.signing_key = Some(secret);
        }
        if auth.audience.is_empty() {
            auth.audience = "valued".into();
        }
        settings.with_shared_sign_in()
    }

    /// These settings with a random service key for every service that has none: for `valued up`,
    /// where every caller and callee is in this one process and the keys never leave it.
    pub fn with_service_keys(&self) -> Self {
        let mut settings = self.clone();
        for grpc in [
            &mut settings.nomination.settings.grpc,
            &mut settings.voting.settings.grpc,
            &mut settings.survey_feedback.settings.grpc,
            &mut settings.notification.settings.grpc,
        ] {
            if grpc.service_key.is_none() {
                grpc.service_key = Some(valued_platform::auth::service::random_key());
            }
        }
        settings
    }
}

/// A service's own settings plus the URL its peers reach it on (`VALUED__NOMINATION__URL`), side
/// by side in the service's section.
#[derive(Debug, Clone)]
pub struct Peer<S> {
    pub url: String,
    pub settings: S,
}

/// Not `#[serde(flatten)]`: serde reads a flattened struct from a buffered copy of the section,
/// out of sight of the check that refuses unknown keys, so a misspelt key there would be ignored.
/// Here `S` reads the section itself, and `url` is taken out on the way.
impl<'de, S: Deserialize<'de>> Deserialize<'de> for Peer<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut url = None;
        let settings = S::deserialize(WithUrl {
            deserializer,
            url: &mut url,
        })?;
        Ok(Self {
            url: url.unwrap_or_default(),
            settings,
        })
    }
}

/// A section's deserializer that sets `url` aside for the [`Peer`] and gives the rest to `S`.
struct WithUrl<'u, D> {
    deserializer: D,
    url: &'u mut Option<String>,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for WithUrl<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let url = self.url;
        self.deserializer.deserialize_map(UrlAside { visitor, url })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let url = self.url;
        self.deserializer
            .deserialize_struct(name, fields, UrlAside { visitor, url })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

struct UrlAside<'u, V> {
    visitor: V,
    url: &'u mut Option<String>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for UrlAside<'_, V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.visitor.expecting(formatter)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(WithoutUrl { map, url: self.url })
    }
}

struct WithoutUrl<'u, A> {
    map: A,
    url: &'u mut Option<String>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for WithoutUrl<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<String>()? {
            if key == "url" {
                *self.url = Some(self.map.next_value()?);
                continue;
            }
            return seed
                .deserialize(IntoDeserializer::<A::Error>::into_deserializer(key))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A `valued.toml` holding `text`, in a directory of its own named after `test`.
    fn config_file(test: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("valued-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("valued.toml");
        std::fs::write(&file, text).unwrap();
        file
    }

    fn remove(file: &Path) {
        std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_file_or_the_environment_gives_lists_as_text_and_urls_never_print() {
        // As an environment variable would give it: one comma-separated string.
        let file = config_file(
            "lists",
            "[nomination.auth]\nplatform_admins = \"a@trust.nhs.uk, b@trust.nhs.uk\"\n\
             [voting.database]\nurl = \"postgres://valued:hunter2@db/voting\"\n",
        );
        let settings = Settings::load_from(Some(&file), []).unwrap();
        assert_eq!(
            settings.nomination.settings.auth.platform_admins,
            ["a@trust.nhs.uk", "b@trust.nhs.uk"]
        );
        assert!(!format!("{settings:?}").contains("hunter2"));
        // Defaults stated once still apply to what the file leaves out.
        assert_eq!(settings.nomination.settings.draft_days, 30);
        assert_eq!(settings.bus.prefetch, 32);
        remove(&file);
    }

    fn load(variables: &[(&str, &str)]) -> anyhow::Result<Settings> {
        Settings::load_from(
            None,
            variables
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        )
    }

    /// Whether the loader refused `name` as a key that no setting has (rather than, say, its value).
    fn refused_as_unknown(loaded: &anyhow::Result<Settings>) -> bool {
        loaded.as_ref().is_err_and(|error| {
            matches!(
                error.downcast_ref::<valued_platform::settings::LoadError>(),
                Some(valued_platform::settings::LoadError::Unknown(_))
            )
        })
    }

    #[test]
    fn check_lines_loads_name_value_lines_and_names_every_unknown_one() {
        let settings = Settings::check_lines(
            "# from a manifest\n\nVALUED__BUS__PREFIX=checked\nVALUED__BUS__AMQP_URL=amqp://u:p@h:5672/%2f\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(settings.bus.prefix, "checked");

        let refused = Settings::check_lines(
            "VALUED__NOTIFICATION__SMTP__PROT=2525\nVALUED__BUS__PREFIX=valued\nVALUED__VOTING__VOTER_KEY_SECRETS=x\n"
                .as_bytes(),
        )
        .unwrap_err();
        assert!(refused_as_unknown(&Err(refused)));
        let message = format!(
            "{:#}",
            Settings::check_lines(
                "VALUED__NOTIFICATION__SMTP__PROT=2525\nVALUED__VOTING__VOTER_KEY_SECRETS=x\n"
                    .as_bytes()
            )
            .unwrap_err()
        );
        assert!(
            message.contains("VALUED__NOTIFICATION__SMTP__PROT")
                && message.contains("VALUED__VOTING__VOTER_KEY_SECRETS"),
            "{message}"
        );

        // A value of the wrong type is refused, and so is a line that is not a Valued setting.
        assert!(
            Settings::check_lines("VALUED__NOTIFICATION__SMTP__PORT=many\n".as_bytes()).is_err()
        );
        let refused = Settings::check_lines("PATH=/usr/bin\n".as_bytes()).unwrap_err();
        assert_eq!(
            format!("{refused:#}"),
            "line 1: PATH is not a Valued setting (VALUED__SECTION__KEY)"
        );
        let refused = Settings::check_lines("VALUED__BUS__PREFIX\n".as_bytes()).unwrap_err();
        assert_eq!(
            format!("{refused:#}"),
            "line 1: \"VALUED__BUS__PREFIX\" is not NAME=VALUE"
        );
    }

    #[test]
    fn a_misspelt_variable_is_refused_naming_it_and_the_key_it_nearly_is() {
        let refused = load(&[("VALUED__NOTIFICATION__SMTP__PROT", "2525")]).unwrap_err();
        assert_eq!(
            format!("{refused:#}"),
            "reading configuration: unknown setting: VALUED__NOTIFICATION__SMTP__PROT \
             (did you mean VALUED__NOTIFICATION__SMTP__PORT?)"
        );
        // A service's section is checked whole, beside the peers' `url`.
        let refused = load(&[
            ("VALUED__NOMINATION__URL", "http://nomination:50051"),
            ("VALUED__NOMINATION__SEED_DEMOS", "false"),
        ])
        .unwrap_err();
        assert!(
            format!("{refused:#}").ends_with(
                "unknown setting: VALUED__NOMINATION__SEED_DEMOS \
                 (did you mean VALUED__NOMINATION__SEED_DEMO?)"
            ),
            "{refused:#}"
        );
        let settings = load(&[("VALUED__NOMINATION__URL", "http://nomination:50051")]).unwrap();
        assert_eq!(settings.nomination.url, "http://nomination:50051");
        assert!(settings.nomination.settings.seed_demo);
    }

    #[test]
    fn a_misspelt_file_key_is_refused_naming_it_and_the_file() {
        let file = config_file(
            "misspelt",
            "[notification.smtp]\nhost = \"relay\"\nprot = 2525\n",
        );
        let refused = Settings::load_from(Some(&file), []).unwrap_err();
        assert_eq!(
            format!("{refused:#}"),
            format!(
                "reading configuration: unknown setting: notification.smtp.prot in {} \
                 (did you mean notification.smtp.port?)",
                file.display()
            )
        );
        remove(&file);
    }

    #[test]
    fn every_key_in_the_defaults_is_known_and_the_retired_tenants_map_is_refused() {
        // The compiled-in defaults load without a refusal: each of their keys is known.
        let settings = load(&[]).unwrap();
        assert_eq!(settings.notification.url, "http://127.0.0.1:50054");
        // A trust's sender is its admins' to set on its settings page now, not a setting.
        assert!(refused_as_unknown(&load(&[(
            "VALUED__NOTIFICATION__TENANTS__RJ1__SENDER_NAME",
            "GSTT"
        )])));
    }

    /// The services a `<service>` in the documentation stands for.
    const SERVICES: [&str; 4] = ["nomination", "voting", "survey_feedback", "notification"];

    /// Every key `text` names in the first column of its Configuration table, as `a.b.c`: a
    /// `.key` after a full key replaces that key's last word, `<service>` stands for each gRPC
    /// service and `<ODS code>` for a trust.
    fn documented_keys(text: &str) -> Vec<String> {
        let section = text
            .split("\n## ")
            .find(|section| section.starts_with("Configuration"))
            .unwrap();
        let mut keys = Vec::new();
        for row in section.lines().filter(|line| line.starts_with("| `")) {
            let first_column = row.split('|').nth(1).unwrap();
            let mut last = String::new();
            for name in first_column.split('`').skip(1).step_by(2) {
                let name = match name.strip_prefix('.') {
                    Some(word) => format!("{}.{word}", last.rsplit_once('.').unwrap().0),
                    None => name.to_owned(),
                };
                last.clone_from(&name);
                let name = name.replace("<ODS code>", "RJ1");
                if name.contains("<service>") {
                    keys.extend(SERVICES.iter().map(|s| name.replace("<service>", s)));
                } else {
                    keys.push(name);
                }
            }
        }
        keys
    }

    /// A variable for each of `keys`, where `section.*` means every key of the section.
    fn variables(keys: &[String]) -> Vec<String> {
        let known = valued_platform::settings::known_keys::<Settings>();
        let mut variables = Vec::new();
        for key in keys {
            let keys: Vec<&String> = match key.strip_suffix(".*") {
                Some(section) => known
                    .iter()
                    .filter(|known| known.starts_with(&format!("{section}.")))
                    .collect(),
                None => vec![key],
            };
            assert!(!keys.is_empty(), "{key} names no setting");
            // A map's entries (`….keys.*`) are named by whoever sets them: try one.
            variables.extend(keys.iter().map(|key| {
                let key = key
                    .strip_suffix(".*")
                    .map_or_else(|| (*key).clone(), |map| format!("{map}.example"));
                format!("VALUED__{}", key.replace('.', "__").to_uppercase())
            }));
        }
        variables
    }

    #[test]
    fn every_key_the_readme_documents_is_known() {
        let readme = include_str!("../../../README.md");
        let keys = documented_keys(readme);
        assert!(keys.len() > 60, "{keys:?}");
        assert!(keys.contains(&"notification.smtp.port".to_owned()));
        assert!(keys.contains(&"survey_feedback.grpc.service_key".to_owned()));
        // A value of the wrong type is refused too, but not as an unknown key.
        for variable in variables(&keys) {
            let loaded = load(&[(&variable, "1")]);
            assert!(
                !refused_as_unknown(&loaded),
                "{variable}: {:#}",
                loaded.unwrap_err()
            );
        }
    }

    #[test]
    fn every_variable_the_manifests_and_scripts_set_is_known() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = vec![root.join("deploy/run-local.sh")];
        let mut dirs = vec![root.join("k8s")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    files.push(path);
                }
            }
        }
        let mut checked = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (at, _) in text.match_indices("VALUED__") {
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let next = text[at + name.len()..].chars().next();
                // Skip names made up in the script (`VALUED__${section}__…`) and patterns.
                if name.ends_with('_') || matches!(next, Some('$' | '<' | '*')) {
                    continue;
                }
                let loaded = load(&[(&name, "1")]);
                assert!(
                    !refused_as_unknown(&loaded),
                    "{name} in {}: {:#}",
                    file.display(),
                    loaded.unwrap_err()
                );
                checked += 1;
            }
        }
        assert!(checked > 40, "{checked}");
    }
}
