//! Contract between the Terraform under `infra/` and the service it deploys: only what no standard tool can
//! check, because it needs the service's own definition (`Cli::command()`, `DEFAULT_PORT`, the routes of the
//! OpenAPI document, `tests/support/service.rs`):
//!
//! - every variable a task definition sets (environment or secrets) is one the CLI reads for the subcommand the
//!   container runs;
//! - secrets (the settings the CLI hides) arrive only through `secrets`, never in `environment`;
//! - the container port, `PORT` and the target group port are the service's default port;
//! - the ALB health check path is a route the service serves (and not `/ready`); the container health check runs
//!   a real subcommand;
//! - the deploy role may `iam:PassRole` exactly the roles the task definitions use;
//! - each task's `stopTimeout` exceeds its shutdown grace (`SHUTDOWN_GRACE_SECS`, or the CLI's default);
//! - and, because checkov misses it inside the container definitions, read-only root and the non-root user.
//!
//! Each check returns violations: the real `infra/` has none, and a broken copy (the real files with one edit,
//! `Dir::load_broken`) makes it report the specific one, which proves it can fail. What standard tools check is
//! not repeated here: validity of every reference, argument and module call (`../shared/tools/tf-schema/check
//! infra`), security groups, RDS flags, public IPs, encryption (checkov in `scripts/check-infra.sh`).
//!
//! Run: `cargo test --test infra_contract`.

#[path = "../support/service.rs"]
mod service;
#[path = "../support/terraform.rs"]
mod terraform;

use hcl::Expression;
use hcl::expr::{Object, ObjectKey};
use service::ServiceContract;
use std::collections::BTreeSet;
use terraform::{Dir, attr, key_str, label, literal, nested, object_get, reference, render, show};

type Violations = Vec<String>;
type Fields = Object<ObjectKey, Expression>;

/// The directories the checks read; `modules/environment` is the one caller of `service` and `load_balancer`,
/// so their `var.X` are the arguments it passes.
struct Infra {
    environment: Dir,
    service: Dir,
    load_balancer: Dir,
    github_actions: Dir,
}

impl Infra {
    fn real() -> Infra {
        Infra {
            environment: Dir::load("modules/environment"),
            service: Dir::load("modules/service"),
            load_balancer: Dir::load("modules/load_balancer"),
            github_actions: Dir::load("modules/github_actions"),
        }
    }

    /// The real configuration with one edit in `infra/modules/<module>/<file>`.
    fn broken(module: &str, file: &str, from: &str, to: &str) -> Infra {
        let mut infra = Infra::real();
        let dir = Dir::load_broken(&format!("modules/{module}"), file, from, to);
        match module {
            "environment" => infra.environment = dir,
            "service" => infra.service = dir,
            "load_balancer" => infra.load_balancer = dir,
            "github_actions" => infra.github_actions = dir,
            other => panic!("no module {other} in the contract"),
        }
        infra
    }

    fn caller(&self, module: &str) -> Option<(&Dir, &hcl::Block)> {
        Some((&self.environment, self.environment.block("module", &[module])?))
    }
}

/// One task of `local.tasks` in modules/service: its key (family suffix and container name) and its container
/// fields, over the fields every task shares (the first argument of the task definition's `merge`).
struct Task<'a> {
    key: String,
    own: &'a Fields,
    shared: Option<&'a Fields>,
}

impl Task<'_> {
    fn field(&self, name: &str) -> Option<&Expression> {
        object_get(self.own, name).or_else(|| self.shared.and_then(|s| object_get(s, name)))
    }

    /// The subcommand the container runs: the first word of `command`, else the image's default, `serve`.
    fn subcommand(&self) -> Result<String, String> {
        match self.field("command") {
            None => Ok("serve".into()),
            Some(Expression::Array(words)) if matches!(words.first(), Some(Expression::String(_))) => {
                Ok(terraform::template_text(&words[0]).unwrap_or_default())
            }
            Some(other) => Err(format!(
                "task {}: command {} is not a literal list",
                self.key,
                show(other)
            )),
        }
    }
}

