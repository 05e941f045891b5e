//! The contract checks. Each takes a loaded tree (the real `infra/` or a broken fixture) and returns the
//! violations it finds; the tests expect none on `infra/` and a specific one on each fixture.

use crate::service::ServiceContract;
use crate::terraform::{
    Instance, Tree, as_str, as_u64, attr, blocks, body_expressions, label, object_get, referenced_resource, references,
    show,
};
use hcl::Expression;
use std::collections::{BTreeMap, BTreeSet};

pub type Violations = Vec<String>;

const BINARY: &str = "/usr/local/bin/beer-catalog";
const NONROOT_UID: &str = "65532";
/// The readiness route checks the database: a database outage must not make the ALB/ECS kill every task.
const READINESS_ROUTE: &str = "/ready";

/// One container of one task definition, with its definition resolved as far as possible.
struct Container<'a> {
    origin: String,
    name: String,
    def: &'a hcl::expr::Object<hcl::expr::ObjectKey, Expression>,
}

/// Resolves every `aws_ecs_task_definition`'s `container_definitions` and calls `f` for each container.
/// A task definition whose containers cannot be read statically is itself a violation.
fn each_container(tree: &Tree, violations: &mut Violations, mut f: impl FnMut(&Instance, &Container, &mut Violations)) {
    for inst in tree.instances() {
        for td in inst.resources("aws_ecs_task_definition") {
            let td_name = label(td, 1).unwrap_or("?");
            let Some(expr) = attr(&td.body, "container_definitions") else {
                violations.push(format!(
                    "{}: aws_ecs_task_definition.{td_name} has no container_definitions",
                    inst.name
                ));
                continue;
            };
            // Once per for_each instance (the three task definitions are one resource).
            let _ = expr;
            for resolved in inst
                .scope
                .resolve_per_instance(td, "container_definitions")
                .into_iter()
                .flatten()
            {
                let Expression::Array(containers) = &resolved else {
                    violations.push(format!(
                        "{}: aws_ecs_task_definition.{td_name}: container_definitions must be jsonencode([...]) of \
                     statically readable containers, got {}",
                        inst.name,
                        show(&resolved)
                    ));
                    continue;
                };
                for c in containers {
                    let Expression::Object(def) = c else {
                        violations.push(format!(
                            "{}: aws_ecs_task_definition.{td_name}: a container is not an object",
                            inst.name
                        ));
                        continue;
                    };
                    let name = object_get(def, "name").and_then(as_str).unwrap_or("?").to_string();
                    let container = Container {
                        origin: format!("{}: aws_ecs_task_definition.{td_name} container {name:?}", inst.name),
                        name,
                        def,
                    };
                    f(&inst, &container, violations);
                }
            }
        }
    }
}

/// The subcommand a container runs: the first word of `command`, or `serve` (the image default) without one.
fn container_subcommand(c: &Container) -> Result<String, String> {
    match object_get(c.def, "command") {
        None => Ok("serve".into()),
        Some(Expression::Array(words)) => match words.first().and_then(as_str) {
            Some(word) => Ok(word.to_string()),
            None => Err(format!("{}: command is not a literal list of strings", c.origin)),
        },
        Some(other) => Err(format!("{}: command is not a literal list: {}", c.origin, show(other))),
    }
}

/// (name, value-or-valueFrom) pairs of `environment` or `secrets`.
fn name_list<'a>(
    c: &'a Container,
    key: &str,
    value_key: &str,
    violations: &mut Violations,
) -> Vec<(String, Option<&'a Expression>)> {
    let mut out = Vec::new();
    match object_get(c.def, key) {
        None => {}
        Some(Expression::Array(items)) => {
            for item in items {
                match item {
                    Expression::Object(o) => match object_get(o, "name").and_then(as_str) {
                        Some(name) => out.push((name.to_string(), object_get(o, value_key))),
                        None => violations.push(format!("{}: an entry of {key} has no literal name", c.origin)),
                    },
                    other => violations.push(format!("{}: {key} entry is not an object: {}", c.origin, show(other))),
                }
            }
        }
        Some(other) => violations.push(format!("{}: {key} is not a literal list: {}", c.origin, show(other))),
    }
    out
}

