//! The config file: `$XDG_CONFIG_HOME/runyard/config.toml` (or
//! `~/.config/runyard/config.toml`). Every key is optional; unknown keys,
//! wrong types and broken TOML are errors that name the file, line and key.
//! It is read once into typed values (a sort key, colours, keys, the merged
//! key table): nothing downstream parses a setting again.

pub mod keymap;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::Color;
use serde::{Deserialize, Deserializer};

use crate::catalog::SortKey;
use keymap::{Binding, KeysSpec};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// General settings.
    pub general: General,
    /// The key metric of each task: `ocr = "val/acc"` or
    /// `recsys = { name = "val/logloss", better = "lower" }`.
    pub metrics: BTreeMap<String, KeyMetricSpec>,
    /// Colours.
    pub theme: ThemeConfig,
    /// Key bindings: `action = "key"` or `action = ["key", "key"]`,
    /// replacing that action's default keys.
    pub keys: BTreeMap<String, KeysSpec>,
    /// The key table with `keys` merged over the defaults (checked: no
    /// unknown action, no key bound twice in a mode).
    #[serde(skip)]
    pub bindings: Vec<Binding>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            general: General::default(),
            metrics: BTreeMap::new(),
            theme: ThemeConfig::default(),
            keys: BTreeMap::new(),
            bindings: keymap::bindings(),
        }
    }
}

/// The first sort, as read: the sort key, and the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortSpec {
    key: SortKey,
    written: String,
}

impl SortSpec {
    /// The sort key.
    pub fn key(&self) -> &SortKey {
        &self.key
    }
}

impl<'de> Deserialize<'de> for SortSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SortSpec, D::Error> {
        let written = String::deserialize(d)?;
        let key = written
            .parse()
            .map_err(|e| serde::de::Error::custom(format!("general.default_sort: {e}")))?;
        Ok(SortSpec { key, written })
    }
}

/// Reads a colour: a name (`cyan`), an index (`42`) or `#rrggbb`; `key`
/// names the setting in the error.
fn colour<'de, D: Deserializer<'de>>(d: D, key: &str) -> Result<Option<Color>, D::Error> {
    let v = String::deserialize(d)?;
    v.parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "{key}: {v:?} is not a colour (a name like \"cyan\", an index like \"42\", or \"#rrggbb\")"
        ))
    })
}

/// One reader a colour setting, so the error names the setting.
macro_rules! colour_field {
    ($name:ident, $key:literal) => {
        fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Color>, D::Error> {
            colour(d, $key)
        }
    };
}
colour_field!(accent, "theme.accent");
colour_field!(selection, "theme.selection");
colour_field!(good, "theme.good");
colour_field!(warn, "theme.warn");
colour_field!(error, "theme.error");

/// `[general]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct General {
    /// A run that wrote within this many minutes is active (default 10).
    pub active_minutes: Option<u64>,
    /// Threads that walk the tree (default: the cores, 2 to 8).
    pub scan_threads: Option<usize>,
    /// The explorer's and `ls`'s first sort: time, size, reclaimable, key-metric or a metric name.
    pub default_sort: Option<SortSpec>,
    /// The experiment tracker, relative to the outputs root's parent (default `experiment-tracker`).
    pub tracker: Option<PathBuf>,
    /// The command that opens a plot on a desktop (default: the system opener).
    pub plot_opener: Option<String>,
    /// How many checkpoints a prune keeps as the best by the recorded key
    /// metric, when their names carry only an epoch or step (default 1).
    pub keep_best: Option<usize>,
}

/// Which way a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Higher is better (accuracy, AUC).
    Higher,
    /// Lower is better (loss, error).
    Lower,
}

/// A task's key metric.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum KeyMetricSpec {
    /// Just the name; the direction is guessed from it (losses lower).
    Name(String),
    /// The name and which way is better.
    Full {
        /// The metric name, e.g. `val/acc`.
        name: String,
        /// `higher` or `lower`.
        better: Better,
    },
}

