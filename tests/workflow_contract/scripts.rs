//! The deploy helper scripts (.github/scripts/*.sh) run against a stub `aws` on PATH, so the decisions
//! that stop a bad release (migration exit code, blue/green rollback, mutable image references) are
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
    echo '{"subnets":["subnet-a","subnet-b"],"securityGroups":["sg-tasks"],"assignPublicIp":"DISABLED"}' ;;
  "ecs update-service")
    td=$(arg --task-definition "$@"); echo "$td" > "$STUB_DIR/deployed_td"
    jq -n --arg td "$td" '{service:{taskDefinition:$td}}' ;;
  # Service deployments (blue/green): an older deployment of revision 7 and, unless STUB_NO_NEW_DEPLOYMENT is set,
  # the new one of whatever update-service was given, from the (STUB_LISTS_BEFORE_NEW + 1)-th list call on (ECS
  # creates it asynchronously). Its status walks through STUB_STATUSES (comma-separated),
  # one per describe call, the last one repeating.
  "ecs list-service-deployments")
    lists=$(cat "$STUB_DIR/lists" 2>/dev/null || echo 0); echo $((lists + 1)) > "$STUB_DIR/lists"
    [ "$lists" -lt "${STUB_LISTS_BEFORE_NEW:-0}" ] && STUB_NO_NEW_DEPLOYMENT=1
    d=arn:aws:ecs:eu-west-1:123456789012
    jq -n --arg d "$d" --arg new "${STUB_NO_NEW_DEPLOYMENT:-}" '{serviceDeployments: ([
      {serviceDeploymentArn: "\($d):service-deployment/beer-catalog-staging/beer-catalog-staging-api/old",
       targetServiceRevisionArn: "\($d):service-revision/beer-catalog-staging/beer-catalog-staging-api/rev-old",
       status: "SUCCESSFUL", createdAt: "2026-11-30T09:00:00Z"}]
      + (if $new == "" then [
      {serviceDeploymentArn: "\($d):service-deployment/beer-catalog-staging/beer-catalog-staging-api/new",
       targetServiceRevisionArn: "\($d):service-revision/beer-catalog-staging/beer-catalog-staging-api/rev-new",
       status: "PENDING", createdAt: "2026-11-30T10:00:00Z"}] else [] end))}' ;;
  "ecs describe-service-revisions")
    rev=$(arg --service-revision-arns "$@")
    case "$rev" in
      */rev-new) td=$(cat "$STUB_DIR/deployed_td") ;;
      *) td=arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-api:7 ;;
    esac
    jq -n --arg td "$td" --arg rev "$rev" '{serviceRevisions:[{serviceRevisionArn:$rev,taskDefinition:$td}]}' ;;
  "ecs describe-service-deployments")
    n=$(cat "$STUB_DIR/describes" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB_DIR/describes"
    IFS=, read -r -a statuses <<< "${STUB_STATUSES:-SUCCESSFUL}"
    i=$(( n < ${#statuses[@]} ? n : ${#statuses[@]} - 1 ))
    jq -n --arg arn "$(arg --service-deployment-arns "$@")" --arg status "${statuses[$i]}" \
       --arg alarm "${STUB_TRIGGERED_ALARM:-}" '{serviceDeployments:[{serviceDeploymentArn:$arn,status:$status,
       lifecycleStage:(if $status == "IN_PROGRESS" then "BAKE_TIME" else "CLEAN_UP" end),
       alarms:{status:(if $alarm == "" then "MONITORING" else "TRIGGERED" end),
               triggeredAlarmNames:(if $alarm == "" then [] else [$alarm] end)},
       deploymentCircuitBreaker:{status:"MONITORING",failureCount:0,threshold:10}}
       + (if ($status | startswith("ROLLBACK")) then {rollback:{reason:"Service deployment rolled back because of alarm(s) in ALARM state"}} else {} end)],
       failures:[]}' ;;
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

const NEW_DEPLOYMENT: &str =
    "arn:aws:ecs:eu-west-1:123456789012:service-deployment/beer-catalog-staging/beer-catalog-staging-api/new";

/// Runs the deploy script with GitHub's output files; returns (output, step summary, step outputs).
fn deploy(sb: &Sandbox, extra_env: &[(&str, &str)]) -> (Output, String, String) {
    let summary = sb.dir.join("summary.md");
    let outputs = sb.dir.join("outputs.txt");
    let (summary_path, outputs_path) = (summary.display().to_string(), outputs.display().to_string());
    let mut env = DEPLOY_ENV.to_vec();
    env.push(("GITHUB_STEP_SUMMARY", &summary_path));
    env.push(("GITHUB_OUTPUT", &outputs_path));
    env.extend_from_slice(extra_env);
    let out = sb.run("ecs-deploy-service.sh", &[], &env);
    let summary = fs::read_to_string(summary).unwrap_or_default();
    let outputs = fs::read_to_string(outputs).unwrap_or_default();
    (out, summary, outputs)
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_follows_the_blue_green_deployment_to_successful() {
    let sb = Sandbox::new();
    let (out, summary, outputs) = deploy(&sb, &[("STUB_STATUSES", "PENDING,IN_PROGRESS,IN_PROGRESS,SUCCESSFUL")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(summary.contains("SUCCESSFUL"), "job summary: {summary}");
    assert!(outputs.contains("outcome=succeeded"), "step outputs: {outputs}");
    let calls = sb.read("calls.log");
    assert!(calls.contains(
        "ecs update-service --cluster beer-catalog-staging --service beer-catalog-staging-api --task-definition arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-api:8"
    ));
    // It followed the deployment of the new revision to its end, not the older one the list also holds.
    assert_eq!(
        calls
            .matches(&format!(
                "ecs describe-service-deployments --service-deployment-arns {NEW_DEPLOYMENT}"
            ))
            .count(),
        4,
        "{calls}"
    );
    assert!(!calls.contains("beer-catalog-staging-api/old --output"), "{calls}");
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_reports_an_alarm_rollback_and_fails_the_job() {
    let sb = Sandbox::new();
    let (out, summary, outputs) = deploy(
        &sb,
        &[
            (
                "STUB_STATUSES",
                "IN_PROGRESS,ROLLBACK_REQUESTED,ROLLBACK_IN_PROGRESS,ROLLBACK_SUCCESSFUL",
            ),
            ("STUB_TRIGGERED_ALARM", "beer-catalog-staging-api-5xx-rate"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a rollback must fail the job with its own code: {}",
        text(&out)
    );
    assert!(summary.contains("ROLLBACK_SUCCESSFUL"), "job summary: {summary}");
    assert!(
        summary.contains("beer-catalog-staging-api-5xx-rate"),
        "the summary names the alarm: {summary}"
    );
    assert!(summary.contains("previous revision"), "job summary: {summary}");
    assert!(outputs.contains("outcome=rolled-back"), "step outputs: {outputs}");
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_fails_loudly_when_the_rollback_fails() {
    let sb = Sandbox::new();
    let (out, summary, outputs) = deploy(
        &sb,
        &[("STUB_STATUSES", "IN_PROGRESS,ROLLBACK_IN_PROGRESS,ROLLBACK_FAILED")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(summary.contains("ROLLBACK_FAILED"), "job summary: {summary}");
    assert!(outputs.contains("outcome=rollback-failed"), "step outputs: {outputs}");
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_waits_for_the_deployment_ecs_creates_asynchronously() {
    let sb = Sandbox::new();
    let (out, summary, _) = deploy(
        &sb,
        &[
            ("STUB_LISTS_BEFORE_NEW", "3"),
            ("STUB_STATUSES", "IN_PROGRESS,SUCCESSFUL"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(summary.contains("SUCCESSFUL"), "job summary: {summary}");
    let calls = sb.read("calls.log");
    assert_eq!(calls.matches("ecs list-service-deployments").count(), 4, "{calls}");
    assert!(!calls.contains("beer-catalog-staging-api/old --output"), "{calls}");
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_fails_when_no_deployment_of_the_revision_appears() {
    let sb = Sandbox::new();
    let (out, summary, _) = deploy(&sb, &[("STUB_NO_NEW_DEPLOYMENT", "1"), ("DEPLOY_TIMEOUT_SECONDS", "0")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(summary.contains("NOT_FOUND"), "job summary: {summary}");
    // The older deployment (another revision) was looked at and rejected, never followed.
    assert!(!sb.read("calls.log").contains("describe-service-deployments"));
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
