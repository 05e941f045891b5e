//! The application's metrics and traces on AWS (`modules/service/telemetry.tf`, `otel-collector.yaml`,
//! `modules/observability/application.tf`): what no offline tool checks because it spans the Terraform, the
//! collector's configuration file, the service and `docs/operations.md`. The collector is a sidecar the service
//! does not need; its configuration is the repository's file; the task role writes metrics only where the
//! configuration sends them and within the permissions boundary; the dashboard and alarms read metrics and
//! dimension sets the collector exports; alarms watch routes the service has and name a runbook entry that exists.
//! Same pattern as `main.rs`: each check runs on the real files and on a broken copy, where it must report.

use crate::first_apply::{Violations, allows, assert_clean, assert_reports, load, strings};
use crate::service::ServiceContract;
use crate::terraform::{Dir, Infra, attr, key_str, label, nested, object_get, path, show, template_text};
use hcl::Expression;
use serde_norway::Value;
use std::collections::BTreeSet;

const TELEMETRY: &str = "modules/service/telemetry.tf";
const APPLICATION: &str = "modules/observability/application.tf";
const CONFIG: &str = "infra/modules/service/otel-collector.yaml";

fn repo_file(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The collector's configuration file, as the repository has it (a template: `${...}` filled by Terraform).
pub(crate) fn collector_config() -> String {
    repo_file(CONFIG)
}

fn service(infra: &Infra) -> &Dir {
    infra.dir("modules/service").unwrap()
}

/// `local.NAME` of `dir` as an object's field `key`.
fn local_field<'a>(dir: &'a Dir, name: &str, key: &str) -> Option<&'a Expression> {
    match dir.local(name)? {
        Expression::Object(o) => object_get(o, key),
        _ => None,
    }
}

/// The `value` of the entry `name` in a list of `{ name, value }` objects.
fn entry<'a>(list: Option<&'a Expression>, name: &str) -> Option<&'a Expression> {
    let Some(Expression::Array(items)) = list else {
        return None;
    };
    items.iter().find_map(|item| match item {
        Expression::Object(o) if object_get(o, "name").and_then(template_text).as_deref() == Some(name) => {
            object_get(o, "value")
        }
        _ => None,
    })
}

/// The `templatefile("${path.module}/FILE", { vars })` call the collector's configuration is rendered with.
/// The file name, the variables passed and their expressions.
type ConfigCall<'a> = (
    String,
    BTreeSet<String>,
    &'a hcl::expr::Object<hcl::expr::ObjectKey, Expression>,
);

fn config_call(svc: &Dir) -> Result<ConfigCall<'_>, String> {
    let env = local_field(svc, "otel_collector_container", "environment");
    let value = entry(env, "AOT_CONFIG_CONTENT").ok_or("the collector container sets no AOT_CONFIG_CONTENT")?;
    let value = match path(value) {
        Some(("local", parts)) if parts.len() == 1 => svc.local(&parts[0]).ok_or("unknown local")?,
        _ => value,
    };
    let Expression::FuncCall(call) = value else {
        return Err(format!(
            "AOT_CONFIG_CONTENT = {}: not rendered from a file",
            show(value)
        ));
    };
    let (name, args) = (call.name.name.as_str(), &call.args);
    let file = args.first().and_then(template_text).unwrap_or_default();
    let Some(file) = file.strip_prefix("${path.module}/").filter(|_| name == "templatefile") else {
        return Err(format!(
            "AOT_CONFIG_CONTENT = {}: not templatefile(\"${{path.module}}/...\")",
            show(value)
        ));
    };
    let Some(Expression::Object(vars)) = args.get(1) else {
        return Err("templatefile without a variables object".into());
    };
    let keys = vars.iter().filter_map(|(k, _)| key_str(k)).collect();
    Ok((file.to_string(), keys, vars))
}

/// `${name}` placeholders of a template file.
fn placeholders(text: &str) -> BTreeSet<String> {
    text.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}'))
        .map(|(name, _)| name.to_string())
        .collect()
}

// --- 1. a sidecar the service does not need, configured from the repository ----------------------------------

/// The collector runs beside the api only, is not essential, the api does not wait for it, and its configuration
/// is a file of `modules/service` rendered with exactly the placeholders the file has (a missing one fails only at
/// plan time in GitHub Actions; an extra one means the file and the call drifted apart).
fn check_sidecar(infra: &Infra) -> Violations {
    check_sidecar_with(infra, None)
}

