//! Staging under $60 a month (issue 23) without a weaker staging: the settings of `envs/staging` that the cost table
//! of infra/README.md prices are the ones it sets, the awake window the table assumes is the schedule's, and what
//! the cheaper staging must not lose is still there (the same web ACL as production, the secret origin header with
//! either origin, an internal ALB only in the private subnets). Same pattern as `cost.rs`: each check runs on the
//! real files and on a broken copy (one edit), where it must report.
use crate::first_apply::{Violations, assert_clean, assert_reports};
use crate::terraform::{Infra, attr, nested, object_get, show};
use hcl::Expression;

/// Each setting of envs/staging the staging column of the cost table prices, as written there, and what it is
/// worth or why it is there. A change to any of them changes the bill: update the table with it.
const STAGING_PRICED: &[(&str, &str, &str)] = &[
    (
        "cdn_origin",
        "\"vpc_origin\"",
        "internal ALB: no public IPv4 on it, $7.30 a month",
    ),
    (
        "container_insights",
        "\"disabled\"",
        "no Container Insights custom metrics, ~$3",
    ),
    ("nat_gateway_mode", "\"none\"", "no NAT gateway, ~$39"),
    ("interface_endpoints", "false", "no interface endpoints, ~$80"),
    (
        "tasks_public_ip",
        "true",
        "the tasks reach AWS at public endpoints, ~$1 of IPv4",
    ),
    ("db_engine", "\"aurora\"", "Serverless v2: pays only while awake"),
    ("db_aurora_min_acu", "0", "the cluster pauses while the service sleeps"),
    ("db_replica_count", "0", "no reader"),
    ("db_monitoring_interval", "0", "no Enhanced Monitoring"),
    ("api_cpu", "256", "0.25 vCPU"),
    ("api_memory", "512", "0.5 GB"),
    ("api_min_count", "1", "one task while awake"),
    ("api_on_demand_base", "0", "every task on Spot"),
    ("api_spot_above_base", "true", "every task on Spot"),
    ("api_cpu_architecture", "\"ARM64\"", "Graviton"),
    (
        "cdn_price_class",
        "\"PriceClass_100\"",
        "North America and Europe edges",
    ),
    ("alb_access_logs", "false", "no access log bucket"),
];

/// The web ACL's rules, by name: staging's is production's (the module has no per-environment rule switch).
const WAF_RULES: &[&str] = &[
    "aws-ip-reputation",
    "rate-limit-per-ip",
    "aws-common",
    "aws-known-bad-inputs",
];

fn staging_settings(infra: &Infra) -> Option<&hcl::expr::Object<hcl::expr::ObjectKey, Expression>> {
    let root = infra.dir("envs/staging").ok()?;
    match root
        .block("module", &["environment"])
        .and_then(|m| attr(&m.body, "settings"))
    {
        Some(Expression::Object(o)) => Some(o),
        _ => None,
    }
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/README.md")).unwrap()
}