/// Container port == the service's DEFAULT_PORT == the ALB target group port; the app port given to the
/// security groups matches too.
pub fn check_ports(tree: &Tree, svc: &ServiceContract) -> Violations {
    let want = u64::from(svc.default_port);
    let mut v = Violations::new();
    let mut seen_ports = 0;
    each_container(tree, &mut v, |_, c, v| {
        let Some(Expression::Array(mappings)) = object_get(c.def, "portMappings") else {
            return;
        };
        for m in mappings {
            let Expression::Object(m) = m else { continue };
            seen_ports += 1;
            match object_get(m, "containerPort").and_then(as_u64) {
                Some(p) if p == want => {}
                Some(p) => v.push(format!(
                    "{}: containerPort {p} != service DEFAULT_PORT {want}",
                    c.origin
                )),
                None => v.push(format!("{}: containerPort is not a known number", c.origin)),
            }
        }
    });
    for inst in tree.instances() {
        for tg in inst.resources("aws_lb_target_group") {
            let port = attr(&tg.body, "port").map(|e| inst.scope.resolve(e));
            match port.as_ref().and_then(as_u64) {
                Some(p) if p == want => {}
                Some(p) => v.push(format!(
                    "{}: aws_lb_target_group.{} port {p} != service DEFAULT_PORT {want}",
                    inst.name,
                    label(tg, 1).unwrap_or("?")
                )),
                None => v.push(format!(
                    "{}: aws_lb_target_group.{} port is not a known number",
                    inst.name,
                    label(tg, 1).unwrap_or("?")
                )),
            }
        }
        for service in inst.resources("aws_ecs_service") {
            for lb in blocks(&service.body, "load_balancer") {
                match attr(&lb.body, "container_port")
                    .map(|e| inst.scope.resolve(e))
                    .as_ref()
                    .and_then(as_u64)
                {
                    Some(p) if p == want => {}
                    other => v.push(format!(
                        "{}: aws_ecs_service.{} load_balancer.container_port {:?} != {want}",
                        inst.name,
                        label(service, 1).unwrap_or("?"),
                        other
                    )),
                }
            }
        }
    }
    if seen_ports == 0 && v.is_empty() {
        v.push("no container portMappings found: nothing serves the API".into());
    }
    v
}

/// The ALB health check path is a served liveness route (not the database-dependent readiness route), and the
/// container health check runs a subcommand the binary has.
pub fn check_health_checks(tree: &Tree, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    for inst in tree.instances() {
        for tg in inst.resources("aws_lb_target_group") {
            let tg_name = label(tg, 1).unwrap_or("?");
            let hc: Vec<_> = blocks(&tg.body, "health_check").collect();
            if hc.is_empty() {
                v.push(format!(
                    "{}: aws_lb_target_group.{tg_name} has no health_check",
                    inst.name
                ));
            }
            for block in hc {
                let path = attr(&block.body, "path").map(|e| inst.scope.resolve(e));
                match path.as_ref().and_then(as_str) {
                    Some(p) if p == READINESS_ROUTE => v.push(format!(
                        "{}: aws_lb_target_group.{tg_name} health check uses {p}: a database outage would fail every \
                         task; use the liveness route /health",
                        inst.name
                    )),
                    Some(p) if svc.routes.contains(p) => {}
                    Some(p) => v.push(format!(
                        "{}: aws_lb_target_group.{tg_name} health check path {p} is not a route the service serves",
                        inst.name
                    )),
                    None => v.push(format!(
                        "{}: aws_lb_target_group.{tg_name} health check path is not a known string: {}",
                        inst.name,
                        path.as_ref().map(show).unwrap_or_else(|| "missing".into())
                    )),
                }
            }
        }
    }
    let mut seen = 0;
    each_container(tree, &mut v, |_, c, v| {
        // Long-running containers (those with ports) must have a health check; one-off tasks need none.
        let serves = object_get(c.def, "portMappings").is_some();
        let Some(hc) = object_get(c.def, "healthCheck") else {
            if serves {
                v.push(format!("{}: serves traffic but has no healthCheck", c.origin));
            }
            return;
        };
        seen += 1;
        let Expression::Object(hc) = hc else {
            v.push(format!("{}: healthCheck is not an object", c.origin));
            return;
        };
        let words: Option<Vec<&str>> = match object_get(hc, "command") {
            Some(Expression::Array(items)) => items.iter().map(as_str).collect(),
            _ => None,
        };
        match words.as_deref() {
            Some(["CMD", binary, sub]) if *binary == BINARY && svc.has_subcommand(sub) => {}
            Some(["CMD", binary, sub]) if *binary == BINARY => v.push(format!(
                "{}: healthCheck runs `{sub}`, which is not a subcommand of the service",
                c.origin
            )),
            other => v.push(format!(
                "{}: healthCheck command must be [\"CMD\", \"{BINARY}\", <subcommand>] (exec form, no shell in the \
                 image), got {other:?}",
                c.origin
            )),
        }
    });
    if seen == 0 && v.is_empty() {
        v.push("no container healthCheck found".into());
    }
    v
}

