//! Paying for what is used (issue 23), where only this project can check it: the Aurora Serverless v2 choice of
//! modules/database keeps the promises of the RDS one (TLS only, the environment's key, a master secret the db-roles
//! task may read, readers sized for failover) and staging's cluster can pause. Same pattern as `first_apply.rs`:
//! each check runs on the real files and on a broken copy (one edit), where it must report.
use crate::first_apply::{Violations, assert_clean, assert_reports};
use crate::terraform::{Infra, attr, label, nested, object_get, show, template_text};
use hcl::Expression;

/// The numbers an expression can evaluate to when it is a number or `cond ? a : b` over numbers.
fn outcomes(expr: &Expression) -> Option<Vec<f64>> {
    match expr {
        Expression::Number(n) => n.as_f64().map(|n| vec![n]),
        Expression::Conditional(c) => {
            let mut both = outcomes(&c.true_expr)?;
            both.extend(outcomes(&c.false_expr)?);
            Some(both)
        }
        _ => None,
    }
}

/// modules/database with engine = "aurora": the cluster forces TLS (rds.force_ssl = 1 in the parameter group it
/// uses), is encrypted with the environment's key and keeps its master secret under that key too, lets RDS manage
/// the master password; its readers are in promotion tier 0 or 1 (Aurora Serverless v2 scales those with the
/// writer, so a failover lands on an instance sized for the writer); staging's cluster can pause (min 0 ACU); and
/// the permissions boundary lets the db-roles task read that RDS-managed secret, only this environment's.
fn check_aurora(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let db = infra.dir("modules/database").unwrap();
    let Some(cluster) = db.block("resource", &["aws_rds_cluster", "aurora"]) else {
        return vec!["modules/database: no aws_rds_cluster.aurora".into()];
    };
    let text = |key| attr(&cluster.body, key).map(show).unwrap_or_default();
    if text("manage_master_user_password") != "true" {
        v.push("aurora: the master password is not RDS-managed (manage_master_user_password)".into());
    }
    for key in ["kms_key_id", "master_user_secret_kms_key_id"] {
        if text(key) != "var.kms_key_arn" {
            v.push(format!("aurora: {key} is {:?}, not the environment's key", text(key)));
        }
    }
    if text("storage_encrypted") != "true" {
        v.push("aurora: storage not encrypted".into());
    }
    let group = db.block("resource", &["aws_rds_cluster_parameter_group", "aurora"]);
    let force_ssl = group.is_some_and(|g| {
        nested(&g.body, "parameter").any(|p| {
            attr(&p.body, "name").and_then(template_text).as_deref() == Some("rds.force_ssl")
                && attr(&p.body, "value").and_then(template_text).as_deref() == Some("1")
        })
    });
    if !force_ssl || !text("db_cluster_parameter_group_name").starts_with("aws_rds_cluster_parameter_group.aurora") {
        v.push("aurora: the cluster does not use a parameter group with rds.force_ssl = 1".into());
    }
    let instances = db.blocks("resource", &["aws_rds_cluster_instance"]);
    if instances.is_empty() {
        v.push("aurora: no aws_rds_cluster_instance".into());
    }
    for instance in instances {
        let name = label(instance, 1).unwrap_or("?");
        let tier = attr(&instance.body, "promotion_tier");
        match tier.and_then(outcomes) {
            Some(tiers) if tiers.iter().all(|t| *t <= 1.0) => {}
            _ => v.push(format!(
                "aurora: instance {name} promotion_tier {:?} can leave tiers 0-1 (its capacity would not follow the writer)",
                tier.map(show)
            )),
        }
        if attr(&instance.body, "instance_class")
            .and_then(template_text)
            .as_deref()
            != Some("db.serverless")
        {
            v.push(format!("aurora: instance {name} is not db.serverless"));
        }
    }
    // DB_READ_HOST with aurora is the cluster's reader endpoint (the readers' DNS name, kept by Aurora).
    let read_host = db
        .block("output", &["read_host"])
        .and_then(|o| attr(&o.body, "value"))
        .map(show);
    if !read_host
        .as_deref()
        .unwrap_or_default()
        .contains("aws_rds_cluster.aurora[0].reader_endpoint")
    {
        v.push(format!(
            "aurora: output read_host {read_host:?} is not the cluster's reader endpoint"
        ));
    }
    // Staging sleeps: aurora with min 0 ACU, and the module turns that into an auto-pause.
    let staging = infra.dir("envs/staging").unwrap();
    let settings = staging
        .block("module", &["environment"])
        .and_then(|m| attr(&m.body, "settings"));
    let setting = |key| match settings {
        Some(Expression::Object(o)) => object_get(o, key).map(show).unwrap_or_default(),
        _ => String::new(),
    };
    if setting("db_engine") != "\"aurora\"" || setting("db_aurora_min_acu") != "0" {
        v.push(format!(
            "envs/staging: db_engine {} with db_aurora_min_acu {}: staging's database cannot pause",
            setting("db_engine"),
            setting("db_aurora_min_acu")
        ));
    }
    let scaling = nested(&cluster.body, "serverlessv2_scaling_configuration").next();
    let pause = scaling
        .and_then(|s| attr(&s.body, "seconds_until_auto_pause"))
        .map(show);
    if !pause
        .as_deref()
        .unwrap_or_default()
        .contains("var.aurora_seconds_until_auto_pause")
    {
        v.push(format!("aurora: seconds_until_auto_pause is {pause:?}"));
    }
    // The db-roles task's execution role carries the boundary: it must allow reading the managed secret.
    let boundary = infra.dir("modules/github_actions").unwrap();
    let doc = boundary.block("data", &["aws_iam_policy_document", "workload_boundary"]);
    let reads_managed = doc.is_some_and(|d| {
        nested(&d.body, "statement").any(|s| {
            let resources = attr(&s.body, "resources").map(show).unwrap_or_default();
            let tagged = nested(&s.body, "condition").any(|c| {
                attr(&c.body, "variable").and_then(template_text).as_deref()
                    == Some("secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn")
            });
            attr(&s.body, "actions")
                .map(show)
                .unwrap_or_default()
                .contains("secretsmanager:GetSecretValue")
                && resources.contains("rds!cluster-")
                && tagged
        })
    });
    if !reads_managed {
        v.push("boundary: no GetSecretValue on this environment's rds!cluster-* secret (db-roles could not read the master)".into());
    }
    v
}

