//! Contract between the Terraform under `infra/` and the service it deploys: only what no standard tool can
//! check, because it needs the service's own definition (`Cli::command()`, `DEFAULT_PORT`, the routes of the
//! OpenAPI document: `tests/support/service.rs`). Task environment and secrets, production settings, ports, health
//! checks, PassRole targets, stop timeout and container hardening here; the scale-out (read replicas, CloudFront in
//! front of the ALB, the database's ingress, blue/green wiring) in `scale.rs`. Each check says why it exists.
//!
//! Each check returns violations. Each test runs its check on the real `infra/`, which must have none, and on
//! broken copies (the real files with one edit each), where it must report the specific one: that proves it can
//! fail. What standard tools check is not repeated here: validity of every reference, argument and module call
//! (`../shared/tools/tf-schema/check infra`), security groups' shape, RDS flags, public IPs, encryption (checkov in
//! `scripts/check-infra.sh`).
//!
//! Run: `cargo test --test infra_contract`.

mod connections;
mod cost;
mod egress;
mod first_apply;
mod roles;
mod scale;
#[path = "../support/service.rs"]
mod service;
mod staging_cost;
mod telemetry;
#[path = "../support/terraform.rs"]
mod terraform;

use hcl::Expression;
use hcl::expr::{Object, ObjectKey};
use service::ServiceContract;
use std::collections::BTreeSet;
use terraform::{Dir, Infra, attr, key_str, label, nested, object_get, render, show, template_text};

type Violations = Vec<String>;
type Fields = Object<ObjectKey, Expression>;
type Check = fn(&Infra, &ServiceContract) -> Violations;
/// An entry of a container's `environment` or `secrets`: its name, and its value where it is written.
type Entry<'a> = (String, &'a Dir, &'a Expression);
type Entries<'a> = Vec<Entry<'a>>;
type Outcome = Result<(), String>;

const DIRS: &[&str] = &[
    "modules/environment",
    "modules/service",
    "modules/load_balancer",
    "modules/github_actions",
    "modules/database",
    "modules/edge",
    "modules/security_groups",
    "envs/production",
];

fn dir<'a>(infra: &'a Infra, rel: &str) -> &'a Dir {
    infra.dir(rel).unwrap()
}

/// The real `infra/` satisfies `check`.
fn assert_clean(check: Check) {
    let violations = check(&Infra::load(DIRS), &ServiceContract::from_service());
    assert!(violations.is_empty(), "on infra/:\n  {}", violations.join("\n  "));
}

/// On a copy of the real `infra/` with one edit in `file` (under `infra/`), `check` reports each of `expected`:
/// it can fail.
fn assert_reports(check: Check, file: &str, (from, to): (impl AsRef<str>, impl AsRef<str>), expected: &[&str]) {
    let (from, to) = (from.as_ref(), to.as_ref());
    let infra = Infra::load_edited(DIRS, Some((file, from, to)));
    let violations = check(&infra, &ServiceContract::from_service()).join("\n  ");
    for needle in expected {
        let edit = format!("{file} with `{from}` -> `{to}`");
        assert!(violations.contains(needle), "{edit}: no {needle:?} in:\n  {violations}");
    }
}

/// One task of `local.tasks` in modules/service: its key (family suffix and container name) and its container
/// fields, over the fields every task shares (the first argument of the task definition's `merge`).
struct Task<'a> {
    key: String,
    own: &'a Fields,
    shared: Option<&'a Fields>,
}

