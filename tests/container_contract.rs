//! Contract between the container files (`compose.yaml`, `Dockerfile`) and the service, checked statically
//! against the service's own definition (`tests/support/service.rs`): only what no standard tool can check.
//!
//! - every environment variable they set is one the CLI reads (for the subcommand the container runs);
//! - the port they publish or expose, and `PORT`, is the service's default port;
//! - health checks and the default command run real subcommands;
//! - compose's `stop_grace_period` exceeds the service's shutdown grace, so `docker compose stop` does not kill
//!   in-flight requests.
//!
//! Dockerfile practice (pinned base images, non-root user, exec form) is hadolint's job (`ci.yml`), and the image
//! itself is built and run by `scripts/container-test.sh`. Each check is shown to fail on a broken copy of the
//! real file (one textual edit).

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
    let ours: Vec<(&str, &Value)> = services
        .iter()
        .filter(|(_, s)| s.get("build").is_some())
        .map(|(n, s)| (n.as_str().unwrap(), s))
        .collect();
    if ours.is_empty() {
        v.push("compose: no service is built from this repository".into());
    }
    let want_port = svc.default_port.to_string();
    for (name, s) in ours {
        let sub = words(&s["command"]).first().cloned().unwrap_or_else(|| "serve".into());
        let Some(reads) = svc.env_for(&sub) else {
            v.push(format!(
                "compose: {name} runs `{sub}`, which is not a subcommand of the service"
            ));
            continue;
        };
        let env: Vec<(String, String)> = match &s["environment"] {
            Value::Mapping(m) => m
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().into(), words(v).join(" ")))
                .collect(),
            Value::Sequence(items) => items
                .iter()
                .filter_map(|i| i.as_str()?.split_once('='))
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            _ => Vec::new(),
        };
        for (key, _) in &env {
            if !reads.contains(key) {
                v.push(format!(
                    "compose: {name} sets {key}, which the service does not read when running `{sub}`"
                ));
            }
        }
        let setting = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        if let Some(port) = setting("PORT").filter(|p| *p != want_port) {
            v.push(format!(
                "compose: {name} sets PORT {port}, not the service's DEFAULT_PORT {want_port}"
            ));
        }
        if let Some(test) = s.get("healthcheck").map(|h| words(&h["test"])) {
            match subcommand_after_binary(&test) {
                Some(sub) if svc.has_subcommand(sub) => {}
                other => v.push(format!(
                    "compose: {name} healthcheck runs {other:?}, not a subcommand of {BINARY}"
                )),
            }
        }
        if sub != "serve" {
            continue;
        }
        // "8080:8080", "127.0.0.1:8080:8080/tcp": the container port is the last part.
        let published: Vec<String> = s["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|p| Some(p.as_str()?.rsplit(':').next()?.split('/').next()?.to_string()))
            .collect();
        if !published.contains(&want_port) {
            v.push(format!(
                "compose: {name} publishes container ports {published:?}, not DEFAULT_PORT {want_port}"
            ));
        }
        let grace = setting("SHUTDOWN_GRACE_SECS").or_else(|| svc.defaults.get("SHUTDOWN_GRACE_SECS").cloned());
        let grace: u64 = grace
            .and_then(|g| g.parse().ok())
            .expect("a numeric SHUTDOWN_GRACE_SECS");
        // Compose's own default is 10 s.
        let stop = s["stop_grace_period"].as_str().map_or(Some(10), duration_secs);
        match stop {
            Some(stop) if stop > grace => {}
            other => v.push(format!(
                "compose: {name} stop_grace_period {other:?} s does not exceed the shutdown grace {grace} s"
            )),
        }
    }
    v
}

/// Instructions of the final stage as (KEYWORD, arguments), continuation lines joined and comments dropped.
fn final_stage(dockerfile: &str) -> Vec<(String, String)> {
    let joined = dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\\n", " ");
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
    args.find('[')
        .and_then(|at| serde_json::from_str(&args[at..]).ok())
        .unwrap_or_default()
}

