//! The contract checks of the scale-out (issue 13) that only this project can make: the replicas' read endpoint
//! reaches the api task as `DB_READ_HOST` (the read database the service reads), the ALB trusts nothing but
//! CloudFront, and the blue/green listener rules lead to target groups on the service's port and health path.
//!
//! Values cross module boundaries here (the task's `DB_READ_HOST` is `module.database.read_host` two modules up),
//! so [`Resolver::deep`] follows `var.X` to the caller's argument and `module.M.O` to the callee's output, each
//! resolved in its own instance's scope, until it reaches a literal or something only AWS knows (a resource
//! attribute), and says in which instance it ended.

use crate::checks::Violations;
use crate::service::ServiceContract;
use crate::terraform::{Instance, Tree, as_str, as_u64, attr, blocks, label, object_get, show};
use hcl::expr::TraversalOperator;
use hcl::{Block, Expression};

/// A `root.a["b"].c` traversal as `("root", ["a", "b", "c"])`.
fn path(expr: &Expression) -> Option<(String, Vec<String>)> {
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let mut parts = Vec::new();
    for op in &t.operators {
        match op {
            TraversalOperator::GetAttr(id) => parts.push(id.as_str().to_string()),
            TraversalOperator::Index(Expression::String(s)) => parts.push(s.clone()),
            TraversalOperator::LegacyIndex(i) => parts.push(i.to_string()),
            _ => return None,
        }
    }
    Some((root.as_str().to_string(), parts))
}

/// Every instance of a tree, and how values travel between them.
struct Resolver<'a> {
    tree: &'a Tree,
    insts: Vec<Instance<'a>>,
}

impl<'a> Resolver<'a> {
    fn new(tree: &'a Tree) -> Resolver<'a> {
        Resolver {
            tree,
            insts: tree.instances(),
        }
    }

    /// The instance of the module a `module "<name>"` block of `parent` calls.
    fn child<'s>(&'s self, parent: &Instance, name: &str) -> Option<&'s Instance<'a>> {
        let block = blocks(&parent.dir.body, "module").find(|b| label(b, 0) == Some(name))?;
        let target = self.tree.module_target(parent.dir, block)?;
        let want = format!("{} (as module.{name} in {})", self.tree.rel(&target.path), parent.name);
        self.insts.iter().find(|i| i.name == want)
    }

    /// The instance whose `module` block created `inst`, and that block.
    fn caller<'s>(&'s self, inst: &Instance) -> Option<(&'s Instance<'a>, &'a Block)> {
        self.insts.iter().find_map(|parent| {
            blocks(&parent.dir.body, "module").find_map(|b| {
                let target = self.tree.module_target(parent.dir, b)?;
                let want = format!(
                    "{} (as module.{} in {})",
                    self.tree.rel(&target.path),
                    label(b, 0)?,
                    parent.name
                );
                (target.path == inst.dir.path && want == inst.name).then_some((parent, b))
            })
        })
    }

    /// `expr` of `inst` resolved across module boundaries: (the instance it ended in, the value).
    fn deep<'s>(&'s self, inst: &'s Instance<'a>, expr: &Expression) -> (&'s Instance<'a>, Expression) {
        self.deep_from(inst, inst.scope.resolve(expr), 0)
    }

    fn deep_from<'s>(
        &'s self,
        inst: &'s Instance<'a>,
        value: Expression,
        depth: usize,
    ) -> (&'s Instance<'a>, Expression) {
        if depth > 16 {
            return (inst, value);
        }
        match path(&value) {
            // var.X (or var.X.field of an object argument): the caller's argument X.
            Some((root, parts)) if root == "var" && !parts.is_empty() => {
                if let Some((parent, block)) = self.caller(inst) {
                    if let Some(arg) = attr(&block.body, &parts[0]) {
                        let mut current = parent.scope.resolve(arg);
                        for field in &parts[1..] {
                            let next = match &current {
                                Expression::Object(obj) => object_get(obj, field).cloned(),
                                _ => None,
                            };
                            match next {
                                Some(e) => current = e,
                                None => return (inst, value),
                            }
                        }
                        return self.deep_from(parent, current, depth + 1);
                    }
                }
                (inst, value)
            }
            Some((root, parts)) if root == "module" && parts.len() == 2 => {
                if let Some(child) = self.child(inst, &parts[0]) {
                    let output = blocks(&child.dir.body, "output").find(|o| label(o, 0) == Some(parts[1].as_str()));
                    if let Some(v) = output.and_then(|o| attr(&o.body, "value")) {
                        return self.deep_from(child, child.scope.resolve(v), depth + 1);
                    }
                }
                (inst, value)
            }
            _ => (inst, value),
        }
    }

    /// Instances created from the root `root` (the root itself included).
    fn under<'s>(&'s self, root: &'s Instance) -> impl Iterator<Item = &'s Instance<'a>> + 's {
        self.insts.iter().filter(move |i| i.root == root.root)
    }

    fn roots(&self) -> impl Iterator<Item = &Instance<'a>> {
        self.insts.iter().filter(|i| i.depth == 0)
    }

    /// The resource block a `TYPE.NAME[...]...` reference points at, in `inst`.
    fn resource(&self, inst: &Instance<'a>, reference: &Expression) -> Option<(&'a Block, Vec<String>)> {
        let (kind, parts) = path(reference)?;
        let name = parts.first()?;
        let block = inst.dir.body.blocks().find(|b| {
            b.identifier() == "resource" && label(b, 0) == Some(kind.as_str()) && label(b, 1) == Some(name)
        })?;
        Some((block, parts[1..].to_vec()))
    }
}

