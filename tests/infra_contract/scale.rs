//! The scale-out (issue 13), where only this project can check it:
//!
//! - the read replicas' endpoint reaches the api task as `DB_READ_HOST`, the read database the service reads, and
//!   production has a replica to read from;
//! - the ALB trusts only CloudFront: its security group admits nothing but the CloudFront origin-facing prefix list,
//!   its listeners forward nothing by default, and every forwarding rule requires the header name and value that
//!   the distribution adds to origin requests;
//! - the database admits only the tasks;
//! - the blue/green service's target groups, and those its production and test listener rules forward to, are the
//!   target groups of `modules/load_balancer`, whose port and health check `check_ports` and
//!   `check_health_checks` hold to the service's.
//!
//! Values are followed with `Infra::resolve` (`tests/support/terraform.rs`): from a module's `var.X` to the argument
//! `modules/environment` passes, and from `module.M.O` to that module's output, one named step at a time.

use crate::service::ServiceContract;
use crate::terraform::{Dir, Infra, attr, label, nested, object_get, path, show};
use crate::{Violations, assert_check, check_health_checks, check_ports, dir, tasks};
use hcl::{Block, Expression};

/// Production has a read replica, and the api task's `DB_READ_HOST` (a variable the service reads) is the name
/// whose DNS records point at the replicas: it resolves to an output of `modules/database` naming an
/// `aws_route53_record` whose records are an `aws_db_instance` with `replicate_source_db`.
fn check_read_endpoint(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    if !svc.global_env.contains("DB_READ_HOST") {
        v.push("the service no longer reads DB_READ_HOST".into());
    }
    let production = dir(infra, "envs/production");
    let replicas = production
        .block("module", &["environment"])
        .and_then(|m| match attr(&m.body, "settings")? {
            Expression::Object(o) => object_get(o, "db_replica_count"),
            _ => None,
        })
        .map(|n| infra.literal(production, n));
    if !matches!(replicas, Some(Ok(ref n)) if n.parse::<u64>().is_ok_and(|n| n >= 1)) {
        v.push(format!(
            "envs/production: db_replica_count is {replicas:?}: production reads from a replica"
        ));
    }
    let mut found = 0;
    for task in tasks(infra, &mut v) {
        for (_, at, value) in task
            .entries(infra, "environment", &mut v)
            .into_iter()
            .filter(|e| e.0 == "DB_READ_HOST")
        {
            found += 1;
            if let Err(e) = infra.resolve(at, value).and_then(read_host_is_the_replicas) {
                v.push(format!("task {}: DB_READ_HOST {e}", task.key));
            }
        }
    }
    if found == 0 {
        v.push("no task sets DB_READ_HOST: the service would never read from the replicas".into());
    }
    v
}

fn read_host_is_the_replicas((db, output): (&Dir, &Expression)) -> Result<(), String> {
    if db.rel != "modules/database" {
        return Err(format!("comes from {}, not from modules/database", db.name));
    }
    // The output names the read endpoint: `local.X` or `cond ? local.X : null`, X being a record's name.
    let output = show(output);
    let records = db.blocks("resource", &["aws_route53_record"]);
    let names = |r: &&&Block| attr(&r.body, "name").is_some_and(|n| output.contains(&show(n)));
    let record = records.iter().find(names);
    let record = record.ok_or_else(|| format!("is {output}, which names no aws_route53_record of modules/database"))?;
    let targets = attr(&record.body, "records").map(show).unwrap_or_default();
    let replicas = db.blocks("resource", &["aws_db_instance"]).into_iter();
    let mut replicas = replicas
        .filter(|i| attr(&i.body, "replicate_source_db").is_some())
        .filter_map(|i| label(i, 1));
    if replicas.any(|l| {
        targets.contains(&format!("aws_db_instance.{l}[")) || targets.contains(&format!("aws_db_instance.{l}."))
    }) {
        return Ok(());
    }
    Err(format!(
        "is the record {:?}, whose records {targets} are no read replica",
        label(record, 1).unwrap_or("?")
    ))
}

