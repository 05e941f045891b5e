//! The container contract, checked statically: `compose.yaml` and the `Dockerfile` against what the service
//! itself reads and does (its CLI/environment definition in `beer_catalog::cli`).
//!
//! Each check is a function returning the list of violations, so the same code proves on the real files that
//! there are none, and on small broken fixtures that each violation is detected. scripts/container-test.sh
//! verifies the built image at run time; this test needs no container engine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use beer_catalog::cli::{Cli, DEFAULT_PORT};
use clap::CommandFactory;
use serde_norway::Value;

#[path = "support/service.rs"]
mod service;

// ---------------------------------------------------------------------------------------------------------------
// What the service reads
// ---------------------------------------------------------------------------------------------------------------

/// The default of the argument read from `env`, as the CLI declares it.
fn env_default(env: &str) -> Option<String> {
    Cli::command()
        .get_arguments()
        .find(|a| a.get_env().is_some_and(|e| e == env))
        .and_then(|a| a.get_default_values().first().map(|v| v.to_string_lossy().into_owned()))
}

struct Contract {
    env_names: BTreeSet<String>,
    port: u16,
    shutdown_grace_secs: u64,
}

fn contract() -> Contract {
    Contract {
        env_names: service::ServiceContract::from_service().all_env(),
        port: DEFAULT_PORT,
        shutdown_grace_secs: env_default("SHUTDOWN_GRACE_SECS")
            .expect("SHUTDOWN_GRACE_SECS has a default")
            .parse()
            .expect("SHUTDOWN_GRACE_SECS default is a number"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// compose.yaml
// ---------------------------------------------------------------------------------------------------------------

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `environment:` as a mapping or as a list of `NAME=value`.
fn environment(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Mapping(m) => m
            .iter()
            .filter_map(|(k, v)| Some((str_of(k)?, str_of(v).unwrap_or_default())))
            .collect(),
        Value::Sequence(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .map(|i| match i.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (i.to_owned(), String::new()),
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// A command or healthcheck `test` as a list of words (the string form split on whitespace).
fn words(v: &Value) -> Vec<String> {
    match v {
        Value::Sequence(items) => items.iter().filter_map(str_of).collect(),
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The container ports of `ports:` (short syntax `[IP:]HOST:CONTAINER[/proto]` or long syntax `target:`).
fn container_ports(service: &Value) -> Vec<u16> {
    let Some(ports) = service["ports"].as_sequence() else {
        return Vec::new();
    };
    ports
        .iter()
        .filter_map(|p| match p {
            Value::Mapping(_) => p["target"].as_u64().and_then(|t| u16::try_from(t).ok()),
            other => {
                let s = str_of(other)?;
                let s = s.split('/').next()?;
                s.rsplit(':').next()?.parse().ok()
            }
        })
        .collect()
}

/// Compose durations such as `30s`, `1m`, `1m30s`, `1500ms`, in seconds.
fn duration_secs(s: &str) -> Option<f64> {
    let (mut total, mut num) = (0.0, String::new());
    let mut chars = s.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let value: f64 = num.parse().ok()?;
        num.clear();
        total += value
            * match unit.as_str() {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                "us" => 0.000_001,
                _ => return None,
            };
    }
    if num.is_empty() { Some(total) } else { None }
}

fn compose_violations(yaml: &str, c: &Contract) -> Vec<String> {
    let mut v = Vec::new();
    let mut doc: Value = match serde_norway::from_str(yaml) {
        Ok(doc) => doc,
        Err(e) => return vec![format!("compose: not valid YAML: {e}")],
    };
    if let Err(e) = doc.apply_merge() {
        return vec![format!("compose: bad merge key: {e}")];
    }
    let services = &doc["services"];
    for name in ["db", "migrate", "app"] {
        if !services[name].is_mapping() {
            v.push(format!("compose: service `{name}` is missing"));
        }
    }
    if !v.is_empty() {
        return v;
    }
    let (db, migrate, app) = (&services["db"], &services["migrate"], &services["app"]);

    // db: PostgreSQL, a pinned major version, health-checked, data on a named volume.
    let db_image = db["image"].as_str().unwrap_or_default();
    let tag = db_image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
    if !db_image.contains("postgres") || !tag.starts_with(|ch: char| ch.is_ascii_digit()) {
        v.push(format!(
            "compose: db image `{db_image}` is not PostgreSQL pinned to a major version"
        ));
    }
    let db_test = words(&db["healthcheck"]["test"]);
    if !db_test.iter().any(|w| w.contains("pg_isready")) {
        v.push("compose: db has no pg_isready healthcheck".into());
    }
    let named_volumes: BTreeSet<String> = doc["volumes"]
        .as_mapping()
        .map(|m| m.keys().filter_map(str_of).collect())
        .unwrap_or_default();
    let data_on_named_volume = db["volumes"].as_sequence().is_some_and(|vols| {
        vols.iter().filter_map(|m| m.as_str()).any(|m| {
            let mut parts = m.split(':');
            let (src, dst) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            named_volumes.contains(src) && dst.starts_with("/var/lib/postgresql")
        })
    });
    if !data_on_named_volume {
        v.push("compose: db data is not on a named volume".into());
    }

    // migrate: the same image as app, running `migrate` once the database is healthy.
    let app_image = app["image"].as_str().unwrap_or_default();
    if app_image.is_empty() || migrate["image"].as_str() != Some(app_image) {
        v.push(format!(
            "compose: migrate image `{}` is not app's image `{app_image}`",
            migrate["image"].as_str().unwrap_or_default()
        ));
    }
    if words(&migrate["command"]) != ["migrate"] {
        v.push(format!(
            "compose: migrate command is {:?}, not [\"migrate\"]",
            words(&migrate["command"])
        ));
    }
    let condition = |svc: &Value, dep: &str| svc["depends_on"][dep]["condition"].as_str().map(str::to_owned);
    if condition(migrate, "db").as_deref() != Some("service_healthy") {
        v.push("compose: migrate does not wait for db service_healthy".into());
    }

    // app: after db is healthy and migrate has completed; production; port; read-only; healthcheck; drain time.
    if condition(app, "db").as_deref() != Some("service_healthy") {
        v.push("compose: app does not depend on db service_healthy".into());
    }
    if condition(app, "migrate").as_deref() != Some("service_completed_successfully") {
        v.push("compose: app does not depend on migrate service_completed_successfully".into());
    }
    for (name, svc) in [("migrate", migrate), ("app", app)] {
        let env = environment(svc);
        for key in env.keys() {
            if !c.env_names.contains(key) {
                v.push(format!("compose: {name} sets {key}, which the service does not read"));
            }
        }
        if env.get("APP_ENV").map(String::as_str) != Some("production") {
            v.push(format!("compose: {name} does not set APP_ENV=production"));
        }
        let has_db = env.contains_key("DATABASE_URL") || env.get("DB_HOST").is_some_and(|h| h == "db");
        if !has_db {
            v.push(format!(
                "compose: {name} does not point DB_HOST (or DATABASE_URL) at the db service"
            ));
        }
    }
    let app_env = environment(app);
    if !app_env.contains_key("API_KEYS") && !app_env.contains_key("API_KEY_SHA256") {
        v.push("compose: app sets no API_KEYS (production refuses writes without them)".into());
    }
    let port = app_env.get("PORT").and_then(|p| p.parse().ok()).unwrap_or(c.port);
    if port != c.port {
        v.push(format!(
            "compose: app PORT {port} differs from the service default {}",
            c.port
        ));
    }
    if !container_ports(app).contains(&c.port) {
        v.push(format!("compose: app does not publish container port {}", c.port));
    }
    if app["read_only"].as_bool() != Some(true) {
        v.push("compose: app is not read_only: true".into());
    }
    if !words(&app["healthcheck"]["test"]).iter().any(|w| w == "healthcheck") {
        v.push("compose: app healthcheck does not run `beer-catalog healthcheck`".into());
    }
    if let Some(sig) = app["stop_signal"].as_str()
        && sig != "SIGTERM"
    {
        v.push(format!("compose: app stop_signal is {sig}, not SIGTERM"));
    }
    let grace = app["stop_grace_period"]
        .as_str()
        .and_then(duration_secs)
        .unwrap_or(10.0);
    if grace <= c.shutdown_grace_secs as f64 {
        v.push(format!(
            "compose: app stop_grace_period {grace}s does not exceed SHUTDOWN_GRACE_SECS {}s, so in-flight \
             requests would be killed",
            c.shutdown_grace_secs
        ));
    }
    v
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------------------------

struct Instruction {
    keyword: String,
    args: String,
}

struct Stage {
    from: String,
    instructions: Vec<Instruction>,
}

/// Instructions grouped by stage: comments dropped, `\` continuations joined. Parser directives and heredocs are
/// not used by this project's Dockerfile and not supported.
fn dockerfile_stages(text: &str) -> Vec<Stage> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(rest) = trimmed.strip_suffix('\\') {
            current.push_str(rest);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            logical.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        logical.push(current);
    }
    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let keyword = keyword.to_ascii_uppercase();
        let args = args.trim().to_owned();
        if keyword == "FROM" {
            let image = args
                .split_whitespace()
                .find(|w| !w.starts_with("--"))
                .unwrap_or_default()
                .to_owned();
            stages.push(Stage {
                from: image,
                instructions: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push(Instruction { keyword, args });
        }
    }
    stages
}

/// The JSON array of an exec-form instruction such as `CMD ["a", "b"]`, after any `--flag=value` options.
fn exec_form(args: &str) -> Option<Vec<String>> {
    let start = args.find('[')?;
    serde_json::from_str(&args[start..]).ok()
}

fn dockerfile_violations(text: &str, c: &Contract) -> Vec<String> {
    let mut v = Vec::new();
    let stages = dockerfile_stages(text);
    let (Some(builder), Some(runtime)) = (stages.first(), stages.last()) else {
        return vec!["Dockerfile: no FROM".into()];
    };
    if stages.len() < 2 {
        v.push("Dockerfile: not multi-stage (the compiler would ship in the image)".into());
    }

    // Builder: the official Rust image pinned to a full version.
    let tag = builder.from.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
    let version = tag.split('-').next().unwrap_or_default();
    let pinned = version.split('.').count() == 3 && version.split('.').all(|p| p.parse::<u32>().is_ok());
    if !builder.from.contains("rust") || !pinned {
        v.push(format!(
            "Dockerfile: builder `{}` is not the Rust image pinned to a full version",
            builder.from
        ));
    }

    // Runtime: distroless nonroot, no shell (so no RUN), and the runtime contract.
    if !runtime.from.starts_with("gcr.io/distroless/") || !runtime.from.ends_with(":nonroot") {
        v.push(format!(
            "Dockerfile: final stage `{}` is not a distroless :nonroot image",
            runtime.from
        ));
    }
    let last = |kw: &str| {
        runtime
            .instructions
            .iter()
            .rev()
            .find(|i| i.keyword == kw)
            .map(|i| i.args.as_str())
    };
    let all = |kw: &'static str| {
        runtime
            .instructions
            .iter()
            .filter(move |i| i.keyword == kw)
            .map(|i| i.args.as_str())
    };
    if all("RUN").next().is_some() {
        v.push("Dockerfile: RUN in the final stage (distroless has no shell)".into());
    }
    match last("USER") {
        Some("65532" | "65532:65532" | "nonroot" | "nonroot:nonroot") => {}
        other => v.push(format!("Dockerfile: final USER is {other:?}, not 65532/nonroot")),
    }
    let binary = last("ENTRYPOINT").and_then(exec_form).and_then(|e| e.first().cloned());
    if binary.as_deref() != Some("/usr/local/bin/beer-catalog") {
        v.push(format!(
            "Dockerfile: ENTRYPOINT runs {binary:?}, not [\"/usr/local/bin/beer-catalog\"] in exec form"
        ));
    }
    let health = last("HEALTHCHECK").unwrap_or_default();
    let health_cmd = health
        .split_once(" CMD ")
        .map(|(_, cmd)| cmd)
        .or_else(|| health.strip_prefix("CMD "));
    match health_cmd.and_then(exec_form) {
        Some(cmd) if cmd.first() == binary.as_ref() && cmd.get(1).map(String::as_str) == Some("healthcheck") => {}
        _ => v.push(format!(
            "Dockerfile: HEALTHCHECK `{health}` does not run `beer-catalog healthcheck` in exec form"
        )),
    }
    if last("STOPSIGNAL") != Some("SIGTERM") {
        v.push(format!(
            "Dockerfile: STOPSIGNAL is {:?}, not SIGTERM",
            last("STOPSIGNAL")
        ));
    }
    let exposed: Vec<u16> = all("EXPOSE")
        .flat_map(str::split_whitespace)
        .filter_map(|p| p.split('/').next()?.parse().ok())
        .collect();
    if !exposed.contains(&c.port) {
        v.push(format!(
            "Dockerfile: EXPOSE {exposed:?} does not include the service port {}",
            c.port
        ));
    }
    let labels: String = all("LABEL").collect::<Vec<_>>().join(" ");
    for (key, from_arg) in [
        ("source", false),
        ("version", true),
        ("revision", true),
        ("created", true),
    ] {
        let key = format!("org.opencontainers.image.{key}=");
        match labels.find(&key) {
            None => v.push(format!("Dockerfile: no LABEL {key}")),
            Some(at) if from_arg && !labels[at + key.len()..].trim_start_matches('"').starts_with("${") => {
                v.push(format!("Dockerfile: LABEL {key} is not taken from a build arg"))
            }
            Some(_) => {}
        }
    }
    v
}

// ---------------------------------------------------------------------------------------------------------------
// Tests: the real files, then one broken fixture per check
// ---------------------------------------------------------------------------------------------------------------

fn read(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn the_service_reads_the_variables_the_container_files_use() {
    let names = service::ServiceContract::from_service().all_env();
    for name in [
        "APP_ENV",
        "DB_HOST",
        "DB_PASSWORD",
        "PORT",
        "API_KEYS",
        "SHUTDOWN_GRACE_SECS",
    ] {
        assert!(
            names.contains(name),
            "{name} missing from the CLI's env names: {names:?}"
        );
    }
    assert_eq!(contract().shutdown_grace_secs, 20);
}

#[test]
fn compose_yaml_keeps_the_contract() {
    let violations = compose_violations(&read("compose.yaml"), &contract());
    assert!(violations.is_empty(), "compose.yaml:\n{}", violations.join("\n"));
}

#[test]
fn dockerfile_keeps_the_contract() {
    let violations = dockerfile_violations(&read("Dockerfile"), &contract());
    assert!(violations.is_empty(), "Dockerfile:\n{}", violations.join("\n"));
}

const GOOD_COMPOSE: &str = r#"
x-image: &image
  image: beer-catalog:local
services:
  db:
    image: postgres:17-alpine
    volumes: ["pgdata:/var/lib/postgresql/data"]
    healthcheck: { test: ["CMD-SHELL", "pg_isready -U u"] }
  migrate:
    <<: *image
    command: ["migrate"]
    environment: { APP_ENV: production, DB_HOST: db }
    depends_on: { db: { condition: service_healthy } }
  app:
    <<: *image
    environment: [APP_ENV=production, DB_HOST=db, API_KEYS=dev]
    depends_on:
      db: { condition: service_healthy }
      migrate: { condition: service_completed_successfully }
    ports: ["127.0.0.1:8080:8080"]
    read_only: true
    healthcheck: { test: ["CMD", "/usr/local/bin/beer-catalog", "healthcheck"] }
    stop_grace_period: 1m
volumes:
  pgdata:
"#;

const GOOD_DOCKERFILE: &str = r#"
FROM docker.io/library/rust:1.95.0-slim-bookworm AS builder
RUN cargo build --release
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION REVISION CREATED
LABEL org.opencontainers.image.source="https://example.test/x" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" org.opencontainers.image.created="${CREATED}"
COPY --from=builder /b /usr/local/bin/beer-catalog
USER 65532:65532
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s CMD ["/usr/local/bin/beer-catalog", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/beer-catalog"]
"#;

/// Applies one textual change to a fixture, failing loudly when the text to change is not there (so a fixture
/// edit cannot silently turn a test into a no-op).
fn broken(good: &str, from: &str, to: &str) -> String {
    assert!(good.contains(from), "fixture has no `{from}`");
    good.replacen(from, to, 1)
}

fn assert_fires(violations: Vec<String>, expected: &str) {
    assert!(
        violations.iter().any(|v| v.contains(expected)),
        "expected a violation containing `{expected}`, got: {violations:#?}"
    );
}

#[test]
fn good_fixtures_have_no_violations() {
    assert_eq!(compose_violations(GOOD_COMPOSE, &contract()), Vec::<String>::new());
    assert_eq!(
        dockerfile_violations(GOOD_DOCKERFILE, &contract()),
        Vec::<String>::new()
    );
}

#[test]
fn each_compose_check_fires_on_a_broken_fixture() {
    let c = contract();
    let cases = [
        (
            broken(GOOD_COMPOSE, "  migrate:\n", "  migrations:\n"),
            "service `migrate` is missing",
        ),
        (
            broken(GOOD_COMPOSE, "postgres:17-alpine", "postgres:latest"),
            "not PostgreSQL pinned",
        ),
        (
            broken(GOOD_COMPOSE, "pg_isready -U u", "true"),
            "no pg_isready healthcheck",
        ),
        (
            broken(GOOD_COMPOSE, "pgdata:/var/lib", "./pg:/var/lib"),
            "not on a named volume",
        ),
        (
            broken(
                GOOD_COMPOSE,
                "    <<: *image\n    command",
                "    image: other\n    command",
            ),
            "is not app's image",
        ),
        (
            broken(GOOD_COMPOSE, r#"command: ["migrate"]"#, r#"command: ["serve"]"#),
            "migrate command",
        ),
        (
            broken(GOOD_COMPOSE, "{ db: { condition: service_healthy } }", "[db]"),
            "migrate does not wait for db",
        ),
        (
            broken(
                GOOD_COMPOSE,
                "      db: { condition: service_healthy }\n",
                "      db: { condition: service_started }\n",
            ),
            "app does not depend on db service_healthy",
        ),
        (
            broken(GOOD_COMPOSE, "service_completed_successfully", "service_started"),
            "migrate service_completed",
        ),
        (
            broken(GOOD_COMPOSE, "API_KEYS=dev]", "API_KEYS=dev, APP_PORT=1]"),
            "sets APP_PORT, which the service",
        ),
        (
            broken(GOOD_COMPOSE, "[APP_ENV=production", "[APP_ENV=development"),
            "app does not set APP_ENV=production",
        ),
        (
            broken(
                GOOD_COMPOSE,
                "{ APP_ENV: production, DB_HOST: db }",
                "{ APP_ENV: production }",
            ),
            "migrate does not point",
        ),
        (broken(GOOD_COMPOSE, ", API_KEYS=dev]", "]"), "no API_KEYS"),
        (
            broken(GOOD_COMPOSE, "API_KEYS=dev]", "API_KEYS=dev, PORT=9000]"),
            "differs from the service default",
        ),
        (
            broken(GOOD_COMPOSE, "127.0.0.1:8080:8080", "8080:9000"),
            "does not publish container port 8080",
        ),
        (
            broken(GOOD_COMPOSE, "read_only: true", "read_only: false"),
            "not read_only",
        ),
        (
            broken(GOOD_COMPOSE, r#""healthcheck"] }"#, r#""--version"] }"#),
            "app healthcheck",
        ),
        (
            broken(GOOD_COMPOSE, "stop_grace_period: 1m", "stop_grace_period: 15s"),
            "stop_grace_period",
        ),
        (
            broken(
                GOOD_COMPOSE,
                "stop_grace_period: 1m",
                "stop_signal: SIGKILL\n    stop_grace_period: 1m",
            ),
            "stop_signal",
        ),
        ("services: [".to_owned(), "not valid YAML"),
    ];
    for (yaml, expected) in cases {
        assert_fires(compose_violations(&yaml, &c), expected);
    }
}

#[test]
fn each_dockerfile_check_fires_on_a_broken_fixture() {
    let c = contract();
    let cases = [
        (
            broken(GOOD_DOCKERFILE, "rust:1.95.0-slim-bookworm", "rust:slim"),
            "not the Rust image pinned",
        ),
        (
            broken(GOOD_DOCKERFILE, "rust:1.95.0-slim-bookworm", "rust:1.95-slim-bookworm"),
            "not the Rust image pinned",
        ),
        (
            broken(GOOD_DOCKERFILE, "cc-debian12:nonroot", "cc-debian12"),
            "not a distroless :nonroot",
        ),
        (
            broken(
                GOOD_DOCKERFILE,
                "cc-debian12:nonroot",
                "cc-debian12:debug-nonroot\nRUN true",
            ),
            "RUN in the final stage",
        ),
        (
            broken(
                GOOD_DOCKERFILE,
                "gcr.io/distroless/cc-debian12:nonroot",
                "debian:bookworm-slim",
            ),
            "not a distroless",
        ),
        (broken(GOOD_DOCKERFILE, "USER 65532:65532", "USER root"), "final USER"),
        (broken(GOOD_DOCKERFILE, "USER 65532:65532\n", ""), "final USER is None"),
        (
            broken(GOOD_DOCKERFILE, r#""healthcheck"]"#, r#""--version"]"#),
            "HEALTHCHECK",
        ),
        (
            broken(
                GOOD_DOCKERFILE,
                r#"CMD ["/usr/local/bin/beer-catalog", "healthcheck"]"#,
                "CMD beer-catalog healthcheck",
            ),
            "HEALTHCHECK",
        ),
        (
            broken(GOOD_DOCKERFILE, "STOPSIGNAL SIGTERM", "STOPSIGNAL SIGKILL"),
            "STOPSIGNAL",
        ),
        (
            broken(GOOD_DOCKERFILE, "EXPOSE 8080", "EXPOSE 3000"),
            "does not include the service port 8080",
        ),
        (
            broken(
                GOOD_DOCKERFILE,
                r#"ENTRYPOINT ["/usr/local/bin/beer-catalog"]"#,
                "ENTRYPOINT beer-catalog",
            ),
            "ENTRYPOINT",
        ),
        (
            broken(
                GOOD_DOCKERFILE,
                r#"image.revision="${REVISION}""#,
                r#"image.revision="abc""#,
            ),
            "revision= is not taken",
        ),
        (
            broken(GOOD_DOCKERFILE, "org.opencontainers.image.created=", "created="),
            "no LABEL org.opencontainers.image.created",
        ),
        (
            broken(
                GOOD_DOCKERFILE,
                "FROM docker.io/library/rust:1.95.0-slim-bookworm AS builder\nRUN cargo build --release\n",
                "",
            ),
            "not multi-stage",
        ),
    ];
    for (dockerfile, expected) in cases {
        assert_fires(dockerfile_violations(&dockerfile, &c), expected);
    }
}

#[test]
fn compose_durations_parse() {
    assert_eq!(duration_secs("30s"), Some(30.0));
    assert_eq!(duration_secs("1m30s"), Some(90.0));
    assert_eq!(duration_secs("1500ms"), Some(1.5));
    assert_eq!(duration_secs("soon"), None);
}
