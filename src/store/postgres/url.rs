//! Reading a `postgresql://` URL: the connection settings, the store's schema and the TLS
//! mode. The password goes into the connection settings only; everything printed (errors,
//! `Debug`, the store's `path`) uses [`PgUrl::display`], which never has it.

use std::time::Duration;

use crate::error::{Error, Result};

/// The default schema the store's tables live in.
pub const DEFAULT_SCHEMA: &str = "magflow_emag";

/// How the connection is protected (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP or a Unix socket.
    Disable,
    /// TLS when the server offers it.
    Prefer,
    /// TLS or no connection (`require`, `verify-ca`, `verify-full`): the certificate is always
    /// verified against the web PKI roots, or `sslrootcert` when given.
    Require,
}

/// A parsed store URL.
pub struct PgUrl {
    /// The connection settings (with the password).
    pub config: tokio_postgres::Config,
    /// The schema of the store's tables (a plain identifier).
    pub schema: String,
    /// TLS.
    pub tls: TlsMode,
    /// A PEM file of root certificates to trust instead of the web PKI roots.
    pub root_cert: Option<String>,
    /// The URL without its password (for messages).
    pub display: String,
    /// `user@host:port/database` (for messages).
    pub label: String,
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL without its password; the connection settings are not printed.
        f.debug_struct("PgUrl").field("url", &self.display).finish()
    }
}

fn bad(display: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("store URL {display}: {why}"))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// Whether a host is this machine (plain TCP is then the default).
fn is_local(host: &str) -> bool {
    host.starts_with('/')
        || host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The URL as printed: scheme, user, host, port, database and query, no password.
fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(None);
            }
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "password" {
                        "REDACTED".to_owned()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        // Not a URL: print only its scheme.
        Err(_) => format!(
            "{}://(unreadable)",
            raw.split("://").next().unwrap_or("postgresql")
        ),
    }
}

fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| text.to_owned())
}

impl PgUrl {
    /// Read `raw`. Errors name the part that is wrong, never the password.
    pub fn parse(raw: &str) -> Result<PgUrl> {
        let display = redact(raw.trim());
        let u = url::Url::parse(raw.trim()).map_err(|e| bad(&display, e))?;
        if !matches!(u.scheme(), "postgresql" | "postgres") {
            return Err(bad(
                &display,
                "the scheme must be postgresql:// or postgres://",
            ));
        }
        let mut config = tokio_postgres::Config::new();
        let mut user = decode(u.username());
        if let Some(p) = u.password() {
            config.password(decode(p));
        }
        let q = read_query(&u, &mut config, &display)?;
        let schema = q.schema;
        let (sslmode, root_cert, connect_timeout) = (q.sslmode, q.root_cert, q.connect_timeout);
        let mut host = q
            .host
            .unwrap_or_else(|| u.host_str().map(decode).unwrap_or_default());
        let port = q.port.or(u.port());
        let mut dbname = q
            .dbname
            .unwrap_or_else(|| decode(u.path().trim_start_matches('/')));
        if let Some(u) = q.user {
            user = u;
        }
        if !is_identifier(&schema) {
            return Err(bad(
                &display,
                "schema: must be a plain lowercase identifier (letters, digits, _)",
            ));
        }
        if host.is_empty() {
            host = "localhost".into();
        }
        if user.is_empty() {
            user = std::env::var("USER").unwrap_or_else(|_| "postgres".into());
        }
        if dbname.is_empty() {
            dbname = user.clone();
        }
        let port = port.unwrap_or(5432);
        let tls = tls_mode(sslmode.as_deref(), &host, &display)?;
        if tls != TlsMode::Disable && host.starts_with('/') {
            return Err(bad(&display, "sslmode: a Unix socket takes no TLS"));
        }
        // The driver's own mode, which decides whether a server without TLS is accepted
        // (its default, `prefer`, would let `require` fall back to plain text).
        config.ssl_mode(match tls {
            TlsMode::Disable => tokio_postgres::config::SslMode::Disable,
            TlsMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            TlsMode::Require => tokio_postgres::config::SslMode::Require,
        });
        config
            .user(&user)
            .dbname(&dbname)
            .host(&host)
            .port(port)
            .connect_timeout(connect_timeout)
            // Every connection of the pool works in the store's schema.
            .options(format!("-c search_path={schema}"));
        if config.get_application_name().is_none() {
            config.application_name("magflow-emag");
        }
        let label = format!("PostgreSQL {user}@{host}:{port}/{dbname} (schema {schema})");
        Ok(PgUrl {
            config,
            schema,
            tls,
            root_cert,
            display,
            label,
        })
    }
}