/// The section "Estimated monthly cost" of infra/README.md.
fn cost_section(readme: &str) -> &str {
    let start = readme.find("## Estimated monthly cost").unwrap_or(readme.len());
    let rest = &readme[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// Hours a month of a schedule awake from `wake` to `sleep` (HH:MM, same day) on five weekdays a week.
fn weekday_hours(wake: &str, sleep: &str) -> Option<f64> {
    let minutes = |t: &str| -> Option<f64> {
        let (h, m) = t.split_once(':')?;
        Some(h.parse::<f64>().ok()? * 60.0 + m.parse::<f64>().ok()?)
    };
    let day = (minutes(sleep)? - minutes(wake)?) / 60.0;
    (day > 0.0).then_some(day * 365.25 / 7.0 * 5.0 / 12.0)
}

/// envs/staging sets what the cost table prices, and the table's awake window and hours are the schedule's.
fn check_staging_priced(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let Some(settings) = staging_settings(infra) else {
        return vec!["envs/staging: no settings object in module.environment".into()];
    };
    for (key, want, why) in STAGING_PRICED {
        let got = object_get(settings, key).map(show).unwrap_or_default();
        if got != *want {
            v.push(format!(
                "envs/staging: {key} = {got:?}, the cost table prices {want} ({why})"
            ));
        }
    }
    let schedule = match object_get(settings, "api_schedule") {
        Some(Expression::Object(o)) => o,
        _ => {
            v.push("envs/staging: api_schedule is not an object: the cost table prices a sleeping staging".into());
            return v;
        }
    };
    let field = |k| {
        object_get(schedule, k)
            .map(show)
            .unwrap_or_default()
            .trim_matches('"')
            .to_string()
    };
    let (days, wake, sleep) = (field("days"), field("wake_at"), field("sleep_at"));
    if days != "MON-FRI" {
        v.push(format!(
            "envs/staging: api_schedule.days {days}, the cost table prices MON-FRI"
        ));
    }
    let section = cost_section(&readme()).to_string();
    let window = format!("awake {wake}-{sleep} on weekdays");
    if !section.contains(&window) {
        v.push(format!(
            "infra/README.md, Estimated monthly cost: no \"{window}\" (the schedule's window)"
        ));
    }
    match weekday_hours(&wake, &sleep) {
        Some(hours) => {
            let stated = format!("~{} h a month", hours.round());
            if !section.contains(&stated) {
                v.push(format!(
                    "infra/README.md, Estimated monthly cost: no \"{stated}\" (the schedule's hours)"
                ));
            }
        }
        None => v.push(format!(
            "envs/staging: api_schedule {wake}-{sleep} is not a same-day window"
        )),
    }
    v
}

#[test]
fn staging_sets_what_the_cost_table_prices() {
    assert_clean(check_staging_priced);
    let public = (
        "envs/staging/main.tf",
        "cdn_origin = \"vpc_origin\"",
        "cdn_origin = \"internet\"",
    );
    assert_reports(
        check_staging_priced,
        public,
        "cdn_origin = \"\\\"internet\\\"\", the cost table prices",
    );
    let insights = (
        "envs/staging/main.tf",
        "container_insights = \"disabled\"",
        "container_insights = \"enabled\"",
    );
    assert_reports(check_staging_priced, insights, "container_insights");
    let longer = ("envs/staging/main.tf", "wake_at  = \"08:00\"", "wake_at  = \"07:00\"");
    assert_reports(check_staging_priced, longer, "no \"awake 07:00-19:00 on weekdays\"");
}

/// What the cheaper staging keeps: the web ACL has its four rules as plain blocks (no `dynamic`, no count: the same
/// in both environments); the origin header is sent whichever way CloudFront reaches the ALB; an internal ALB is
/// placed in the private subnets only.
fn check_staging_keeps_its_defences(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let edge = infra.dir("modules/edge").unwrap();
    match edge.block("resource", &["aws_wafv2_web_acl", "this"]) {
        Some(acl) => {
            let names: Vec<String> = nested(&acl.body, "rule")
                .filter_map(|r| attr(&r.body, "name").map(show))
                .collect();
            for rule in WAF_RULES {
                if !names.iter().any(|n| n.trim_matches('"') == *rule) {
                    v.push(format!("aws_wafv2_web_acl.this: no rule {rule} (names: {names:?})"));
                }
            }
            if nested(&acl.body, "dynamic").next().is_some() {
                v.push("aws_wafv2_web_acl.this: a dynamic block: the rule set could differ by environment".into());
            }
        }
        None => v.push("modules/edge: no aws_wafv2_web_acl.this".into()),
    }
    let origin = edge
        .block("resource", &["aws_cloudfront_distribution", "this"])
        .and_then(|d| nested(&d.body, "origin").next());
    if origin.is_none_or(|o| nested(&o.body, "custom_header").next().is_none()) {
        v.push("aws_cloudfront_distribution.this: the origin header is not a plain block of the origin".into());
    }
    let env = infra.dir("modules/environment").unwrap();
    let lb = env.block("module", &["load_balancer"]);
    let subnets = lb
        .and_then(|m| attr(&m.body, "subnet_ids"))
        .map(show)
        .unwrap_or_default();
    let internal = lb.and_then(|m| attr(&m.body, "internal")).map(show).unwrap_or_default();
    let want = format!("{internal} ? module.network.private_subnet_ids : module.network.public_subnet_ids");
    if internal.is_empty() || subnets != want {
        v.push(format!(
            "module.load_balancer: subnet_ids {subnets:?}: an internal ALB goes in the private subnets, an internet-facing one in the public subnets"
        ));
    }
    v
}

#[test]
fn the_cheaper_staging_keeps_its_defences() {
    assert_clean(check_staging_keeps_its_defences);
    let slim = (
        "modules/edge/main.tf",
        "name     = \"aws-known-bad-inputs\"",
        "name     = \"bad-inputs\"",
    );
    assert_reports(check_staging_keeps_its_defences, slim, "no rule aws-known-bad-inputs");
    let subnets = (
        "modules/environment/main.tf",
        "local.alb_internal ? module.network.private_subnet_ids : module.network.public_subnet_ids",
        "module.network.public_subnet_ids",
    );
    assert_reports(
        check_staging_keeps_its_defences,
        subnets,
        "an internal ALB goes in the private subnets",
    );
}