/// Every environment variable and secret a container sets is one the service reads for the subcommand the
/// container runs; secret-valued settings come from `secrets`, never plain `environment`; the api container
/// sets everything production requires.
pub fn check_task_environment(tree: &Tree, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let mut containers = 0;
    each_container(tree, &mut v, |_, c, v| {
        containers += 1;
        let sub = match container_subcommand(c) {
            Ok(sub) => sub,
            Err(e) => {
                v.push(e);
                return;
            }
        };
        let Some(allowed) = svc.env_for(&sub) else {
            v.push(format!(
                "{}: runs `{sub}`, which is not a subcommand of the service",
                c.origin
            ));
            return;
        };
        let env = name_list(c, "environment", "value", v);
        let secrets = name_list(c, "secrets", "valueFrom", v);
        let mut seen = BTreeSet::new();
        for (name, _) in env.iter().chain(secrets.iter()) {
            if !seen.insert(name.clone()) {
                v.push(format!("{}: {name} is set twice", c.origin));
            }
            if !allowed.contains(name) {
                v.push(format!(
                    "{}: sets {name}, which the service does not read when running `{sub}`",
                    c.origin
                ));
            }
        }
        for (name, _) in &env {
            if svc.secret_env.contains(name) {
                v.push(format!(
                    "{}: {name} is a secret setting; it must come from `secrets` (Secrets Manager), not `environment`",
                    c.origin
                ));
            }
        }
        for (name, from) in &secrets {
            if from.is_none() {
                v.push(format!("{}: secret {name} has no valueFrom", c.origin));
            }
        }

        let env_values: BTreeMap<&str, Option<&str>> =
            env.iter().map(|(n, e)| (n.as_str(), e.and_then(as_str))).collect();
        let secret_names: BTreeSet<&str> = secrets.iter().map(|(n, _)| n.as_str()).collect();
        // Every task talks to RDS (rds.force_ssl = 1) in production mode.
        let mut required_env: Vec<(&str, Option<&str>)> = vec![
            ("APP_ENV", Some("production")),
            ("DB_SSLMODE", Some("require")),
            ("DB_HOST", None),
            ("DB_NAME", None),
        ];
        let mut required_secrets = vec!["DB_USER", "DB_PASSWORD"];
        match sub.as_str() {
            "serve" => {
                required_env.push(("LOG_FORMAT", Some("json")));
                required_secrets.push("API_KEYS");
            }
            "provision-roles" => required_secrets.extend([
                "MIGRATOR_DB_USER",
                "MIGRATOR_DB_PASSWORD",
                "APP_DB_USER",
                "APP_DB_PASSWORD",
            ]),
            _ => {}
        }
        for (name, want) in required_env {
            match (env_values.get(name), want) {
                (None, _) => v.push(format!(
                    "{}: `{sub}` in production needs {name} in environment",
                    c.origin
                )),
                (Some(got), Some(want)) if *got != Some(want) => v.push(format!(
                    "{}: {name} must be {want:?}, got {}",
                    c.origin,
                    got.map(|g| format!("{g:?}"))
                        .unwrap_or_else(|| "an unknown value".into())
                )),
                _ => {}
            }
        }
        for name in required_secrets {
            if !secret_names.contains(name) {
                v.push(format!("{}: `{sub}` in production needs {name} from secrets", c.origin));
            }
        }
    });
    if containers == 0 && v.is_empty() {
        v.push("no task definitions found".into());
    }
    v
}

