//! The scale-out (issue 13), where only this project can check it:
//!
//! - the read replicas' endpoint reaches the api task as `DB_READ_HOST`, the read database the service reads, and
//!   production has a replica to read from;
//! - the ALB trusts only CloudFront: its security group admits nothing but the CloudFront origin-facing prefix list,
//!   its listeners forward nothing by default, and every forwarding rule requires the header name and value that
//!   the distribution adds to origin requests;
//! - the blue/green service's target groups, and those its production and test listener rules forward to, are on
//!   the service's port and health-check its liveness route.
//!
//! Same narrow reads as the other contract checks (`tests/support/terraform.rs`): a value is followed from a
//! module's `var.X` to the argument `modules/environment` passes, and from `module.M.O` to that module's output,
//! by name, one explicit step at a time; anything else is reported as unreadable.

use crate::service::ServiceContract;
use crate::terraform::{Dir, attr, label, literal, nested, object_get, show};
use crate::{Infra, Violations, task_entries, tasks};
use hcl::Expression;
use hcl::expr::TraversalOperator;

/// The directories these checks read besides [`Infra`]'s.
struct Scale {
    infra: Infra,
    database: Dir,
    edge: Dir,
    security_groups: Dir,
    production: Dir,
}

impl Scale {
    fn real() -> Scale {
        Scale {
            infra: Infra::real(),
            database: Dir::load("modules/database"),
            edge: Dir::load("modules/edge"),
            security_groups: Dir::load("modules/security_groups"),
            production: Dir::load("envs/production"),
        }
    }

    /// The real configuration with one edit in `infra/<rel>/<file>`.
    fn broken(rel: &str, file: &str, from: &str, to: &str) -> Scale {
        let mut s = Scale::real();
        let dir = Dir::load_broken(rel, file, from, to);
        match rel {
            "modules/environment" | "modules/service" | "modules/load_balancer" => {
                let module = rel.trim_start_matches("modules/");
                s.infra = Infra::broken(module, file, from, to);
            }
            "modules/database" => s.database = dir,
            "modules/edge" => s.edge = dir,
            "modules/security_groups" => s.security_groups = dir,
            "envs/production" => s.production = dir,
            other => panic!("no {other} in the scale contract"),
        }
        s
    }

    fn environment(&self) -> &Dir {
        &self.infra.environment
    }

    /// The directory of the module `modules/environment` calls `name`.
    fn module(&self, name: &str) -> Option<&Dir> {
        match name {
            "service" => Some(&self.infra.service),
            "load_balancer" => Some(&self.infra.load_balancer),
            "database" => Some(&self.database),
            "edge" => Some(&self.edge),
            "security_groups" => Some(&self.security_groups),
            _ => None,
        }
    }

    /// `var.X` / `var.X.field` of module `module`: the argument `modules/environment` passes (into an object
    /// argument's field). Other expressions are returned as they are.
    fn argument<'a>(&'a self, module: &str, expr: &'a Expression) -> Result<&'a Expression, String> {
        let Some(("var", parts)) = path(expr) else {
            return Ok(expr);
        };
        let call = self
            .environment()
            .block("module", &[module])
            .ok_or_else(|| format!("modules/environment does not call module {module}"))?;
        let mut value =
            attr(&call.body, &parts[0]).ok_or_else(|| format!("module {module} is not passed {}", parts[0]))?;
        for field in &parts[1..] {
            value = match value {
                Expression::Object(o) => object_get(o, field),
                _ => None,
            }
            .ok_or_else(|| format!("module {module}: {} has no field {field}", show(value)))?;
        }
        Ok(value)
    }

    /// `module.M.O` (as `modules/environment` writes it): module M's directory and the value of its output O.
    fn output<'a>(&'a self, expr: &Expression) -> Result<(&'a Dir, &'a Expression), String> {
        let Some(("module", parts)) = path(expr) else {
            return Err(format!("{} is not a module output", show(expr)));
        };
        let [module, output] = parts.as_slice() else {
            return Err(format!("{} is not module.M.O", show(expr)));
        };
        let dir = self
            .module(module)
            .ok_or_else(|| format!("module.{module} is not read here"))?;
        let value = dir
            .block("output", &[output])
            .and_then(|o| attr(&o.body, "value"))
            .ok_or_else(|| format!("{} has no output {output}", dir.name))?;
        Ok((dir, value))
    }

    /// A module's `var.X[.field]` followed to the module output it is wired to: (that module, the output's value).
    fn wired<'a>(&'a self, module: &str, expr: &'a Expression) -> Result<(&'a Dir, &'a Expression), String> {
        self.output(self.argument(module, expr)?)
    }
}