fn check_sidecar_with(infra: &Infra, config: Option<&str>) -> Violations {
    let (mut v, svc) = (Violations::new(), service(infra));
    match local_field(svc, "otel_collector_container", "essential") {
        Some(Expression::Bool(false)) => {}
        other => v.push(format!(
            "the collector container has essential = {:?}, want false",
            other.map(show)
        )),
    }
    let tasks = match svc.local("tasks") {
        Some(Expression::Object(tasks)) => tasks.iter().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    for (key, task) in tasks {
        let key = key_str(key).unwrap_or_default();
        let Expression::Object(task) = task else { continue };
        let sidecars = object_get(task, "sidecars").map(show).unwrap_or_default();
        let has_collector = sidecars.contains("local.otel_collector_container");
        if has_collector != (key == "api") {
            v.push(format!(
                "task {key}: sidecars = {sidecars}; the collector belongs to the api task only"
            ));
        }
        if let Some(Expression::Object(c)) = object_get(task, "container")
            && let Some(depends) = object_get(c, "dependsOn")
        {
            v.push(format!(
                "task {key}: dependsOn {}: the service must start without the collector",
                show(depends)
            ));
        }
    }
    let command = strings(local_field(svc, "otel_collector_container", "command"));
    if command != ["--config=env:AOT_CONFIG_CONTENT"] {
        v.push(format!(
            "the collector's command {command:?} does not load AOT_CONFIG_CONTENT"
        ));
    }
    match config_call(svc) {
        Err(e) => v.push(e),
        Ok((file, vars, _)) => {
            let text = config
                .map(str::to_string)
                .unwrap_or_else(|| repo_file(&format!("infra/{}/{file}", svc.rel)));
            let used = placeholders(&text);
            for missing in used.difference(&vars) {
                v.push(format!("{file} uses ${{{missing}}}, which templatefile does not pass"));
            }
            for unused in vars.difference(&used) {
                v.push(format!("templatefile passes {unused}, which {file} does not use"));
            }
        }
    }
    v
}

#[test]
fn the_collector_is_a_non_essential_sidecar_configured_from_the_repository() {
    assert_clean(check_sidecar);
    let want = "the collector container has essential = Some(\"true\"), want false";
    assert_reports(
        check_sidecar,
        (TELEMETRY, "essential = false", "essential = true"),
        want,
    );
    let edit = (
        "modules/service/task_definitions.tf",
        "stopTimeout = local.stop_timeout_seconds\n",
        "stopTimeout = local.stop_timeout_seconds\n        dependsOn   = [{ containerName = \"otel-collector\", condition = \"HEALTHY\" }]\n",
    );
    assert_reports(check_sidecar, edit, "task api: dependsOn");
    let edit = (
        "modules/service/task_definitions.tf",
        "sidecars    = []\n    }\n\n    db-roles",
        "sidecars    = [local.otel_collector_container]\n    }\n\n    db-roles",
    );
    assert_reports(
        check_sidecar,
        edit,
        "task migrate: sidecars = [ local.otel_collector_container ]",
    );
    let edit = (
        TELEMETRY,
        "value = local.otel_collector_config }",
        "value = \"receivers: {}\" }",
    );
    assert_reports(
        check_sidecar,
        edit,
        "AOT_CONFIG_CONTENT = \"receivers: {}\": not rendered from a file",
    );
    let edit = (TELEMETRY, "    memory_spike_mib   = 32\n", "");
    assert_reports(
        check_sidecar,
        edit,
        "otel-collector.yaml uses ${memory_spike_mib}, which templatefile does not pass",
    );
    let config = repo_file(CONFIG).replace("${region}", "${aws_region}");
    let v = check_sidecar_with(&load(None), Some(&config)).join("\n");
    assert!(
        v.contains("uses ${aws_region}") && v.contains("passes region, which"),
        "{v}"
    );
}

// --- 2. the collector reads what the service exposes, writes where the task role may ---------------------------

/// The scrape target is the api's `METRICS_ADDR` on the loopback address (so nothing outside the task reaches the
/// metrics listener); the OTLP receiver is on the port of the api's `OTEL_EXPORTER_OTLP_ENDPOINT`; the EMF log
/// group of the configuration is the one the task role may write; the namespace is the environment's, the one the
/// dashboard reads.
fn check_wiring(infra: &Infra) -> Violations {
    let (mut v, svc) = (Violations::new(), service(infra));
    let env = svc.local("telemetry_environment");
    let Ok((_, _, vars)) = config_call(svc) else {
        return vec!["no templatefile call (see the sidecar check)".into()];
    };
    let var = |name: &str| object_get(vars, name).map(show).unwrap_or_default();
    let metrics_addr = entry(env, "METRICS_ADDR").map(show).unwrap_or_default();
    if var("scrape_target") != metrics_addr || metrics_addr.is_empty() {
        v.push(format!(
            "the collector scrapes {}, the service listens on METRICS_ADDR = {metrics_addr}",
            var("scrape_target")
        ));
    }
    let addr = svc.local("metrics_addr").and_then(template_text).unwrap_or_default();
    if !addr.starts_with("127.0.0.1:") {
        v.push(format!(
            "METRICS_ADDR {addr:?} is not on the loopback address: the metrics would leave the task"
        ));
    }
    let endpoint = entry(env, "OTEL_EXPORTER_OTLP_ENDPOINT")
        .and_then(template_text)
        .unwrap_or_default();
    let port = endpoint
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();
    let receiver = object_get(vars, "otlp_http_endpoint")
        .and_then(template_text)
        .unwrap_or_default();
    if port.is_empty() || !receiver.ends_with(&format!(":{port}")) || !receiver.starts_with("127.0.0.1:") {
        v.push(format!(
            "the service sends traces to {endpoint}, the collector receives on {receiver}"
        ));
    }
    let group = svc.block("resource", &["aws_cloudwatch_log_group", "metrics"]);
    let group_name = group.and_then(|g| attr(&g.body, "name")).map(show).unwrap_or_default();
    if var("metrics_log_group") != group_name {
        v.push(format!(
            "the collector writes EMF to {}, the task role's log group is {group_name}",
            var("metrics_log_group")
        ));
    }
    if var("namespace") != "var.metrics_namespace" {
        v.push(format!(
            "the collector's namespace is {}, not var.metrics_namespace",
            var("namespace")
        ));
    }
    let environment = infra.dir("modules/environment").unwrap();
    for module in ["service", "observability"] {
        let arg = environment
            .block("module", &[module])
            .and_then(|m| attr(&m.body, "metrics_namespace"));
        if arg.map(show).as_deref() != Some("local.metrics_namespace") {
            v.push(format!("module.{module} gets metrics_namespace = {:?}", arg.map(show)));
        }
    }
    v
}

#[test]
fn the_collector_scrapes_the_services_listener_and_writes_where_the_role_may() {
    assert_clean(check_wiring);
    let edit = (
        TELEMETRY,
        "metrics_addr = \"127.0.0.1:${local.metrics_port}\"",
        "metrics_addr = \"0.0.0.0:${local.metrics_port}\"",
    );
    assert_reports(check_wiring, edit, "is not on the loopback address");
    let edit = (
        TELEMETRY,
        "scrape_target      = local.metrics_addr",
        "scrape_target      = \"127.0.0.1:9090\"",
    );
    assert_reports(
        check_wiring,
        edit,
        "the collector scrapes \"127.0.0.1:9090\", the service listens on METRICS_ADDR = local.metrics_addr",
    );
    let edit = (TELEMETRY, "\"127.0.0.1:${local.otlp_http_port}\"", "\"127.0.0.1:4317\"");
    assert_reports(check_wiring, edit, "the collector receives on 127.0.0.1:4317");
    let edit = (
        TELEMETRY,
        "metrics_log_group  = local.metrics_log_group",
        "metrics_log_group  = \"/aws/ecs/application/metrics\"",
    );
    assert_reports(
        check_wiring,
        edit,
        "the collector writes EMF to \"/aws/ecs/application/metrics\"",
    );
    let edit = (
        "modules/environment/main.tf",
        "metrics_namespace      = local.metrics_namespace",
        "metrics_namespace      = \"BeerCatalog\"",
    );
    assert_reports(
        check_wiring,
        edit,
        "module.observability gets metrics_namespace = Some(\"\\\"BeerCatalog\\\"\")",
    );
}

// --- 3. the task role: metrics only in the namespace, logs only the metrics group, within the boundary ----------

/// Actions of the statements of a policy document.
fn statements(doc: &hcl::Block) -> impl Iterator<Item = (Vec<String>, &hcl::Block)> {
    nested(&doc.body, "statement").map(|s| (strings(attr(&s.body, "actions")), s))
}

/// The task role's telemetry policy: `cloudwatch:PutMetricData`, if it is ever granted, only with a
/// `cloudwatch:namespace` condition on the environment's namespace (EMF needs none: the collector writes log
/// events); log writes only on the metrics log group; nothing else but the two X-Ray trace writes; and every action
/// inside the workload boundary, without which AWS would deny it silently at run time.
fn check_task_role(infra: &Infra) -> Violations {
    let (mut v, svc) = (Violations::new(), service(infra));
    let Some(doc) = svc.block("data", &["aws_iam_policy_document", "task_telemetry"]) else {
        return vec!["modules/service: no aws_iam_policy_document.task_telemetry".into()];
    };
    let attached = svc.blocks("resource", &["aws_iam_role_policy"]).into_iter().any(|p| {
        attr(&p.body, "role").map(show).as_deref() == Some("aws_iam_role.task.id")
            && attr(&p.body, "policy").map(show).as_deref() == Some("data.aws_iam_policy_document.task_telemetry.json")
    });
    if !attached {
        v.push("the telemetry policy is not attached to the task role".into());
    }
    let mut granted = Vec::new();
    for (actions, st) in statements(doc) {
        let resources = attr(&st.body, "resources").map(show).unwrap_or_default();
        for action in &actions {
            granted.push(action.clone());
            match action.split_once(':').map(|(service, _)| service) {
                Some("cloudwatch") if action == "cloudwatch:PutMetricData" => {
                    let condition = nested(&st.body, "condition").find(|c| {
                        attr(&c.body, "variable").and_then(template_text).as_deref() == Some("cloudwatch:namespace")
                    });
                    let values = condition.and_then(|c| attr(&c.body, "values")).map(show);
                    let test = condition.and_then(|c| attr(&c.body, "test")).and_then(template_text);
                    if values.as_deref() != Some("[var.metrics_namespace]") || test.as_deref() != Some("StringEquals") {
                        v.push(format!(
                            "{action} without a cloudwatch:namespace StringEquals condition on var.metrics_namespace"
                        ));
                    }
                }
                Some("logs")
                    if resources.contains("aws_cloudwatch_log_group.metrics.arn") && !resources.contains("\"*\"") => {}
                Some("logs") => v.push(format!("{action} on {resources}: only the metrics log group")),
                Some("xray") if ["xray:PutTraceSegments", "xray:PutTelemetryRecords"].contains(&action.as_str()) => {}
                _ => v.push(format!("the task role may {action}: not a telemetry write")),
            }
        }
    }
    let github = infra.dir("modules/github_actions").unwrap();
    let boundary = github.block("data", &["aws_iam_policy_document", "workload_boundary"]);
    let boundary: Vec<(Vec<String>, String)> = boundary
        .into_iter()
        .flat_map(statements)
        .map(|(actions, st)| (actions, attr(&st.body, "resources").map(show).unwrap_or_default()))
        .collect();
    for action in &granted {
        // The metrics log group's writes must be allowed on that group, not merely on the task log group.
        let wants = if action.starts_with("logs:") {
            "metrics_log_group"
        } else {
            ""
        };
        let inside = boundary
            .iter()
            .any(|(actions, res)| actions.iter().any(|p| allows(p, action)) && res.contains(wants));
        if !inside {
            v.push(format!("the workload boundary does not allow the task role's {action}"));
        }
    }
    v
}

#[test]
fn the_task_role_writes_metrics_and_traces_only_and_within_the_boundary() {
    assert_clean(check_task_role);
    let from = "actions   = [\"xray:PutTraceSegments\", \"xray:PutTelemetryRecords\"]\n    resources = [\"*\"]\n  }\n}";
    let to = format!(
        "{}\n  statement {{\n    actions   = [\"cloudwatch:PutMetricData\"]\n    resources = [\"*\"]\n  }}\n}}",
        &from[..from.len() - 2]
    );
    assert_reports(
        check_task_role,
        (TELEMETRY, from, &to),
        "cloudwatch:PutMetricData without a cloudwatch:namespace StringEquals condition",
    );
    let edit = (
        TELEMETRY,
        "resources = [\"${aws_cloudwatch_log_group.metrics.arn}:*\"]",
        "resources = [\"*\"]",
    );
    assert_reports(
        check_task_role,
        edit,
        "logs:PutLogEvents on [ \"*\" ]: only the metrics log group",
    );
    let edit = (
        TELEMETRY,
        "\"xray:PutTelemetryRecords\"]",
        "\"xray:PutTelemetryRecords\", \"xray:BatchGetTraces\"]",
    );
    assert_reports(
        check_task_role,
        edit,
        "the task role may xray:BatchGetTraces: not a telemetry write",
    );
    let edit = (
        "modules/github_actions/boundary.tf",
        "      \"${local.env[each.key].metrics_log_group}:*\",\n",
        "",
    );
    assert_reports(
        check_task_role,
        edit,
        "the workload boundary does not allow the task role's logs:PutLogEvents",
    );
    let edit = (
        "modules/github_actions/boundary.tf",
        "sid       = \"WriteTraces\"\n    actions   = [\"xray:PutTraceSegments\", ",
        "sid       = \"WriteTraces\"\n    actions   = [",
    );
    assert_reports(
        check_task_role,
        edit,
        "the workload boundary does not allow the task role's xray:PutTraceSegments",
    );
}

// --- 4. the dashboard and alarms read what the collector exports ------------------------------------------------

/// `(metric name, dimension names)` of every alarm metric in `modules/observability` in the service's namespace.
fn alarm_metrics(obs: &Dir) -> Vec<(String, String, BTreeSet<String>)> {
    let mut out = Vec::new();
    for alarm in obs.blocks("resource", &["aws_cloudwatch_metric_alarm"]) {
        let name = label(alarm, 1).unwrap_or("?").to_string();
        let mut bodies = vec![&alarm.body];
        bodies.extend(
            nested(&alarm.body, "metric_query")
                .flat_map(|q| nested(&q.body, "metric"))
                .map(|m| &m.body),
        );
        for body in bodies {
            if attr(body, "namespace").map(show).as_deref() != Some("local.ns") {
                continue;
            }
            let metric = match attr(body, "metric_name") {
                Some(e) if show(e) == "local.requests" => obs.local("requests").and_then(template_text),
                Some(e) => template_text(e),
                None => None,
            };
            let dims = match attr(body, "dimensions") {
                Some(Expression::Object(o)) => o.iter().filter_map(|(k, _)| key_str(k)).collect(),
                _ => BTreeSet::new(),
            };
            out.push((name.clone(), metric.unwrap_or_default(), dims));
        }
    }
    out
}

/// The collector's `metric_declarations`: `(metric name, dimension sets)`; selectors must be `^name$`.
fn declarations(config: &str, v: &mut Violations) -> Vec<(String, Vec<BTreeSet<String>>)> {
    let doc: Value = serde_norway::from_str(config).expect("otel-collector.yaml is YAML");
    let decls = doc["exporters"]["awsemf"]["metric_declarations"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for decl in decls {
        let sets: Vec<BTreeSet<String>> = decl["dimensions"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|set| {
                set.as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect()
            })
            .collect();
        for selector in decl["metric_name_selectors"].as_sequence().into_iter().flatten() {
            let selector = selector.as_str().unwrap_or_default();
            match selector.strip_prefix('^').and_then(|s| s.strip_suffix('$')) {
                Some(name) if name.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                    out.push((name.to_string(), sets.clone()))
                }
                _ => v.push(format!("selector {selector:?} is no exact ^name$")),
            }
        }
    }
    out
}

/// Every `beer_catalog_*` metric the dashboard or an alarm names is exported by the collector, and every alarm's
/// dimension set is one the collector declares for that metric: anything else is a widget or alarm with no data,
/// which an alarm treats as "not breaching" forever.
fn check_exported(infra: &Infra) -> Violations {
    check_exported_with(infra, &repo_file(CONFIG))
}

fn check_exported_with(infra: &Infra, config: &str) -> Violations {
    let mut v = Violations::new();
    let declared = declarations(config, &mut v);
    let obs = infra.dir("modules/observability").unwrap();
    let text = obs
        .files
        .iter()
        .map(|(_, body)| hcl::to_string(body).unwrap_or_default())
        .collect::<String>();
    let named: BTreeSet<&str> = text
        .match_indices("beer_catalog_")
        .map(|(at, _)| &text[at..])
        .map(|rest| {
            &rest[..rest
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(rest.len())]
        })
        .collect();
    for name in named {
        // "beer_catalog_${...}" names are built in the dashboard; their parts are checked where they are spelled out.
        if !name.ends_with('_') && !declared.iter().any(|(d, _)| d == name) {
            v.push(format!(
                "modules/observability reads {name}, which the collector does not export"
            ));
        }
    }
    for (alarm, metric, dims) in alarm_metrics(obs) {
        let sets = declared.iter().filter(|(d, _)| *d == metric).flat_map(|(_, sets)| sets);
        if !sets.clone().any(|set| *set == dims) {
            v.push(format!(
                "alarm {alarm}: {metric} by {dims:?} is no dimension set the collector exports"
            ));
        }
    }
    v
}

#[test]
fn the_dashboard_and_alarms_read_metrics_the_collector_exports() {
    assert_clean(check_exported);
    let config = repo_file(CONFIG);
    let v = check_exported_with(&load(None), &config.replace(", [route, status_class], [route]]", "]")).join("\n");
    assert!(
        v.contains("beer_catalog_http_requests_total by {\"route\", \"status_class\"} is no dimension set"),
        "{v}"
    );
    let v = check_exported_with(
        &load(None),
        &config.replace(
            "\"^beer_catalog_read_model_version_lag$\"",
            "\"^beer_catalog_read_model_lag$\"",
        ),
    )
    .join("\n");
    assert!(
        v.contains(
            "modules/observability reads beer_catalog_read_model_version_lag, which the collector does not export"
        ),
        "{v}"
    );
    let edit = (
        APPLICATION,
        "dimensions          = { pool = each.key }",
        "dimensions          = { pool = each.key, state = \"idle\" }",
    );
    assert_reports(
        check_exported,
        edit,
        "beer_catalog_db_pool_acquire_duration_seconds by {\"pool\", \"state\"} is no dimension set",
    );
}

// --- 5. alarms: routes the service has, a runbook entry that exists ----------------------------------------------

/// GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    let kept = heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || " -_".contains(*c))
        .collect::<String>();
    kept.replace(' ', "-")
}