/// Containers run as the non-root user with a read-only root filesystem (checkov cannot see through variables).
pub fn check_container_hardening(tree: &Tree) -> Violations {
    let mut v = Violations::new();
    each_container(tree, &mut v, |_, c, v| {
        match object_get(c.def, "readonlyRootFilesystem") {
            Some(Expression::Bool(true)) => {}
            other => v.push(format!(
                "{}: readonlyRootFilesystem must be true, got {}",
                c.origin,
                other.map(show).unwrap_or_else(|| "nothing".into())
            )),
        }
        match object_get(c.def, "user").and_then(as_str) {
            Some(NONROOT_UID) => {}
            other => v.push(format!(
                "{}: user must be {NONROOT_UID:?} (non-root), got {other:?}",
                c.origin
            )),
        }
        if matches!(object_get(c.def, "privileged"), Some(Expression::Bool(true))) {
            v.push(format!("{}: privileged containers are not allowed", c.origin));
        }
        if c.name.is_empty() || c.name == "?" {
            v.push(format!("{}: container has no literal name", c.origin));
        }
    });
    v
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Alb,
    Tasks,
    Db,
    Other,
}

/// Security groups are chained by reference, internet -> ALB (80/443) -> tasks (app port) -> database (5432):
/// no CIDR ingress except the ALB's 80/443, nothing but the tasks' group reaches the database, nothing but the
/// ALB reaches the tasks, and rules are separate resources with descriptions.
pub fn check_security_groups(tree: &Tree) -> Violations {
    let mut v = Violations::new();
    let mut found_chain_alb_tasks = false;
    let mut found_chain_tasks_db = false;
    let mut any_group = false;
    for inst in tree.instances() {
        let mut roles = BTreeMap::new();
        for sg in inst.resources("aws_security_group") {
            any_group = true;
            let label_name = label(sg, 1).unwrap_or("?").to_string();
            let name = attr(&sg.body, "name").map(|e| inst.scope.resolve(e));
            let name = name
                .as_ref()
                .and_then(as_str)
                .map(str::to_string)
                .unwrap_or_else(|| label_name.clone());
            let role = if name.ends_with("-alb") || name == "alb" {
                Role::Alb
            } else if name.ends_with("-tasks") || name == "tasks" {
                Role::Tasks
            } else if name.ends_with("-db") || name == "db" {
                Role::Db
            } else {
                Role::Other
            };
            roles.insert(label_name.clone(), role);
            for kind in ["ingress", "egress"] {
                if blocks(&sg.body, kind).next().is_some() {
                    v.push(format!(
                        "{}: aws_security_group.{label_name} has inline {kind} blocks; use \
                         aws_vpc_security_group_{kind}_rule resources with descriptions",
                        inst.name
                    ));
                }
            }
        }
        for rule in inst.resources("aws_security_group_rule") {
            v.push(format!(
                "{}: aws_security_group_rule.{} : use aws_vpc_security_group_ingress_rule/egress_rule",
                inst.name,
                label(rule, 1).unwrap_or("?")
            ));
        }
        for kind in [
            "aws_vpc_security_group_ingress_rule",
            "aws_vpc_security_group_egress_rule",
        ] {
            for rule in inst.resources(kind) {
                if attr(&rule.body, "description").is_none() {
                    v.push(format!(
                        "{}: {kind}.{} has no description",
                        inst.name,
                        label(rule, 1).unwrap_or("?")
                    ));
                }
            }
        }
        for rule in inst.resources("aws_vpc_security_group_ingress_rule") {
            let rule_name = format!(
                "{}: aws_vpc_security_group_ingress_rule.{}",
                inst.name,
                label(rule, 1).unwrap_or("?")
            );
            let target =
                attr(&rule.body, "security_group_id").and_then(|e| referenced_resource(e, "aws_security_group"));
            let target_role = target.and_then(|t| roles.get(t)).copied();
            let source = attr(&rule.body, "referenced_security_group_id")
                .and_then(|e| referenced_resource(e, "aws_security_group"))
                .and_then(|s| roles.get(s))
                .copied();
            let cidr = ["cidr_ipv4", "cidr_ipv6", "prefix_list_id"]
                .iter()
                .find_map(|k| attr(&rule.body, k).map(|e| (*k, inst.scope.resolve(e))));
            let ports = (
                attr(&rule.body, "from_port")
                    .map(|e| inst.scope.resolve(e))
                    .as_ref()
                    .and_then(as_u64),
                attr(&rule.body, "to_port")
                    .map(|e| inst.scope.resolve(e))
                    .as_ref()
                    .and_then(as_u64),
            );
            let Some(target_role) = target_role else {
                v.push(format!(
                    "{rule_name}: security_group_id does not reference a security group of this module"
                ));
                continue;
            };
            if let Some((key, value)) = &cidr {
                let world = matches!(as_str(value), Some("0.0.0.0/0") | Some("::/0"));
                let web_port = matches!(ports, (Some(80), Some(80)) | (Some(443), Some(443)));
                if target_role != Role::Alb {
                    v.push(format!(
                        "{rule_name}: {key} = {} ingress into a {target_role:?} group; only the ALB takes CIDR-based \
                         ingress, everything else references a security group",
                        show(value)
                    ));
                } else if world && !web_port {
                    v.push(format!(
                        "{rule_name}: {key} = {} on ports {ports:?}; the ALB opens only 80 and 443",
                        show(value)
                    ));
                }
                continue;
            }
            match (target_role, source) {
                (Role::Tasks, Some(Role::Alb)) => found_chain_alb_tasks = true,
                (Role::Db, Some(Role::Tasks)) => {
                    if ports != (Some(5432), Some(5432)) {
                        v.push(format!(
                            "{rule_name}: database ingress must be 5432 only, got {ports:?}"
                        ));
                    }
                    found_chain_tasks_db = true;
                }
                (Role::Db, other) => v.push(format!(
                    "{rule_name}: the database accepts only the tasks' security group, not {other:?}"
                )),
                (Role::Tasks, other) => v.push(format!(
                    "{rule_name}: the tasks accept only the ALB's security group, not {other:?}"
                )),
                (_, None) => v.push(format!(
                    "{rule_name}: ingress has neither a referenced security group nor a CIDR"
                )),
                _ => {}
            }
        }
    }
    if any_group {
        if !found_chain_alb_tasks {
            v.push("security group chain broken: no ingress rule lets the ALB's group reach the tasks' group".into());
        }
        if !found_chain_tasks_db {
            v.push(
                "security group chain broken: no ingress rule lets the tasks' group reach the database's group".into(),
            );
        }
    } else {
        v.push("no security groups found".into());
    }
    v
}

