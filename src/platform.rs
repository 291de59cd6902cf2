//! Platforms (eMAG RO/BG/HU, Fashion Days RO/BG), secrets and credentials.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;

use crate::error::{Error, Result};

/// A marketplace platform with its documented API base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// eMAG Romania.
    EmagRo,
    /// eMAG Bulgaria.
    EmagBg,
    /// eMAG Hungary.
    EmagHu,
    /// Fashion Days Romania.
    FdRo,
    /// Fashion Days Bulgaria.
    FdBg,
}

impl Platform {
    /// Every platform.
    pub const ALL: [Platform; 5] = [
        Platform::EmagRo,
        Platform::EmagBg,
        Platform::EmagHu,
        Platform::FdRo,
        Platform::FdBg,
    ];

    /// Our code: `emag_ro`, `emag_bg`, `emag_hu`, `fd_ro`, `fd_bg`.
    pub fn code(self) -> &'static str {
        match self {
            Platform::EmagRo => "emag_ro",
            Platform::EmagBg => "emag_bg",
            Platform::EmagHu => "emag_hu",
            Platform::FdRo => "fd_ro",
            Platform::FdBg => "fd_bg",
        }
    }

    /// The documented `MARKETPLACE_API_URL` (already ends in `/api-3`).
    pub fn api_url(self) -> &'static str {
        match self {
            Platform::EmagRo => "https://marketplace-api.emag.ro/api-3",
            Platform::EmagBg => "https://marketplace-api.emag.bg/api-3",
            Platform::EmagHu => "https://marketplace-api.emag.hu/api-3",
            Platform::FdRo => "https://marketplace-ro-api.fashiondays.com/api-3",
            Platform::FdBg => "https://marketplace-bg-api.fashiondays.com/api-3",
        }
    }

    /// The platform's locale (`ro_RO`, `bg_BG`, `hu_HU`).
    pub fn locale(self) -> &'static str {
        match self {
            Platform::EmagRo | Platform::FdRo => "ro_RO",
            Platform::EmagBg | Platform::FdBg => "bg_BG",
            Platform::EmagHu => "hu_HU",
        }
    }

    /// The default currency (configurable elsewhere: Bulgaria's is expected to change).
    pub fn currency(self) -> &'static str {
        match self {
            Platform::EmagRo | Platform::FdRo => "RON",
            Platform::EmagBg | Platform::FdBg => "BGN",
            Platform::EmagHu => "HUF",
        }
    }

    /// The time zone eMAG's zone-less `YYYY-mm-dd HH:ii:ss` timestamps are read in.
    pub fn time_zone(self) -> Tz {
        match self {
            Platform::EmagRo | Platform::FdRo => chrono_tz::Europe::Bucharest,
            Platform::EmagBg | Platform::FdBg => chrono_tz::Europe::Sofia,
            Platform::EmagHu => chrono_tz::Europe::Budapest,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Platform::ALL
            .into_iter()
            .find(|p| p.code().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "unknown platform {s:?}: expected one of emag_ro, emag_bg, emag_hu, fd_ro, fd_bg"
                ))
            })
    }
}

/// A string that never prints: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself: only for building the Authorization header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// An API user's credentials. Only the username ever prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The API username (printed).
    pub username: String,
    /// The password (never printed).
    pub password: Secret,
}

impl Credentials {
    /// New credentials; both parts must be non-empty.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Result<Self> {
        let username = username.into();
        let password = password.into();
        if username.trim().is_empty() {
            return Err(Error::invalid_argument("username is empty"));
        }
        if password.is_empty() {
            return Err(Error::invalid_argument("password is empty"));
        }
        Ok(Credentials {
            username,
            password: Secret(password),
        })
    }

    /// Remove every occurrence of the password (and its Basic-auth form) from a text that may
    /// end up in a log or an error.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        let pw = self.password.expose();
        if pw.len() >= 3 && out.contains(pw) {
            out = out.replace(pw, "***");
        }
        // As it appears inside a JSON string (a password with `"`, `\` or control characters).
        let escaped = json_escaped(pw);
        if escaped != pw && escaped.len() >= 3 && out.contains(&escaped) {
            out = out.replace(&escaped, "***");
        }
        let basic = self.basic_token();
        if out.contains(&basic) {
            out = out.replace(&basic, "***");
        }
        out
    }

    /// Whether [`Credentials::redact`] can scrub the password (it leaves one of 1 or 2
    /// characters alone: replacing every such character of a text would mangle it).
    pub fn password_is_scrubbable(&self) -> bool {
        self.password.expose().len() >= 3
    }

    /// The longest text [`Credentials::redact`] looks for (to know how much of a text cut
    /// short might hold part of a secret).
    pub fn longest_secret_len(&self) -> usize {
        let pw = self.password.expose();
        self.basic_token()
            .len()
            .max(json_escaped(pw).len())
            .max(pw.len())
    }

    /// `base64(username:password)` for the Authorization header.
    pub fn basic_token(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.username,
            self.password.expose()
        ))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// `text` as it appears between the quotes of a JSON string.
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(text)
        .to_owned()
}