impl<'a> Task<'a> {
    fn field(&self, name: &str) -> Option<&'a Expression> {
        let shared = || self.shared.and_then(|s| object_get(s, name));
        object_get(self.own, name).or_else(shared)
    }

    /// The subcommand the container runs: the first word of `command`, else the image's default, `serve`.
    fn subcommand(&self) -> Result<String, String> {
        match self.field("command") {
            None => Ok("serve".into()),
            Some(Expression::Array(words)) if words.first().and_then(template_text).is_some() => {
                Ok(template_text(&words[0]).unwrap())
            }
            Some(other) => Err(format!("task {}: command {} is no literal list", self.key, show(other))),
        }
    }

    /// The `(name, directory, value)` of each entry of the container's `environment` or `secrets`.
    fn entries(&self, infra: &'a Infra, field: &str, v: &mut Violations) -> Vec<Entry<'a>> {
        let mut out = Vec::new();
        let value_key = if field == "secrets" { "valueFrom" } else { "value" };
        if let Some(expr) = self.field(field)
            && let Err(e) = entries(infra, dir(infra, "modules/service"), expr, value_key, &mut out)
        {
            v.push(format!("task {}: {field}: {e}", self.key));
        }
        out
    }

    /// The environment variable `name`, read as a literal; `None` when the task does not set it.
    fn env(&self, infra: &'a Infra, name: &str, v: &mut Violations) -> Option<Result<String, String>> {
        let entries = self.entries(infra, "environment", v);
        let (_, dir, value) = entries.into_iter().find(|(n, ..)| n == name)?;
        Some(infra.literal(dir, value))
    }

    fn literal(&self, infra: &Infra, field: &str) -> Result<String, String> {
        let value = self.field(field).ok_or("not set")?;
        infra.literal(dir(infra, "modules/service"), value)
    }
}

/// The first argument of a function call, or the first item of a list.
fn first(expr: Option<&Expression>) -> Option<&Expression> {
    match expr? {
        Expression::FuncCall(call) => call.args.first(),
        Expression::Array(items) => items.first(),
        _ => None,
    }
}

fn tasks<'a>(infra: &'a Infra, v: &mut Violations) -> Vec<Task<'a>> {
    let svc = dir(infra, "modules/service");
    let Some(Expression::Object(all)) = svc.local("tasks") else {
        v.push(format!("{}: no local.tasks object", svc.name));
        return Vec::new();
    };
    // container_definitions = jsonencode(concat([merge({ shared fields }, each.value.container)], sidecars))
    let td = svc.block("resource", &["aws_ecs_task_definition"]);
    let definitions = td.and_then(|td| attr(&td.body, "container_definitions"));
    let shared = match first(first(first(first(definitions)))) {
        Some(Expression::Object(shared)) => Some(shared),
        _ => None,
    };
    let mut out = Vec::new();
    for (key, task) in all.iter() {
        let key = key_str(key).unwrap_or_default();
        let container = match task {
            Expression::Object(task) => object_get(task, "container"),
            _ => None,
        };
        match container {
            Some(Expression::Object(own)) => out.push(Task { key, own, shared }),
            _ => v.push(format!("{}: local.tasks.{key}.container is no object", svc.name)),
        }
    }
    if out.is_empty() {
        v.push(format!("{}: local.tasks has no task", svc.name));
    }
    out
}

/// The `(name, value)` pairs of a list of `{ name, <value_key> }` objects, `concat(...)` of such lists, a
/// conditional between such lists, or a reference to one.
fn entries<'a>(infra: &'a Infra, dir: &'a Dir, expr: &'a Expression, key: &str, out: &mut Entries<'a>) -> Outcome {
    match infra.resolve(dir, expr)? {
        (dir, Expression::Array(items)) => {
            for item in items {
                let entry = match item {
                    Expression::Object(o) => (object_get(o, "name"), object_get(o, key)),
                    _ => (None, None),
                };
                let (Some(Expression::String(name)), Some(value)) = entry else {
                    return Err(format!("{} is no {{ name, {key} }}", show(item)));
                };
                out.push((name.clone(), dir, value));
            }
            Ok(())
        }
        (dir, Expression::FuncCall(call)) if call.name.name.as_str() == "concat" => {
            let mut args = call.args.iter();
            args.try_for_each(|a| entries(infra, dir, a, key, out))
        }
        // `cond ? [...] : []`: either branch may be what the task gets, so both are read.
        (dir, Expression::Conditional(c)) => {
            entries(infra, dir, &c.true_expr, key, out)?;
            entries(infra, dir, &c.false_expr, key, out)
        }
        (_, other) => Err(format!("{} is not a list of entries", show(other))),
    }
}

// --- the checks ------------------------------------------------------------------------------------------------