fn tasks<'a>(infra: &'a Infra, v: &mut Violations) -> Vec<Task<'a>> {
    let svc = &infra.service;
    let Some(Expression::Object(all)) = svc.local("tasks") else {
        v.push(format!(
            "{}: no local.tasks object (the task definitions' for_each)",
            svc.name
        ));
        return Vec::new();
    };
    // container_definitions = jsonencode([merge({ shared fields }, each.value.container)])
    let shared = svc.block("resource", &["aws_ecs_task_definition"]).and_then(|td| {
        let Some(Expression::FuncCall(json)) = attr(&td.body, "container_definitions") else {
            return None;
        };
        let Some(Expression::Array(items)) = json.args.first() else {
            return None;
        };
        let Some(Expression::FuncCall(merge)) = items.first() else {
            return None;
        };
        match merge.args.first() {
            Some(Expression::Object(shared)) => Some(shared),
            _ => None,
        }
    });
    let mut out = Vec::new();
    for (key, task) in all.iter() {
        let key = key_str(key).unwrap_or_default();
        match task {
            Expression::Object(task) => match object_get(task, "container") {
                Some(Expression::Object(own)) => out.push(Task { key, own, shared }),
                _ => v.push(format!("{}: local.tasks.{key}.container is not an object", svc.name)),
            },
            _ => v.push(format!("{}: local.tasks.{key} is not an object", svc.name)),
        }
    }
    if out.is_empty() {
        v.push(format!("{}: local.tasks has no task", svc.name));
    }
    out
}

/// The `(name, value)` pairs of a container's `environment` or `secrets` (`value_key` = `value` / `valueFrom`):
/// a list of objects, `concat(...)` of such lists, or `local.X` naming one.
fn entries<'a>(
    expr: &'a Expression,
    value_key: &str,
    dir: &'a Dir,
    out: &mut Vec<(String, &'a Expression)>,
) -> Result<(), String> {
    match expr {
        Expression::Array(items) => {
            for item in items {
                let Expression::Object(o) = item else {
                    return Err(format!("entry {} is not an object", show(item)));
                };
                let (Some(Expression::String(name)), Some(value)) = (object_get(o, "name"), object_get(o, value_key))
                else {
                    return Err(format!("entry {} has no literal name and {value_key}", show(item)));
                };
                out.push((name.clone(), value));
            }
            Ok(())
        }
        Expression::FuncCall(call) if call.name.name.as_str() == "concat" => {
            call.args.iter().try_for_each(|a| entries(a, value_key, dir, out))
        }
        _ => match reference(expr) {
            Some(("local", name)) => entries(dir.local(name).ok_or(format!("no local.{name}"))?, value_key, dir, out),
            _ => Err(format!("{} is not a list of entries", show(expr))),
        },
    }
}

fn task_entries<'a>(
    infra: &'a Infra,
    task: &'a Task,
    field: &str,
    v: &mut Violations,
) -> Vec<(String, &'a Expression)> {
    let mut out = Vec::new();
    let value_key = if field == "secrets" { "valueFrom" } else { "value" };
    if let Some(expr) = task.field(field)
        && let Err(e) = entries(expr, value_key, &infra.service, &mut out)
    {
        v.push(format!("task {}: {field}: {e}", task.key));
    }
    out
}

// --- the checks ------------------------------------------------------------------------------------------------

/// Every variable a task sets is read by the CLI for its subcommand, and hidden settings come only from secrets.
fn check_task_environment(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    for task in tasks(infra, &mut v) {
        let sub = match task.subcommand() {
            Ok(sub) => sub,
            Err(e) => {
                v.push(e);
                continue;
            }
        };
        let Some(reads) = svc.env_for(&sub) else {
            v.push(format!(
                "task {} runs `{sub}`, which is not a subcommand of the service",
                task.key
            ));
            continue;
        };
        for field in ["environment", "secrets"] {
            for (name, _) in task_entries(infra, &task, field, &mut v) {
                if !reads.contains(&name) {
                    v.push(format!(
                        "task {} sets {name}, which the service does not read when running `{sub}`",
                        task.key
                    ));
                }
                if field == "environment" && svc.secret_env.contains(&name) {
                    v.push(format!(
                        "task {}: {name} is a secret setting, set in plain environment (use secrets)",
                        task.key
                    ));
                }
            }
        }
    }
    v
}