/// RDS is private, encrypted, TLS-only and never holds a Terraform-managed master password.
pub fn check_database(tree: &Tree) -> Violations {
    let mut v = Violations::new();
    let mut seen = 0;
    for inst in tree.instances() {
        for db in inst.resources("aws_db_instance") {
            seen += 1;
            let name = format!("{}: aws_db_instance.{}", inst.name, label(db, 1).unwrap_or("?"));
            let get = |k: &str| attr(&db.body, k).map(|e| inst.scope.resolve(e));
            if get("publicly_accessible") != Some(Expression::Bool(false)) {
                v.push(format!("{name}: publicly_accessible must be false"));
            }
            if get("storage_encrypted") != Some(Expression::Bool(true)) {
                v.push(format!("{name}: storage_encrypted must be true"));
            }
            // A read replica has no master user of its own (it replicates the primary's); it must take a
            // parameter group of this configuration, whose TLS rule is checked below.
            if get("replicate_source_db").is_some() {
                let group = attr(&db.body, "parameter_group_name").map(|e| inst.scope.resolve(e));
                if !group.is_some_and(|g| show(&g).contains("aws_db_parameter_group.")) {
                    v.push(format!(
                        "{name}: a read replica must use this configuration's parameter group (rds.force_ssl)"
                    ));
                }
            } else if get("manage_master_user_password") != Some(Expression::Bool(true)) {
                v.push(format!(
                    "{name}: manage_master_user_password must be true (master password never in state)"
                ));
            }
            if get("password").is_some() || get("password_wo").is_some() {
                v.push(format!(
                    "{name}: sets a master password; let RDS manage it in Secrets Manager"
                ));
            }
        }
        for pg in inst.resources("aws_db_parameter_group") {
            let force_ssl = blocks(&pg.body, "parameter").any(|p| {
                attr(&p.body, "name").and_then(as_str) == Some("rds.force_ssl")
                    && attr(&p.body, "value")
                        .map(|e| inst.scope.resolve(e))
                        .as_ref()
                        .and_then(as_u64)
                        == Some(1)
            });
            if !force_ssl {
                v.push(format!(
                    "{}: aws_db_parameter_group.{} must set rds.force_ssl = 1",
                    inst.name,
                    label(pg, 1).unwrap_or("?")
                ));
            }
        }
    }
    if seen == 0 {
        v.push("no aws_db_instance found".into());
    }
    v
}