/// A task's key metric, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMetric {
    /// The metric name.
    pub name: String,
    /// True when lower values are better.
    pub lower_is_better: bool,
}

impl KeyMetricSpec {
    /// The name and direction.
    pub fn resolve(&self) -> KeyMetric {
        match self {
            KeyMetricSpec::Name(n) => KeyMetric {
                name: n.clone(),
                lower_is_better: crate::layout::lower_is_better(n),
            },
            KeyMetricSpec::Full { name, better } => KeyMetric {
                name: name.clone(),
                lower_is_better: *better == Better::Lower,
            },
        }
    }
}

/// `[theme]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThemeConfig {
    /// `false` for the no-colour theme (`NO_COLOR` turns colours off anyway).
    pub color: Option<bool>,
    /// Titles, focused borders, key names.
    #[serde(deserialize_with = "accent")]
    pub accent: Option<Color>,
    /// The background of the selected row.
    #[serde(deserialize_with = "selection")]
    pub selection: Option<Color>,
    /// Key metrics and finished runs.
    #[serde(deserialize_with = "good")]
    pub good: Option<Color>,
    /// Reclaimable bytes, stalled runs, ephemeral bars.
    #[serde(deserialize_with = "warn")]
    pub warn: Option<Color>,
    /// Problems and failed runs.
    #[serde(deserialize_with = "error")]
    pub error: Option<Color>,
}

/// A config that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not something runyard reads as a config: not a regular file, too
    /// big, or not text.
    #[error("{path}: {why}; runyard reads its config only from a regular file")]
    NotAConfig {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        why: String,
    },
    /// Broken TOML, an unknown key or a wrong type (the message has line and key).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message: line, column, the key and what was expected.
        message: String,
    },
    /// A value that parses as TOML but means nothing to runyard.
    #[error("{path}: {key}: {message}")]
    Value {
        /// The file.
        path: PathBuf,
        /// The key, e.g. `keys.quit`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The largest config file runyard reads (a real one is a few KiB).
pub const CONFIG_LIMIT: u64 = 1 << 20;

/// Where the config is read from.
pub fn default_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    let base = etcetera::choose_base_strategy().ok()?;
    Some(base.config_dir().join("runyard").join("config.toml"))
}

impl Config {
    /// Reads the config at `path`; a missing file is the defaults. Only a
    /// regular file of at most [`CONFIG_LIMIT`] bytes is read (a link to one
    /// is fine): a FIFO must not block runyard, nor `/dev/zero` fill memory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        use rustix::fs::{CWD, Mode, OFlags};
        // NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(CWD, path, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(Config::default()),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.into(),
                    source: e.into(),
                });
            }
        };
        let (bytes, _) = crate::ops::create::read_regular(fd, CONFIG_LIMIT).map_err(|why| {
            ConfigError::NotAConfig {
                path: path.into(),
                why,
            }
        })?;
        let text = String::from_utf8(bytes).map_err(|_| ConfigError::NotAConfig {
            path: path.into(),
            why: "is not UTF-8 text".into(),
        })?;
        Config::parse(&text, path)
    }

    /// Parses config text (`path` names it in errors) and checks its values.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string().trim_end().replace('\n', "\n    "),
        })?;
        let bad = |key: String, message: String| ConfigError::Value {
            path: path.into(),
            key,
            message,
        };
        if config.general.scan_threads == Some(0) {
            return Err(bad(
                "general.scan_threads".into(),
                "must be at least 1".into(),
            ));
        }
        // The keys merged over the defaults: unknown actions and keys bound
        // twice in a mode are errors now, not when the explorer starts.
        config.bindings =
            keymap::with_overrides(&config.keys).map_err(|(key, message)| bad(key, message))?;
        Ok(config)
    }

    /// The key metric configured for a task.
    pub fn key_metric(&self, task: &str) -> Option<KeyMetric> {
        self.metrics.get(task).map(KeyMetricSpec::resolve)
    }
}

