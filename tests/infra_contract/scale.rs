//! The scale-out (issue 13), where only this project can check it: the read replicas reach the api task as
//! `DB_READ_HOST`; only CloudFront reaches the ALB; only the tasks reach the database; the blue/green service and its
//! listener rules use the target groups of `modules/load_balancer` (whose port and health check `check_ports` and
//! `check_health_checks` hold to the service's). Values are followed with `Infra::resolve`
//! (`tests/support/terraform.rs`): a module's `var.X` to the argument `modules/environment` passes, `module.M.O` to
//! that module's output, one named step at a time.

use crate::service::ServiceContract;
use crate::terraform::{Dir, Infra, attr, label, nested, object_get, path, show};
use crate::{LOAD_BALANCER, Violations, assert_clean, assert_reports, check_health_checks, check_ports, dir, tasks};
use hcl::{Block, Body, Expression};

/// Production has a read replica, and the api task's `DB_READ_HOST` (a variable the service reads) is the name
/// whose DNS records point at the replicas: it resolves to an output of `modules/database` naming an
/// `aws_route53_record` whose records are an `aws_db_instance` with `replicate_source_db`.
fn check_read_endpoint(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    if !svc.global_env.contains("DB_READ_HOST") {
        v.push("the service no longer reads DB_READ_HOST".into());
    }
    let production = dir(infra, "envs/production");
    let environment = production.block("module", &["environment"]);
    let replicas = match environment.and_then(|m| attr(&m.body, "settings")) {
        Some(Expression::Object(o)) => object_get(o, "db_replica_count"),
        _ => None,
    };
    let replicas = replicas.map(|n| infra.literal(production, n));
    if !matches!(replicas, Some(Ok(ref n)) if n.parse::<u64>().is_ok_and(|n| n >= 1)) {
        v.push(format!("envs/production: db_replica_count {replicas:?}, not >= 1"));
    }
    let mut found = 0;
    for task in tasks(infra, &mut v) {
        for (name, at, value) in task.entries(infra, "environment", &mut v) {
            if name == "DB_READ_HOST" {
                found += 1;
                let replicas = infra.resolve(at, value).and_then(read_host_is_the_replicas);
                v.extend(replicas.err().map(|e| format!("task {}: DB_READ_HOST {e}", task.key)));
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
    let records = db.blocks("resource", &["aws_route53_record"]).into_iter();
    let mut records = records.filter(|r| attr(&r.body, "name").is_some_and(|n| output.contains(&show(n))));
    let record = records
        .next()
        .ok_or(format!("is {output}, which names no aws_route53_record"));
    let record = record?;
    let targets = attr(&record.body, "records").map(show).unwrap_or_default();
    let instances = db.blocks("resource", &["aws_db_instance"]).into_iter();
    let replicas = instances.filter(|i| attr(&i.body, "replicate_source_db").is_some());
    let mut names = replicas
        .filter_map(|i| label(i, 1))
        .map(|l| format!("aws_db_instance.{l}"));
    if names.any(|name| targets.contains(&format!("{name}[")) || targets.contains(&format!("{name}."))) {
        return Ok(());
    }
    let record = label(record, 1).unwrap_or("?");
    Err(format!(
        "is the record {record:?}, whose records {targets} are no replica"
    ))
}

/// The ingress rules of `aws_security_group.<group>` in modules/security_groups, by name.
fn ingress<'a>(infra: &'a Infra, group: &str) -> Vec<(String, &'a Block)> {
    let sg = dir(infra, "modules/security_groups");
    let target = Some(format!("aws_security_group.{group}.id"));
    let rules = sg.blocks("resource", &["aws_vpc_security_group_ingress_rule"]);
    let rules = rules.into_iter();
    let rules = rules.filter(|r| attr(&r.body, "security_group_id").map(show) == target);
    let name = |r: &Block| format!("aws_vpc_security_group_ingress_rule.{}", label(r, 1).unwrap_or("?"));
    rules.map(|r| (name(r), r)).collect()
}

const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";

/// Only CloudFront reaches the ALB: its security group admits nothing but the CloudFront origin-facing prefix list,
/// its listeners forward nothing by default, and every forwarding rule requires the header name and value that the
/// distribution adds to origin requests (any other distribution shares the prefix list).
fn check_alb_trusts_only_cloudfront(infra: &Infra, _: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let sg = dir(infra, "modules/security_groups");
    let rules = ingress(infra, "alb");
    if rules.is_empty() {
        v.push("the ALB security group has no ingress rule (CloudFront could not reach it)".into());
    }
    for (name, rule) in rules {
        for other in ["cidr_ipv4", "cidr_ipv6", "referenced_security_group_id"] {
            if attr(&rule.body, other).is_some() {
                v.push(format!("{name}: the ALB admits {other}; only CloudFront may reach it"));
            }
        }
        let list = attr(&rule.body, "prefix_list_id").and_then(path);
        let list = match list.as_ref().map(|(root, parts)| (*root, parts.as_slice())) {
            Some(("data", [kind, name, _])) => sg.block("data", &[kind, name]),
            _ => None,
        };
        let list = list.and_then(|d| attr(&d.body, "name")).map(|n| infra.literal(sg, n));
        if list != Some(Ok(CLOUDFRONT_PREFIX_LIST.into())) {
            v.push(format!("{name}: the ALB admits prefix list {list:?}, not CloudFront's"));
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
    let sent = custom_headers.filter_map(|h| header(edge, attr(&h.body, "name")?, attr(&h.body, "value")?));
    let sent: Vec<_> = sent.collect();
    if sent.is_empty() {
        v.push("the CloudFront distribution adds no readable origin header".into());
    }
    let lb = dir(infra, "modules/load_balancer");
    let forward = Some(Ok("forward".to_string()));
    let forwards = |body: &Body, ident| {
        nested(body, ident).any(|a| attr(&a.body, "type").map(|t| infra.literal(lb, t)) == forward)
    };
    for listener in lb.blocks("resource", &["aws_lb_listener"]) {
        if forwards(&listener.body, "default_action") {
            let name = label(listener, 1).unwrap_or("?");
            v.push(format!("aws_lb_listener.{name} forwards by default: no header needed"));
        }
    }
    let rules = lb.blocks("resource", &["aws_lb_listener_rule"]).into_iter();
    let rules: Vec<&Block> = rules.filter(|r| forwards(&r.body, "action")).collect();
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
            let name = label(rule, 1).unwrap_or("?");
            let headers = format!("requires {required:?}, CloudFront sends {sent:?}");
            let rule = format!("aws_lb_listener_rule.{name}");
            v.push(format!("{rule} forwards without CloudFront's header: {headers}"));
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
                v.push(format!("{name}: the database admits {other}, not only the tasks"));
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

fn get<'b>(block: Option<&'b Block>, key: &str) -> Option<&'b Expression> {
    block.and_then(|b| attr(&b.body, key))
}

/// The api service deploys blue/green with a bake time, on the service's port, between two target groups of
/// modules/load_balancer, and its production and test listener rules forward only to those two groups.
fn check_blue_green(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let (service, lb) = (dir(infra, "modules/service"), dir(infra, "modules/load_balancer"));
    let Some(api) = service.block("resource", &["aws_ecs_service", "api"]) else {
        return vec!["modules/service has no aws_ecs_service.api".into()];
    };
    let config = nested(&api.body, "deployment_configuration").next();
    let strategy = get(config, "strategy").map(|e| infra.literal(service, e));
    if strategy != Some(Ok("BLUE_GREEN".into())) {
        v.push(format!("aws_ecs_service.api: strategy {strategy:?}, not BLUE_GREEN"));
    }
    if get(config, "bake_time_in_minutes").is_none() {
        v.push("aws_ecs_service.api: no bake time: blue is gone before an alarm can roll back".into());
    }
    let balancer = nested(&api.body, "load_balancer").next();
    let port = get(balancer, "container_port").map(|p| infra.literal(service, p));
    if port != Some(Ok(svc.default_port.to_string())) {
        v.push(format!(
            "aws_ecs_service.api: container_port {port:?}, not the service's"
        ));
    }
    let advanced = balancer.and_then(|b| nested(&b.body, "advanced_configuration").next());
    // An argument of the service, resolved to the resource of modules/load_balancer it names.
    let resource = |what: &str, block, kind: &str| -> Result<(&Block, String), String> {
        let value = get(block, what).ok_or(format!("aws_ecs_service.api: no {what}"))?;
        let (at, value) = infra.resolve(service, value)?;
        let found = match path(value) {
            Some((root, parts)) if at.rel == lb.rel && root == kind => lb.block("resource", &[kind, &parts[0]]),
            _ => None,
        };
        let (text, at) = (show(value), &at.name);
        found
            .map(|b| (b, text.clone()))
            .ok_or(format!("{what} is {text} of {at}, not an {kind}"))
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
        let targets = forwards.flat_map(|f| nested(&f.body, "target_group"));
        let targets: Vec<String> = targets.filter_map(|tg| attr(&tg.body, "arn").map(show)).collect();
        if targets.is_empty() {
            v.push(format!("{name} forwards to no target group"));
        }
        for target in targets.into_iter().filter(|t| !groups.contains(t)) {
            v.push(format!("{name} forwards to {target}, not the service's groups"));
        }
    }
    v
}

const SECURITY_GROUPS: &str = "modules/security_groups/main.tf";

#[test]
fn infra_read_endpoint_reaches_the_task_as_db_read_host() {
    let check = check_read_endpoint;
    assert_clean(check);
    let from = "db_read_host    = module.database.read_host";
    let to = "db_read_host    = module.database.address";
    let want = "task api: DB_READ_HOST is local.rds ? aws_db_instance.this[0].address : aws_rds_cluster.aurora[0].endpoint, which names no aws_route53_record";
    assert_reports(check, "modules/environment/main.tf", (from, to), &[want]);
    let from = "records        = [aws_db_instance.replica[count.index].address]";
    let to = "records        = [aws_db_instance.this.address]";
    assert_reports(check, "modules/database/main.tf", (from, to), &["are no replica"]);
    let from = r#"{ name = "DB_READ_HOST", value"#;
    let to = r#"{ name = "DB_REPLICA_HOST", value"#;
    let want = "no task sets DB_READ_HOST";
    assert_reports(check, "modules/service/task_definitions.tf", (from, to), &[want]);
    let (from, to) = ("db_replica_count             = 1", "db_replica_count             = 0");
    let want = "db_replica_count Some(Ok(\"0\")), not >= 1";
    assert_reports(check, "envs/production/main.tf", (from, to), &[want]);
}

#[test]
fn infra_alb_trusts_only_cloudfront() {
    let check = check_alb_trusts_only_cloudfront;
    assert_clean(check);
    let from = "prefix_list_id    = data.aws_ec2_managed_prefix_list.cloudfront.id";
    let to = r#"cidr_ipv4         = "0.0.0.0/0""#;
    let want = ["the ALB admits cidr_ipv4", "admits prefix list None, not CloudFront's"];
    assert_reports(check, SECURITY_GROUPS, (from, to), &want);
    let (from, to) = (r#"type = "fixed-response""#, r#"type = "forward""#);
    let want = "aws_lb_listener.origin forwards by default: no header needed";
    assert_reports(check, LOAD_BALANCER, (from, to), &[want]);
    let from = "values           = [random_password.origin_secret.result]";
    let to = r#"values           = ["letmein"]"#;
    let want = "aws_lb_listener_rule.production forwards without CloudFront's header";
    assert_reports(check, LOAD_BALANCER, (from, to), &[want]);
}

#[test]
fn infra_database_admits_only_the_tasks() {
    let check = check_database_admits_only_the_tasks;
    assert_clean(check);
    let rule = "to_port                      = 5432\n  referenced_security_group_id = aws_security_group";
    let (from, to) = (format!("{rule}.tasks.id"), format!("{rule}.alb.id"));
    let want = "the database admits Some(\"aws_security_group.alb.id\"), not the tasks' group";
    assert_reports(check, SECURITY_GROUPS, (from, to), &[want]);
}

/// The target groups' port and health path are `check_ports`' and `check_health_checks`' (every target group of
/// modules/load_balancer, so both blue/green colours); their broken copies are in `main.rs`.
#[test]
fn infra_blue_green_rules_lead_to_the_service_port_and_health_path() {
    let check = check_blue_green;
    for check in [check, check_ports, check_health_checks] {
        assert_clean(check);
    }
    let from = r#"strategy             = "BLUE_GREEN""#;
    let to = r#"strategy             = "ROLLING""#;
    let want = "strategy Some(Ok(\"ROLLING\")), not BLUE_GREEN";
    assert_reports(check, "modules/service/service.tf", (from, to), &[want]);
    let from = r#"arn    = aws_lb_target_group.api["alternate"].arn"#;
    let to = "arn    = aws_lb_target_group.preview.arn";
    let want = "production_listener_rule: aws_lb_listener_rule.production forwards to aws_lb_target_group.preview";
    assert_reports(check, LOAD_BALANCER, (from, to), &[want]);
    let argument = "alternate_target_group_arn   = module.load_balancer";
    let from = format!("{argument}.alternate_target_group_arn");
    let to = format!("{argument}.test_listener_rule_arn");
    let want = "alternate_target_group_arn is aws_lb_listener_rule.test.arn of infra/modules/load_balancer";
    assert_reports(check, "modules/environment/main.tf", (from, to), &[want]);
}
