//! The options of [`BackupManager::create`](super::BackupManager::create) and
//! [`BackupManager::restore`](super::BackupManager::restore) (also read from JSON by the C face).

use super::progress::BackupProgressFn;
use super::{BackupFormat, RestoreMode};
use crate::error::{Error, Result};

/// Options of [`BackupManager::create`](super::BackupManager::create).
#[derive(Clone)]
#[non_exhaustive]
pub struct CreateOptions {
    /// Tables to include (`orders`, `offers`, `sync_log`, `checkpoints`); `None` = all.
    pub include: Option<Vec<String>>,
    /// gzip the JSON lines (default true). Ignored for [`BackupFormat::Sqlite`].
    pub compress: bool,
    /// `Some(BackupFormat::Sqlite)` for the fast snapshot format; otherwise JSON lines.
    pub format: Option<BackupFormat>,
    /// Called every few thousand rows.
    pub progress: Option<BackupProgressFn>,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            include: None,
            compress: true,
            format: None,
            progress: None,
        }
    }
}

impl CreateOptions {
    /// Options from JSON (the C face): `{"include": ["orders", "offers"], "compress": true,
    /// "format": "json" | "sqlite"}`, every key optional; unknown keys are refused.
    pub fn from_json(text: &str) -> Result<CreateOptions> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            include: Option<Vec<String>>,
            compress: Option<bool>,
            format: Option<String>,
        }
        let text = if text.trim().is_empty() { "{}" } else { text };
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("backup options: {e}")))?;
        let format = match wire.format.as_deref() {
            None | Some("json") | Some("json.gz") => None,
            Some("sqlite") => Some(BackupFormat::Sqlite),
            Some(other) => {
                return Err(Error::invalid_argument(format!(
                    "backup options: format must be \"json\" or \"sqlite\", got {other:?}"
                )))
            }
        };
        Ok(CreateOptions {
            include: wire.include,
            compress: wire.compress.unwrap_or(true),
            format,
            progress: None,
        })
    }
}

impl RestoreOptions {
    /// Options from JSON (the C face): `{"mode": "replace" | "merge"}`, optional.
    pub fn from_json(text: &str) -> Result<RestoreOptions> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            mode: Option<String>,
        }
        let text = if text.trim().is_empty() { "{}" } else { text };
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("restore options: {e}")))?;
        Ok(RestoreOptions {
            mode: match wire.mode {
                None => RestoreMode::Replace,
                Some(m) => m.parse()?,
            },
            progress: None,
        })
    }
}

impl std::fmt::Debug for CreateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateOptions")
            .field("include", &self.include)
            .field("compress", &self.compress)
            .field("format", &self.format)
            .finish()
    }
}

/// Options of [`BackupManager::restore`](super::BackupManager::restore).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct RestoreOptions {
    /// `Replace` (default) or `Merge`.
    pub mode: RestoreMode,
    /// Called every few thousand rows.
    pub progress: Option<BackupProgressFn>,
}