/// Every task runs as production (so it never falls back to a local SQLite file) and reaches RDS over TLS: RDS
/// refuses plain connections (`rds.force_ssl`), and a missing `DB_SSLMODE` defaults to `prefer`. What the values
/// must be is the service's own rule, which no generic checker knows.
fn check_production_settings(infra: &Infra, _: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    for task in tasks(infra, &mut v) {
        let key = &task.key;
        match task.env(infra, "APP_ENV", &mut v) {
            Some(Ok(env)) if env == "production" => {}
            other => v.push(format!("task {key}: APP_ENV must be production, got {other:?}")),
        }
        match task.env(infra, "DB_SSLMODE", &mut v) {
            Some(Ok(mode)) if ["require", "verify-ca", "verify-full"].contains(&mode.as_str()) => {}
            other => v.push(format!("task {key}: DB_SSLMODE must require TLS, got {other:?}")),
        }
    }
    v
}

/// The OpenTelemetry SDK's own variables (the specification's names) the server's trace exporter is configured by:
/// the SDK reads them, not the CLI, so `Cli::command()` does not list them. Only the server exports traces.
const OTEL_SDK_ENV: &[&str] = &[
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
];

/// Every variable a task sets is read by the CLI for its subcommand, and hidden settings come only from secrets.
fn check_task_environment(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    for task in tasks(infra, &mut v) {
        let key = &task.key;
        let sub = task.subcommand().unwrap_or_else(|e| e);
        let Some(mut reads) = svc.env_for(&sub) else {
            v.push(format!("task {key} runs `{sub}`: not a subcommand of the service"));
            continue;
        };
        if sub == "serve" {
            reads.extend(OTEL_SDK_ENV.iter().map(|name| name.to_string()));
        }
        for field in ["environment", "secrets"] {
            for (name, ..) in task.entries(infra, field, &mut v) {
                if !reads.contains(&name) {
                    v.push(format!("task {key} sets {name}, which `{sub}` does not read"));
                }
                if field == "environment" && svc.secret_env.contains(&name) {
                    v.push(format!("task {key}: secret {name} set in plain environment"));
                }
            }
        }
    }
    v
}

/// The container port, `PORT` and the target group ports (both blue/green groups) are the service's
/// `DEFAULT_PORT`.
fn check_ports(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let mut ports = Vec::new();
    for task in tasks(infra, &mut v) {
        let mappings = match task.field("portMappings") {
            Some(Expression::Array(mappings)) => mappings.as_slice(),
            _ => &[],
        };
        for mapping in mappings {
            let port = match mapping {
                Expression::Object(o) => object_get(o, "containerPort"),
                _ => None,
            };
            let service = dir(infra, "modules/service");
            let port = port.ok_or("no containerPort".into());
            let port = port.and_then(|p| infra.literal(service, p));
            ports.push((format!("task {} containerPort", task.key), port));
        }
        if let Some(port) = task.env(infra, "PORT", &mut v) {
            ports.push((format!("task {} PORT", task.key), port));
        }
    }
    let lb = dir(infra, "modules/load_balancer");
    for tg in lb.blocks("resource", &["aws_lb_target_group"]) {
        let port = attr(&tg.body, "port").ok_or("no port".into());
        let what = format!("aws_lb_target_group.{} port", label(tg, 1).unwrap_or("?"));
        ports.push((what, port.and_then(|p| infra.literal(lb, p))));
    }
    if ports.len() < 2 {
        v.push(format!("expected a containerPort and a target group port: {ports:?}"));
    }
    let want = svc.default_port.to_string();
    for (what, port) in ports.into_iter().filter(|(_, port)| *port != Ok(want.clone())) {
        v.push(format!("{what} is {port:?}, not the service's DEFAULT_PORT {want}"));
    }
    v
}