/// The ingress rules of `aws_security_group.<group>` in modules/security_groups, by name.
fn ingress<'a>(infra: &'a Infra, group: &str) -> Vec<(String, &'a Block)> {
    let sg = dir(infra, "modules/security_groups");
    let rules = sg
        .blocks("resource", &["aws_vpc_security_group_ingress_rule"])
        .into_iter();
    let target = format!("aws_security_group.{group}.id");
    let rules = rules.filter(|r| attr(&r.body, "security_group_id").map(show) == Some(target.clone()));
    rules
        .map(|r| {
            (
                format!("aws_vpc_security_group_ingress_rule.{}", label(r, 1).unwrap_or("?")),
                r,
            )
        })
        .collect()
}

const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";

fn check_alb_trusts_only_cloudfront(infra: &Infra, _: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let sg = dir(infra, "modules/security_groups");
    let rules = ingress(infra, "alb");
    if rules.is_empty() {
        v.push("the ALB security group has no ingress rule at all (CloudFront could not reach it)".into());
    }
    for (name, rule) in rules {
        for other in ["cidr_ipv4", "cidr_ipv6", "referenced_security_group_id"] {
            if attr(&rule.body, other).is_some() {
                v.push(format!("{name}: the ALB admits {other}; only CloudFront may reach it"));
            }
        }
        let list = attr(&rule.body, "prefix_list_id").and_then(path);
        let list = match list.as_ref().map(|(root, parts)| (*root, parts.as_slice())) {
            Some(("data", [kind, name, _])) if kind == "aws_ec2_managed_prefix_list" => sg
                .block("data", &[kind, name])
                .and_then(|d| attr(&d.body, "name"))
                .map(|n| infra.literal(sg, n)),
            _ => None,
        };
        if !matches!(list, Some(Ok(ref n)) if n == CLOUDFRONT_PREFIX_LIST) {
            v.push(format!(
                "{name}: the ALB's ingress must be the {CLOUDFRONT_PREFIX_LIST} prefix list, got {list:?}"
            ));
        }
    }

    // A header as the ALB compares it: the name (case-insensitive) and where the value is defined.
    let header = |at, name, value| -> Option<(String, String)> {
        let name = infra.literal(at, name).ok()?.to_lowercase();
        let (value_at, value) = infra.resolve(at, value).ok()?;
        Some((name, format!("{}: {}", value_at.name, show(value))))
    };
    let edge = dir(infra, "modules/edge");
    let distributions = edge.blocks("resource", &["aws_cloudfront_distribution"]).into_iter();
    let origins = distributions.flat_map(|d| nested(&d.body, "origin"));
    let custom_headers = origins.flat_map(|o| nested(&o.body, "custom_header"));
    let sent: Vec<_> = custom_headers
        .filter_map(|h| header(edge, attr(&h.body, "name")?, attr(&h.body, "value")?))
        .collect();
    if sent.is_empty() {
        v.push("the CloudFront distribution adds no readable origin header".into());
    }
    let lb = dir(infra, "modules/load_balancer");
    let forwards = |body: &hcl::Body, ident: &str| {
        nested(body, ident).any(|a| attr(&a.body, "type").map(|t| infra.literal(lb, t)) == Some(Ok("forward".into())))
    };
    for listener in lb.blocks("resource", &["aws_lb_listener"]) {
        if forwards(&listener.body, "default_action") {
            let name = label(listener, 1).unwrap_or("?");
            v.push(format!("aws_lb_listener.{name} forwards by default: a request without CloudFront's header would reach the tasks"));
        }
    }
    let rules: Vec<&Block> = lb.blocks("resource", &["aws_lb_listener_rule"]);
    let rules: Vec<&Block> = rules.into_iter().filter(|r| forwards(&r.body, "action")).collect();
    if rules.is_empty() {
        v.push("no listener rule forwards to the service".into());
    }
    for rule in rules {
        let conditions = nested(&rule.body, "condition").flat_map(|c| nested(&c.body, "http_header"));
        let required: Vec<_> = conditions
            .filter_map(|h| match attr(&h.body, "values")? {
                Expression::Array(values) => header(lb, attr(&h.body, "http_header_name")?, values.first()?),
                _ => None,
            })
            .collect();
        if !required.iter().any(|r| sent.contains(r)) {
            v.push(format!(
                "aws_lb_listener_rule.{} forwards without requiring what CloudFront sends (requires {required:?}, CloudFront sends {sent:?})",
                label(rule, 1).unwrap_or("?")
            ));
        }
    }
    v
}