/// Names and values of a container's `environment`.
fn environment(container: &Expression) -> Vec<(String, Expression)> {
    let Expression::Object(def) = container else {
        return vec![];
    };
    let Some(Expression::Array(entries)) = object_get(def, "environment") else {
        return vec![];
    };
    entries
        .iter()
        .filter_map(|e| {
            let Expression::Object(e) = e else { return None };
            let name = object_get(e, "name").and_then(as_str)?.to_string();
            Some((name, object_get(e, "value")?.clone()))
        })
        .collect()
}

/// The containers of every task definition of `inst` that publish a port (the api service), once per `for_each`
/// instance of the task definition.
fn served_containers(inst: &Instance) -> Vec<Expression> {
    let mut out = Vec::new();
    for td in inst.resources("aws_ecs_task_definition") {
        for defs in inst
            .scope
            .resolve_per_instance(td, "container_definitions")
            .into_iter()
            .flatten()
        {
            let Expression::Array(containers) = defs else { continue };
            out.extend(
                containers
                    .into_iter()
                    .filter(|c| matches!(c, Expression::Object(def) if object_get(def, "portMappings").is_some())),
            );
        }
    }
    out
}

/// The number of instances a resource creates: its resolved `count`, or 1 without one.
fn count(inst: &Instance, block: &Block) -> Option<u64> {
    match attr(&block.body, "count") {
        None => Some(1),
        Some(e) => as_u64(&inst.scope.resolve(e)),
    }
}

fn mentions(expr: &Expression, needle: &str) -> bool {
    show(expr).contains(needle)
}

