//! What it takes to open a store: which backend, where it is (secrets kept out of `Debug` and logs), and the pool
//! options. These live beside the store interface, as atuin's `DbSettings` does; [`crate::config`] composes them.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// How to open a store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// Also how long a request waits for a pooled connection while the database is down.
    pub connect_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("DATABASE_URL must start with sqlite:// or postgres://, got {0}")]
    UnsupportedScheme(String),
    #[error("DATABASE_URL is not a valid URL: {0}")]
    Invalid(#[source] url::ParseError),
}

/// Where the database is, with the secret parts kept out of `Debug` and logs.
#[derive(Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    url: SecretString,
    postgres: Option<PgConnectOptions>,
    redacted: String,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// The PostgreSQL connection parts, as ECS injects an RDS secret (`DB_HOST`, `DB_PORT`...).
pub struct PostgresParts<'a> {
    pub host: &'a str,
    pub port: u16,
    pub name: &'a str,
    pub user: &'a str,
    pub password: &'a str,
    pub ssl_mode: PgSslMode,
}

impl DatabaseUrl {
    /// Parses `sqlite://...` or `postgres://...` / `postgresql://...`.
    pub fn parse(url: &str) -> Result<Self, DatabaseUrlError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(DatabaseUrlError::UnsupportedScheme(format!("{scheme}:...")));
        };
        let redacted = match backend {
            Backend::Sqlite => url.to_owned(),
            Backend::Postgres => {
                let mut parsed = url::Url::parse(url).map_err(DatabaseUrlError::Invalid)?;
                let _ = parsed.set_password(None);
                parsed.set_query(None);
                parsed.to_string()
            }
        };
        Ok(Self {
            backend,
            url: url.into(),
            postgres: None,
            redacted,
        })
    }

    /// Built field by field, so a password with `@` or `/` in it (RDS generates such) needs no URL escaping.
    pub fn from_parts(parts: &PostgresParts<'_>) -> Self {
        let options = PgConnectOptions::new()
            .host(parts.host)
            .port(parts.port)
            .database(parts.name)
            .username(parts.user)
            .password(parts.password)
            .ssl_mode(parts.ssl_mode);
        let redacted = format!("postgres://{}@{}:{}/{}", parts.user, parts.host, parts.port, parts.name);
        Self {
            backend: Backend::Postgres,
            url: redacted.clone().into(),
            postgres: Some(options),
            redacted,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL as given, password included, only for handing to the driver. A target assembled from parts has no
    /// such URL (this returns its redacted form); it connects through [`Self::postgres_options`].
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }

    pub fn postgres_options(&self) -> Option<&PgConnectOptions> {
        self.postgres.as_ref()
    }

    /// The same PostgreSQL target on another host: a read replica shares its primary's port, database, user,
    /// password and TLS mode (as RDS replicas do).
    pub fn with_host(&self, host: &str) -> Result<Self, DatabaseUrlError> {
        if self.backend != Backend::Postgres {
            return Err(DatabaseUrlError::UnsupportedScheme(format!("{}:...", self.backend)));
        }
        // Checked as a URL host either way, so a typo fails here rather than at the first connection. The whole
        // text must be a host: `set_host` alone would take `postgres://x` as the host `postgres`.
        url::Host::parse(host).map_err(DatabaseUrlError::Invalid)?;
        let mut url = url::Url::parse(self.expose()).map_err(DatabaseUrlError::Invalid)?;
        url.set_host(Some(host)).map_err(DatabaseUrlError::Invalid)?;
        let Some(options) = &self.postgres else {
            return Self::parse(url.as_str());
        };
        let options = options.clone().host(host);
        let redacted = format!(
            "postgres://{}@{host}:{}/{}",
            options.get_username(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        Ok(Self {
            backend: Backend::Postgres,
            url: redacted.clone().into(),
            postgres: Some(options),
            redacted,
        })
    }

    /// Scheme, user, host, port and database: what to print when something goes wrong.
    pub fn redacted(&self) -> String {
        self.redacted.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_redacted() {
        let url = DatabaseUrl::parse("postgres://u:secret@h:5432/d?sslmode=require").unwrap();
        assert_eq!(url.redacted(), "postgres://u@h:5432/d");
        assert!(!format!("{url:?}").contains("secret"));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
    }

    #[test]
    fn parts_never_show_the_password() {
        let url = DatabaseUrl::from_parts(&PostgresParts {
            host: "db.example",
            port: 6432,
            name: "beers",
            user: "app",
            password: "p@ss/word",
            ssl_mode: PgSslMode::Require,
        });
        assert_eq!(url.redacted(), "postgres://app@db.example:6432/beers");
        assert!(!format!("{url:?}").contains("p@ss") && !url.expose().contains("p@ss"));
    }
}