/// The ECS service runs in private subnets without public IPs, and leaves the running task definition to the
/// deploy workflow.
pub fn check_ecs_service(tree: &Tree) -> Violations {
    let mut v = Violations::new();
    let mut seen = 0;
    for inst in tree.instances() {
        for service in inst.resources("aws_ecs_service") {
            seen += 1;
            let name = format!("{}: aws_ecs_service.{}", inst.name, label(service, 1).unwrap_or("?"));
            let nets: Vec<_> = blocks(&service.body, "network_configuration").collect();
            if nets.is_empty() {
                v.push(format!(
                    "{name}: no network_configuration (assign_public_ip must be explicitly false)"
                ));
            }
            for net in nets {
                if attr(&net.body, "assign_public_ip").map(|e| inst.scope.resolve(e)) != Some(Expression::Bool(false)) {
                    v.push(format!("{name}: assign_public_ip must be false"));
                }
            }
            let ignores_task_definition =
                blocks(&service.body, "lifecycle").any(|l| match attr(&l.body, "ignore_changes") {
                    Some(Expression::Array(items)) => items.iter().any(|i| show(i).contains("task_definition")),
                    _ => false,
                });
            if !ignores_task_definition {
                v.push(format!(
                    "{name}: lifecycle.ignore_changes must include task_definition (CI owns deploys)"
                ));
            }
        }
    }
    if seen == 0 {
        v.push("no aws_ecs_service found".into());
    }
    v
}

/// Every module comes from a local path inside the tree: no registry, git or HTTP sources.
pub fn check_module_sources(tree: &Tree) -> Violations {
    let mut v = Violations::new();
    for dir in tree.dirs.values() {
        for module in dir.body.blocks().filter(|b| b.identifier() == "module") {
            let name = format!("{}: module.{}", tree.rel(&dir.path), label(module, 0).unwrap_or("?"));
            match attr(&module.body, "source").and_then(as_str) {
                Some(src) if src.starts_with("./") || src.starts_with("../") => {
                    match dir.path.join(src).canonicalize() {
                        Ok(target) if tree.dirs.contains_key(&target) => {}
                        _ => v.push(format!(
                            "{name}: local source {src} is not a Terraform directory of this tree"
                        )),
                    }
                }
                Some(src) => v.push(format!(
                    "{name}: source {src:?} is not a local path (no third-party modules)"
                )),
                None => v.push(format!("{name}: source is not a literal string")),
            }
            if attr(&module.body, "version").is_some() {
                v.push(format!("{name}: has a version argument, i.e. a registry module"));
            }
        }
    }
    v
}

/// The role-name suffixes (after `<project>-<env>-`) in the deploy policy's `PassOnlyTheTaskRoles` statement.
/// The resources are templates like `"${local.env[each.key].role_arn}api-execution"`: the environment part is
/// built from data sources, the suffix after the last interpolation is literal.
fn pass_role_suffixes(tree: &Tree, v: &mut Violations) -> Option<BTreeSet<String>> {
    let mut found = None;
    for dir in tree.dirs.values() {
        for doc in dir
            .body
            .blocks()
            .filter(|b| b.identifier() == "data" && label(b, 0) == Some("aws_iam_policy_document"))
        {
            for st in blocks(&doc.body, "statement") {
                if attr(&st.body, "sid").and_then(as_str) != Some("PassOnlyTheTaskRoles") {
                    continue;
                }
                let Some(Expression::Array(items)) = attr(&st.body, "resources") else {
                    v.push(format!(
                        "{}: PassOnlyTheTaskRoles resources is not a literal list",
                        tree.rel(&dir.path)
                    ));
                    continue;
                };
                let mut suffixes = BTreeSet::new();
                for item in items {
                    let raw = match item {
                        Expression::String(s) => s.clone(),
                        Expression::TemplateExpr(t) => t.to_string(),
                        other => {
                            v.push(format!(
                                "{}: PassRole resource {} is not a string",
                                tree.rel(&dir.path),
                                show(other)
                            ));
                            continue;
                        }
                    };
                    let suffix = raw.rsplit_once('}').map(|(_, s)| s).unwrap_or(raw.as_str());
                    if suffix.is_empty() || suffix.contains('*') {
                        v.push(format!(
                            "{}: PassRole resource {raw} is not one named role",
                            tree.rel(&dir.path)
                        ));
                    } else {
                        suffixes.insert(suffix.to_string());
                    }
                }
                found = Some(suffixes);
            }
        }
    }
    found
}

