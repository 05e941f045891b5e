//! Contract between the container files (`compose.yaml`, `Dockerfile`) and the service, checked statically
//! against the service's own definition (`tests/support/service.rs`): only what no standard tool can check.
//!
//! - every environment variable they set is one the CLI reads (for the subcommand the container runs);
//! - the port they publish or expose, and `PORT`, is the service's default port;
//! - health checks and the default command run real subcommands;
//! - compose's `stop_grace_period` exceeds the service's shutdown grace, so `docker compose stop` does not kill
//!   in-flight requests.
//!
//! - every base image is pinned by digest (`name:tag@sha256:...`), directly or as the default of the global build ARG
//!   the `FROM` names: a tag is re-pushed upstream, so two builds of one commit could otherwise differ (hadolint only
//!   asks for a tag).
//!
//! Dockerfile practice (non-root user, exec form) is hadolint's job (`ci.yml`), and the image itself is built and
//! run by `scripts/container-test.sh`. Each check is shown to fail on a broken copy of the real file (one textual
//! edit).

#[path = "support/service.rs"]
mod service;

use serde_norway::Value;
use service::ServiceContract;

const BINARY: &str = "/usr/local/bin/beer-catalog";

fn words(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
        Value::Sequence(items) => items.iter().filter_map(|w| w.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// The subcommand after the binary in a health check command, e.g. `["CMD", BINARY, "healthcheck"]`.
fn subcommand_after_binary(cmd: &[String]) -> Option<&str> {
    let at = cmd.iter().position(|w| w == BINARY)?;
    cmd.get(at + 1).map(String::as_str)
}

/// Compose durations as `stop_grace_period` takes them: `30s`, `1m30s`, `1m`.
fn duration_secs(s: &str) -> Option<u64> {
    let (mut total, mut number) = (0, String::new());
    for ch in s.chars() {
        match ch {
            '0'..='9' => number.push(ch),
            'h' | 'm' | 's' => {
                let unit = match ch {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                };
                total += number.parse::<u64>().ok()? * unit;
                number.clear();
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(total)
}

fn compose_violations(yaml: &str, svc: &ServiceContract) -> Vec<String> {
    let mut v = Vec::new();
    let mut doc: Value = serde_norway::from_str(yaml).expect("compose.yaml is YAML");
    doc.apply_merge().expect("compose.yaml merge keys");
    let services = doc["services"].as_mapping().expect("services");
    // The services built from this repository run the service; the others (PostgreSQL) are not ours.
    let ours = services.iter().filter(|(_, s)| s.get("build").is_some());
    let ours: Vec<(&str, &Value)> = ours.map(|(name, s)| (name.as_str().unwrap(), s)).collect();
    if ours.is_empty() {
        v.push("compose: no service is built from this repository".into());
    }
    let want_port = svc.default_port.to_string();
    for (name, s) in ours {
        let sub = words(&s["command"]).first().cloned().unwrap_or_else(|| "serve".into());
        let Some(reads) = svc.env_for(&sub) else {
            v.push(format!("compose: {name} runs `{sub}`, which is not a subcommand"));
            continue;
        };
        // `KEY: value` or `- KEY=value`.
        let env: Vec<(String, String)> = match &s["environment"] {
            Value::Mapping(m) => {
                let pairs = m.iter().map(|(k, v)| (k.as_str().unwrap_or_default(), v));
                pairs.map(|(k, v)| (k.to_string(), words(v).join(" "))).collect()
            }
            Value::Sequence(items) => {
                let pairs = items.iter().filter_map(|i| i.as_str()?.split_once('='));
                pairs.map(|(k, v)| (k.into(), v.into())).collect()
            }
            _ => Vec::new(),
        };
        for (key, _) in env.iter().filter(|(key, _)| !reads.contains(key)) {
            v.push(format!("compose: {name} sets {key}, which `{sub}` does not read"));
        }
        let setting = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        if let Some(port) = setting("PORT").filter(|p| *p != want_port) {
            v.push(format!("compose: {name} sets PORT {port}, not {want_port}"));
        }
        if let Some(test) = s.get("healthcheck").map(|h| words(&h["test"])) {
            let sub = subcommand_after_binary(&test);
            if !sub.is_some_and(|sub| svc.has_subcommand(sub)) {
                v.push(format!(
                    "compose: {name} healthcheck runs {sub:?}, not a subcommand of {BINARY}"
                ));
            }
        }
        if sub != "serve" {
            continue;
        }
        // "8080:8080", "127.0.0.1:8080:8080/tcp": the container port is the last part.
        let ports = s["ports"].as_sequence().into_iter().flatten();
        let published: Vec<&str> = ports
            .filter_map(|p| p.as_str()?.rsplit(':').next()?.split('/').next())
            .collect();
        if !published.contains(&want_port.as_str()) {
            v.push(format!(
                "compose: {name} publishes container ports {published:?}, not {want_port}"
            ));
        }
        let grace = setting("SHUTDOWN_GRACE_SECS").or_else(|| svc.defaults.get("SHUTDOWN_GRACE_SECS").cloned());
        let grace: u64 = grace
            .and_then(|g| g.parse().ok())
            .expect("a numeric SHUTDOWN_GRACE_SECS");
        // Compose's own default is 10 s.
        let stop = s["stop_grace_period"].as_str().map_or(Some(10), duration_secs);
        if stop.is_none_or(|stop| stop <= grace) {
            v.push(format!(
                "compose: {name} stop_grace_period {stop:?} s does not exceed grace {grace} s"
            ));
        }
    }
    v
}

/// Instructions of the final stage as (KEYWORD, arguments), continuation lines joined and comments dropped.
fn final_stage(dockerfile: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let joined = lines.join("\n").replace("\\\n", " ");
    let mut stage = Vec::new();
    for line in joined.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if keyword.eq_ignore_ascii_case("FROM") {
            stage.clear();
        }
        stage.push((keyword.to_ascii_uppercase(), args.trim().to_string()));
    }
    stage
}

fn exec_form(args: &str) -> Vec<String> {
    let at = args.find('[').unwrap_or(args.len());
    serde_json::from_str(&args[at..]).unwrap_or_default()
}

fn dockerfile_violations(text: &str, svc: &ServiceContract) -> Vec<String> {
    let mut v = Vec::new();
    let stage = final_stage(text);
    let all = |kw: &'static str| stage.iter().filter(move |(k, _)| k == kw).map(|(_, a)| a.as_str());
    let every_env = svc.all_env();
    for args in all("ENV") {
        // ENV NAME=value [NAME=value ...] or the legacy ENV NAME value.
        let names = args.split_whitespace().map(|w| w.split('=').next().unwrap_or_default());
        let names = names.take(if args.contains('=') { usize::MAX } else { 1 });
        // The allocator's own settings are read by mimalloc as the process starts, not by the service's CLI.
        let allocator = |name: &str| name.starts_with("MIMALLOC_");
        for name in names.filter(|n| !every_env.contains(*n) && !allocator(n)) {
            v.push(format!("Dockerfile: ENV {name}, which the service does not read"));
        }
    }
    let exposed = all("EXPOSE").flat_map(str::split_whitespace);
    let exposed: Vec<&str> = exposed.map(|p| p.split('/').next().unwrap()).collect();
    let port = svc.default_port.to_string();
    if !exposed.contains(&port.as_str()) {
        v.push(format!(
            "Dockerfile: EXPOSE {exposed:?} does not include DEFAULT_PORT {port}"
        ));
    }
    let entrypoint = all("ENTRYPOINT").next_back().map(exec_form).unwrap_or_default();
    if entrypoint != [BINARY] {
        v.push(format!("Dockerfile: ENTRYPOINT {entrypoint:?} is not [\"{BINARY}\"]"));
    }
    // `HEALTHCHECK [options] CMD [...]`: the exec form after CMD.
    let health = all("HEALTHCHECK")
        .next_back()
        .map(|a| a.split_once("CMD").map_or(a, |(_, cmd)| cmd));
    let health = health.map(exec_form).unwrap_or_default();
    let sub = subcommand_after_binary(&health);
    if !sub.is_some_and(|sub| svc.has_subcommand(sub)) {
        v.push(format!(
            "Dockerfile: HEALTHCHECK runs {sub:?}, not a subcommand of {BINARY}"
        ));
    }
    let cmd = all("CMD").next_back().map(exec_form).unwrap_or_default();
    if !cmd.first().is_some_and(|sub| svc.has_subcommand(sub)) {
        v.push(format!(
            "Dockerfile: CMD runs {:?}, not a subcommand of the service",
            cmd.first()
        ));
    }
    v
}

/// Base images: each `FROM` (a stage name from an earlier `AS` aside) must resolve, through the global ARGs (those
/// before the first `FROM`), to `name:tag@sha256:<64 hex>`.
fn base_image_violations(text: &str, _svc: &ServiceContract) -> Vec<String> {
    let mut v = Vec::new();
    let (mut args, mut stages, mut seen_from) = (std::collections::BTreeMap::new(), Vec::new(), false);
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match words.next().map(str::to_ascii_uppercase).as_deref() {
            Some("ARG") if !seen_from => {
                let decl = words.next().unwrap_or_default();
                let (name, default) = decl.split_once('=').unwrap_or((decl, ""));
                args.insert(name.to_string(), default.to_string());
            }
            Some("FROM") => {
                seen_from = true;
                let mut rest = words.skip_while(|w| w.starts_with("--"));
                let image = rest.next().unwrap_or_default();
                let alias = rest.skip_while(|w| !w.eq_ignore_ascii_case("AS")).nth(1);
                let resolved = match image.strip_prefix('$') {
                    Some(arg) => args.get(arg.trim_start_matches('{').trim_end_matches('}')).cloned(),
                    None => Some(image.to_string()),
                };
                let pinned = |r: &str| {
                    let Some((name, digest)) = r.split_once("@sha256:") else {
                        return false;
                    };
                    let tagged = name.rsplit('/').next().is_some_and(|last| last.contains(':'));
                    tagged
                        && digest.len() == 64
                        && digest.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                };
                match resolved {
                    _ if stages.iter().any(|s: &String| s == image) => {}
                    Some(r) if pinned(&r) => {}
                    other => v.push(format!(
                        "Dockerfile: FROM {image} ({other:?}) is not pinned as name:tag@sha256:<digest>"
                    )),
                }
                stages.extend(alias.map(str::to_string));
            }
            _ => {}
        }
    }
    if !seen_from {
        v.push("Dockerfile: no FROM".into());
    }
    v
}

/// The local Prometheus scrapes the service's metrics listener: every scrape target of the configuration compose
/// mounts is `<the service built from this repository>:<the port of its METRICS_ADDR>`, that listener binds all
/// addresses (Prometheus is another container) and its port is not published (the metrics stay off the host,
/// as they stay off the ALB in AWS).
fn prometheus_violations(yaml: &str, _svc: &ServiceContract) -> Vec<String> {
    let mut v = Vec::new();
    let mut doc: Value = serde_norway::from_str(yaml).expect("compose.yaml is YAML");
    doc.apply_merge().expect("compose.yaml merge keys");
    let services = doc["services"].as_mapping().expect("services");
    let app = services
        .iter()
        .find(|(_, s)| s.get("build").is_some() && words(&s["command"]).first().is_some_and(|c| c == "serve"));
    let Some((app_name, app)) = app.map(|(n, s)| (n.as_str().unwrap_or_default(), s)) else {
        return vec!["compose: no server built from this repository".into()];
    };
    let addr = app["environment"]["METRICS_ADDR"].as_str().unwrap_or_default();
    let Some((host, port)) = addr.rsplit_once(':') else {
        return vec![format!(
            "compose: {app_name} sets no METRICS_ADDR (host:port), got {addr:?}"
        )];
    };
    if host != "0.0.0.0" {
        v.push(format!(
            "compose: {app_name} METRICS_ADDR {addr}: Prometheus, another container, cannot reach {host}"
        ));
    }
    let ports = app["ports"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str());
    for published in ports.filter(|p| p.rsplit(':').next().and_then(|p| p.split('/').next()) == Some(port)) {
        v.push(format!("compose: {app_name} publishes its metrics port ({published})"));
    }
    let Some(prometheus) = doc["services"].get("prometheus") else {
        return vec!["compose: no prometheus service".into()];
    };
    let volumes = prometheus["volumes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str());
    let config = volumes
        .filter_map(|m| m.split_once(':'))
        .find(|(_, at)| at.starts_with("/etc/prometheus/prometheus.yml"));
    let Some((config, _)) = config else {
        return vec!["compose: prometheus mounts no /etc/prometheus/prometheus.yml".into()];
    };
    let config: Value = serde_norway::from_str(&read(config.trim_start_matches("./"))).expect("prometheus.yml is YAML");
    let jobs = config["scrape_configs"].as_sequence().cloned().unwrap_or_default();
    let targets: Vec<String> = jobs
        .iter()
        .flat_map(|job| job["static_configs"].as_sequence().cloned().unwrap_or_default())
        .flat_map(|sc| sc["targets"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    let want = format!("{app_name}:{port}");
    if targets.is_empty() || targets.iter().any(|t| *t != want) {
        v.push(format!(
            "prometheus scrapes {targets:?}, the service's metrics listener is {want}"
        ));
    }
    v
}

fn read(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `violations` of the real `file` with one edit contain `expected`. Fails when `from` is not in the file, so a
/// stale fixture cannot pass.
fn assert_reports(file: &str, violations: fn(&str, &ServiceContract) -> Vec<String>) -> impl Fn(&str, &str, &str) {
    let (text, svc) = (read(file), ServiceContract::from_service());
    let file = file.to_string();
    move |from, to, expected| {
        assert!(text.contains(from), "{file} has no `{from}`: the fixture is stale");
        let violations = violations(&text.replacen(from, to, 1), &svc);
        let found = violations.iter().any(|v| v.contains(expected));
        assert!(
            found,
            "{file} with `{from}` -> `{to}`: expected `{expected}`, got: {violations:#?}"
        );
    }
}

#[test]
fn compose_yaml_keeps_the_contract() {
    let violations = compose_violations(&read("compose.yaml"), &ServiceContract::from_service());
    assert!(violations.is_empty(), "compose.yaml:\n{}", violations.join("\n"));
}

#[test]
fn dockerfile_keeps_the_contract() {
    let violations = dockerfile_violations(&read("Dockerfile"), &ServiceContract::from_service());
    assert!(violations.is_empty(), "Dockerfile:\n{}", violations.join("\n"));
}

#[test]
fn dockerfile_base_images_are_pinned_by_digest() {
    let text = read("Dockerfile");
    let violations = base_image_violations(&text, &ServiceContract::from_service());
    assert!(violations.is_empty(), "Dockerfile:\n{}", violations.join("\n"));
    assert_eq!(
        text.lines().filter(|l| l.starts_with("FROM ")).count(),
        2,
        "the check saw both stages"
    );
}

#[test]
fn each_base_image_check_fires_on_a_broken_copy() {
    let reports = assert_reports("Dockerfile", base_image_violations);
    // The old Dockerfile: tags only.
    let builder = "FROM ${BUILDER_IMAGE} AS builder";
    let want = "FROM docker.io/library/rust:1.95.0-slim-bookworm (Some(\"docker.io/library/rust:1.95.0-slim-bookworm\")) is not pinned";
    reports(
        builder,
        "FROM docker.io/library/rust:1.95.0-slim-bookworm AS builder",
        want,
    );
    let runtime = "FROM ${RUNTIME_IMAGE}";
    reports(
        runtime,
        "FROM gcr.io/distroless/cc-debian12:nonroot",
        "FROM gcr.io/distroless/cc-debian12:nonroot (",
    );
    // A digest without the tag that says what it is, a shortened digest, an ARG with no default, an unknown ARG.
    let digest = "rust:1.95.0-slim-bookworm@sha256:";
    reports(
        digest,
        "rust@sha256:",
        "FROM ${BUILDER_IMAGE} (Some(\"docker.io/library/rust@sha256:",
    );
    reports("@sha256:9dac0a79", "@sha256:", "FROM ${RUNTIME_IMAGE} (Some(");
    reports(
        "ARG RUNTIME_IMAGE=",
        "ARG RUNTIME_IMAGE_UNUSED=",
        "FROM ${RUNTIME_IMAGE} (None)",
    );
}

#[test]
fn each_compose_check_fires_on_a_broken_copy() {
    let reports = assert_reports("compose.yaml", compose_violations);
    let log = "  LOG_FORMAT: json\n";
    let (unknown, migrator) = (
        format!("{log}  DATABASE_HOST: db\n"),
        format!("{log}  MIGRATOR_DB_USER: x\n"),
    );
    reports(
        log,
        &unknown,
        "migrate sets DATABASE_HOST, which `migrate` does not read",
    );
    // An api-only setting on the one-off migration.
    reports(log, &migrator, "app sets MIGRATOR_DB_USER");
    let (keys, port) = ("      API_KEYS: ${API_KEYS:-dev-key-change-me}", "      PORT: \"3000\"");
    reports(keys, port, "app sets PORT 3000");
    let want = "app publishes container ports [\"3000\"], not 8080";
    reports("8080}:8080\"", "8080}:3000\"", want);
    let (healthcheck, health) = ("beer-catalog\", \"healthcheck\"]", "beer-catalog\", \"health\"]");
    reports(healthcheck, health, "app healthcheck runs Some(\"health\")");
    let want = "migrate runs `migrations`, which is not a subcommand";
    reports("command: [\"migrate\"]", "command: [\"migrations\"]", want);
    let want = "stop_grace_period Some(20) s does not exceed grace 20 s";
    reports("stop_grace_period: 30s", "stop_grace_period: 20s", want);
    // Compose's own default, 10 s, is shorter than the grace.
    let want = "stop_grace_period Some(10) s does not exceed";
    reports("    stop_grace_period: 30s\n", "", want);
}

#[test]
fn the_local_prometheus_scrapes_the_metrics_listener() {
    let violations = prometheus_violations(&read("compose.yaml"), &ServiceContract::from_service());
    assert!(violations.is_empty(), "compose.yaml:\n{}", violations.join("\n"));
    let reports = assert_reports("compose.yaml", prometheus_violations);
    let addr = "METRICS_ADDR: 0.0.0.0:9464";
    reports(
        addr,
        "METRICS_ADDR: 0.0.0.0:9465",
        "prometheus scrapes [\"app:9464\"], the service's metrics listener is app:9465",
    );
    reports(addr, "METRICS_ADDR: 127.0.0.1:9464", "cannot reach 127.0.0.1");
    reports(
        "8080}:8080\"",
        "8080}:8080\"\n      - \"9464:9464\"",
        "app publishes its metrics port (9464:9464)",
    );
}

#[test]
fn each_dockerfile_check_fires_on_a_broken_copy() {
    let reports = assert_reports("Dockerfile", dockerfile_violations);
    let want = "ENV DB_HOSTNAME, which the service does not read";
    reports("EXPOSE 8080", "ENV DB_HOSTNAME=db LOG_LEVEL=info\nEXPOSE 8080", want);
    let want = "EXPOSE [\"3000\"] does not include DEFAULT_PORT 8080";
    reports("EXPOSE 8080", "EXPOSE 3000", want);
    let want = "HEALTHCHECK runs Some(\"check\")";
    reports("beer-catalog\", \"healthcheck\"]", "beer-catalog\", \"check\"]", want);
    reports("CMD [\"serve\"]", "CMD [\"server\"]", "CMD runs Some(\"server\")");
    let entrypoint = "ENTRYPOINT [\"/usr/local/bin/beer-catalog\"]";
    reports(entrypoint, "ENTRYPOINT [\"/bin/sh\"]", "ENTRYPOINT [\"/bin/sh\"]");
}

#[test]
fn compose_durations_parse() {
    assert_eq!(duration_secs("30s"), Some(30));
    assert_eq!(duration_secs("1m30s"), Some(90));
    assert_eq!(duration_secs("1h"), Some(3600));
    assert_eq!(duration_secs("30"), None);
}