/// Every target group (both blue/green colours) checks the start-up route `/started`, which the service serves, on
/// the traffic port: 503 only while a new task warms up, so it gets no traffic before its read model is built; not
/// the readiness route: `/ready` fails while the database is down, so ECS would replace every task during a
/// database outage. The container health check runs a subcommand.
fn check_health_checks(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let mut seen = 0;
    let lb = dir(infra, "modules/load_balancer");
    for tg in lb.blocks("resource", &["aws_lb_target_group"]) {
        let name = format!("aws_lb_target_group.{}", label(tg, 1).unwrap_or("?"));
        for hc in nested(&tg.body, "health_check") {
            seen += 1;
            let path = attr(&hc.body, "path").ok_or("no path".into());
            match path.and_then(|p| infra.literal(lb, p)) {
                Ok(path) if path == "/ready" => {
                    v.push(format!("{name} health check uses /ready: fails without the database"))
                }
                Ok(path) if !svc.routes.contains(&path) => {
                    v.push(format!("{name} health check path {path} is no route"))
                }
                Ok(path) if path == "/started" => {}
                other => v.push(format!(
                    "{name} health check path {other:?}, not the start-up route /started"
                )),
            }
            let traffic = ["traffic-port".to_string(), svc.default_port.to_string()];
            match attr(&hc.body, "port").map(|p| infra.literal(lb, p)) {
                None => {}
                Some(Ok(port)) if traffic.contains(&port) => {}
                other => v.push(format!("{name} health check port {other:?}, not the traffic port")),
            }
        }
    }
    for task in tasks(infra, &mut v) {
        let Some(Expression::Object(hc)) = task.field("healthCheck") else {
            continue;
        };
        seen += 1;
        // ["CMD", "/usr/local/bin/beer-catalog", "<subcommand>"]
        let sub = match object_get(hc, "command") {
            Some(Expression::Array(cmd)) => cmd.get(2).and_then(template_text),
            _ => None,
        };
        if !sub.as_ref().is_some_and(|sub| svc.has_subcommand(sub)) {
            v.push(format!("task {} healthCheck runs {sub:?}: no subcommand", task.key));
        }
    }
    if seen < 2 {
        v.push("expected an ALB health check and a container health check".into());
    }
    v
}

/// The deploy role may pass exactly the roles the task definitions carry, compared by the part of the role name
/// after `<project>-<env>-`.
fn check_pass_role_targets(infra: &Infra, _: &ServiceContract) -> Violations {
    const PREFIX: &str = "<project>-<env>-";
    let mut v = Violations::new();
    let service = dir(infra, "modules/service");
    let keys: Vec<String> = tasks(infra, &mut v).into_iter().map(|t| t.key).collect();
    let mut used = BTreeSet::new();
    for td in service.blocks("resource", &["aws_ecs_task_definition"]) {
        for arg in ["execution_role_arn", "task_role_arn"] {
            // aws_iam_role.NAME.arn or aws_iam_role.NAME[each.key].arn
            let text = attr(&td.body, arg).map(show).unwrap_or_default();
            let role = text.strip_prefix("aws_iam_role.");
            let role = role.and_then(|r| r.split(['.', '[']).next());
            let role = role.and_then(|r| service.block("resource", &["aws_iam_role", r]));
            let Some(name) = role.and_then(|r| attr(&r.body, "name")) else {
                v.push(format!("task definition {arg} {text:?}: no named aws_iam_role"));
                continue;
            };
            let each = if text.contains("[each.key]") {
                &keys[..]
            } else {
                &[String::new()]
            };
            for key in each {
                let bindings = [("var.name_prefix", "<project>-<env>"), ("each.key", key)];
                match render(name, service, &bindings) {
                    Ok(role) => used.extend(role.strip_prefix(PREFIX).map(str::to_string)),
                    Err(e) => v.push(format!("{text} name: {e}")),
                }
            }
        }
    }
    let github = dir(infra, "modules/github_actions");
    let mut passable = BTreeSet::new();
    let deploy = github.block("data", &["aws_iam_policy_document", "deploy"]);
    for st in deploy.into_iter().flat_map(|d| nested(&d.body, "statement")) {
        if !attr(&st.body, "actions").is_some_and(|a| show(a).contains("\"iam:PassRole\"")) {
            continue;
        }
        let Some(Expression::Array(resources)) = attr(&st.body, "resources") else {
            v.push("the deploy policy's PassRole resources are not a literal list".into());
            continue;
        };
        for r in resources {
            match render(r, github, &[("local.env[each.key].role_arn", PREFIX)]) {
                Ok(role) if role.contains('*') || !role.starts_with(PREFIX) => {
                    v.push(format!("the deploy role may pass {role:?}, not one named role"))
                }
                Ok(role) => drop(passable.insert(role[PREFIX.len()..].to_string())),
                Err(e) => v.push(format!("deploy PassRole resource: {e}")),
            }
        }
    }
    if used.is_empty() || passable.is_empty() {
        v.push(format!("task roles {used:?}, PassRole targets {passable:?}: want both"));
    }
    for role in used.difference(&passable) {
        v.push(format!("the deploy role cannot pass task role {PREFIX}{role}"));
    }
    for role in passable.difference(&used) {
        v.push(format!("the deploy role may pass {PREFIX}{role}, which no task uses"));
    }
    v
}