/// `root.a["b"].c` -> `("root", ["a", "b", "c"])`.
fn path(expr: &Expression) -> Option<(&str, Vec<String>)> {
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let mut parts = Vec::new();
    for op in &t.operators {
        match op {
            TraversalOperator::GetAttr(id) => parts.push(id.as_str().to_string()),
            TraversalOperator::Index(Expression::String(s)) => parts.push(s.clone()),
            _ => return None,
        }
    }
    Some((root.as_str(), parts))
}

/// `TYPE.NAME...` -> `(TYPE, NAME)` for a resource reference.
fn resource_ref(expr: &Expression) -> Option<(String, String)> {
    let (kind, parts) = path(expr)?;
    Some((kind.to_string(), parts.first()?.clone()))
}

// --- the read endpoint ------------------------------------------------------------------------------------------

/// Production has a read replica, and the api task's `DB_READ_HOST` (a variable the service reads) is the name
/// whose DNS records point at the replicas: `modules/service` takes it from `var.db_read_host`, which
/// `modules/environment` wires to an output of `modules/database` naming an `aws_route53_record` whose records are
/// an `aws_db_instance` with `replicate_source_db`.
fn check_read_endpoint(s: &Scale, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    if !svc.global_env.contains("DB_READ_HOST") {
        v.push("the service no longer reads DB_READ_HOST".into());
    }
    let replicas = s
        .production
        .block("module", &["environment"])
        .and_then(|m| attr(&m.body, "settings"))
        .and_then(|settings| match settings {
            Expression::Object(o) => object_get(o, "db_replica_count"),
            _ => None,
        })
        .map(|n| literal(n, &s.production, None));
    match replicas {
        Some(Ok(n)) if n.parse::<u64>().is_ok_and(|n| n >= 1) => {}
        other => v.push(format!(
            "envs/production: settings.db_replica_count is {other:?}: production reads from at least one replica"
        )),
    }

    let mut found = 0;
    for task in tasks(&s.infra, &mut v) {
        for (name, value) in task_entries(&s.infra, &task, "environment", &mut v) {
            if name != "DB_READ_HOST" {
                continue;
            }
            found += 1;
            if let Err(e) = read_host_is_the_replicas(s, value) {
                v.push(format!("task {}: DB_READ_HOST {e}", task.key));
            }
        }
    }
    if found == 0 {
        v.push("no task sets DB_READ_HOST: the service would never read from the replicas".into());
    }
    v
}

fn read_host_is_the_replicas(s: &Scale, value: &Expression) -> Result<(), String> {
    let (db, output) = s.wired("service", value)?;
    if db.name != "infra/modules/database" {
        return Err(format!("comes from {}, not from modules/database", db.name));
    }
    // The output names the read endpoint: `local.X` (or `cond ? local.X : null`), X being a record's name.
    let output_text = show(output);
    let records = db.blocks("resource", &["aws_route53_record"]);
    let record = records
        .iter()
        .find(|r| attr(&r.body, "name").is_some_and(|n| output_text.contains(&show(n))))
        .ok_or_else(|| format!("is {output_text}, which names no aws_route53_record of modules/database"))?;
    let records_text = attr(&record.body, "records").map(show).unwrap_or_default();
    let replica = db
        .blocks("resource", &["aws_db_instance"])
        .into_iter()
        .filter(|i| attr(&i.body, "replicate_source_db").is_some())
        .filter_map(|i| label(i, 1))
        .find(|l| {
            records_text.contains(&format!("aws_db_instance.{l}["))
                || records_text.contains(&format!("aws_db_instance.{l}."))
        });
    match replica {
        Some(_) => Ok(()),
        None => Err(format!(
            "is the record {:?}, whose records {records_text} are no read replica (aws_db_instance with replicate_source_db)",
            label(record, 1).unwrap_or("?")
        )),
    }
}

// --- only CloudFront reaches the ALB ----------------------------------------------------------------------------

const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";