/// The deploy role may `iam:PassRole` exactly the roles the service module gives its task definitions: the
/// suffixes in modules/github_actions must equal the roles modules/service uses in every environment.
pub fn check_pass_role_targets(tree: &Tree) -> Violations {
    let mut v = Violations::new();
    let instances = tree.instances();
    let Some(pass_suffixes) = pass_role_suffixes(tree, &mut v) else {
        v.push("no PassOnlyTheTaskRoles statement (the deploy role's PassRole targets) found".into());
        return v;
    };
    let mut service_instances = 0;
    for inst in &instances {
        let task_defs: Vec<_> = inst.resources("aws_ecs_task_definition").collect();
        if task_defs.is_empty() {
            continue;
        }
        service_instances += 1;
        // Role resource label -> role names it creates.
        let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for role in inst.resources("aws_iam_role") {
            let label_name = label(role, 1).unwrap_or("?").to_string();
            let Some(name_expr) = attr(&role.body, "name") else {
                continue;
            };
            let Some(keys) = inst.scope.for_each_keys(role) else {
                v.push(format!(
                    "{}: aws_iam_role.{label_name} for_each cannot be resolved",
                    inst.name
                ));
                continue;
            };
            let names: Vec<Expression> = if keys.is_empty() {
                vec![inst.scope.resolve(name_expr)]
            } else {
                keys.iter()
                    .map(|(k, val)| inst.scope.resolve_each(name_expr, k, val))
                    .collect()
            };
            for n in names {
                match as_str(&n) {
                    Some(n) => roles.entry(label_name.clone()).or_default().push(n.to_string()),
                    None => v.push(format!(
                        "{}: aws_iam_role.{label_name} name is not known: {}",
                        inst.name,
                        show(&n)
                    )),
                }
            }
        }
        // The roles the task definitions actually use.
        let mut used = BTreeSet::new();
        for td in &task_defs {
            for key in ["execution_role_arn", "task_role_arn"] {
                let Some(Expression::Traversal(t)) = attr(&td.body, key) else {
                    v.push(format!(
                        "{}: aws_ecs_task_definition.{} {key} is not a role reference",
                        inst.name,
                        label(td, 1).unwrap_or("?")
                    ));
                    continue;
                };
                let role_label = referenced_resource(&Expression::Traversal(t.clone()), "aws_iam_role")
                    .unwrap_or("?")
                    .to_string();
                let index = t.operators.get(1).and_then(|op| match op {
                    hcl::expr::TraversalOperator::Index(Expression::String(s)) => Some(s.clone()),
                    _ => None,
                });
                let Some(names) = roles.get(&role_label) else {
                    v.push(format!(
                        "{}: {key} references aws_iam_role.{role_label}, not a role of this module",
                        inst.name
                    ));
                    continue;
                };
                match index {
                    // execution["api"] -> the name built from that key
                    Some(k) => match names
                        .iter()
                        .find(|n| n.contains(&format!("-{k}-")) || n.ends_with(&format!("-{k}")))
                    {
                        Some(n) => {
                            used.insert(n.clone());
                        }
                        None => v.push(format!(
                            "{}: no role name for aws_iam_role.{role_label}[{k:?}]",
                            inst.name
                        )),
                    },
                    None => used.extend(names.iter().cloned()),
                }
            }
        }
        let prefix = inst
            .scope
            .resolve_per_instance(task_defs[0], "family")
            .into_iter()
            .flatten()
            .find_map(|e| as_str(&e).map(str::to_string))
            .and_then(|f| f.rsplit_once('-').map(|(p, _)| p.to_string()));
        let Some(prefix) = prefix else {
            v.push(format!(
                "{}: cannot tell the environment prefix from the task family",
                inst.name
            ));
            continue;
        };
        let used_suffixes: BTreeSet<String> = used
            .iter()
            .filter_map(|n| n.strip_prefix(&format!("{prefix}-")).map(str::to_string))
            .collect();
        for missing in used_suffixes.difference(&pass_suffixes) {
            v.push(format!(
                "{}: task definitions use role {prefix}-{missing}, which the deploy role cannot pass",
                inst.name
            ));
        }
        for extra in pass_suffixes.difference(&used_suffixes) {
            v.push(format!(
                "{}: the deploy role may pass {prefix}-{extra}, which no task definition uses",
                inst.name
            ));
        }
    }
    if service_instances == 0 {
        v.push("no task definitions found".into());
    }
    v
}