/// ECS sends SIGKILL `stopTimeout` seconds after SIGTERM: it must exceed the time the service gives in-flight
/// requests (`SHUTDOWN_GRACE_SECS`, set on the task or the CLI's default), or the kill cuts the drain short.
fn check_stop_timeout(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let number = |r: Result<String, String>| r?.parse::<u64>().map_err(|e| e.to_string());
    let default = svc.defaults.get("SHUTDOWN_GRACE_SECS").cloned();
    let default = default.ok_or("the CLI has no default".into());
    for task in tasks(infra, &mut v) {
        let grace = task.env(infra, "SHUTDOWN_GRACE_SECS", &mut v);
        let grace = grace.unwrap_or(default.clone());
        let (key, stop) = (&task.key, task.literal(infra, "stopTimeout"));
        match (number(grace), number(stop)) {
            (Ok(grace), Ok(stop)) if stop > grace => {}
            (grace, stop) => v.push(format!("task {key}: stopTimeout {stop:?}, not > grace {grace:?}")),
        }
    }
    v
}

/// A new api task answers the ALB's health check 503 while it warms up, for at most `READ_MODEL_WARMUP_TIMEOUT_SECS`
/// (W). It must then neither be killed nor counted unhealthy: ECS ignores ALB health for the service's grace period,
/// which must cover W and the ALB's healthy threshold (W + healthy_threshold x interval); and the target group marks
/// a target unhealthy after unhealthy_threshold x interval of failures, which must outlast W with 15 s for the
/// process to start (the unhealthy-hosts alarm rolls a deployment back).
fn check_warmup_fits_the_health_checks(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let number = |r: Result<String, String>| r?.parse::<u64>().map_err(|e| e.to_string());
    let default = svc.defaults.get("READ_MODEL_WARMUP_TIMEOUT_SECS").cloned();
    let Some(api) = tasks(infra, &mut v).into_iter().find(|task| task.key == "api") else {
        return vec!["no api task".into()];
    };
    let warmup = api.env(infra, "READ_MODEL_WARMUP_TIMEOUT_SECS", &mut v);
    let warmup = match number(warmup.unwrap_or(default.ok_or("the CLI has no default".into()))) {
        Ok(warmup) => warmup,
        Err(error) => return vec![format!("READ_MODEL_WARMUP_TIMEOUT_SECS: {error}")],
    };
    let service = dir(infra, "modules/service");
    let grace = service
        .block("resource", &["aws_ecs_service", "api"])
        .and_then(|api| attr(&api.body, "health_check_grace_period_seconds"))
        .map(|grace| number(infra.literal(service, grace)));
    let lb = dir(infra, "modules/load_balancer");
    for tg in lb.blocks("resource", &["aws_lb_target_group"]) {
        let name = format!("aws_lb_target_group.{}", label(tg, 1).unwrap_or("?"));
        for hc in nested(&tg.body, "health_check") {
            let field = |key| attr(&hc.body, key).map(|e| number(infra.literal(lb, e)));
            let (interval, healthy, unhealthy) = (
                field("interval"),
                field("healthy_threshold"),
                field("unhealthy_threshold"),
            );
            let (Some(Ok(interval)), Some(Ok(healthy)), Some(Ok(unhealthy))) = (interval, healthy, unhealthy) else {
                v.push(format!("{name}: interval and thresholds must be set as numbers"));
                continue;
            };
            match &grace {
                Some(Ok(grace)) if *grace >= warmup + healthy * interval => {}
                other => v.push(format!(
                    "aws_ecs_service.api health check grace {other:?} s, under the warm-up bound {warmup} s + \
                     {healthy} x {interval} s: ECS replaces a task still warming"
                )),
            }
            if unhealthy * interval < warmup + 15 {
                v.push(format!(
                    "{name}: unhealthy after {unhealthy} x {interval} s, within the warm-up bound {warmup} s + 15 s: \
                     a warming task counts as unhealthy"
                ));
            }
        }
    }
    v
}