fn check_alb_trusts_only_cloudfront(s: &Scale) -> Violations {
    let mut v = Violations::new();
    let sg = &s.security_groups;

    // The ALB's ingress: only the CloudFront origin-facing prefix list.
    let mut ingress = 0;
    for rule in sg.blocks("resource", &["aws_vpc_security_group_ingress_rule"]) {
        let target = attr(&rule.body, "security_group_id").map(show).unwrap_or_default();
        if target != "aws_security_group.alb.id" {
            continue;
        }
        ingress += 1;
        let name = format!("aws_vpc_security_group_ingress_rule.{}", label(rule, 1).unwrap_or("?"));
        for other in ["cidr_ipv4", "cidr_ipv6", "referenced_security_group_id"] {
            if attr(&rule.body, other).is_some() {
                v.push(format!("{name}: the ALB admits {other}; only CloudFront may reach it"));
            }
        }
        let list = attr(&rule.body, "prefix_list_id").and_then(path);
        let list_name = match list.as_ref().map(|(root, parts)| (*root, parts.as_slice())) {
            Some(("data", [kind, name, _])) if kind == "aws_ec2_managed_prefix_list" => sg
                .block("data", &["aws_ec2_managed_prefix_list", name])
                .and_then(|d| attr(&d.body, "name"))
                .map(|n| literal(n, sg, None)),
            _ => None,
        };
        if !matches!(list_name, Some(Ok(ref n)) if n == CLOUDFRONT_PREFIX_LIST) {
            v.push(format!(
                "{name}: the ALB's ingress must be the {CLOUDFRONT_PREFIX_LIST} prefix list, got {list_name:?}"
            ));
        }
    }
    if ingress == 0 {
        v.push("the ALB security group has no ingress rule at all (CloudFront could not reach it)".into());
    }

    // What CloudFront adds to every origin request: the header name and the value's source.
    let lb = &s.infra.load_balancer;
    let sent: Vec<(String, String)> = s
        .edge
        .blocks("resource", &["aws_cloudfront_distribution"])
        .into_iter()
        .flat_map(|d| nested(&d.body, "origin").collect::<Vec<_>>())
        .flat_map(|o| nested(&o.body, "custom_header").collect::<Vec<_>>())
        .filter_map(|h| {
            let name = s.wired("edge", attr(&h.body, "name")?).ok()?;
            let value = s.wired("edge", attr(&h.body, "value")?).ok()?;
            if name.0.name != lb.name || value.0.name != lb.name {
                return None;
            }
            let name = literal(name.1, lb, s.infra.caller("load_balancer")).ok()?;
            Some((name.to_lowercase(), show(value.1)))
        })
        .collect();
    if sent.is_empty() {
        v.push(
            "the CloudFront distribution adds no origin header wired to modules/load_balancer's name and secret".into(),
        );
    }

    for listener in lb.blocks("resource", &["aws_lb_listener"]) {
        for action in nested(&listener.body, "default_action") {
            if attr(&action.body, "type").map(|t| literal(t, lb, None)) == Some(Ok("forward".into())) {
                v.push(format!(
                    "aws_lb_listener.{} forwards by default: a request without CloudFront's header would reach the tasks",
                    label(listener, 1).unwrap_or("?")
                ));
            }
        }
    }
    let mut rules = 0;
    for rule in lb.blocks("resource", &["aws_lb_listener_rule"]) {
        let forwards = nested(&rule.body, "action")
            .any(|a| attr(&a.body, "type").map(|t| literal(t, lb, None)) == Some(Ok("forward".into())));
        if !forwards {
            continue;
        }
        rules += 1;
        let required: Vec<(String, String)> = nested(&rule.body, "condition")
            .flat_map(|c| nested(&c.body, "http_header").collect::<Vec<_>>())
            .filter_map(|h| {
                let name = literal(attr(&h.body, "http_header_name")?, lb, s.infra.caller("load_balancer")).ok()?;
                let Some(Expression::Array(values)) = attr(&h.body, "values") else {
                    return None;
                };
                Some((name.to_lowercase(), show(values.first()?)))
            })
            .collect();
        if !required.iter().any(|r| sent.contains(r)) {
            v.push(format!(
                "aws_lb_listener_rule.{} forwards without requiring what CloudFront sends (requires {required:?}, CloudFront sends {sent:?})",
                label(rule, 1).unwrap_or("?")
            ));
        }
    }
    if rules == 0 {
        v.push("no listener rule forwards to the service".into());
    }
    v
}

// --- blue/green -------------------------------------------------------------------------------------------------

