//! The deploy helper scripts (.github/scripts/*.sh) run against a stub `aws` on PATH, so the decisions
//! that stop a bad release (migration exit code, blue/green rollback, mutable image references) are
//! exercised offline. They need bash, jq and curl, as the GitHub runner has, so they are ignored by a plain
//! `cargo test` (which needs nothing beyond the toolchain) and run by `.ci/run` with `--include-ignored`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
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
    case "$(arg --query "$@")" in
      *runningCount*) echo "${STUB_RUNNING:-1}" ;;
      *) echo "{\"subnets\":[\"subnet-a\",\"subnet-b\"],\"securityGroups\":[\"sg-tasks\"],\"assignPublicIp\":\"${STUB_PUBLIC_IP:-DISABLED}\"}" ;;
    esac ;;
  # Scheduled sleep: the service's scalable target (max STUB_MAX_CAPACITY, default 2: awake) and its wake action.
  "application-autoscaling describe-scalable-targets") echo "${STUB_MAX_CAPACITY:-2}" ;;
  "application-autoscaling describe-scheduled-actions")
    if [ -n "${STUB_WAKE_ACTION+x}" ]; then echo "$STUB_WAKE_ACTION"; else echo '{"MinCapacity":1,"MaxCapacity":2}'; fi ;;
  "application-autoscaling register-scalable-target") echo '{}' ;;
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
  # The image's manifest: $STUB_DIR/manifest.json, else a list of linux/amd64 and linux/arm64 (what ci.yml pushes).
  "ecr batch-get-image")
    cat "$STUB_DIR/manifest.json" 2>/dev/null || echo '{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
      {"digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}},
      {"digest":"sha256:b","platform":{"os":"linux","architecture":"arm64"}}]}' ;;
  "ecr get-download-url-for-layer") echo "file://$STUB_DIR/config.json" ;;
  "logs get-log-events") echo "migrate: error: column \"abv\" of relation \"beers\" already exists" ;;
  *) echo "stub aws: unexpected call: $*" >&2; exit 3 ;;
esac
"#;

#[path = "scripts_cost.rs"]
mod cost;

const TASK_DEF: &str = r#"{"taskDefinition": {
  "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-migrate:7",
  "family": "beer-catalog-staging-migrate", "revision": 7, "status": "ACTIVE", "registeredAt": "2026-11-24T10:00:00Z",
  "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
  "compatibilities": ["EC2", "FARGATE"], "registeredBy": "arn:aws:sts::123456789012:assumed-role/x/y",
  "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512",
  "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
  "executionRoleArn": "arn:aws:iam::123456789012:role/beer-catalog-staging-execution",
  "containerDefinitions": [
    {"name": "migrate", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/beer-catalog@sha256:old", "command": ["migrate"], "essential": true,
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/beer-catalog-staging", "awslogs-stream-prefix": "migrate"}}},
    {"name": "sidecar", "image": "public.ecr.aws/example/sidecar:1", "essential": false}
  ]}, "tags": [{"key": "project", "value": "beer-catalog"}]}"#;

const NEW_IMAGE: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/beer-catalog@sha256:1111111111111111111111111111111111111111111111111111111111111111";

/// What every script run gets, as the deploy workflow sets it for staging; a case's own `env` comes after.
const BASE_ENV: &[(&str, &str)] = &[
    ("ECS_CLUSTER", "beer-catalog-staging"),
    ("ECS_SERVICE", "beer-catalog-staging-api"),
    ("TASK_DEFINITION", API_TASK_DEFINITION),
    ("MIGRATE_CONTAINER", "migrate"),
    ("MIGRATE_COMMAND", "migrate"),
    ("LOG_GROUP", "/ecs/beer-catalog-staging"),
    ("POLL_SECONDS", "0"),
    ("SMOKE_RETRIES", "1"),
    ("SMOKE_RETRY_DELAY_SECONDS", "1"),
];
const API_TASK_DEFINITION: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-api:8";
const NEW_DEPLOYMENT: &str =
    "arn:aws:ecs:eu-west-1:123456789012:service-deployment/beer-catalog-staging/beer-catalog-staging-api/new";

/// A fresh directory with the stub `aws` and its task definition; removed when dropped.
struct Sandbox {
    dir: PathBuf,
}