#[test]
fn aurora_keeps_the_databases_promises_and_staging_can_pause() {
    assert_clean(check_aurora);
    let tls = (
        "modules/database/aurora.tf",
        "name  = \"rds.force_ssl\"",
        "name  = \"rds.log_retention_period\"",
    );
    assert_reports(check_aurora, tls, "rds.force_ssl = 1");
    let key = (
        "modules/database/aurora.tf",
        "master_user_secret_kms_key_id = var.kms_key_arn",
        "master_user_secret_kms_key_id = null",
    );
    assert_reports(check_aurora, key, "master_user_secret_kms_key_id is \"null\"");
    let tier = (
        "modules/database/aurora.tf",
        "count.index == 0 ? 0 : 1",
        "count.index == 0 ? 0 : 15",
    );
    assert_reports(check_aurora, tier, "can leave tiers 0-1");
    let awake = (
        "envs/staging/main.tf",
        "db_aurora_min_acu            = 0",
        "db_aurora_min_acu            = 0.5",
    );
    assert_reports(check_aurora, awake, "staging's database cannot pause");
    let secret = (
        "modules/github_actions/boundary.tf",
        "variable = \"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn\"",
        "variable = \"aws:ResourceTag/Environment\"",
    );
    assert_reports(check_aurora, secret, "db-roles could not read the master");
    let reader = (
        "modules/database/outputs.tf",
        "aws_rds_cluster.aurora[0].reader_endpoint",
        "aws_rds_cluster.aurora[0].endpoint",
    );
    assert_reports(check_aurora, reader, "is not the cluster's reader endpoint");
}