fn check_blue_green(s: &Scale, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let service_dir = &s.infra.service;
    let lb = &s.infra.load_balancer;
    let port = svc.default_port.to_string();
    let Some(service) = service_dir.block("resource", &["aws_ecs_service", "api"]) else {
        return vec!["modules/service has no aws_ecs_service.api".into()];
    };
    let config = nested(&service.body, "deployment_configuration").next();
    match config
        .and_then(|c| attr(&c.body, "strategy"))
        .map(|e| literal(e, service_dir, None))
    {
        Some(Ok(strategy)) if strategy == "BLUE_GREEN" => {}
        other => v.push(format!(
            "aws_ecs_service.api: deployment strategy {other:?}, not BLUE_GREEN"
        )),
    }
    if config.and_then(|c| attr(&c.body, "bake_time_in_minutes")).is_none() {
        v.push("aws_ecs_service.api: no bake_time_in_minutes: blue is gone before an alarm can roll back".into());
    }
    let Some(lb_block) = nested(&service.body, "load_balancer").next() else {
        v.push("aws_ecs_service.api has no load_balancer".into());
        return v;
    };
    match attr(&lb_block.body, "container_port").map(|p| literal(p, service_dir, s.infra.caller("service"))) {
        Some(Ok(p)) if p == port => {}
        other => v.push(format!(
            "aws_ecs_service.api load_balancer.container_port {other:?}, not {port}"
        )),
    }
    let advanced = nested(&lb_block.body, "advanced_configuration").next();
    if advanced.is_none() {
        v.push("aws_ecs_service.api: no load_balancer.advanced_configuration (alternate group, listener rules)".into());
    }
    fn get<'b>(block: Option<&'b hcl::Block>, key: &str) -> Option<&'b Expression> {
        block.and_then(|b| attr(&b.body, key))
    }

    // The two target groups ECS moves the tasks between, and the ones the two rules forward to.
    let mut groups: Vec<(String, String)> = Vec::new();
    for (what, expr) in [
        ("target_group_arn", get(Some(lb_block), "target_group_arn")),
        (
            "alternate_target_group_arn",
            get(advanced, "alternate_target_group_arn"),
        ),
    ] {
        match expr.map(|e| s.wired("service", e)) {
            Some(Ok((dir, value))) if dir.name == lb.name => groups.push((what.into(), show(value))),
            Some(Ok((dir, value))) => v.push(format!(
                "{what} is {} of {}, not a target group of modules/load_balancer",
                show(value),
                dir.name
            )),
            Some(Err(e)) => v.push(format!("{what}: {e}")),
            None => v.push(format!("aws_ecs_service.api: no {what}")),
        }
    }
    for what in ["production_listener_rule", "test_listener_rule"] {
        let reference = match get(advanced, what).map(|e| s.wired("service", e)) {
            Some(Ok((dir, value))) if dir.name == lb.name => value,
            Some(Ok((dir, value))) => {
                v.push(format!("{what} is {} of {}", show(value), dir.name));
                continue;
            }
            Some(Err(e)) => {
                v.push(format!("{what}: {e}"));
                continue;
            }
            None => {
                v.push(format!("aws_ecs_service.api: no {what}"));
                continue;
            }
        };
        let rule = resource_ref(reference)
            .filter(|(kind, _)| kind == "aws_lb_listener_rule")
            .and_then(|(_, name)| lb.block("resource", &["aws_lb_listener_rule", &name]));
        let Some(rule) = rule else {
            v.push(format!(
                "{what} {} is not a listener rule of modules/load_balancer",
                show(reference)
            ));
            continue;
        };
        let targets: Vec<String> = nested(&rule.body, "action")
            .flat_map(|a| nested(&a.body, "forward").collect::<Vec<_>>())
            .flat_map(|f| nested(&f.body, "target_group").collect::<Vec<_>>())
            .filter_map(|tg| attr(&tg.body, "arn").map(show))
            .collect();
        if targets.is_empty() {
            v.push(format!(
                "{what}: aws_lb_listener_rule.{} forwards to no target group",
                label(rule, 1).unwrap_or("?")
            ));
        }
        for t in targets {
            if !groups.iter().any(|(w, g)| w.ends_with("target_group_arn") && *g == t) {
                v.push(format!(
                    "{what}: aws_lb_listener_rule.{} forwards to {t}, not one of the service's two target groups",
                    label(rule, 1).unwrap_or("?")
                ));
            }
            groups.push((format!("{what} target"), t));
        }
    }

    // Each of those groups: on the service's port, health-checking /health (a route the service serves).
    for (what, reference) in groups {
        let expr = hcl::parse(&format!("x = {reference}")).ok();
        let tg = expr
            .as_ref()
            .and_then(|b| attr(b, "x"))
            .and_then(resource_ref)
            .filter(|(kind, _)| kind == "aws_lb_target_group")
            .and_then(|(_, name)| lb.block("resource", &["aws_lb_target_group", &name]));
        let Some(tg) = tg else {
            v.push(format!(
                "{what} {reference} is not an aws_lb_target_group of modules/load_balancer"
            ));
            continue;
        };
        let name = format!("aws_lb_target_group.{} ({what})", label(tg, 1).unwrap_or("?"));
        match attr(&tg.body, "port").map(|p| literal(p, lb, s.infra.caller("load_balancer"))) {
            Some(Ok(p)) if p == port => {}
            other => v.push(format!("{name}: port {other:?}, not the service's {port}")),
        }
        let hc = nested(&tg.body, "health_check").next();
        match hc
            .and_then(|h| attr(&h.body, "path"))
            .map(|p| literal(p, lb, s.infra.caller("load_balancer")))
        {
            Some(Ok(p)) if p == "/health" && svc.routes.contains("/health") => {}
            other => v.push(format!(
                "{name}: health check path {other:?}, not the service's liveness route /health"
            )),
        }
        match hc
            .and_then(|h| attr(&h.body, "port"))
            .map(|p| literal(p, lb, s.infra.caller("load_balancer")))
        {
            None => {}
            Some(Ok(p)) if p == "traffic-port" || p == port => {}
            other => v.push(format!("{name}: health check port {other:?}, not the traffic port")),
        }
    }
    v
}