fn dockerfile_violations(text: &str, svc: &ServiceContract) -> Vec<String> {
    let mut v = Vec::new();
    let stage = final_stage(text);
    let all = |kw: &'static str| stage.iter().filter(move |(k, _)| k == kw).map(|(_, a)| a.as_str());
    let every_env = svc.all_env();
    for args in all("ENV") {
        // ENV NAME=value [NAME=value ...] or the legacy ENV NAME value.
        let names = args.split_whitespace().map(|w| w.split('=').next().unwrap_or_default());
        let names: Vec<&str> = if args.contains('=') {
            names.collect()
        } else {
            names.take(1).collect()
        };
        for name in names.into_iter().filter(|n| !every_env.contains(*n)) {
            v.push(format!("Dockerfile: ENV {name}, which the service does not read"));
        }
    }
    let exposed: Vec<&str> = all("EXPOSE")
        .flat_map(str::split_whitespace)
        .map(|p| p.split('/').next().unwrap())
        .collect();
    if !exposed.contains(&svc.default_port.to_string().as_str()) {
        v.push(format!(
            "Dockerfile: EXPOSE {exposed:?} does not include DEFAULT_PORT {}",
            svc.default_port
        ));
    }
    let entrypoint = all("ENTRYPOINT").next_back().map(exec_form).unwrap_or_default();
    if entrypoint != [BINARY] {
        v.push(format!("Dockerfile: ENTRYPOINT {entrypoint:?} is not [\"{BINARY}\"]"));
    }
    let health = all("HEALTHCHECK")
        .next_back()
        .map(|a| exec_form(a.split_once("CMD").map_or(a, |(_, cmd)| cmd)));
    match health.as_deref().and_then(subcommand_after_binary) {
        Some(sub) if svc.has_subcommand(sub) => {}
        other => v.push(format!(
            "Dockerfile: HEALTHCHECK runs {other:?}, not a subcommand of {BINARY}"
        )),
    }
    let cmd = all("CMD").next_back().map(exec_form).unwrap_or_default();
    match cmd.first() {
        Some(sub) if svc.has_subcommand(sub) => {}
        other => v.push(format!(
            "Dockerfile: CMD runs {other:?}, not a subcommand of the service"
        )),
    }
    v
}

fn read(file: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Applies one edit to the real file, failing when the text is not there (a stale fixture must not pass).
fn broken(file: &str, from: &str, to: &str) -> String {
    let text = read(file);
    assert!(text.contains(from), "{file} has no `{from}`: the fixture is stale");
    text.replacen(from, to, 1)
}

fn assert_reports(violations: Vec<String>, expected: &str) {
    assert!(
        violations.iter().any(|v| v.contains(expected)),
        "expected a violation containing `{expected}`, got: {violations:#?}"
    );
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
fn each_compose_check_fires_on_a_broken_copy() {
    let svc = ServiceContract::from_service();
    let cases = [
        (
            "  LOG_FORMAT: json\n",
            "  LOG_FORMAT: json\n  DATABASE_HOST: db\n",
            "migrate sets DATABASE_HOST, which",
        ),
        // An api-only setting on the one-off migration.
        (
            "  LOG_FORMAT: json\n",
            "  LOG_FORMAT: json\n  MIGRATOR_DB_USER: x\n",
            "app sets MIGRATOR_DB_USER",
        ),
        (
            "      API_KEYS: ${API_KEYS:-dev-key-change-me}",
            "      PORT: \"3000\"",
            "app sets PORT 3000",
        ),
        (
            "\"8080:8080\"",
            "\"8080:3000\"",
            "app publishes container ports [\"3000\"]",
        ),
        (
            "beer-catalog\", \"healthcheck\"]",
            "beer-catalog\", \"health\"]",
            "app healthcheck runs Some(\"health\")",
        ),
        (
            "command: [\"migrate\"]",
            "command: [\"migrations\"]",
            "migrate runs `migrations`, which is not a subcommand",
        ),
        (
            "stop_grace_period: 30s",
            "stop_grace_period: 20s",
            "stop_grace_period Some(20) s does not exceed",
        ),
        (
            "    stop_grace_period: 30s\n",
            "",
            "stop_grace_period Some(10) s does not exceed",
        ),
    ];
    for (from, to, expected) in cases {
        assert_reports(compose_violations(&broken("compose.yaml", from, to), &svc), expected);
    }
}

#[test]
fn each_dockerfile_check_fires_on_a_broken_copy() {
    let svc = ServiceContract::from_service();
    let cases = [
        (
            "EXPOSE 8080",
            "ENV DB_HOSTNAME=db LOG_LEVEL=info\nEXPOSE 8080",
            "ENV DB_HOSTNAME, which the service does not read",
        ),
        (
            "EXPOSE 8080",
            "EXPOSE 3000",
            "EXPOSE [\"3000\"] does not include DEFAULT_PORT 8080",
        ),
        (
            "beer-catalog\", \"healthcheck\"]",
            "beer-catalog\", \"check\"]",
            "HEALTHCHECK runs Some(\"check\")",
        ),
        ("CMD [\"serve\"]", "CMD [\"server\"]", "CMD runs Some(\"server\")"),
        (
            "ENTRYPOINT [\"/usr/local/bin/beer-catalog\"]",
            "ENTRYPOINT [\"/bin/sh\"]",
            "ENTRYPOINT [\"/bin/sh\"]",
        ),
    ];
    for (from, to, expected) in cases {
        assert_reports(dockerfile_violations(&broken("Dockerfile", from, to), &svc), expected);
    }
}

#[test]
fn compose_durations_parse() {
    assert_eq!(duration_secs("30s"), Some(30));
    assert_eq!(duration_secs("1m30s"), Some(90));
    assert_eq!(duration_secs("1h"), Some(3600));
    assert_eq!(duration_secs("30"), None);
}