/// The container port, `PORT` and the target group port are the service's `DEFAULT_PORT`.
fn check_ports(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let want = svc.default_port.to_string();
    let mut seen = 0;
    let mut expect = |what: String, got: Result<String, String>, v: &mut Violations| match got {
        Ok(port) if port == want => seen += 1,
        Ok(port) => v.push(format!("{what} is {port}, not the service's DEFAULT_PORT {want}")),
        Err(e) => v.push(format!("{what}: {e}")),
    };
    for task in tasks(infra, &mut v) {
        if let Some(Expression::Array(mappings)) = task.field("portMappings") {
            for m in mappings {
                let port = match m {
                    Expression::Object(o) => object_get(o, "containerPort"),
                    _ => None,
                };
                let port = port.ok_or_else(|| "no containerPort".to_string());
                let got = port.and_then(|p| literal(p, &infra.service, infra.caller("service")));
                expect(format!("task {} containerPort", task.key), got, &mut v);
            }
        }
        for (name, value) in task_entries(infra, &task, "environment", &mut v) {
            if name == "PORT" {
                let got = literal(value, &infra.service, infra.caller("service"));
                expect(format!("task {} PORT", task.key), got, &mut v);
            }
        }
    }
    for tg in infra.load_balancer.blocks("resource", &["aws_lb_target_group"]) {
        let got = attr(&tg.body, "port").ok_or_else(|| "no port".to_string());
        let got = got.and_then(|p| literal(p, &infra.load_balancer, infra.caller("load_balancer")));
        expect(
            format!("aws_lb_target_group.{} port", label(tg, 1).unwrap_or("?")),
            got,
            &mut v,
        );
    }
    if seen < 2 {
        v.push(format!(
            "expected a containerPort and a target group port, found {seen} port(s) in all"
        ));
    }
    v
}