/// The database admits only the tasks: every ingress rule of its security group references the tasks' group (no
/// CIDR, no prefix list), on PostgreSQL's port. checkov sees "no ingress open to the world" but not which of our
/// groups may reach which; that chain is the service's own.
fn check_database_admits_only_the_tasks(s: &Scale) -> Violations {
    let mut v = Violations::new();
    let mut ingress = 0;
    for rule in s
        .security_groups
        .blocks("resource", &["aws_vpc_security_group_ingress_rule"])
    {
        if attr(&rule.body, "security_group_id").map(show).as_deref() != Some("aws_security_group.db.id") {
            continue;
        }
        ingress += 1;
        let name = format!("aws_vpc_security_group_ingress_rule.{}", label(rule, 1).unwrap_or("?"));
        for other in ["cidr_ipv4", "cidr_ipv6", "prefix_list_id"] {
            if attr(&rule.body, other).is_some() {
                v.push(format!(
                    "{name}: the database admits {other}; only the tasks' group may reach it"
                ));
            }
        }
        let source = attr(&rule.body, "referenced_security_group_id").map(show);
        if source.as_deref() != Some("aws_security_group.tasks.id") {
            v.push(format!("{name}: the database admits {source:?}, not the tasks' group"));
        }
        let port = attr(&rule.body, "from_port").map(show);
        if port.as_deref() != Some("5432") {
            v.push(format!("{name}: the database is opened on port {port:?}, not 5432"));
        }
    }
    if ingress == 0 {
        v.push("the database security group has no ingress rule (the tasks could not reach it)".into());
    }
    v
}

// --- the real infra/ and a broken copy of it --------------------------------------------------------------------

fn assert_clean(check: &str, violations: Violations) {
    assert!(
        violations.is_empty(),
        "{check} on infra/:\n  {}",
        violations.join("\n  ")
    );
}

fn assert_reports(violations: Violations, expected: &[&str]) {
    for needle in expected {
        assert!(
            violations.iter().any(|v| v.contains(needle)),
            "expected a violation mentioning {needle:?}, got:\n  {}",
            violations.join("\n  ")
        );
    }
}

#[test]
fn infra_read_endpoint_reaches_the_task_as_db_read_host() {
    assert_clean(
        "check_read_endpoint",
        check_read_endpoint(&Scale::real(), &ServiceContract::from_service()),
    );
}

#[test]
fn infra_alb_trusts_only_cloudfront() {
    assert_clean(
        "check_alb_trusts_only_cloudfront",
        check_alb_trusts_only_cloudfront(&Scale::real()),
    );
}

#[test]
fn infra_database_admits_only_the_tasks() {
    assert_clean(
        "check_database_admits_only_the_tasks",
        check_database_admits_only_the_tasks(&Scale::real()),
    );
}