/// What the URL's query parameters set (the password and application name go straight into
/// `config`).
struct Query {
    schema: String,
    sslmode: Option<String>,
    root_cert: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    dbname: Option<String>,
    user: Option<String>,
    connect_timeout: Duration,
}

fn read_query(u: &url::Url, config: &mut tokio_postgres::Config, display: &str) -> Result<Query> {
    let mut q = Query {
        schema: DEFAULT_SCHEMA.to_owned(),
        sslmode: None,
        root_cert: None,
        host: None,
        port: None,
        dbname: None,
        user: None,
        connect_timeout: Duration::from_secs(10),
    };
    for (key, value) in u.query_pairs() {
        let value = value.into_owned();
        match &*key {
            "schema" => q.schema = value,
            "sslmode" => q.sslmode = Some(value),
            "sslrootcert" => q.root_cert = Some(value),
            "host" => q.host = Some(value),
            "port" => {
                q.port = Some(
                    value
                        .parse()
                        .map_err(|_| bad(display, "port: not a port number"))?,
                )
            }
            "dbname" => q.dbname = Some(value),
            "user" => q.user = Some(value),
            "password" => {
                config.password(value);
            }
            "application_name" => {
                config.application_name(&value);
            }
            "connect_timeout" => {
                let s: u64 = value
                    .parse()
                    .map_err(|_| bad(display, "connect_timeout: not a number of seconds"))?;
                q.connect_timeout = Duration::from_secs(s.max(1));
            }
            other => {
                return Err(bad(
                    display,
                    format!(
                        "unknown parameter {other:?} (known: schema, sslmode, sslrootcert, \
                         host, port, dbname, user, password, application_name, connect_timeout)"
                    ),
                ))
            }
        }
    }
    Ok(q)
}

/// The TLS mode of `sslmode` (none given: plain on loopback and sockets, else `prefer`).
fn tls_mode(sslmode: Option<&str>, host: &str, display: &str) -> Result<TlsMode> {
    Ok(match sslmode {
        None if is_local(host) => TlsMode::Disable,
        None => TlsMode::Prefer,
        Some("disable") => TlsMode::Disable,
        Some("allow" | "prefer") => TlsMode::Prefer,
        Some("require" | "verify-ca" | "verify-full") => TlsMode::Require,
        Some(_) => {
            return Err(bad(
                display,
                "sslmode: one of disable, allow, prefer, require, verify-ca, verify-full",
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_in_what_is_printed() {
        let u = PgUrl::parse("postgresql://erp:s3cr%40t@db.example:6543/erp?schema=emag").unwrap();
        assert!(!u.display.contains("s3cr"), "{}", u.display);
        assert!(!u.label.contains("s3cr"));
        assert_eq!(u.schema, "emag");
        assert_eq!(u.tls, TlsMode::Prefer);
        assert_eq!(u.config.get_password(), Some(&b"s3cr@t"[..]));
        assert!(u.label.contains("db.example:6543/erp"), "{}", u.label);
        let q = PgUrl::parse("postgres://erp@127.0.0.1/erp?password=hunter2").unwrap();
        assert!(!q.display.contains("hunter2"), "{}", q.display);
        assert_eq!(q.tls, TlsMode::Disable);
        let e = PgUrl::parse("postgresql://erp:hunter2@h/erp?bogus=1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus") && !e.contains("hunter2"), "{e}");
        let e = PgUrl::parse("postgresql://erp:hunter2@h/erp?schema=Bad-Name")
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema") && !e.contains("hunter2"), "{e}");
        assert!(
            PgUrl::parse("postgresql://h/erp?sslmode=verify-full")
                .unwrap()
                .tls
                == TlsMode::Require
        );
    }
}