/// What a script run left: its exit code and, in the sandbox, `out` (stdout and stderr), `stdout`, `summary.md`
/// (the job summary), `outputs.txt` (the step outputs), `calls.log` (every `aws` call) and what the stub wrote.
struct Run {
    sb: Sandbox,
    code: Option<i32>,
    text: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        for tool in ["bash", "jq", "curl"] {
            let found = Command::new(tool).arg("--version").output();
            let missing = format!("{tool} is required by the deploy scripts and these tests (Debian package `{tool}`)");
            assert!(found.is_ok_and(|o| o.status.success()), "{missing}");
        }
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("workflow-contract-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("bin")).unwrap();
        fs::write(dir.join("bin/aws"), STUB_AWS).unwrap();
        fs::set_permissions(dir.join("bin/aws"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.join("taskdef.json"), TASK_DEF).unwrap();
        Sandbox { dir }
    }

    /// Runs `.github/scripts/<script>` with `BASE_ENV`, then `env`, and GitHub's output files.
    fn run(self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let bin = self.dir.join("bin").display().to_string();
        let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".github/scripts")
            .join(script);
        let mut cmd = Command::new("bash");
        cmd.arg(&script).args(args).env("PATH", path).env("STUB_DIR", &self.dir);
        let (summary, outputs) = (self.dir.join("summary.md"), self.dir.join("outputs.txt"));
        cmd.env("RUNNER_TEMP", &self.dir)
            .env("GITHUB_STEP_SUMMARY", summary)
            .env("GITHUB_OUTPUT", outputs);
        let out = cmd.envs(BASE_ENV.iter().chain(env).copied()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let text = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
        fs::write(self.dir.join("out"), &text).unwrap();
        fs::write(self.dir.join("stdout"), &out.stdout).unwrap();
        let code = out.status.code();
        Run { sb: self, code, text }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Run {
    /// Exit code `code`; `None` for any failure.
    fn exits(&self, code: Option<i32>) -> &Run {
        let ok = code.map_or(self.code != Some(0), |c| self.code == Some(c));
        assert!(ok, "exit code {:?}, expected {code:?}:\n{}", self.code, self.text);
        self
    }

    /// A file of the sandbox; empty when the script did not write it.
    fn read(&self, file: &str) -> String {
        fs::read_to_string(self.sb.dir.join(file)).unwrap_or_default()
    }

    /// Each of `texts` appears in `file` (`present`), or none does.
    fn expect(&self, file: &str, present: bool, texts: &[&str]) -> &Run {
        let got = self.read(file);
        for text in texts {
            let verb = if present { "lacks" } else { "has" };
            let output = &self.text;
            let message = format!("{file} {verb} `{text}`:\n{got}\n--- output:\n{output}");
            assert_eq!(got.contains(text), present, "{message}");
        }
        self
    }

    fn has(&self, file: &str, texts: &[&str]) -> &Run {
        self.expect(file, true, texts)
    }

    fn json(&self, file: &str) -> serde_norway::Value {
        // JSON is YAML: no extra dependency needed to read it.
        serde_norway::from_str(&self.read(file)).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
    }
}

fn register(args: &[&str]) -> Run {
    Sandbox::new().run("ecs-register-task-definition.sh", args, &[])
}

fn migration(env: &[(&str, &str)]) -> Run {
    let td = "arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-migrate:8";
    Sandbox::new().run("ecs-run-migration.sh", &[], &[&[("TASK_DEFINITION", td)], env].concat())
}

fn deploy(env: &[(&str, &str)]) -> Run {
    Sandbox::new().run("ecs-deploy-service.sh", &[], env)
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn register_renders_only_the_named_container_and_strips_read_only_fields() {
    let run = register(&["beer-catalog-staging-migrate", "migrate", NEW_IMAGE]);
    // The workflow reads the new revision's ARN from stdout: nothing else may be printed there.
    let arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-migrate:8";
    assert_eq!(run.exits(Some(0)).read("stdout").trim(), arn);
    let registered = run.json("registered.json");
    let containers = &registered["containerDefinitions"];
    assert_eq!(containers[0]["image"].as_str(), Some(NEW_IMAGE));
    assert_eq!(containers[0]["command"][0].as_str(), Some("migrate"));
    let sidecar = containers[1]["image"].as_str();
    assert_eq!(
        sidecar,
        Some("public.ecr.aws/example/sidecar:1"),
        "other containers untouched"
    );
    let read_only = "taskDefinitionArn revision status requiresAttributes compatibilities registeredAt registeredBy";
    for field in read_only.split(' ') {
        let dropped = registered.get(field).is_none();
        assert!(dropped, "{field} must be dropped before register-task-definition");
    }
    let role = "arn:aws:iam::123456789012:role/beer-catalog-staging-execution";
    assert_eq!(registered["executionRoleArn"].as_str(), Some(role));
    assert_eq!(registered["tags"][0]["key"].as_str(), Some("project"), "tags are kept");
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn register_refuses_a_mutable_tag_and_an_unknown_container() {
    let latest = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/beer-catalog:latest";
    let looked_up: &[&str] = &["describe-task-definition"];
    // The tag is refused before any call; the container only once the task definition has been read.
    for (container, image, message, calls) in [
        ("migrate", latest, "mutable image reference", &[][..]),
        ("api", NEW_IMAGE, "no (single) container named api", looked_up),
    ] {
        let run = register(&["beer-catalog-staging-migrate", container, image]);
        run.exits(None).has("out", &[message]).has("calls.log", calls);
        run.expect("calls.log", false, &["register-task-definition"]); // nothing may be registered
    }
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn migration_runs_privately_with_the_migrate_command_and_passes_on_exit_0() {
    let run = migration(&[]);
    let td = "--task-definition arn:aws:ecs:eu-west-1:123456789012:task-definition/beer-catalog-staging-migrate:8";
    run.exits(Some(0))
        .has("out", &["Migration succeeded"])
        .has("calls.log", &["--launch-type FARGATE", td]);
    let network = run.json("network.json");
    let vpc = &network["awsvpcConfiguration"];
    assert_eq!(vpc["assignPublicIp"].as_str(), Some("DISABLED"));
    let subnet = vpc["subnets"][1].as_str();
    assert_eq!(subnet, Some("subnet-b"), "subnets come from the api service");
    assert_eq!(vpc["securityGroups"][0].as_str(), Some("sg-tasks"));
    let overrides = run.json("overrides.json");
    let container = &overrides["containerOverrides"][0];
    assert_eq!(container["name"].as_str(), Some("migrate"));
    assert_eq!(container["command"].as_sequence().map(Vec::len), Some(1));
    assert_eq!(container["command"][0].as_str(), Some("migrate"));
    // Where the service's tasks have public IPs (staging: no NAT, no interface endpoints), so does the migration:
    // without one it could not pull its image.
    let public = migration(&[("STUB_PUBLIC_IP", "ENABLED")]);
    let network = public.exits(Some(0)).json("network.json");
    assert_eq!(
        network["awsvpcConfiguration"]["assignPublicIp"].as_str(),
        Some("ENABLED")
    );
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn migration_fails_the_deploy_on_a_non_zero_exit_code() {
    let run = migration(&[("STUB_EXIT_CODE", "1")]);
    // The task's log stream is named, and the migration's own log lines are shown.
    let shown = ["exit code 1", "stream migrate/migrate/abc123", "already exists"];
    run.exits(None).has("out", &shown);
    let group = "--log-group-name /ecs/beer-catalog-staging --log-stream-name migrate/migrate/abc123";
    run.has("calls.log", &[&format!("logs get-log-events {group}")]);
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn migration_fails_when_the_container_never_ran() {
    let run = migration(&[("STUB_EXIT_CODE", "none")]);
    run.exits(None)
        .has("out", &["exit code none", "CannotPullContainerError"]);
}

/// The older deployment the list also holds (another revision): it may be looked at, never followed.
const THE_OLD_DEPLOYMENT: &str = "beer-catalog-staging-api/old --output";

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_follows_the_blue_green_deployment_to_successful() {
    let run = deploy(&[("STUB_STATUSES", "PENDING,IN_PROGRESS,IN_PROGRESS,SUCCESSFUL")]);
    run.exits(Some(0)).has("summary.md", &["SUCCESSFUL"]);
    run.has("outputs.txt", &["outcome=succeeded"]);
    let service = "--cluster beer-catalog-staging --service beer-catalog-staging-api";
    let update = format!("ecs update-service {service} --task-definition {API_TASK_DEFINITION}");
    run.has("calls.log", &[&update])
        .expect("calls.log", false, &[THE_OLD_DEPLOYMENT]);
    // Followed to its end: one describe per status.
    let calls = run.read("calls.log");
    let follow = format!("ecs describe-service-deployments --service-deployment-arns {NEW_DEPLOYMENT}");
    let follows = calls.matches(&follow).count();
    assert_eq!(follows, 4, "{calls}");
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_reports_an_alarm_rollback_and_fails_the_job() {
    let statuses = "IN_PROGRESS,ROLLBACK_REQUESTED,ROLLBACK_IN_PROGRESS,ROLLBACK_SUCCESSFUL";
    let alarm = "beer-catalog-staging-api-5xx-rate";
    let run = deploy(&[("STUB_STATUSES", statuses), ("STUB_TRIGGERED_ALARM", alarm)]);
    // A rollback fails the job with its own code, and the summary names the alarm.
    let summary = ["ROLLBACK_SUCCESSFUL", alarm, "previous revision"];
    run.exits(Some(2)).has("summary.md", &summary);
    run.has("outputs.txt", &["outcome=rolled-back"]);
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_fails_loudly_when_the_rollback_fails() {
    let run = deploy(&[("STUB_STATUSES", "IN_PROGRESS,ROLLBACK_IN_PROGRESS,ROLLBACK_FAILED")]);
    run.exits(Some(3)).has("summary.md", &["ROLLBACK_FAILED"]);
    run.has("outputs.txt", &["outcome=rollback-failed"]);
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_waits_for_the_deployment_ecs_creates_asynchronously() {
    let statuses = ("STUB_STATUSES", "IN_PROGRESS,SUCCESSFUL");
    let run = deploy(&[("STUB_LISTS_BEFORE_NEW", "3"), statuses]);
    run.exits(Some(0)).has("summary.md", &["SUCCESSFUL"]);
    run.expect("calls.log", false, &[THE_OLD_DEPLOYMENT]);
    let calls = run.read("calls.log");
    assert_eq!(calls.matches("ecs list-service-deployments").count(), 4, "{calls}");
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn service_deploy_fails_when_no_deployment_of_the_revision_appears() {
    let run = deploy(&[("STUB_NO_NEW_DEPLOYMENT", "1"), ("DEPLOY_TIMEOUT_SECONDS", "0")]);
    run.exits(Some(1)).has("summary.md", &["NOT_FOUND"]);
    run.has("calls.log", &["list-service-deployments"]);
    // The older deployment (another revision) was looked at and rejected, never followed.
    run.expect("calls.log", false, &["describe-service-deployments"]);
}

/// Runs the smoke test against a tiny HTTP server on 127.0.0.1 answering `routes` (path, status, body).
fn smoke(routes: &[(&str, u16, &str)]) -> Run {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let routes = routes.iter().map(|(p, s, b)| (p.to_string(), *s, b.to_string()));
    let routes: Vec<_> = routes.collect();
    let server = std::thread::spawn(move || {
        // Bounded: at most 20 requests, and it ends at /stop.
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { break };
            let reader = BufReader::new(stream.try_clone().unwrap());
            let mut lines = reader.lines().map_while(Result::ok);
            let request = lines.next().unwrap_or_default();
            lines.take_while(|header| !header.is_empty()).for_each(drop);
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let route = routes.iter().find(|(p, ..)| p == path);
            let (status, body) = route.map_or((404, "not found"), |(_, s, b)| (*s, b.as_str()));
            let head = format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nConnection: close");
            let _ = write!(stream, "{head}\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            if path == "/stop" {
                break;
            }
        }
    });
    let run = Sandbox::new().run("smoke-test.sh", &[&url], &[]);
    let stop = format!("{url}/stop");
    let _ = Command::new("curl").args(["-s", "-o", "/dev/null", &stop]).status();
    let _ = server.join();
    run
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn smoke_test_checks_ready_and_both_catalog_endpoints() {
    let (ready, beers) = (("/ready", 200, "ok"), ("/beers", 200, "[]"));
    let run = smoke(&[ready, ("/v2/beers", 200, "[{\"id\":1}]"), beers]);
    let lines = [
        "GET /ready -> 200",
        "GET /v2/beers -> 200 (1 items)",
        "GET /beers -> 200 (0 items)",
    ];
    run.exits(Some(0)).has("out", &lines).has("out", &["Smoke test passed"]);
}

#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn smoke_test_fails_when_not_ready_or_not_the_punk_shape() {
    let (ready, v2, beers) = (("/ready", 200, "ok"), ("/v2/beers", 200, "[]"), ("/beers", 200, "[]"));
    let not_ready = smoke(&[("/ready", 503, "db down"), v2, beers]);
    not_ready.exits(None).expect("out", false, &["Smoke test passed"]);
    let object = smoke(&[ready, ("/v2/beers", 200, "{\"beers\":[]}"), beers]);
    let refused = "GET /v2/beers answered 200 but not with a JSON array";
    object.exits(None).has("out", &[refused]);
    let html = smoke(&[ready, v2, ("/beers", 200, "<html>")]);
    let refused = "GET /beers answered 200 but not with a JSON array";
    html.exits(None).has("out", &[refused]);
}