/// `runyard config --default`: every setting, commented out, with what it does.
pub const DEFAULT_CONFIG: &str = r##"# runyard configuration: every key is optional; these are the defaults.
# Read from $XDG_CONFIG_HOME/runyard/config.toml (~/.config/runyard/config.toml).
# Start with `runyard --no-config` to ignore a broken file.

[general]
# A run that wrote a file within this many minutes is active: cleanup skips it.
# active_minutes = 10
# Threads that walk the tree. More than the cores pays on NFS, where each
# stat waits on the server. Default: the number of cores, 2 to 8.
# scan_threads = 4
# The first sort of the explorer and of `runyard ls`:
# time, size, reclaimable, key-metric, or a metric name such as "val/acc".
# default_sort = "time"
# The experiment tracker (Markdown notes that link to runs), relative to the
# folder that holds outputs/.
# tracker = "experiment-tracker"
# The command that opens a plot on a desktop, given the file as its last
# argument. Default: the system opener (xdg-open, open).
# plot_opener = "xdg-open"
# Pruning checkpoints named by epoch or step only (Lightning's
# epoch=3-step=1200.ckpt) keeps this many of the best by the run's recorded
# key metric, beside the latest, best.*, last.* and names not understood.
# keep_best = 1

[metrics]
# The key metric of each task: what the key-metric sort and "best run" use.
# A name alone guesses the direction (names with loss, err, wer... are lower
# is better); or say it.
# ocr = "val/acc"
# recsys = { name = "val/logloss", better = "lower" }

[theme]
# false for the no-colour theme (NO_COLOR in the environment always wins).
# color = true
# Colours: names (black, red, green, yellow, blue, magenta, cyan, gray,
# darkgray, lightred, ..., white), "#rrggbb", or a 256-colour index "42".
# accent = "cyan"
# selection = "blue"
# good = "green"
# warn = "yellow"
# error = "red"

[keys]
# Give an action one key or a list of keys; they replace its default keys.
# Keys: a character ("j", "G", "?"), a name (Up, Down, Left, Right, Enter,
# Esc, Tab, Shift-Tab, Backspace, Home, End, PgUp, PgDn, Space, F1..F12),
# with Ctrl- or Alt- in front ("Ctrl-d"). `runyard config --keys` lists the
# actions with their current keys.
# down = ["j", "Down"]
# quit = ["q", "Ctrl-c"]
"##;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/home/me/.config/runyard/config.toml"))
    }

    #[test]
    fn the_default_file_uncommented_parses() {
        // Every commented setting line, uncommented, is a valid setting.
        let text: String = DEFAULT_CONFIG
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.contains(" = ") && !rest.starts_with(' ') && !rest.contains(':') =>
                {
                    rest
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse(&text).unwrap();
        assert_eq!(c.general.active_minutes, Some(10));
        assert!(c.key_metric("recsys").unwrap().lower_is_better);
        assert_eq!(
            c.key_metric("ocr").unwrap(),
            KeyMetric {
                name: "val/acc".into(),
                lower_is_better: false
            }
        );
        assert!(parse(DEFAULT_CONFIG).is_ok());
    }

    #[test]
    fn bad_configs_name_the_file_line_and_key() {
        let e = parse("[general]\nactive_minutes = 5\nscan_thread = 4\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/home/me/.config/runyard/config.toml: "),
            "{e}"
        );
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("scan_thread"), "{e}");
        let e = parse("[general]\nactive_minutes = \"ten\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("active_minutes"), "{e}");
        let e = parse("[general\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = parse("[theme]\naccent = \"teal-ish\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("theme.accent") && e.contains("not a colour"),
            "{e}"
        );
        let e = parse("[general]\ndefault_sort = \"\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("general.default_sort"), "{e}");
        let e = parse("[metrics]\nocr = { name = \"val/acc\", better = \"more\" }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ocr"), "{e}");
    }

    #[test]
    fn missing_file_is_the_defaults() {
        let c = Config::load(Path::new("/nonexistent/runyard/config.toml")).unwrap();
        assert!(c.keys.is_empty() && c.metrics.is_empty());
    }
}
