//! Loading: the `Settings` root, defaults < file < `DOMAIND_<SECTION>__<KEY>` environment,
//! the file-only keys, and the masked copy that is safe to print.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::sections::*;

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// Path given.
        path: String,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file or an override is not valid TOML / has a wrong type.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// A key has a value outside its allowed range.
    #[error("invalid configuration: `{key}` = {value}: {why}")]
    Invalid {
        /// Dotted key.
        key: String,
        /// The value as given.
        value: String,
        /// Why it is refused.
        why: String,
    },
}

/// All of domaind's settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `[database]`
    pub database: DatabaseSettings,
    /// `[http]`
    pub http: HttpSettings,
    /// `[pipeline]`
    pub pipeline: PipelineSettings,
    /// `[writer]`
    pub writer: WriterSettings,
    /// `[fetch]`
    pub fetch: FetchSettings,
    /// `[retry]`
    pub retry: RetrySettings,
    /// `[supervisor]`
    pub supervisor: SupervisorSettings,
    /// `[scheduler]`
    pub scheduler: SchedulerSettings,
    /// `[alerts]`
    pub alerts: AlertSettings,
}

impl Settings {
    /// A copy safe to print: tokens, the webhook URL (all but its origin) and the database
    /// password are masked.
    pub fn masked(&self) -> Settings {
        let mut s = self.clone();
        let mask = |v: &mut String| {
            if !v.is_empty() {
                *v = "***".into();
            }
        };
        mask(&mut s.http.token);
        s.http.tokens.iter_mut().for_each(|t| mask(&mut t.token));
        s.alerts.webhook_url = mask_webhook_url(&s.alerts.webhook_url);
        s.database.url = crate::store::redact_url(&s.database.url);
        s
    }
}

/// The webhook URL as `check-config` shows it: only its origin (`https://hooks.example`), the
/// rest as `/***`. Masking only the userinfo and query would not do: chat webhooks (Slack,
/// Discord, Teams) carry their secret in the path. The origin stays so an operator can see
/// which receiver is configured; userinfo never shows.
fn mask_webhook_url(url: &str) -> String {
    if url.is_empty() {
        return String::new();
    }
    match url::Url::parse(url) {
        Ok(u) if u.has_host() => format!("{}/***", u.origin().ascii_serialization()),
        _ => "***".into(),
    }
}

/// Keys that may only be set in a config file.
const FILE_ONLY: [&str; 2] = ["fetch.resolve_override", "fetch.allow_private"];

impl Settings {
    /// Loads defaults, then `path` (if given, it must exist), then the process environment.
    pub fn load(path: Option<&Path>) -> Result<Settings, SettingsError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| SettingsError::Read {
                path: p.display().to_string(),
                source,
            })?,
            None => String::new(),
        };
        Settings::from_sources(&text, std::env::vars())
    }

    /// Builds settings from config text and `(name, value)` environment pairs.
    pub fn from_sources(
        file: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut table: toml::Table = toml::from_str(file).map_err(|e| SettingsError::Parse(e.to_string()))?;
        let defaults = toml::Table::try_from(Settings::default()).map_err(|e| SettingsError::Parse(e.to_string()))?;
        let mut overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("DOMAIND_") && k.contains("__"))
            .collect();
        overrides.sort();
        for (name, raw) in overrides {
            let rest = &name["DOMAIND_".len()..];
            let Some((section, key)) = rest.split_once("__") else {
                continue;
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let dotted = format!("{section}.{key}");
            if FILE_ONLY.contains(&dotted.as_str()) {
                return Err(SettingsError::Invalid {
                    key: dotted,
                    value: format!("{raw:?} (from {name})"),
                    why: "this key weakens the SSRF guard and is accepted from a config file only".into(),
                });
            }
            let default = defaults
                .get(&section)
                .and_then(|s| s.as_table())
                .and_then(|s| s.get(&key));
            let value = match default {
                None => {
                    return Err(SettingsError::Invalid {
                        key: dotted,
                        value: format!("{raw:?} (from {name})"),
                        why: "no such setting".into(),
                    })
                }
                Some(toml::Value::String(_)) => toml::Value::String(raw.clone()),
                Some(toml::Value::Integer(_)) => {
                    toml::Value::Integer(raw.trim().parse().map_err(|_| SettingsError::Invalid {
                        key: dotted.clone(),
                        value: format!("{raw:?} (from {name})"),
                        why: "expected a whole number".into(),
                    })?)
                }
                Some(toml::Value::Boolean(_)) => toml::Value::Boolean(match raw.trim() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => {
                        return Err(SettingsError::Invalid {
                            key: dotted,
                            value: format!("{raw:?} (from {name})"),
                            why: "expected true or false".into(),
                        })
                    }
                }),
                Some(_) => {
                    return Err(SettingsError::Invalid {
                        key: dotted,
                        value: format!("{raw:?} (from {name})"),
                        why: "only scalar keys can be set from the environment".into(),
                    })
                }
            };
            let entry = table
                .entry(section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry.as_table_mut() {
                Some(t) => {
                    t.insert(key, value);
                }
                None => return Err(SettingsError::Parse(format!("`{}` is not a table", dotted))),
            }
        }
        let settings: Settings = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| SettingsError::Parse(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }
}