fn operations_anchors() -> BTreeSet<String> {
    let doc = repo_file("docs/operations.md");
    doc.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

/// Every alarm (the environment's and the edge's) ends its description with `Runbook: docs/operations.md#<entry>`
/// and that entry is a heading of docs/operations.md; every route alarm watches a route the service serves.
fn check_alarms(infra: &Infra) -> Violations {
    let (mut v, anchors) = (Violations::new(), operations_anchors());
    let mut alarms = 0;
    for rel in ["modules/observability", "modules/edge"] {
        let dir = infra.dir(rel).unwrap();
        let runbook = dir.local("runbook").and_then(template_text).unwrap_or_default();
        for alarm in dir.blocks("resource", &["aws_cloudwatch_metric_alarm"]) {
            alarms += 1;
            let name = label(alarm, 1).unwrap_or("?");
            let text = attr(&alarm.body, "alarm_description")
                .and_then(template_text)
                .unwrap_or_default();
            let text = text.replace("${local.runbook}", &runbook);
            match text.split_once("Runbook: docs/operations.md#").map(|(_, entry)| entry) {
                Some(entry) if anchors.contains(entry) => {}
                Some(entry) => v.push(format!(
                    "{rel}: alarm {name} names runbook entry #{entry}, no heading of docs/operations.md"
                )),
                None => v.push(format!(
                    "{rel}: alarm {name} names no runbook entry (Runbook: docs/operations.md#...)"
                )),
            }
        }
    }
    if alarms < 8 {
        v.push(format!(
            "expected the environment's and the edge's alarms, saw {alarms}"
        ));
    }
    let routes = ServiceContract::from_service().routes;
    let obs = infra.dir("modules/observability").unwrap();
    let default = obs
        .block("variable", &["alarm_routes"])
        .and_then(|b| attr(&b.body, "default"));
    for route in strings(default) {
        if !routes.contains(&route) {
            v.push(format!("alarm_routes: {route} is no route of the service"));
        }
    }
    v
}

#[test]
fn every_alarm_names_its_runbook_entry_and_watches_real_routes() {
    assert_clean(check_alarms);
    let edit = (
        APPLICATION,
        "Runbook: ${local.runbook}read-model-stale",
        "Runbook: ${local.runbook}read-model-is-stale",
    );
    assert_reports(
        check_alarms,
        edit,
        "alarm read_model_stale names runbook entry #read-model-is-stale, no heading",
    );
    let edit = (
        "modules/edge/main.tf",
        ". Runbook: docs/operations.md#cloudfront-5xx-rate",
        "",
    );
    assert_reports(check_alarms, edit, "modules/edge: alarm cdn_5xx names no runbook entry");
    let edit = (
        "modules/observability/variables.tf",
        "\"/v2/beers/random\", ",
        "\"/v2/beer/random\", ",
    );
    assert_reports(
        check_alarms,
        edit,
        "alarm_routes: /v2/beer/random is no route of the service",
    );
}