/// Per environment root: with read replicas, the api task sets `DB_READ_HOST`, the service reads that variable, and
/// its value is the name whose DNS records point at the replicas (not the primary); without replicas it is unset.
pub fn check_read_endpoint(tree: &Tree, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    if !svc.global_env.contains("DB_READ_HOST") {
        v.push("the service no longer reads DB_READ_HOST".into());
    }
    let r = Resolver::new(tree);
    let mut roots_with_replicas = 0;
    for root in r.roots() {
        // The replicas of this environment and the DNS records naming them.
        let mut replicas = 0;
        let mut replica_names: Vec<String> = Vec::new();
        for inst in r.under(root) {
            let replica_labels: Vec<&str> = inst
                .resources("aws_db_instance")
                .filter(|b| attr(&b.body, "replicate_source_db").is_some())
                .inspect(|b| replicas += count(inst, b).unwrap_or(0))
                .filter_map(|b| label(b, 1))
                .collect();
            for record in inst.resources("aws_route53_record") {
                let records = attr(&record.body, "records").map(|e| inst.scope.resolve(e));
                let points_at_replica = records.as_ref().is_some_and(|e| {
                    replica_labels
                        .iter()
                        .any(|l| mentions(e, &format!("aws_db_instance.{l}")))
                });
                if let (true, Some(name)) = (
                    points_at_replica,
                    attr(&record.body, "name").map(|e| inst.scope.resolve(e)),
                ) {
                    replica_names.extend(as_str(&name).map(str::to_string));
                }
            }
        }
        let mut read_hosts = Vec::new();
        for inst in r.under(root) {
            for c in served_containers(inst) {
                for (name, value) in environment(&c) {
                    if name == "DB_READ_HOST" {
                        read_hosts.push((inst, value));
                    }
                }
            }
        }
        if replicas == 0 {
            for (inst, value) in &read_hosts {
                v.push(format!(
                    "{}: DB_READ_HOST = {} although the environment has no read replica",
                    inst.name,
                    show(value)
                ));
            }
            continue;
        }
        roots_with_replicas += 1;
        if read_hosts.is_empty() {
            v.push(format!(
                "{}: {replicas} read replica(s) but the api task does not set DB_READ_HOST: the service would never read from them",
                root.name
            ));
        }
        for (inst, value) in read_hosts {
            let (ended, resolved) = r.deep_from(inst, value, 0);
            let ok = as_str(&resolved).is_some_and(|h| replica_names.iter().any(|n| n == h))
                || (path(&resolved).is_some_and(|(root, _)| root == "aws_db_instance")
                    && ended.resources("aws_db_instance").any(|b| {
                        attr(&b.body, "replicate_source_db").is_some()
                            && label(b, 1).is_some_and(|l| mentions(&resolved, &format!("aws_db_instance.{l}")))
                    }));
            if !ok {
                v.push(format!(
                    "{}: DB_READ_HOST = {} (resolved in {}) is not the read replicas' endpoint (names pointing at them: {replica_names:?})",
                    inst.name,
                    show(&resolved),
                    ended.name
                ));
            }
        }
    }
    if roots_with_replicas == 0 {
        v.push("no environment has a read replica (aws_db_instance with replicate_source_db)".into());
    }
    v
}

/// The origin-facing prefix list CloudFront connects to origins from.
const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";