/// A setting of `envs/<env>`'s call of modules/environment, as written (`show`), empty when absent.
fn setting(infra: &Infra, env: &str, key: &str) -> String {
    let root = infra.dir(&format!("envs/{env}")).unwrap();
    match root
        .block("module", &["environment"])
        .and_then(|m| attr(&m.body, "settings"))
    {
        Some(Expression::Object(o)) => object_get(o, key).map(show).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Compute: both environments run ARM64 tasks (the image CI publishes has both architectures); the api service
/// places tasks by a capacity provider strategy (on-demand base, Spot above), never by a launch type, which ECS
/// refuses beside a strategy; production's on-demand base covers its minimum, so the floor never waits for Spot
/// capacity; staging has a sleep schedule, whose sleep action takes the bounds to 0 and whose wake action restores
/// the service's own bounds in the schedule's time zone.
fn check_compute(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    for env in ["staging", "production"] {
        let arch = setting(infra, env, "api_cpu_architecture");
        if arch != "\"ARM64\"" {
            v.push(format!("envs/{env}: api_cpu_architecture {arch}, not ARM64"));
        }
    }
    let (base, min) = (
        setting(infra, "production", "api_on_demand_base"),
        setting(infra, "production", "api_min_count"),
    );
    if base.parse::<u32>().ok() < min.parse::<u32>().ok() || base.is_empty() {
        v.push(format!(
            "envs/production: api_on_demand_base {base} below api_min_count {min}: the floor would depend on Spot"
        ));
    }
    if setting(infra, "staging", "api_schedule").is_empty() || setting(infra, "staging", "api_schedule") == "null" {
        v.push("envs/staging: no api_schedule: staging never sleeps".into());
    }
    let service = infra.dir("modules/service").unwrap();
    let Some(api) = service.block("resource", &["aws_ecs_service", "api"]) else {
        return vec!["modules/service: no aws_ecs_service.api".into()];
    };
    if attr(&api.body, "launch_type").is_some() {
        v.push("aws_ecs_service.api: launch_type beside a capacity provider strategy".into());
    }
    let providers: Vec<String> = api
        .body
        .blocks()
        .filter(|b| b.identifier() == "capacity_provider_strategy" || b.identifier() == "dynamic")
        .map(|b| hcl::format::to_string(b).unwrap_or_default())
        .collect();
    for provider in ["\"FARGATE\"", "\"FARGATE_SPOT\""] {
        if !providers.iter().any(|p| p.contains(provider)) {
            v.push(format!(
                "aws_ecs_service.api: no capacity_provider_strategy for {provider}"
            ));
        }
    }
    let action = |name| service.block("resource", &["aws_appautoscaling_scheduled_action", name]);
    let bounds = |name| {
        let target = action(name).and_then(|a| nested(&a.body, "scalable_target_action").next());
        let get = |key| target.and_then(|t| attr(&t.body, key)).map(show).unwrap_or_default();
        (get("min_capacity"), get("max_capacity"))
    };
    if bounds("sleep") != ("0".into(), "0".into()) {
        v.push(format!(
            "scheduled action sleep: bounds {:?}, not 0..0",
            bounds("sleep")
        ));
    }
    if bounds("wake") != ("var.min_count".into(), "var.max_count".into()) {
        v.push(format!(
            "scheduled action wake: bounds {:?}, not the service's min_count..max_count",
            bounds("wake")
        ));
    }
    for name in ["sleep", "wake"] {
        let zone = action(name).and_then(|a| attr(&a.body, "timezone")).map(show);
        if zone.as_deref() != Some("var.schedule.timezone") {
            v.push(format!(
                "scheduled action {name}: timezone {zone:?}, not the schedule's"
            ));
        }
    }
    v
}

#[test]
fn tasks_run_arm64_on_spot_above_an_on_demand_floor_and_staging_sleeps() {
    assert_clean(check_compute);
    let x86 = (
        "envs/production/main.tf",
        "api_cpu_architecture         = \"ARM64\"",
        "api_cpu_architecture         = \"X86_64\"",
    );
    assert_reports(
        check_compute,
        x86,
        "envs/production: api_cpu_architecture \"X86_64\", not ARM64",
    );
    let floor = (
        "envs/production/main.tf",
        "api_on_demand_base           = 2 ",
        "api_on_demand_base           = 1 ",
    );
    assert_reports(check_compute, floor, "the floor would depend on Spot");
    let awake = (
        "modules/service/service.tf",
        "    min_capacity = 0\n    max_capacity = 0",
        "    min_capacity = 0\n    max_capacity = 1",
    );
    assert_reports(check_compute, awake, "scheduled action sleep: bounds");
    let launch = (
        "modules/service/service.tf",
        "  platform_version = \"LATEST\"",
        "  launch_type      = \"FARGATE\"\n  platform_version = \"LATEST\"",
    );
    assert_reports(check_compute, launch, "launch_type beside a capacity provider strategy");
    let zone = (
        "modules/service/service.tf",
        "  timezone           = var.schedule.timezone",
        "  timezone           = \"UTC\"",
    );
    assert_reports(check_compute, zone, "timezone Some(\"\\\"UTC\\\"\")");
}

/// Logs: every log group Terraform creates has a retention; the database's exported logs have groups of ours
/// (RDS would otherwise create them unencrypted, kept forever); the Infrequent Access class only where nothing
/// needs what it lacks: the flow logs yes, the collector's EMF group never (CloudWatch extracts no metrics from
/// Infrequent Access events).
fn check_logs(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let modules = ["modules/network", "modules/service", "modules/database", "modules/edge"];
    let mut groups = 0;
    for rel in modules {
        let dir = infra.dir(rel).unwrap();
        for group in dir.blocks("resource", &["aws_cloudwatch_log_group"]) {
            groups += 1;
            let name = label(group, 1).unwrap_or("?");
            if attr(&group.body, "retention_in_days").is_none() {
                v.push(format!(
                    "{rel}: log group {name} keeps its events forever (no retention_in_days)"
                ));
            }
            let class = attr(&group.body, "log_group_class").map(show).unwrap_or_default();
            if name == "metrics" && class.contains("INFREQUENT") {
                v.push("modules/service: the EMF metrics group in the Infrequent Access class: no metrics".into());
            }
        }
    }
    if groups < 6 {
        v.push(format!("only {groups} log groups seen"));
    }
    let network = infra.dir("modules/network").unwrap();
    let flow = network.block("resource", &["aws_cloudwatch_log_group", "flow_logs"]);
    let class = flow.and_then(|f| attr(&f.body, "log_group_class")).map(show);
    let default = network
        .block("variable", &["flow_log_class"])
        .and_then(|d| attr(&d.body, "default"))
        .map(show);
    if class.as_deref() != Some("var.flow_log_class") || default.as_deref() != Some("\"INFREQUENT_ACCESS\"") {
        v.push(format!(
            "modules/network: flow logs class {class:?} (default {default:?}), not Infrequent Access"
        ));
    }
    let db = infra.dir("modules/database").unwrap();
    let exports = db.block("resource", &["aws_cloudwatch_log_group", "exports"]);
    if exports.is_none() {
        v.push("modules/database: no log groups for the exported logs: RDS would create them without retention".into());
    }
    // The whole expression (`show` shortens it to one line of 120 characters).
    let names = db
        .local("exported_log_groups")
        .and_then(|e| hcl::format::to_string(e).ok())
        .unwrap_or_default();
    for (resource, prefix) in [
        ("aws_db_instance", "/aws/rds/instance/"),
        ("aws_rds_cluster", "/aws/rds/cluster/"),
    ] {
        let exporting = db
            .blocks("resource", &[resource])
            .iter()
            .any(|b| attr(&b.body, "enabled_cloudwatch_logs_exports").is_some());
        if exporting && !names.contains(prefix) {
            v.push(format!(
                "modules/database: {resource} exports logs, but no {prefix}* group is created"
            ));
        }
    }
    v
}

#[test]
fn every_log_group_has_a_retention_and_the_right_class() {
    assert_clean(check_logs);
    let forever = (
        "modules/database/logs.tf",
        "  retention_in_days = var.log_retention_days\n",
        "",
    );
    assert_reports(check_logs, forever, "log group exports keeps its events forever");
    let emf = (
        "modules/service/telemetry.tf",
        "  retention_in_days = var.metrics_log_retention_days\n",
        "  retention_in_days = var.metrics_log_retention_days\n  log_group_class   = \"INFREQUENT_ACCESS\"\n",
    );
    assert_reports(check_logs, emf, "EMF metrics group in the Infrequent Access class");
    let standard = (
        "modules/network/variables.tf",
        "default     = \"INFREQUENT_ACCESS\"",
        "default     = \"STANDARD\"",
    );
    assert_reports(check_logs, standard, "not Infrequent Access");
    let cluster = (
        "modules/database/logs.tf",
        "\"/aws/rds/cluster/${local.identifier}/postgresql\"",
        "\"x\"",
    );
    assert_reports(
        check_logs,
        cluster,
        "aws_rds_cluster exports logs, but no /aws/rds/cluster/* group",
    );
}

/// The settings of envs/production that the "Production now" column of infra/README.md's cost table prices (the
/// 25% saving rests on them), as written there, and what each is worth. A change to any of them changes the bill.
const PRODUCTION_PRICED: &[(&str, &str, &str)] = &[
    (
        "cdn_origin",
        "\"vpc_origin\"",
        "internal ALB: no public IPv4, $7.30 a month",
    ),
    ("nat_gateway_mode", "\"none\"", "no NAT gateways, ~$77"),
    (
        "db_engine",
        "\"aurora\"",
        "Serverless v2 instead of RDS Multi-AZ and a replica, ~$114",
    ),
    ("api_spot_above_base", "true", "the scale-out on Spot"),
    ("api_cpu_architecture", "\"ARM64\"", "Graviton, 20% less per vCPU-hour"),
];

fn check_production_priced(infra: &Infra) -> Violations {
    PRODUCTION_PRICED
        .iter()
        .filter_map(|(key, want, worth)| {
            let set = setting(infra, "production", key);
            (set != *want).then(|| {
                format!(
                    "envs/production: {key} = {set:?}, the cost table prices {want} ({worth}): update the table with it"
                )
            })
        })
        .collect()
}

#[test]
fn production_sets_what_its_cost_column_prices() {
    assert_clean(check_production_priced);
    let public = (
        "envs/production/main.tf",
        "cdn_origin         = \"vpc_origin\"",
        "cdn_origin         = \"internet\"",
    );
    assert_reports(
        check_production_priced,
        public,
        "cdn_origin = \"\\\"internet\\\"\", the cost table prices",
    );
}