/// An offline stand-in for the part of `terraform validate` that needs no provider: every `var.X` and
/// `local.X` is declared, every `module.M.O` names a module call of the directory and an output of that
/// module, every module call passes only variables the module declares and every variable it requires.
pub fn check_module_interfaces(tree: &Tree) -> Violations {
    let mut v = Violations::new();
    struct Interface {
        variables: BTreeMap<String, bool>, // name -> required (no default)
        outputs: BTreeSet<String>,
        locals: BTreeSet<String>,
    }
    let interface = |dir: &crate::terraform::Dir| Interface {
        variables: dir
            .body
            .blocks()
            .filter(|b| b.identifier() == "variable")
            .filter_map(|b| label(b, 0).map(|n| (n.to_string(), attr(&b.body, "default").is_none())))
            .collect(),
        outputs: dir
            .body
            .blocks()
            .filter(|b| b.identifier() == "output")
            .filter_map(|b| label(b, 0).map(str::to_string))
            .collect(),
        locals: dir
            .body
            .blocks()
            .filter(|b| b.identifier() == "locals")
            .flat_map(|b| b.body.attributes().map(|a| a.key().to_string()).collect::<Vec<_>>())
            .collect(),
    };
    const META_ARGS: [&str; 6] = ["source", "version", "providers", "depends_on", "count", "for_each"];
    for dir in tree.dirs.values() {
        let here = interface(dir);
        let rel = tree.rel(&dir.path);
        // Module calls of this directory: name -> the called module's interface.
        let mut calls = BTreeMap::new();
        for call in dir.body.blocks().filter(|b| b.identifier() == "module") {
            let name = label(call, 0).unwrap_or("?").to_string();
            let Some(target) = tree.module_target(dir, call) else {
                continue; // check_module_sources reports non-local or missing sources
            };
            let callee = interface(target);
            let passed: BTreeSet<String> = call.body.attributes().map(|a| a.key().to_string()).collect();
            for arg in passed.iter().filter(|a| !META_ARGS.contains(&a.as_str())) {
                if !callee.variables.contains_key(arg) {
                    v.push(format!(
                        "{rel}: module.{name} passes {arg}, which {} does not declare",
                        tree.rel(&target.path)
                    ));
                }
            }
            for (var, required) in &callee.variables {
                if *required && !passed.contains(var) {
                    v.push(format!("{rel}: module.{name} does not pass required variable {var}"));
                }
            }
            calls.insert(name, callee);
        }
        let mut exprs = Vec::new();
        body_expressions(&dir.body, &mut exprs);
        let mut refs = Vec::new();
        for e in exprs {
            references(e, &mut refs);
        }
        let mut reported = BTreeSet::new();
        for (root, first, second) in refs {
            let problem = match root.as_str() {
                "var" if !here.variables.contains_key(&first) => Some(format!("var.{first} is not declared")),
                "local" if !here.locals.contains(&first) => Some(format!("local.{first} is not declared")),
                "module" => match (calls.get(&first), &second) {
                    (None, _) => Some(format!("module.{first} is not a module call here")),
                    (Some(callee), Some(output)) if !callee.outputs.contains(output) => {
                        Some(format!("module.{first}.{output}: the module has no output {output}"))
                    }
                    _ => None,
                },
                _ => None,
            };
            if let Some(p) = problem
                && reported.insert(p.clone())
            {
                v.push(format!("{rel}: {p}"));
            }
        }
    }
    v
}