/// The database admits only the tasks: every ingress rule of its security group references the tasks' group (no
/// CIDR, no prefix list), on PostgreSQL's port. checkov sees "no ingress open to the world" but not which of our
/// groups may reach which; that chain is the service's own.
fn check_database_admits_only_the_tasks(infra: &Infra, _: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let rules = ingress(infra, "db");
    if rules.is_empty() {
        v.push("the database security group has no ingress rule (the tasks could not reach it)".into());
    }
    for (name, rule) in rules {
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
    v
}

/// The api service deploys blue/green with a bake time, on the service's port, between two target groups of
/// modules/load_balancer, and its production and test listener rules forward only to those two groups.
fn check_blue_green(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let (service, lb) = (dir(infra, "modules/service"), dir(infra, "modules/load_balancer"));
    let Some(api) = service.block("resource", &["aws_ecs_service", "api"]) else {
        return vec!["modules/service has no aws_ecs_service.api".into()];
    };
    fn get<'b>(block: Option<&'b Block>, key: &str) -> Option<&'b Expression> {
        block.and_then(|b| attr(&b.body, key))
    }
    let config = nested(&api.body, "deployment_configuration").next();
    match get(config, "strategy").map(|e| infra.literal(service, e)) {
        Some(Ok(strategy)) if strategy == "BLUE_GREEN" => {}
        other => v.push(format!(
            "aws_ecs_service.api: deployment strategy {other:?}, not BLUE_GREEN"
        )),
    }
    if get(config, "bake_time_in_minutes").is_none() {
        v.push("aws_ecs_service.api: no bake_time_in_minutes: blue is gone before an alarm can roll back".into());
    }
    let balancer = nested(&api.body, "load_balancer").next();
    match get(balancer, "container_port").map(|p| infra.literal(service, p)) {
        Some(Ok(p)) if p == svc.default_port.to_string() => {}
        other => v.push(format!(
            "aws_ecs_service.api load_balancer.container_port {other:?}, not the service's port"
        )),
    }
    let advanced = balancer.and_then(|b| nested(&b.body, "advanced_configuration").next());
    // Each reference, resolved: the resource of modules/load_balancer it names (`aws_lb_target_group.api["x"]`).
    let resource = |what: &str, block, kind: &str| -> Result<(&Block, String), String> {
        let (at, value) = infra.resolve(
            service,
            get(block, what).ok_or(format!("aws_ecs_service.api: no {what}"))?,
        )?;
        let text = show(value);
        let found = match path(value) {
            Some((root, parts)) if at.rel == lb.rel && root == kind => lb.block("resource", &[kind, &parts[0]]),
            _ => None,
        };
        found.map(|b| (b, text.clone())).ok_or(format!(
            "{what} is {text} of {}, not an {kind} of modules/load_balancer",
            at.name
        ))
    };
    let mut groups = Vec::new();
    for (what, block) in [("target_group_arn", balancer), ("alternate_target_group_arn", advanced)] {
        match resource(what, block, "aws_lb_target_group") {
            Ok((_, group)) => groups.push(group),
            Err(e) => v.push(e),
        }
    }
    for what in ["production_listener_rule", "test_listener_rule"] {
        let rule = match resource(what, advanced, "aws_lb_listener_rule") {
            Ok((rule, _)) => rule,
            Err(e) => {
                v.push(e);
                continue;
            }
        };
        let name = format!("{what}: aws_lb_listener_rule.{}", label(rule, 1).unwrap_or("?"));
        let forwards = nested(&rule.body, "action").flat_map(|a| nested(&a.body, "forward"));
        let targets: Vec<String> = forwards
            .flat_map(|f| nested(&f.body, "target_group"))
            .filter_map(|tg| attr(&tg.body, "arn").map(show))
            .collect();
        if targets.is_empty() {
            v.push(format!("{name} forwards to no target group"));
        }
        for target in targets.into_iter().filter(|t| !groups.contains(t)) {
            v.push(format!(
                "{name} forwards to {target}, not one of the service's two target groups"
            ));
        }
    }
    v
}