/// The ALB checks a route the service serves, and not the readiness route: `/ready` fails while the database is
/// down, so ECS would replace every task during a database outage. The container health check runs a subcommand.
fn check_health_checks(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let mut seen = 0;
    for tg in infra.load_balancer.blocks("resource", &["aws_lb_target_group"]) {
        let name = label(tg, 1).unwrap_or("?");
        for hc in nested(&tg.body, "health_check") {
            seen += 1;
            let path = attr(&hc.body, "path").ok_or_else(|| "no path".to_string());
            match path.and_then(|p| literal(p, &infra.load_balancer, infra.caller("load_balancer"))) {
                Ok(path) if path == "/ready" => v.push(format!(
                    "aws_lb_target_group.{name} health check uses /ready, which fails while the database is down"
                )),
                Ok(path) if !svc.routes.contains(&path) => v.push(format!(
                    "aws_lb_target_group.{name} health check path {path} is not a route the service serves"
                )),
                Ok(_) => {}
                Err(e) => v.push(format!("aws_lb_target_group.{name} health check: {e}")),
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
            Some(Expression::Array(cmd)) => cmd.get(2).and_then(terraform::template_text),
            _ => None,
        };
        match sub {
            Some(sub) if svc.has_subcommand(&sub) => {}
            Some(sub) => v.push(format!(
                "task {} healthCheck runs `{sub}`, which is not a subcommand of the service",
                task.key
            )),
            None => v.push(format!(
                "task {} healthCheck command is not [\"CMD\", <binary>, <subcommand>]",
                task.key
            )),
        }
    }
    if seen < 2 {
        v.push("expected an ALB health check and a container health check".into());
    }
    v
}

/// The deploy role may pass exactly the roles the task definitions carry, compared by the part of the role name
/// after `<project>-<env>-`.
fn check_pass_role_targets(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    const PREFIX: &str = "<project>-<env>-";
    let mut used = BTreeSet::new();
    let keys: Vec<String> = tasks(infra, &mut v).iter().map(|t| t.key.clone()).collect();
    for td in infra.service.blocks("resource", &["aws_ecs_task_definition"]) {
        for arg in ["execution_role_arn", "task_role_arn"] {
            // aws_iam_role.NAME.arn or aws_iam_role.NAME[each.key].arn
            let text = attr(&td.body, arg).map(show).unwrap_or_default();
            let Some(rest) = text.strip_prefix("aws_iam_role.") else {
                v.push(format!(
                    "task definition {arg} {text:?} is not an aws_iam_role of modules/service"
                ));
                continue;
            };
            let role_name = rest.split(['.', '[']).next().unwrap_or_default();
            let Some(name) = infra
                .service
                .block("resource", &["aws_iam_role", role_name])
                .and_then(|r| attr(&r.body, "name"))
            else {
                v.push(format!(
                    "task definition {arg}: no aws_iam_role.{role_name} with a name"
                ));
                continue;
            };
            let each: Vec<&str> = if rest.contains("[each.key]") {
                keys.iter().map(String::as_str).collect()
            } else {
                vec![""]
            };
            for key in each {
                match render(
                    name,
                    &infra.service,
                    &[("var.name_prefix", "<project>-<env>"), ("each.key", key)],
                ) {
                    Ok(role) => used.extend(role.strip_prefix(PREFIX).map(str::to_string)),
                    Err(e) => v.push(format!("aws_iam_role.{role_name} name: {e}")),
                }
            }
        }
    }
    let mut passable = BTreeSet::new();
    let deploy = infra
        .github_actions
        .block("data", &["aws_iam_policy_document", "deploy"]);
    for st in deploy.into_iter().flat_map(|d| nested(&d.body, "statement")) {
        if !attr(&st.body, "actions").is_some_and(|a| show(a).contains("\"iam:PassRole\"")) {
            continue;
        }
        let Some(Expression::Array(resources)) = attr(&st.body, "resources") else {
            v.push("the deploy policy's PassRole resources are not a literal list".into());
            continue;
        };
        for r in resources {
            match render(r, &infra.github_actions, &[("local.env[each.key].role_arn", PREFIX)]) {
                Ok(role) if role.contains('*') || !role.starts_with(PREFIX) => v.push(format!(
                    "the deploy role may pass {role:?}, not one named role of the environment"
                )),
                Ok(role) => {
                    passable.insert(role[PREFIX.len()..].to_string());
                }
                Err(e) => v.push(format!("deploy PassRole resource: {e}")),
            }
        }
    }
    if used.is_empty() || passable.is_empty() {
        v.push(format!(
            "found task roles {used:?} and deploy PassRole targets {passable:?}: expected both"
        ));
    }
    for role in used.difference(&passable) {
        v.push(format!(
            "task definitions use role {PREFIX}{role}, which the deploy role cannot pass"
        ));
    }
    for role in passable.difference(&used) {
        v.push(format!(
            "the deploy role may pass {PREFIX}{role}, which no task definition uses"
        ));
    }
    v
}

/// ECS sends SIGKILL `stopTimeout` seconds after SIGTERM: it must exceed the time the service gives in-flight
/// requests (`SHUTDOWN_GRACE_SECS`, set on the task or the CLI's default), or the kill cuts the drain short.
fn check_stop_timeout(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let number =
        |r: Result<String, String>| r.and_then(|s| s.parse::<u64>().map_err(|_| format!("{s:?} is not a number")));
    for task in tasks(infra, &mut v) {
        let set = task_entries(infra, &task, "environment", &mut v)
            .into_iter()
            .find(|(n, _)| n == "SHUTDOWN_GRACE_SECS");
        let grace = match set {
            Some((_, value)) => literal(value, &infra.service, infra.caller("service")),
            None => svc
                .defaults
                .get("SHUTDOWN_GRACE_SECS")
                .cloned()
                .ok_or_else(|| "the CLI has no default".to_string()),
        };
        let stop = task.field("stopTimeout").ok_or_else(|| "not set".to_string());
        match (
            number(grace),
            number(stop.and_then(|s| literal(s, &infra.service, infra.caller("service")))),
        ) {
            (Ok(grace), Ok(stop)) if stop <= grace => v.push(format!(
                "task {}: stopTimeout {stop} s does not exceed its shutdown grace {grace} s",
                task.key
            )),
            (Ok(_), Ok(_)) => {}
            (grace, stop) => v.push(format!(
                "task {}: shutdown grace {grace:?}, stopTimeout {stop:?}",
                task.key
            )),
        }
    }
    v
}

/// Every container runs as the image's non-root user on a read-only root filesystem. checkov has a rule for this
/// (CKV_AWS_336) but misses it here: it does not look inside `jsonencode([merge(...)])`, and passes a task
/// definition whose containers set `readonlyRootFilesystem = false`.
fn check_container_hardening(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    for task in tasks(infra, &mut v) {
        for (field, want) in [("readonlyRootFilesystem", "true"), ("user", "65532")] {
            let got = task.field(field).ok_or_else(|| "not set".to_string());
            match got.and_then(|e| literal(e, &infra.service, None)) {
                Ok(got) if got == want => {}
                got => v.push(format!("task {}: {field} must be {want}, got {got:?}", task.key)),
            }
        }
    }
    v
}

// --- the real infra/ satisfies every check ---------------------------------------------------------------------

fn assert_clean(check: &str, violations: Violations) {
    assert!(
        violations.is_empty(),
        "{check} on infra/:\n  {}",
        violations.join("\n  ")
    );
}

#[test]
fn the_checks_see_the_three_tasks_and_the_service_they_assume() {
    let svc = ServiceContract::from_service();
    let mut v = Violations::new();
    let infra = Infra::real();
    let keys: Vec<String> = tasks(&infra, &mut v).iter().map(|t| t.key.clone()).collect();
    assert_eq!(keys, ["api", "migrate", "db-roles"], "{v:?}");
    assert_eq!(svc.default_port, 8080);
    assert!(
        svc.routes.contains("/health") && svc.routes.contains("/ready"),
        "{:?}",
        svc.routes
    );
    assert!(svc.secret_env.contains("DB_PASSWORD") && svc.secret_env.contains("API_KEYS"));
    assert!(svc.env_for("provision-roles").unwrap().contains("MIGRATOR_DB_PASSWORD"));
    assert!(!svc.env_for("serve").unwrap().contains("MIGRATOR_DB_PASSWORD"));
}

#[test]
fn infra_task_environment_is_what_the_service_reads() {
    assert_clean(
        "check_task_environment",
        check_task_environment(&Infra::real(), &ServiceContract::from_service()),
    );
}

#[test]
fn infra_ports_match_the_service() {
    assert_clean(
        "check_ports",
        check_ports(&Infra::real(), &ServiceContract::from_service()),
    );
}

#[test]
fn infra_health_checks_use_served_routes_and_subcommands() {
    assert_clean(
        "check_health_checks",
        check_health_checks(&Infra::real(), &ServiceContract::from_service()),
    );
}

#[test]
fn infra_deploy_role_passes_exactly_the_task_roles() {
    assert_clean("check_pass_role_targets", check_pass_role_targets(&Infra::real()));
}

#[test]
fn infra_containers_are_read_only_and_non_root() {
    assert_clean("check_container_hardening", check_container_hardening(&Infra::real()));
}

#[test]
fn infra_stop_timeout_exceeds_the_shutdown_grace() {
    assert_clean(
        "check_stop_timeout",
        check_stop_timeout(&Infra::real(), &ServiceContract::from_service()),
    );
}

// --- each check reports its violation on a broken copy ----------------------------------------------------------

fn assert_reports(violations: Violations, expected: &[&str]) {
    for needle in expected {
        assert!(
            violations.iter().any(|v| v.contains(needle)),
            "expected a violation mentioning {needle:?}, got:\n  {}",
            violations.join("\n  ")
        );
    }
}

const DB_ENV_LINE: &str = r#"{ name = "DB_SSLMODE", value = "require" },"#;

#[test]
fn an_unknown_or_misplaced_variable_is_reported() {
    let svc = ServiceContract::from_service();
    let typo = Infra::broken(
        "service",
        "task_definitions.tf",
        DB_ENV_LINE,
        r#"{ name = "DATABASE_HOST", value = "db" },"#,
    );
    assert_reports(
        check_task_environment(&typo, &svc),
        &["sets DATABASE_HOST, which the service does not read"],
    );
    // A provision-roles-only variable on the server.
    let api_keys = r#"{ name = "API_KEYS", valueFrom"#;
    let wrong = Infra::broken(
        "service",
        "task_definitions.tf",
        api_keys,
        r#"{ name = "MIGRATOR_DB_PASSWORD", valueFrom"#,
    );
    assert_reports(
        check_task_environment(&wrong, &svc),
        &["task api sets MIGRATOR_DB_PASSWORD, which the service does not read when running `serve`"],
    );
}

#[test]
fn a_secret_in_plain_environment_is_reported() {
    let leaked = format!("{DB_ENV_LINE}\n{{ name = \"DB_PASSWORD\", value = \"hunter2\" }},");
    let infra = Infra::broken("service", "task_definitions.tf", DB_ENV_LINE, &leaked);
    assert_reports(
        check_task_environment(&infra, &ServiceContract::from_service()),
        &["task migrate: DB_PASSWORD is a secret setting, set in plain environment"],
    );
}

#[test]
fn a_wrong_port_is_reported() {
    let svc = ServiceContract::from_service();
    let app_port = Infra::broken("environment", "main.tf", "app_port    = 8080", "app_port    = 3000");
    assert_reports(
        check_ports(&app_port, &svc),
        &[
            "task api containerPort is 3000",
            "task api PORT is 3000",
            "aws_lb_target_group.api port is 3000",
        ],
    );
    let container = Infra::broken(
        "service",
        "task_definitions.tf",
        "containerPort = var.container_port",
        "containerPort = 9090",
    );
    assert_reports(
        check_ports(&container, &svc),
        &["task api containerPort is 9090, not the service's DEFAULT_PORT 8080"],
    );
}

#[test]
fn bad_health_checks_are_reported() {
    let svc = ServiceContract::from_service();
    let path = r#"health_check_path   = "/health""#;
    let ready = Infra::broken("environment", "main.tf", path, r#"health_check_path   = "/ready""#);
    assert_reports(
        check_health_checks(&ready, &svc),
        &["aws_lb_target_group.api health check uses /ready"],
    );
    let typo = Infra::broken("environment", "main.tf", path, r#"health_check_path   = "/healthz""#);
    assert_reports(
        check_health_checks(&typo, &svc),
        &["health check path /healthz is not a route"],
    );
    let cmd = r#""/usr/local/bin/beer-catalog", "healthcheck"]"#;
    let sub = Infra::broken(
        "service",
        "task_definitions.tf",
        cmd,
        r#""/usr/local/bin/beer-catalog", "health"]"#,
    );
    assert_reports(
        check_health_checks(&sub, &svc),
        &["task api healthCheck runs `health`, which is not a subcommand"],
    );
}

#[test]
fn a_pass_role_mismatch_is_reported() {
    let migrate = r#""${local.env[each.key].role_arn}migrate-execution","#;
    let admin = r#""${local.env[each.key].role_arn}admin","#;
    let infra = Infra::broken("github_actions", "deploy.tf", migrate, admin);
    assert_reports(
        check_pass_role_targets(&infra),
        &[
            "task definitions use role <project>-<env>-migrate-execution, which the deploy role cannot pass",
            "the deploy role may pass <project>-<env>-admin, which no task definition uses",
        ],
    );
    let wildcard = Infra::broken(
        "github_actions",
        "deploy.tf",
        migrate,
        r#""${local.env[each.key].role_arn}*","#,
    );
    assert_reports(
        check_pass_role_targets(&wildcard),
        &["not one named role of the environment"],
    );
}

#[test]
fn a_stop_timeout_within_the_grace_is_reported() {
    let svc = ServiceContract::from_service();
    let stop = "stop_timeout_seconds   = local.shutdown_grace_seconds + 10";
    let short = Infra::broken("service", "task_definitions.tf", stop, "stop_timeout_seconds   = 20");
    assert_reports(
        check_stop_timeout(&short, &svc),
        &[
            "task api: stopTimeout 20 s does not exceed its shutdown grace 20 s",
            // migrate sets no SHUTDOWN_GRACE_SECS: the CLI's default applies.
            "task migrate: stopTimeout 20 s does not exceed its shutdown grace 20 s",
        ],
    );
}

#[test]
fn a_writable_or_root_container_is_reported() {
    let writable = Infra::broken(
        "service",
        "task_definitions.tf",
        "readonlyRootFilesystem = true",
        "readonlyRootFilesystem = false",
    );
    assert_reports(
        check_container_hardening(&writable),
        &["task db-roles: readonlyRootFilesystem must be true, got Ok(\"false\")"],
    );
    let root = Infra::broken(
        "service",
        "task_definitions.tf",
        r#"nonroot_uid = "65532""#,
        r#"nonroot_uid = "0""#,
    );
    assert_reports(
        check_container_hardening(&root),
        &["task api: user must be 65532, got Ok(\"0\")"],
    );
}