/// Every container runs as the image's non-root user on a read-only root filesystem. checkov has a rule for this
/// (CKV_AWS_336) but misses it here: it does not look inside `jsonencode([merge(...)])`, and passes a task
/// definition whose containers set `readonlyRootFilesystem = false`.
fn check_container_hardening(infra: &Infra, _: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    for task in tasks(infra, &mut v) {
        for (field, want) in [("readonlyRootFilesystem", "true"), ("user", "65532")] {
            match task.literal(infra, field) {
                Ok(got) if got == want => {}
                got => v.push(format!("task {}: {field} must be {want}, got {got:?}", task.key)),
            }
        }
    }
    v
}

// --- each check on the real infra/ and on broken copies ---------------------------------------------------------

const TASK_DEFS: &str = "modules/service/task_definitions.tf";
const ENVIRONMENT: &str = "modules/environment/main.tf";
pub(crate) const LOAD_BALANCER: &str = "modules/load_balancer/main.tf";
const SSL: &str = r#"{ name = "DB_SSLMODE", value = "require" },"#;

#[test]
fn the_checks_see_the_three_tasks_and_the_service_they_assume() {
    let svc = ServiceContract::from_service();
    let (infra, mut v) = (Infra::load(DIRS), Violations::new());
    let keys: Vec<String> = tasks(&infra, &mut v).into_iter().map(|t| t.key).collect();
    assert_eq!(keys, ["api", "migrate", "db-roles"], "{v:?}");
    assert_eq!(svc.default_port, 8080);
    assert!(svc.routes.contains("/health") && svc.routes.contains("/ready"));
    assert!(svc.secret_env.contains("DB_PASSWORD") && svc.secret_env.contains("API_KEYS"));
    assert!(svc.env_for("provision-roles").unwrap().contains("MIGRATOR_DB_PASSWORD"));
    assert!(!svc.env_for("serve").unwrap().contains("MIGRATOR_DB_PASSWORD"));
}

#[test]
fn infra_task_environment_is_what_the_service_reads() {
    let check = check_task_environment;
    assert_clean(check);
    let to = r#"{ name = "DATABASE_HOST", value = "db" },"#;
    let want = "task migrate sets DATABASE_HOST, which `migrate` does not read";
    assert_reports(check, TASK_DEFS, (SSL, to), &[want]);
    // A provision-roles-only variable on the server.
    let from = r#"{ name = "API_KEYS", valueFrom"#;
    let to = r#"{ name = "MIGRATOR_DB_PASSWORD", valueFrom"#;
    let want = "task api sets MIGRATOR_DB_PASSWORD, which `serve` does not read";
    assert_reports(check, TASK_DEFS, (from, to), &[want]);
    let to = format!("{SSL}\n{{ name = \"DB_PASSWORD\", value = \"hunter2\" }},");
    let want = "task migrate: secret DB_PASSWORD set in plain environment";
    assert_reports(check, TASK_DEFS, (SSL, to), &[want]);
}

#[test]
fn infra_tasks_run_as_production_over_tls() {
    let check = check_production_settings;
    assert_clean(check);
    let to = r#"{ name = "DB_SSLMODE", value = "prefer" },"#;
    assert_reports(check, TASK_DEFS, (SSL, to), &["DB_SSLMODE must require TLS"]);
}

#[test]
fn infra_ports_match_the_service() {
    assert_clean(check_ports);
    let (from, to) = ("app_port    = 8080", "app_port    = 3000");
    let want = [
        "api containerPort is Ok(\"3000\")",
        "api PORT is Ok(\"3000\")",
        "group.api port is",
    ];
    assert_reports(check_ports, ENVIRONMENT, (from, to), &want);
    let (from, to) = ("containerPort = var.container_port", "containerPort = 9090");
    let want = "task api containerPort is Ok(\"9090\"), not the service's DEFAULT_PORT 8080";
    assert_reports(check_ports, TASK_DEFS, (from, to), &[want]);
}