const SECURITY_GROUPS: &str = "modules/security_groups/main.tf";
const LOAD_BALANCER: &str = "modules/load_balancer/main.tf";

#[test]
fn infra_read_endpoint_reaches_the_task_as_db_read_host() {
    assert_check(
        check_read_endpoint,
        &[
            (
                "modules/environment/main.tf",
                "db_read_host    = module.database.read_host",
                "db_read_host    = module.database.address",
                &["task api: DB_READ_HOST is aws_db_instance.this.address, which names no aws_route53_record"],
            ),
            (
                "modules/database/main.tf",
                "records        = [aws_db_instance.replica[count.index].address]",
                "records        = [aws_db_instance.this.address]",
                &["are no read replica"],
            ),
            (
                "modules/service/task_definitions.tf",
                r#"{ name = "DB_READ_HOST", value"#,
                r#"{ name = "DB_REPLICA_HOST", value"#,
                &["no task sets DB_READ_HOST"],
            ),
            (
                "envs/production/main.tf",
                "db_replica_count             = 1",
                "db_replica_count             = 0",
                &["production reads from a replica"],
            ),
        ],
    );
}

#[test]
fn infra_alb_trusts_only_cloudfront() {
    assert_check(
        check_alb_trusts_only_cloudfront,
        &[
            (
                SECURITY_GROUPS,
                "prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id",
                r#"cidr_ipv4         = "0.0.0.0/0""#,
                &[
                    "the ALB admits cidr_ipv4",
                    "must be the com.amazonaws.global.cloudfront.origin-facing prefix list",
                ],
            ),
            (
                LOAD_BALANCER,
                r#"type = "fixed-response""#,
                r#"type = "forward""#,
                &["forwards by default"],
            ),
            (
                LOAD_BALANCER,
                "values           = [random_password.origin_secret.result]",
                r#"values           = ["letmein"]"#,
                &["aws_lb_listener_rule.production forwards without requiring what CloudFront sends"],
            ),
        ],
    );
}

#[test]
fn infra_database_admits_only_the_tasks() {
    assert_check(
        check_database_admits_only_the_tasks,
        &[(
            SECURITY_GROUPS,
            "to_port                      = 5432\n  referenced_security_group_id = aws_security_group.tasks.id",
            "to_port                      = 5432\n  referenced_security_group_id = aws_security_group.alb.id",
            &["aws_security_group.alb.id\"), not the tasks' group"],
        )],
    );
}

/// The target groups' port and health path are `check_ports`' and `check_health_checks`' (every target group of
/// modules/load_balancer, so both blue/green colours); their broken copies are in `main.rs`.
#[test]
fn infra_blue_green_rules_lead_to_the_service_port_and_health_path() {
    for check in [check_ports, check_health_checks] {
        assert_check(check, &[]);
    }
    assert_check(
        check_blue_green,
        &[
            (
                "modules/service/service.tf",
                r#"strategy             = "BLUE_GREEN""#,
                r#"strategy             = "ROLLING""#,
                &["not BLUE_GREEN"],
            ),
            (
                LOAD_BALANCER,
                r#"arn    = aws_lb_target_group.api["alternate"].arn"#,
                "arn    = aws_lb_target_group.preview.arn",
                &[
                    "production_listener_rule: aws_lb_listener_rule.production forwards to aws_lb_target_group.preview.arn, not one of the service's two target groups",
                ],
            ),
            (
                "modules/environment/main.tf",
                "alternate_target_group_arn   = module.load_balancer.alternate_target_group_arn",
                "alternate_target_group_arn   = module.load_balancer.production_listener_rule_arn",
                &[
                    "alternate_target_group_arn is aws_lb_listener_rule.production.arn of infra/modules/load_balancer, not an aws_lb_target_group",
                ],
            ),
        ],
    );
}
