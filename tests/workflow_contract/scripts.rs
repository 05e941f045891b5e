//! The deploy helper scripts (.github/scripts/*.sh) run against a stub `aws` on PATH, so the decisions
//! that stop a bad release (migration exit code, circuit-breaker rollback, mutable image references) are
//! exercised offline. They need bash, jq and curl, as the GitHub runner has, so they are ignored by a plain
//! `cargo test` (which needs nothing beyond the toolchain) and run by `.ci/run` with `--include-ignored`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const STUB_AWS: &str = r#"#!/usr/bin/env bash
# Stub AWS CLI for tests/workflow_contract: answers the ECS calls the deploy scripts make from files and
# environment variables in $STUB_DIR, and logs every call.
set -euo pipefail
printf '%s\n' "$*" >> "$STUB_DIR/calls.log"
has() { local a; for a in "${@:2}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
arg() { local want=$1; shift; while [ "$#" -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
case "$1 $2" in
  "ecs describe-task-definition") cat "$STUB_DIR/taskdef.json" ;;
  "ecs register-task-definition")
    src=$(arg --cli-input-json "$@"); cp "${src#file://}" "$STUB_DIR/registered.json"
    fam=$(jq -r .family "$STUB_DIR/registered.json")
    echo "arn:aws:ecs:eu-west-1:123456789012:task-definition/$fam:8" ;;
  "ecs describe-services")
    if has --query "$@"; then
      echo '{"subnets":["subnet-a","subnet-b"],"securityGroups":["sg-tasks"],"assignPublicIp":"DISABLED"}'
    else
      jq -n --arg state "${STUB_ROLLOUT:-COMPLETED}" --arg td "$(cat "$STUB_DIR/deployed_td" 2>/dev/null || echo none)" \
        '{services:[{taskDefinition:(if $state == "FAILED" then "arn:old:1" else $td end),
          deployments:[{id:"ecs-svc/1",status:"PRIMARY",taskDefinition:$td,rolloutState:$state,rolloutStateReason:"stub"}]}]}'
    fi ;;
  "ecs update-service")
    td=$(arg --task-definition "$@"); echo "$td" > "$STUB_DIR/deployed_td"
    jq -n --arg td "$td" '{service:{deployments:[{id:"ecs-svc/1",status:"PRIMARY",taskDefinition:$td,rolloutState:"IN_PROGRESS"}]}}' ;;
  "ecs run-task")
    arg --network-configuration "$@" > "$STUB_DIR/network.json"
    arg --overrides "$@" > "$STUB_DIR/overrides.json"
    echo '{"tasks":[{"taskArn":"arn:aws:ecs:eu-west-1:123456789012:task/beer-catalog-staging/abc123"}],"failures":[]}' ;;
  "ecs describe-tasks")
    if has --query "$@"; then echo STOPPED
    elif [ "${STUB_EXIT_CODE:-0}" = "none" ]; then
      echo '{"tasks":[{"stoppedReason":"CannotPullContainerError","containers":[{"name":"migrate","reason":"pull failed"}]}]}'
    else
      jq -n --argjson code "${STUB_EXIT_CODE:-0}" '{tasks:[{stoppedReason:"Essential container in task exited",containers:[{name:"migrate",exitCode:$code}]}]}'
    fi ;;
  "ecs stop-task") echo '{}' ;;
  "logs get-log-events") echo "migrate: error: column \"abv\" of relation \"beers\" already exists" ;;
  *) echo "stub aws: unexpected call: $*" >&2; exit 3 ;;
esac
"#;

const TASK_DEF: &str = r#"{
  "taskDefinition": {
    "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-migrate:7",
    "family": "beer-catalog-staging-migrate",
    "revision": 7,
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
    "compatibilities": ["EC2", "FARGATE"],
    "registeredAt": "2026-11-24T10:00:00Z",
    "registeredBy": "arn:aws:sts::123456789012:assumed-role/x/y",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "executionRoleArn": "arn:aws:iam::123456789012:role/beer-catalog-staging-execution",
    "containerDefinitions": [
      {"name": "migrate", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/beer-catalog@sha256:old", "command": ["migrate"], "essential": true,
       "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/beer-catalog-staging", "awslogs-stream-prefix": "migrate"}}},
      {"name": "sidecar", "image": "public.ecr.aws/example/sidecar:1", "essential": false}
    ]
  },
  "tags": [{"key": "project", "value": "beer-catalog"}]
}"#;

const NEW_IMAGE: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/beer-catalog@sha256:1111111111111111111111111111111111111111111111111111111111111111";

struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        for tool in ["bash", "jq", "curl"] {
            let found = Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                found,
                "{tool} is required by the deploy scripts and these tests (Debian package `{tool}`)"
            );
        }
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "workflow-contract-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("bin")).unwrap();
        let stub = dir.join("bin/aws");
        fs::write(&stub, STUB_AWS).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&stub, fs::Permissions::from_mode(0o755)).unwrap();
        }
        fs::write(dir.join("taskdef.json"), TASK_DEF).unwrap();
        Sandbox { dir }
    }

    fn run(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".github/scripts")
            .join(script);
        let mut cmd = Command::new("bash");
        cmd.arg(&script)
            .args(args)
            .env("PATH", path)
            .env("STUB_DIR", &self.dir)
            .env("RUNNER_TEMP", &self.dir);
        cmd.env("POLL_SECONDS", "0");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()))
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(s: &str) -> serde_norway::Value {
    // JSON is YAML: no extra dependency needed to read it.
    serde_norway::from_str(s).unwrap_or_else(|e| panic!("not JSON: {e}\n{s}"))
}