#[test]
fn infra_health_checks_use_served_routes_and_subcommands() {
    let check = check_health_checks;
    assert_clean(check);
    let from = r#"health_check_path   = "/started""#;
    let (ready, typo) = (from.replace("/started", "/ready"), from.replace("/started", "/healthz"));
    let want = "aws_lb_target_group.api health check uses /ready";
    assert_reports(check, ENVIRONMENT, (from, ready), &[want]);
    let want = "aws_lb_target_group.api health check path /healthz is no route";
    assert_reports(check, ENVIRONMENT, (from, typo), &[want]);
    let catalog = from.replace("/started", "/v2/beers");
    let want = "aws_lb_target_group.api health check path Ok(\"/v2/beers\"), not the start-up route /started";
    assert_reports(check, ENVIRONMENT, (from, catalog), &[want]);
    // Liveness alone would send a warming task traffic at once: the cold window issue 22 closed.
    let liveness = from.replace("/started", "/health");
    let want = "aws_lb_target_group.api health check path Ok(\"/health\"), not the start-up route /started";
    assert_reports(check, ENVIRONMENT, (from, liveness), &[want]);
    let (from, to) = (r#"port                = "traffic-port""#, "port                = 9000");
    let want = "aws_lb_target_group.api health check port Some(Ok(\"9000\")), not the traffic port";
    assert_reports(check, LOAD_BALANCER, (from, to), &[want]);
    let from = r#""/usr/local/bin/beer-catalog", "healthcheck"]"#;
    let want = "task api healthCheck runs Some(\"health\"): no subcommand";
    assert_reports(check, TASK_DEFS, (from, from.replace("healthcheck", "health")), &[want]);
}

#[test]
fn infra_deploy_role_passes_exactly_the_task_roles() {
    let (check, file) = (check_pass_role_targets, "modules/github_actions/deploy.tf");
    assert_clean(check);
    let from = r#""${local.env[each.key].role_arn}migrate-execution","#;
    let admin = from.replace("migrate-execution", "admin");
    let any = from.replace("migrate-execution", "*");
    let cannot = "the deploy role cannot pass task role <project>-<env>-migrate-execution";
    let want = [
        cannot,
        "the deploy role may pass <project>-<env>-admin, which no task uses",
    ];
    assert_reports(check, file, (from, admin), &want);
    let want = "the deploy role may pass \"<project>-<env>-*\", not one named role";
    assert_reports(check, file, (from, any), &[want]);
}

#[test]
fn infra_containers_are_read_only_and_non_root() {
    let check = check_container_hardening;
    assert_clean(check);
    let (from, to) = ("readonlyRootFilesystem = true", "readonlyRootFilesystem = false");
    let want = "task db-roles: readonlyRootFilesystem must be true, got Ok(\"false\")";
    assert_reports(check, TASK_DEFS, (from, to), &[want]);
    let (from, to) = (r#"nonroot_uid = "65532""#, r#"nonroot_uid = "0""#);
    let want = "task api: user must be 65532, got Ok(\"0\")";
    assert_reports(check, TASK_DEFS, (from, to), &[want]);
}

#[test]
fn infra_health_checks_wait_for_a_warming_task() {
    let check = check_warmup_fits_the_health_checks;
    assert_clean(check);
    let from = "health_check_grace_seconds        = local.read_model_warmup_timeout_seconds + 60";
    let to = "health_check_grace_seconds        = 30";
    let want = "aws_ecs_service.api health check grace Some(Ok(30)) s, under the warm-up bound 30 s + 2 x 15 s";
    assert_reports(check, TASK_DEFS, (from, to), &[want]);
    let (from, to) = (
        "read_model_warmup_timeout_seconds = 30",
        "read_model_warmup_timeout_seconds = 40",
    );
    let want = "aws_lb_target_group.api: unhealthy after 3 x 15 s, within the warm-up bound 40 s + 15 s";
    assert_reports(check, TASK_DEFS, (from, to), &[want]);
}

#[test]
fn infra_stop_timeout_exceeds_the_shutdown_grace() {
    assert_clean(check_stop_timeout);
    let from = "stop_timeout_seconds   = local.shutdown_grace_seconds + 10";
    // migrate sets no SHUTDOWN_GRACE_SECS: the CLI's default applies.
    let want = [
        "task api: stopTimeout Ok(20), not > grace Ok(20)",
        "task migrate: stopTimeout Ok(20), not",
    ];
    let to = "stop_timeout_seconds   = 20";
    assert_reports(check_stop_timeout, TASK_DEFS, (from, to), &want);
}