/// The ALB admits only CloudFront: its security group's only ingress is the CloudFront origin-facing prefix list;
/// its listeners forward nothing by default; every forwarding listener rule requires the header CloudFront adds to
/// origin requests, with the very value CloudFront sends.
pub fn check_alb_trusts_only_cloudfront(tree: &Tree) -> Violations {
    let mut v = Violations::new();
    let r = Resolver::new(tree);
    let mut albs = 0;
    for inst in &r.insts {
        let alb_groups: Vec<&str> = inst
            .resources("aws_security_group")
            .filter(|sg| {
                attr(&sg.body, "name")
                    .map(|e| inst.scope.resolve(e))
                    .as_ref()
                    .and_then(as_str)
                    .is_some_and(|n| n.ends_with("-alb"))
            })
            .filter_map(|sg| label(sg, 1))
            .collect();
        for group in &alb_groups {
            let mut ingress = 0;
            for rule in inst.resources("aws_vpc_security_group_ingress_rule") {
                let target = attr(&rule.body, "security_group_id").map(|e| inst.scope.resolve(e));
                if !target.is_some_and(|t| mentions(&t, &format!("aws_security_group.{group}."))) {
                    continue;
                }
                ingress += 1;
                let rule_name = format!(
                    "{}: aws_vpc_security_group_ingress_rule.{}",
                    inst.name,
                    label(rule, 1).unwrap_or("?")
                );
                for other in ["cidr_ipv4", "cidr_ipv6", "referenced_security_group_id"] {
                    if attr(&rule.body, other).is_some() {
                        v.push(format!(
                            "{rule_name}: the ALB admits {other}; only CloudFront may reach it"
                        ));
                    }
                }
                let list = attr(&rule.body, "prefix_list_id").and_then(|e| path(&inst.scope.resolve(e)));
                let is_cloudfront = list.is_some_and(|(root, parts)| {
                    root == "data"
                        && parts.first().map(String::as_str) == Some("aws_ec2_managed_prefix_list")
                        && inst.dir.body.blocks().any(|b| {
                            b.identifier() == "data"
                                && label(b, 0) == Some("aws_ec2_managed_prefix_list")
                                && label(b, 1) == parts.get(1).map(String::as_str)
                                && attr(&b.body, "name")
                                    .map(|e| inst.scope.resolve(e))
                                    .as_ref()
                                    .and_then(as_str)
                                    == Some(CLOUDFRONT_PREFIX_LIST)
                        })
                });
                if !is_cloudfront {
                    v.push(format!(
                        "{rule_name}: the ALB's ingress must be the {CLOUDFRONT_PREFIX_LIST} prefix list"
                    ));
                }
            }
            if ingress == 0 {
                v.push(format!(
                    "{}: aws_security_group.{group} has no ingress from CloudFront",
                    inst.name
                ));
            }
        }

        // The header and value CloudFront adds to origin requests, wherever the distribution is.
        let sent: Vec<(String, String)> = r
            .insts
            .iter()
            .filter(|i| i.root == inst.root)
            .flat_map(|i| {
                i.resources("aws_cloudfront_distribution")
                    .flat_map(|d| blocks(&d.body, "origin"))
                    .flat_map(|o| blocks(&o.body, "custom_header"))
                    .filter_map(|h| {
                        let (_, name) = r.deep(i, attr(&h.body, "name")?);
                        let (at, value) = r.deep(i, attr(&h.body, "value")?);
                        Some((as_str(&name)?.to_lowercase(), format!("{} @ {}", show(&value), at.name)))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();

        albs += inst.resources("aws_lb").count();
        for listener in inst.resources("aws_lb_listener") {
            for action in blocks(&listener.body, "default_action") {
                let kind = attr(&action.body, "type").map(|e| inst.scope.resolve(e));
                if kind.as_ref().and_then(as_str) == Some("forward") {
                    v.push(format!(
                        "{}: aws_lb_listener.{} forwards by default: a request without CloudFront's origin header would reach the tasks",
                        inst.name,
                        label(listener, 1).unwrap_or("?")
                    ));
                }
            }
        }
        for rule in inst.resources("aws_lb_listener_rule") {
            let rule_name = format!("{}: aws_lb_listener_rule.{}", inst.name, label(rule, 1).unwrap_or("?"));
            let forwards = blocks(&rule.body, "action").any(|a| {
                attr(&a.body, "type")
                    .map(|e| inst.scope.resolve(e))
                    .as_ref()
                    .and_then(as_str)
                    == Some("forward")
            });
            if !forwards {
                continue;
            }
            let required: Vec<(String, String)> = blocks(&rule.body, "condition")
                .flat_map(|c| blocks(&c.body, "http_header"))
                .filter_map(|h| {
                    let (_, name) = r.deep(inst, attr(&h.body, "http_header_name")?);
                    let (at, values) = r.deep(inst, attr(&h.body, "values")?);
                    let Expression::Array(values) = values else { return None };
                    let value = values.first()?;
                    Some((as_str(&name)?.to_lowercase(), format!("{} @ {}", show(value), at.name)))
                })
                .collect();
            if !required.iter().any(|req| sent.contains(req)) {
                v.push(format!(
                    "{rule_name}: forwards without requiring the header CloudFront sends (required: {required:?}; CloudFront sends: {sent:?})"
                ));
            }
        }
    }
    if albs == 0 {
        v.push("no aws_lb found".into());
    }
    v
}

/// Every ECS service deploys blue/green, and the target groups behind its production and test listener rules (and
/// its primary and alternate groups) listen on the service's port and health-check its liveness route.
pub fn check_blue_green(tree: &Tree, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let r = Resolver::new(tree);
    let port = u64::from(svc.default_port);
    let mut services = 0;
    for inst in &r.insts {
        for service in inst.resources("aws_ecs_service") {
            services += 1;
            let name = format!("{}: aws_ecs_service.{}", inst.name, label(service, 1).unwrap_or("?"));
            let config = blocks(&service.body, "deployment_configuration").next();
            let strategy = config
                .and_then(|c| attr(&c.body, "strategy"))
                .map(|e| inst.scope.resolve(e));
            if strategy.as_ref().and_then(as_str) != Some("BLUE_GREEN") {
                v.push(format!("{name}: deployment_configuration.strategy must be BLUE_GREEN"));
            }
            if config.and_then(|c| attr(&c.body, "bake_time_in_minutes")).is_none() {
                v.push(format!(
                    "{name}: no bake_time_in_minutes: blue would be gone before an alarm can roll back"
                ));
            }
            let Some(lb) = blocks(&service.body, "load_balancer").next() else {
                v.push(format!("{name}: no load_balancer block"));
                continue;
            };
            if attr(&lb.body, "container_port")
                .map(|e| inst.scope.resolve(e))
                .as_ref()
                .and_then(as_u64)
                != Some(port)
            {
                v.push(format!(
                    "{name}: load_balancer.container_port is not the service's port {port}"
                ));
            }
            let Some(advanced) = blocks(&lb.body, "advanced_configuration").next() else {
                v.push(format!(
                    "{name}: load_balancer has no advanced_configuration (alternate target group, listener rules)"
                ));
                continue;
            };
            if attr(&advanced.body, "role_arn").is_none() {
                v.push(format!("{name}: advanced_configuration has no role_arn"));
            }
            let mut groups = Vec::new();
            for (what, expr) in [
                ("target_group_arn", attr(&lb.body, "target_group_arn")),
                (
                    "alternate_target_group_arn",
                    attr(&advanced.body, "alternate_target_group_arn"),
                ),
            ] {
                match expr {
                    Some(e) => groups.push((what.to_string(), r.deep(inst, e))),
                    None => v.push(format!("{name}: no {what}")),
                }
            }
            for what in ["production_listener_rule", "test_listener_rule"] {
                let Some(e) = attr(&advanced.body, what) else {
                    v.push(format!("{name}: advanced_configuration has no {what}"));
                    continue;
                };
                let (at, reference) = r.deep(inst, e);
                let Some((rule, _)) = r
                    .resource(at, &reference)
                    .filter(|(b, _)| label(b, 0) == Some("aws_lb_listener_rule"))
                else {
                    v.push(format!(
                        "{name}: {what} = {} is not a listener rule of this configuration",
                        show(&reference)
                    ));
                    continue;
                };
                let forwarded: Vec<Expression> = blocks(&rule.body, "action")
                    .flat_map(|a| blocks(&a.body, "forward"))
                    .flat_map(|f| blocks(&f.body, "target_group"))
                    .filter_map(|tg| attr(&tg.body, "arn").map(|e| at.scope.resolve(e)))
                    .collect();
                if forwarded.is_empty() {
                    v.push(format!("{name}: {what} forwards to no target group"));
                }
                for tg in forwarded {
                    groups.push((format!("{what} target"), (at, tg)));
                }
            }
            for (what, (at, reference)) in groups {
                let Some((tg, _)) = r
                    .resource(at, &reference)
                    .filter(|(b, _)| label(b, 0) == Some("aws_lb_target_group"))
                else {
                    v.push(format!(
                        "{name}: {what} = {} is not a target group of this configuration",
                        show(&reference)
                    ));
                    continue;
                };
                let tg_name = format!(
                    "{}: aws_lb_target_group.{} ({what})",
                    at.name,
                    label(tg, 1).unwrap_or("?")
                );
                match attr(&tg.body, "port")
                    .map(|e| at.scope.resolve(e))
                    .as_ref()
                    .and_then(as_u64)
                {
                    Some(p) if p == port => {}
                    other => v.push(format!("{tg_name}: port {other:?}, not the service's port {port}")),
                }
                let health = blocks(&tg.body, "health_check").next();
                let path = health.and_then(|h| attr(&h.body, "path")).map(|e| at.scope.resolve(e));
                match path.as_ref().and_then(as_str) {
                    Some("/health") if svc.routes.contains("/health") => {}
                    other => v.push(format!(
                        "{tg_name}: health check path {other:?}, not the service's liveness route /health"
                    )),
                }
                let hc_port = health.and_then(|h| attr(&h.body, "port")).map(|e| at.scope.resolve(e));
                if let Some(p) = hc_port.as_ref() {
                    if as_str(p) != Some("traffic-port") && as_u64(p) != Some(port) {
                        v.push(format!(
                            "{tg_name}: health check port {} is not the traffic port",
                            show(p)
                        ));
                    }
                }
            }
        }
    }
    if services == 0 {
        v.push("no aws_ecs_service found".into());
    }
    v
}
