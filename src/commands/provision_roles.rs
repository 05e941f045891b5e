//! `beer-catalog provision-roles`: the PostgreSQL roles the service runs as, created from inside the VPC by a
//! one-off task holding the master credentials, so neither the service nor its migrations use the master user.
//!
//! - the owner role owns the schema and runs `migrate` (DDL);
//! - the app role may only read and write rows (SELECT, INSERT, UPDATE, DELETE) and use the id sequence.
//!
//! Both get the schema as their `search_path`, so the service's SQL stays unqualified. Running it again is safe:
//! roles that exist get their passwords reset (rotation) and grants are re-applied.

use anyhow::Context;
use sqlx::{Connection, PgConnection};

use crate::cli::ProvisionRolesArgs;
use crate::storage::{Backend, DatabaseUrl};

/// Identifiers are bound into SQL text, so only plain lower-case names are accepted.
fn check_identifier(what: &str, name: &str) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    anyhow::ensure!(
        valid,
        "{what} {name:?} must be 1-63 characters of a-z, 0-9 and _, not starting with a digit"
    );
    Ok(())
}

/// Runs `format(template, args...)` in PostgreSQL, so identifiers (%I) and literals (%L) are quoted by the server
/// itself, then executes the statement it produced.
async fn execute_formatted(conn: &mut PgConnection, template: &str, args: &[&str]) -> anyhow::Result<()> {
    let placeholders: Vec<String> = (1..=args.len()).map(|i| format!("${i}::text")).collect();
    let sql = format!("SELECT format('{template}', {})", placeholders.join(", "));
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for arg in args {
        query = query.bind(*arg);
    }
    let statement = query.fetch_one(&mut *conn).await?;
    sqlx::query(&statement)
        .execute(&mut *conn)
        .await
        .with_context(|| format!("running: {template}"))?;
    Ok(())
}

async fn upsert_login_role(conn: &mut PgConnection, name: &str, password: &str) -> anyhow::Result<&'static str> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    let (template, outcome) = if exists {
        ("ALTER ROLE %I WITH LOGIN PASSWORD %L", "password updated")
    } else {
        ("CREATE ROLE %I WITH LOGIN PASSWORD %L", "created")
    };
    execute_formatted(conn, template, &[name, password]).await?;
    Ok(outcome)
}

pub async fn run(
    database: &DatabaseUrl,
    args: &ProvisionRolesArgs,
    connect_timeout: std::time::Duration,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        database.backend() == Backend::Postgres,
        "provision-roles needs a PostgreSQL database"
    );
    check_identifier("DB_SCHEMA", &args.schema)?;
    check_identifier("MIGRATOR_DB_USER", &args.migrator_user)?;
    check_identifier("APP_DB_USER", &args.app_user)?;
    anyhow::ensure!(
        args.migrator_user != args.app_user,
        "MIGRATOR_DB_USER and APP_DB_USER must differ"
    );

    let options = match database.postgres_options() {
        Some(options) => options.clone(),
        None => database.expose().parse()?,
    };
    let mut conn = tokio::time::timeout(connect_timeout, PgConnection::connect_with(&options))
        .await
        .map_err(|_| anyhow::anyhow!("timed out connecting to {}", database.redacted()))?
        .with_context(|| format!("connecting to {}", database.redacted()))?;
    let (schema, owner, app) = (
        args.schema.as_str(),
        args.migrator_user.as_str(),
        args.app_user.as_str(),
    );

    let owner_outcome = upsert_login_role(&mut conn, owner, &args.migrator_password).await?;
    let app_outcome = upsert_login_role(&mut conn, app, &args.app_password).await?;
    // On RDS the master user is not a superuser: it must be a member of the owner role to give it the schema.
    execute_formatted(&mut conn, "GRANT %I TO CURRENT_USER", &[owner]).await?;
    execute_formatted(
        &mut conn,
        "CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I",
        &[schema, owner],
    )
    .await?;
    let database_name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut conn)
        .await?;
    execute_formatted(
        &mut conn,
        "GRANT CONNECT ON DATABASE %I TO %I, %I",
        &[&database_name, owner, app],
    )
    .await?;
    execute_formatted(&mut conn, "GRANT USAGE ON SCHEMA %I TO %I", &[schema, app]).await?;
    // Tables the owner creates later (migrations) get the app's grants automatically; existing ones get them now.
    execute_formatted(
        &mut conn,
        "ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I",
        &[owner, schema, app],
    )
    .await?;
    execute_formatted(
        &mut conn,
        "ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I",
        &[owner, schema, app],
    )
    .await?;
    execute_formatted(
        &mut conn,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I",
        &[schema, app],
    )
    .await?;
    execute_formatted(
        &mut conn,
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I",
        &[schema, app],
    )
    .await?;
    for role in [owner, app] {
        execute_formatted(&mut conn, "ALTER ROLE %I SET search_path = %I", &[role, schema]).await?;
    }
    conn.close().await?;
    println!("role {owner}: {owner_outcome}; owns schema {schema} (runs migrations)");
    println!("role {app}: {app_outcome}; SELECT/INSERT/UPDATE/DELETE on {schema} only");
    Ok(())
}