const MIGRATION_ENV: &[(&str, &str)] = &[
    ("ECS_CLUSTER", "beer-catalog-staging"),
    ("ECS_SERVICE", "beer-catalog-staging-api"),
    (
        "TASK_DEFINITION",
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-migrate:8",
    ),
    ("MIGRATE_CONTAINER", "migrate"),
    ("MIGRATE_COMMAND", "migrate"),
    ("LOG_GROUP", "/ecs/beer-catalog-staging"),
];

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn register_renders_only_the_named_container_and_strips_read_only_fields() {
    let sb = Sandbox::new();
    let out = sb.run(
        "ecs-register-task-definition.sh",
        &["beer-catalog-staging-migrate", "migrate", NEW_IMAGE],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-migrate:8"
    );
    let registered = json(&sb.read("registered.json"));
    let containers = registered["containerDefinitions"].as_sequence().unwrap();
    assert_eq!(containers[0]["image"].as_str(), Some(NEW_IMAGE));
    assert_eq!(containers[0]["command"][0].as_str(), Some("migrate"));
    assert_eq!(
        containers[1]["image"].as_str(),
        Some("public.ecr.aws/example/sidecar:1"),
        "other containers untouched"
    );
    for field in [
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
    ] {
        assert!(
            registered.get(field).is_none(),
            "{field} must be dropped before register-task-definition"
        );
    }
    assert_eq!(
        registered["executionRoleArn"].as_str(),
        Some("arn:aws:iam::123456789012:role/beer-catalog-staging-execution")
    );
    assert_eq!(registered["tags"][0]["key"].as_str(), Some("project"), "tags are kept");
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn register_refuses_a_mutable_tag_and_an_unknown_container() {
    let sb = Sandbox::new();
    let out = sb.run(
        "ecs-register-task-definition.sh",
        &[
            "beer-catalog-staging-migrate",
            "migrate",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/beer-catalog:latest",
        ],
        &[],
    );
    assert!(
        !out.status.success(),
        "a :latest reference must be refused: {}",
        text(&out)
    );
    assert!(text(&out).contains("mutable image reference"), "{}", text(&out));

    let out = sb.run(
        "ecs-register-task-definition.sh",
        &["beer-catalog-staging-migrate", "api", NEW_IMAGE],
        &[],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no (single) container named api"), "{}", text(&out));
    assert!(
        !sb.read("calls.log").contains("register-task-definition"),
        "nothing may be registered"
    );
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn migration_runs_privately_with_the_migrate_command_and_passes_on_exit_0() {
    let sb = Sandbox::new();
    let out = sb.run("ecs-run-migration.sh", &[], MIGRATION_ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Migration succeeded"), "{}", text(&out));
    let network = json(&sb.read("network.json"));
    let vpc = &network["awsvpcConfiguration"];
    assert_eq!(vpc["assignPublicIp"].as_str(), Some("DISABLED"));
    assert_eq!(
        vpc["subnets"][1].as_str(),
        Some("subnet-b"),
        "subnets come from the api service"
    );
    assert_eq!(vpc["securityGroups"][0].as_str(), Some("sg-tasks"));
    let overrides = json(&sb.read("overrides.json"));
    assert_eq!(overrides["containerOverrides"][0]["name"].as_str(), Some("migrate"));
    assert_eq!(
        overrides["containerOverrides"][0]["command"]
            .as_sequence()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        overrides["containerOverrides"][0]["command"][0].as_str(),
        Some("migrate")
    );
    let calls = sb.read("calls.log");
    assert!(calls.contains("--launch-type FARGATE"), "{calls}");
    assert!(
        calls.contains(
            "--task-definition arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-migrate:8"
        ),
        "{calls}"
    );
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn migration_fails_the_deploy_on_a_non_zero_exit_code() {
    let sb = Sandbox::new();
    let mut env = MIGRATION_ENV.to_vec();
    env.push(("STUB_EXIT_CODE", "1"));
    let out = sb.run("ecs-run-migration.sh", &[], &env);
    assert!(
        !out.status.success(),
        "exit code 1 must fail the deploy: {}",
        text(&out)
    );
    assert!(text(&out).contains("exit code 1"), "{}", text(&out));
    assert!(
        text(&out).contains("stream migrate/migrate/abc123"),
        "log stream: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("already exists"),
        "the migration's own log lines are shown: {}",
        text(&out)
    );
    assert!(
        sb.read("calls.log").contains(
            "logs get-log-events --log-group-name /ecs/beer-catalog-staging --log-stream-name migrate/migrate/abc123"
        ),
        "{}",
        sb.read("calls.log")
    );
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn migration_fails_when_the_container_never_ran() {
    let sb = Sandbox::new();
    let mut env = MIGRATION_ENV.to_vec();
    env.push(("STUB_EXIT_CODE", "none"));
    let out = sb.run("ecs-run-migration.sh", &[], &env);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("exit code none"), "{}", text(&out));
    assert!(text(&out).contains("CannotPullContainerError"), "{}", text(&out));
}

const DEPLOY_ENV: &[(&str, &str)] = &[
    ("ECS_CLUSTER", "beer-catalog-staging"),
    ("ECS_SERVICE", "beer-catalog-staging-api"),
    (
        "TASK_DEFINITION",
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-api:8",
    ),
];

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_passes_when_the_rollout_completes() {
    let sb = Sandbox::new();
    let out = sb.run("ecs-deploy-service.sh", &[], DEPLOY_ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("COMPLETED"), "{}", text(&out));
    assert!(sb.read("calls.log").contains(
        "ecs update-service --cluster beer-catalog-staging --service beer-catalog-staging-api --task-definition arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-api:8"
    ));
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_fails_when_the_circuit_breaker_rolls_back() {
    let sb = Sandbox::new();
    let mut env = DEPLOY_ENV.to_vec();
    env.push(("STUB_ROLLOUT", "FAILED"));
    let out = sb.run("ecs-deploy-service.sh", &[], &env);
    assert!(
        !out.status.success(),
        "a FAILED rollout must fail the job: {}",
        text(&out)
    );
    assert!(text(&out).contains("circuit breaker"), "{}", text(&out));
}

/// A tiny HTTP server on 127.0.0.1 answering fixed bodies per path, for the smoke test script.
fn serve(routes: &'static [(&'static str, u16, &'static str)]) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(false).unwrap();
    let handle = std::thread::spawn(move || {
        // Bounded: at most 20 requests, then the thread ends.
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { break };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body) = routes
                .iter()
                .find(|(p, _, _)| *p == path)
                .map(|(_, s, b)| (*s, *b))
                .unwrap_or((404, "not found"));
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            if path == "/stop" {
                break;
            }
        }
    });
    (url, handle)
}

fn stop(url: &str, handle: std::thread::JoinHandle<()>) {
    let _ = Command::new("curl")
        .args(["-s", "-o", "/dev/null", &format!("{url}/stop")])
        .status();
    let _ = handle.join();
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn smoke_test_checks_ready_and_both_catalog_endpoints() {
    let sb = Sandbox::new();
    let (url, handle) = serve(&[
        ("/ready", 200, "ok"),
        ("/v2/beers", 200, "[{\"id\":1}]"),
        ("/beers", 200, "[]"),
    ]);
    let out = sb.run(
        "smoke-test.sh",
        &[&url],
        &[("SMOKE_RETRIES", "1"), ("SMOKE_RETRY_DELAY_SECONDS", "1")],
    );
    stop(&url, handle);
    assert!(out.status.success(), "{}", text(&out));
    for line in [
        "GET /ready -> 200",
        "GET /v2/beers -> 200 (1 items)",
        "GET /beers -> 200 (0 items)",
        "Smoke test passed",
    ] {
        assert!(text(&out).contains(line), "missing `{line}`:\n{}", text(&out));
    }
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn smoke_test_fails_when_not_ready_or_not_the_punk_shape() {
    let sb = Sandbox::new();
    let (url, handle) = serve(&[
        ("/ready", 503, "db down"),
        ("/v2/beers", 200, "[]"),
        ("/beers", 200, "[]"),
    ]);
    let out = sb.run(
        "smoke-test.sh",
        &[&url],
        &[("SMOKE_RETRIES", "1"), ("SMOKE_RETRY_DELAY_SECONDS", "1")],
    );
    stop(&url, handle);
    assert!(!out.status.success(), "a 503 from /ready must fail: {}", text(&out));

    let (url, handle) = serve(&[
        ("/ready", 200, "ok"),
        ("/v2/beers", 200, "{\"beers\":[]}"),
        ("/beers", 200, "[]"),
    ]);
    let out = sb.run(
        "smoke-test.sh",
        &[&url],
        &[("SMOKE_RETRIES", "1"), ("SMOKE_RETRY_DELAY_SECONDS", "1")],
    );
    stop(&url, handle);
    assert!(
        !out.status.success(),
        "an object from /v2/beers must fail: {}",
        text(&out)
    );
    assert!(text(&out).contains("not with a JSON array"), "{}", text(&out));

    let (url, handle) = serve(&[
        ("/ready", 200, "ok"),
        ("/v2/beers", 200, "[]"),
        ("/beers", 200, "<html>"),
    ]);
    let out = sb.run(
        "smoke-test.sh",
        &[&url],
        &[("SMOKE_RETRIES", "1"), ("SMOKE_RETRY_DELAY_SECONDS", "1")],
    );
    stop(&url, handle);
    assert!(!out.status.success(), "HTML from /beers must fail: {}", text(&out));
    assert!(
        text(&out).contains("GET /beers answered 200 but not with a JSON array"),
        "{}",
        text(&out)
    );
}
