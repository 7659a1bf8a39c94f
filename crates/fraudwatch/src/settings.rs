//! Layered configuration: the compiled-in `config/default.toml`, then a file, then `FRAUDWATCH_*`
//! variables (`__` separates nested keys: `FRAUDWATCH_LOG__LEVEL`), then command-line flags.

use anyhow::Context as _;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::cli::{GlobalArgs, LogFormat};

const DEFAULTS: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub bus_url: String,
    pub store_url: String,
    pub registry_url: String,
    pub partitions: i32,
    /// `host:port` for Prometheus metrics; empty: none.
    pub metrics_addr: String,
    pub log: LogSettings,
    /// Drift monitoring: windows, thresholds, alerts (`fraudwatch monitor`).
    #[serde(default)]
    pub monitor: fraudwatch_monitor::MonitorConfig,
    /// Retraining: the split, validation and the promotion rule (`fraudwatch retrain`).
    #[serde(default)]
    pub retrain: fraudwatch_retrain::RetrainConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

/// The flags that were given, shaped like `Settings` so they merge as the last layer.
#[derive(Debug, Default, Serialize)]
struct FlagLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    bus_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    store_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partitions: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics_addr: Option<String>,
    log: LogFlags,
}

#[derive(Debug, Default, Serialize)]
struct LogFlags {
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<LogFormat>,
}

impl Settings {
    pub fn load(args: &GlobalArgs) -> anyhow::Result<Settings> {
        let mut fig = Figment::from(Toml::string(DEFAULTS));
        if let Some(path) = &args.config {
            anyhow::ensure!(
                path.is_file(),
                "config file {} does not exist",
                path.display()
            );
            fig = fig.merge(Toml::file_exact(path));
        }
        let flags = FlagLayer {
            bus_url: args.bus_url.clone(),
            store_url: args.store_url.clone(),
            registry_url: args.registry_url.clone(),
            partitions: args.partitions,
            metrics_addr: args.metrics_addr.clone(),
            log: LogFlags {
                level: args.log_level.clone(),
                format: args.log_format,
            },
        };
        let settings: Settings = fig
            .merge(Env::prefixed("FRAUDWATCH_").ignore(&["config"]).split("__"))
            .merge(Serialized::defaults(flags))
            .extract()
            .context("invalid configuration")?;
        anyhow::ensure!(
            (1..=1024).contains(&settings.partitions),
            "invalid configuration: partitions = {} must be 1 to 1024",
            settings.partitions
        );
        if let Err(e) = settings.monitor.check() {
            anyhow::bail!("invalid configuration: monitor: {e}");
        }
        if let Err(e) = settings.retrain.check() {
            anyhow::bail!("invalid configuration: {e}");
        }
        Ok(settings)
    }

    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(toml::to_string(self)?)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return its (large) error type
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn each_layer_overrides_the_one_below() {
        Jail::expect_with(|jail| {
            let defaults = Settings::load(&GlobalArgs::default()).map_err(|e| e.to_string())?;
            assert_eq!(defaults.bus_url, "memory://");
            assert_eq!(defaults.log.format, LogFormat::Text);

            jail.create_file("fw.toml", "bus_url = \"kafka://file:9092\"\nstore_url = \"sqlite://file.db\"\n[log]\nlevel = \"debug\"\n")?;
            let mut args = GlobalArgs {
                config: Some("fw.toml".into()),
                ..Default::default()
            };
            let s = Settings::load(&args).map_err(|e| e.to_string())?;
            assert_eq!(
                (
                    s.bus_url.as_str(),
                    s.store_url.as_str(),
                    s.log.level.as_str()
                ),
                ("kafka://file:9092", "sqlite://file.db", "debug")
            );
            assert_eq!(
                s.log.format,
                LogFormat::Text,
                "untouched keys keep their defaults"
            );

            jail.set_env("FRAUDWATCH_BUS_URL", "kafka://env:9092");
            jail.set_env("FRAUDWATCH_LOG__FORMAT", "json");
            let s = Settings::load(&args).map_err(|e| e.to_string())?;
            assert_eq!(s.bus_url, "kafka://env:9092");
            assert_eq!(s.store_url, "sqlite://file.db");
            assert_eq!(s.log.format, LogFormat::Json);

            args.bus_url = Some("kafka://flag:9092".into());
            args.log_level = Some("warn".into());
            let s = Settings::load(&args).map_err(|e| e.to_string())?;
            assert_eq!(s.bus_url, "kafka://flag:9092");
            assert_eq!(s.log.level, "warn");
            assert_eq!(s.log.format, LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn garbage_is_reported_with_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("FRAUDWATCH_PARTITIONS", "many");
            let e =
                format!("{:#}", Settings::load(&GlobalArgs::default()).unwrap_err()).to_lowercase();
            assert!(e.contains("partitions"), "{e}");
            jail.set_env("FRAUDWATCH_PARTITIONS", "0");
            let e =
                format!("{:#}", Settings::load(&GlobalArgs::default()).unwrap_err()).to_lowercase();
            assert!(e.contains("partitions = 0"), "{e}");
            jail.set_env("FRAUDWATCH_PARTITIONS", "4");
            jail.set_env("FRAUDWATCH_LOG__FORMAT", "xml");
            let e =
                format!("{:#}", Settings::load(&GlobalArgs::default()).unwrap_err()).to_lowercase();
            assert!(e.contains("format"), "{e}");
            jail.clear_env();
            jail.set_env("FRAUDWATCH_BUS_URLL", "typo");
            let e =
                format!("{:#}", Settings::load(&GlobalArgs::default()).unwrap_err()).to_lowercase();
            assert!(e.contains("bus_urll"), "{e}");
            jail.clear_env();
            jail.create_file("bad.toml", "bus_url = [")?;
            let args = GlobalArgs {
                config: Some("bad.toml".into()),
                ..Default::default()
            };
            assert!(Settings::load(&args).is_err());
            let args = GlobalArgs {
                config: Some("missing.toml".into()),
                ..Default::default()
            };
            assert!(format!("{:#}", Settings::load(&args).unwrap_err()).contains("missing.toml"));
            Ok(())
        });
    }
}