#[test]
fn a_database_reachable_from_elsewhere_is_reported() {
    let from_alb = Scale::broken(
        "modules/security_groups",
        "main.tf",
        "to_port                      = 5432\n  referenced_security_group_id = aws_security_group.tasks.id",
        "to_port                      = 5432\n  referenced_security_group_id = aws_security_group.alb.id",
    );
    assert_reports(
        check_database_admits_only_the_tasks(&from_alb),
        &["aws_security_group.alb.id\"), not the tasks' group"],
    );
}

#[test]
fn infra_blue_green_rules_lead_to_the_service_port_and_health_path() {
    assert_clean(
        "check_blue_green",
        check_blue_green(&Scale::real(), &ServiceContract::from_service()),
    );
}

#[test]
fn a_read_endpoint_that_is_not_the_replicas_is_reported() {
    let svc = ServiceContract::from_service();
    let wiring = "db_read_host    = module.database.read_host";
    let primary = Scale::broken(
        "modules/environment",
        "main.tf",
        wiring,
        "db_read_host    = module.database.address",
    );
    assert_reports(
        check_read_endpoint(&primary, &svc),
        &["task api: DB_READ_HOST is aws_db_instance.this.address, which names no aws_route53_record"],
    );
    let records = "records        = [aws_db_instance.replica[count.index].address]";
    let to_primary = Scale::broken(
        "modules/database",
        "main.tf",
        records,
        "records        = [aws_db_instance.this.address]",
    );
    assert_reports(check_read_endpoint(&to_primary, &svc), &["are no read replica"]);
    let renamed = Scale::broken(
        "modules/service",
        "task_definitions.tf",
        r#"{ name = "DB_READ_HOST", value"#,
        r#"{ name = "DB_REPLICA_HOST", value"#,
    );
    assert_reports(check_read_endpoint(&renamed, &svc), &["no task sets DB_READ_HOST"]);
    let none = Scale::broken(
        "envs/production",
        "main.tf",
        "db_replica_count             = 1",
        "db_replica_count             = 0",
    );
    assert_reports(
        check_read_endpoint(&none, &svc),
        &["production reads from at least one replica"],
    );
}

#[test]
fn an_alb_reachable_without_cloudfront_is_reported() {
    let open = Scale::broken(
        "modules/security_groups",
        "main.tf",
        "prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id",
        r#"cidr_ipv4         = "0.0.0.0/0""#,
    );
    assert_reports(
        check_alb_trusts_only_cloudfront(&open),
        &[
            "the ALB admits cidr_ipv4",
            "must be the com.amazonaws.global.cloudfront.origin-facing prefix list",
        ],
    );
    let default_forward = Scale::broken(
        "modules/load_balancer",
        "main.tf",
        r#"type = "fixed-response""#,
        r#"type = "forward""#,
    );
    assert_reports(
        check_alb_trusts_only_cloudfront(&default_forward),
        &["forwards by default"],
    );
    let guessable = Scale::broken(
        "modules/load_balancer",
        "main.tf",
        "values           = [random_password.origin_secret.result]",
        r#"values           = ["letmein"]"#,
    );
    assert_reports(
        check_alb_trusts_only_cloudfront(&guessable),
        &["aws_lb_listener_rule.production forwards without requiring what CloudFront sends"],
    );
}

#[test]
fn blue_green_rules_off_the_service_are_reported() {
    let svc = ServiceContract::from_service();
    let rolling = Scale::broken(
        "modules/service",
        "service.tf",
        r#"strategy             = "BLUE_GREEN""#,
        r#"strategy             = "ROLLING""#,
    );
    assert_reports(check_blue_green(&rolling, &svc), &["not BLUE_GREEN"]);
    let elsewhere = Scale::broken(
        "modules/load_balancer",
        "main.tf",
        r#"arn    = aws_lb_target_group.api["alternate"].arn"#,
        "arn    = aws_lb_target_group.preview.arn",
    );
    assert_reports(
        check_blue_green(&elsewhere, &svc),
        &[
            "production_listener_rule: aws_lb_listener_rule.production forwards to aws_lb_target_group.preview.arn, not one of the service's two target groups",
        ],
    );
    let ready = Scale::broken(
        "modules/environment",
        "main.tf",
        r#"health_check_path   = "/health""#,
        r#"health_check_path   = "/ready""#,
    );
    assert_reports(
        check_blue_green(&ready, &svc),
        &["(alternate_target_group_arn): health check path Some(Ok(\"/ready\"))"],
    );
}
