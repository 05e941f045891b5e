//! What the tasks can reach from where they run, which no offline tool checks because it spans the environment's
//! settings, the service's images, global's ECR pull-through cache and the collector's configuration file.
//!
//! The defect this guards against: production has no NAT and its tasks no public IP (their security group allows
//! only the database, the VPC endpoints and S3), yet the api task's collector sidecar was pulled from
//! `public.ecr.aws` and sent traces to X-Ray, neither of which had a path. A task pulls its images through its own
//! network interface, so the task could not start at all. The checks evaluate the real expressions (hcl-rs's
//! evaluator, with the account, region and partition the data sources would read given as fixed values) rather than
//! match their text, so a new sidecar, another way of writing an image, or a new exporter is checked too.
//! Same pattern as `main.rs`: each check runs on the real files and on a broken copy, where it must report.

use crate::first_apply::{Violations, assert_clean, assert_reports, load};
use crate::terraform::{Dir, Infra, attr, key_str};
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Expression, Map, Value};
use std::collections::BTreeSet;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
const ENVIRONMENTS: &[&str] = &["staging", "production"];
/// The AWS API each exporter of the collector sends to, as the VPC endpoint's service name (`None`: no AWS API).
/// Hand-kept: an exporter missing here is reported until its API is named.
const EXPORTER_SERVICES: &[(&str, Option<&str>)] = &[
    ("awsemf", Some("logs")), // EMF events: CloudWatch Logs (PutLogEvents), which turns them into metrics
    ("awsxray", Some("xray")), // PutTraceSegments
    ("debug", None),
];

fn two_strings(args: &FuncArgs) -> Result<(&str, &str), String> {
    match (args[0].as_str(), args[1].as_str()) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err("expected two strings".into()),
    }
}

/// The Terraform functions the expressions checked here use, with Terraform's meaning.
fn functions(ctx: &mut Context) {
    let two = || FuncDef::builder().param(ParamType::String).param(ParamType::String);
    ctx.declare_func(
        "trimprefix",
        two().build(|args| {
            let (s, prefix) = two_strings(&args)?;
            Ok(Value::from(s.strip_prefix(prefix).unwrap_or(s)))
        }),
    );
    ctx.declare_func(
        "split",
        two().build(|args| {
            let (separator, s) = two_strings(&args)?;
            Ok(Value::Array(s.split(separator).map(Value::from).collect()))
        }),
    );
    ctx.declare_func(
        "toset",
        FuncDef::builder()
            .param(ParamType::Any)
            .build(|args| Ok(args[0].clone())),
    );
}

/// The evaluation context of a module called with `args`: `var` (its defaults, overridden by `args`), `data` (the
/// account, region and partition) and every `local` that can be evaluated from those (the others, which read
/// resources, are left out; an expression that needs one fails to evaluate and is reported by the caller).
fn module_context(dir: &Dir, args: &Map<String, Value>) -> Context<'static> {
    let mut ctx = Context::new();
    functions(&mut ctx);
    let mut vars = Map::new();
    for variable in dir.blocks("variable", &[]) {
        let name = variable.labels()[0].as_str().to_string();
        if let Some(default) = attr(&variable.body, "default").and_then(|d| d.evaluate(&ctx).ok()) {
            vars.insert(name, default);
        }
    }
    vars.extend(args.clone());
    ctx.declare_var("var", Value::Object(vars));
    let data = hcl::value!({
        aws_caller_identity = { current = { account_id = (ACCOUNT) } }
        aws_region = { current = { region = (REGION), name = (REGION) } }
        aws_partition = { current = { partition = "aws", dns_suffix = "amazonaws.com" } }
    });
    ctx.declare_var("data", data);
    let all: Vec<(String, &Expression)> = dir
        .blocks("locals", &[])
        .into_iter()
        .flat_map(|b| b.body.attributes().map(|a| (a.key().to_string(), &a.expr)))
        .collect();
    let mut locals = Map::new();
    loop {
        ctx.declare_var("local", Value::Object(locals.clone()));
        let before = locals.len();
        for (name, expr) in &all {
            if !locals.contains_key(name)
                && let Ok(value) = expr.evaluate(&ctx)
            {
                locals.insert(name.clone(), value);
            }
        }
        if locals.len() == before {
            return ctx;
        }
    }
}

/// The arguments of `module "NAME"` in `dir` that evaluate in `ctx`.
fn module_args(dir: &Dir, name: &str, ctx: &Context) -> Map<String, Value> {
    let Some(block) = dir.block("module", &[name]) else {
        return Map::new();
    };
    let args = block
        .body
        .attributes()
        .filter_map(|a| Some((a.key().to_string(), a.expr.evaluate(ctx).ok()?)));
    args.collect()
}

/// The evaluation contexts of an environment's root, of `modules/environment` and of `modules/MODULE` as that
/// environment calls them.
fn environment_contexts(infra: &Infra, env: &str, module: &str) -> (Context<'static>, Context<'static>) {
    let root = infra.dir(&format!("envs/{env}")).unwrap();
    let root_ctx = module_context(root, &Map::new());
    let environment = infra.dir("modules/environment").unwrap();
    let env_ctx = module_context(environment, &module_args(root, "environment", &root_ctx));
    let mut args = module_args(environment, module, &env_ctx);
    // What Terraform's own task definitions carry on the first apply; later the deploy workflow sets the app image,
    // always from the same repository.
    args.insert("image_tag".into(), Value::from("0123456789abcdef"));
    let module_ctx = module_context(infra.dir(&format!("modules/{module}")).unwrap(), &args);
    (env_ctx, module_ctx)
}

fn setting(env_ctx: &Context, key: &str) -> Option<Value> {
    let expr: Expression = format!("var.settings.{key}").parse::<hcl::Expression>().ok()?;
    expr.evaluate(env_ctx).ok()
}

/// Every expression written as an object field `image` anywhere in `dir` (the task definitions' containers, the
/// sidecars' locals): every image a container of this module can carry.
fn image_fields(dir: &Dir) -> Vec<&Expression> {
    fn walk<'a>(expr: &'a Expression, out: &mut Vec<&'a Expression>) {
        match expr {
            Expression::Object(o) => {
                for (k, v) in o.iter() {
                    if key_str(k).as_deref() == Some("image") {
                        out.push(v);
                    }
                    walk(v, out);
                }
            }
            Expression::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Expression::FuncCall(call) => call.args.iter().for_each(|a| walk(a, out)),
            Expression::Parenthesis(inner) => walk(inner, out),
            _ => {}
        }
    }
    fn body<'a>(b: &'a hcl::Body, out: &mut Vec<&'a Expression>) {
        b.attributes().for_each(|a| walk(&a.expr, out));
        b.blocks().for_each(|inner| body(&inner.body, out));
    }
    let mut out = Vec::new();
    dir.files.iter().for_each(|(_, b)| body(b, &mut out));
    out
}

/// The pull-through cache infra/global creates: its prefix, its upstream registry and the repositories it creates
/// up front (so the pulling role needs no ecr:CreateRepository).
fn global_cache(infra: &Infra) -> Result<(String, String, BTreeSet<String>), String> {
    let global = infra.dir("global")?;
    let ctx = module_context(global, &Map::new());
    let (name, source) = global
        .blocks("module", &[])
        .into_iter()
        .find_map(|m| {
            let source = attr(&m.body, "source")?.evaluate(&ctx).ok()?;
            let source = source.as_str()?.strip_prefix("../")?.to_string();
            let dir = infra.dir(&source).ok()?;
            dir.block("resource", &["aws_ecr_pull_through_cache_rule"])?;
            Some((m.labels()[0].as_str().to_string(), source))
        })
        .ok_or("infra/global creates no aws_ecr_pull_through_cache_rule")?;
    let dir = infra.dir(&source)?;
    let cache_ctx = module_context(dir, &module_args(global, &name, &ctx));
    let rule = dir.block("resource", &["aws_ecr_pull_through_cache_rule"]).unwrap();
    let text = |key: &str| {
        let value = attr(&rule.body, key).and_then(|e| e.evaluate(&cache_ctx).ok());
        value.and_then(|v| v.as_str().map(str::to_string))
    };
    let prefix = text("ecr_repository_prefix").ok_or("the pull-through cache rule has no readable prefix")?;
    let upstream = text("upstream_registry_url").unwrap_or_default();
    let mut created = BTreeSet::new();
    for repo in dir.blocks("resource", &["aws_ecr_repository"]) {
        let names: Vec<Value> = match attr(&repo.body, "for_each").map(|e| e.evaluate(&cache_ctx)) {
            Some(Ok(Value::Array(keys))) => keys,
            Some(Ok(Value::Object(o))) => o.keys().cloned().map(Value::from).collect(),
            _ => vec![Value::Null],
        };
        for key in names {
            let mut ctx = cache_ctx.clone();
            ctx.declare_var("each", hcl::value!({ key = (key.clone()), value = (key) }));
            if let Some(Ok(Value::String(n))) = attr(&repo.body, "name").map(|e| e.evaluate(&ctx)) {
                created.insert(n);
            }
        }
    }
    Ok((prefix, upstream, created))
}

/// In an environment whose tasks have no internet egress (no NAT, no public IP), every image of every container of
/// the service is pulled from an ECR registry of the account (reached through the ecr.api / ecr.dkr endpoints):
/// the app's repository, or a repository of infra/global's pull-through cache for `public.ecr.aws` that global
/// creates up front, by digest.
fn check_images(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let (prefix, upstream, created) = match global_cache(infra) {
        Ok(cache) => cache,
        Err(e) => {
            v.push(e);
            return v;
        }
    };
    if upstream != "public.ecr.aws" {
        v.push(format!(
            "infra/global's pull-through cache rule: upstream {upstream:?}, want public.ecr.aws"
        ));
    }
    let registry = format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/");
    let service = infra.dir("modules/service").unwrap();
    for env in ENVIRONMENTS {
        let (env_ctx, ctx) = environment_contexts(infra, env, "service");
        let nat = setting(&env_ctx, "nat_gateway_mode");
        let public_ip = setting(&env_ctx, "tasks_public_ip");
        if nat.is_none() || public_ip.is_none() {
            v.push(format!(
                "{env}: cannot read settings.nat_gateway_mode / tasks_public_ip"
            ));
            continue;
        }
        if nat != Some(Value::from("none")) || public_ip != Some(Value::Bool(false)) {
            continue; // internet egress: public.ecr.aws is reachable
        }
        let app_repository = "var.project".parse::<Expression>().unwrap().evaluate(&env_ctx);
        let app_repository = app_repository
            .ok()
            .and_then(|p| p.as_str().map(str::to_string))
            .unwrap_or_default();
        for expr in image_fields(service) {
            let image = match expr.evaluate(&ctx) {
                Ok(Value::String(image)) => image,
                other => {
                    v.push(format!("{env}: image {expr} does not evaluate to a string: {other:?}"));
                    continue;
                }
            };
            let Some(repository) = image.strip_prefix(&registry) else {
                v.push(format!(
                    "{env} (no NAT, no public IP): image {image} is not in the account's ECR ({registry}...): the task cannot pull it"
                ));
                continue;
            };
            let repository = repository.split(['@', ':']).next().unwrap_or_default();
            if repository == app_repository {
                continue;
            }
            if prefix.is_empty() || !repository.starts_with(&format!("{prefix}/")) {
                v.push(format!(
                    "{env}: image {image} is neither the app repository {app_repository} nor under the pull-through prefix {prefix:?}"
                ));
            } else if !created.contains(repository) {
                v.push(format!(
                    "{env}: image {image}: infra/global does not create {repository} up front (the execution role would need ecr:CreateRepository)"
                ));
            } else if !image.contains("@sha256:") {
                v.push(format!(
                    "{env}: image {image} through the cache is not pinned by digest"
                ));
            } else if !cache_pullers(service, &ctx)
                .contains(&format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repository}"))
            {
                v.push(format!(
                    "{env}: image {image}: no policy of modules/service allows ecr:BatchImportUpstreamImage on {repository} (a pull through the cache needs it)"
                ));
            }
        }
    }
    v
}

/// The resources every statement of the module's policy documents that allows `ecr:BatchImportUpstreamImage` names,
/// evaluated (a pull that makes ECR fetch from the upstream registry needs it besides the usual pull actions).
fn cache_pullers(dir: &Dir, ctx: &Context) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for doc in dir.blocks("data", &["aws_iam_policy_document"]) {
        for statement in doc.body.blocks().filter(|b| b.identifier() == "statement") {
            let actions = attr(&statement.body, "actions").map(|a| a.evaluate(ctx));
            let allows = matches!(actions, Some(Ok(Value::Array(a))) if a.iter().any(|x| x.as_str() == Some("ecr:BatchImportUpstreamImage")));
            if let (true, Some(Ok(Value::Array(resources)))) =
                (allows, attr(&statement.body, "resources").map(|r| r.evaluate(ctx)))
            {
                out.extend(resources.iter().filter_map(|r| r.as_str().map(str::to_string)));
            }
        }
    }
    out
}

#[test]
fn tasks_without_internet_egress_pull_every_image_from_the_accounts_ecr() {
    assert_clean(check_images);
    // The defect as it was: production's collector straight from public.ecr.aws.
    let edit = (
        "modules/environment/main.tf",
        "collector_pull_through_prefix = var.ecr_public_cache_prefix",
        "collector_pull_through_prefix = null",
    );
    assert_reports(
        check_images,
        edit,
        "production (no NAT, no public IP): image public.ecr.aws/aws-observability/aws-otel-collector:",
    );
    let v = check_images(&load(Some(edit))).join("\n");
    assert!(
        !v.contains("staging"),
        "staging has public IPs, public.ecr.aws is reachable:\n{v}"
    );
    // A sidecar written with the public image directly.
    let edit = (
        "modules/service/telemetry.tf",
        "image     = local.otel_collector_image",
        "image     = var.otel_collector_image",
    );
    assert_reports(
        check_images,
        edit,
        "production (no NAT, no public IP): image public.ecr.aws/",
    );
    // The prefix the environments use and the one global creates drift apart.
    let edit = (
        "global/variables.tf",
        "default     = \"ecr-public\"",
        "default     = \"public-cache\"",
    );
    assert_reports(check_images, edit, "nor under the pull-through prefix \"public-cache\"");
    // The cached repository left for the first pull to create.
    let edit = (
        "modules/ecr_public_cache/variables.tf",
        "default     = [\"aws-observability/aws-otel-collector\"]",
        "default     = []",
    );
    assert_reports(
        check_images,
        edit,
        "does not create ecr-public/aws-observability/aws-otel-collector up front",
    );
    // Global's rule pointing elsewhere.
    let edit = (
        "modules/ecr_public_cache/main.tf",
        "upstream_registry_url = \"public.ecr.aws\"",
        "upstream_registry_url = \"registry.k8s.io\"",
    );
    assert_reports(check_images, edit, "upstream \"registry.k8s.io\", want public.ecr.aws");
    // The execution role without the import permission the first pull needs.
    let edit = (
        "modules/service/iam.tf",
        "\"ecr:BatchCheckLayerAvailability\", \"ecr:BatchImportUpstreamImage\"]",
        "\"ecr:BatchCheckLayerAvailability\"]",
    );
    assert_reports(
        check_images,
        edit,
        "no policy of modules/service allows ecr:BatchImportUpstreamImage on ecr-public/",
    );
}

/// The AWS APIs the collector's exporters (those its pipelines use) send to.
fn exporter_services(config: &str, v: &mut Violations) -> BTreeSet<String> {
    let yaml: serde_norway::Value = match serde_norway::from_str(config) {
        Ok(yaml) => yaml,
        Err(e) => {
            v.push(format!("otel-collector.yaml: {e}"));
            return BTreeSet::new();
        }
    };
    let mut services = BTreeSet::new();
    let pipelines = yaml["service"]["pipelines"].as_mapping().cloned().unwrap_or_default();
    if pipelines.is_empty() {
        v.push("otel-collector.yaml: no service.pipelines".into());
    }
    for (_, pipeline) in pipelines {
        for exporter in pipeline["exporters"].as_sequence().cloned().unwrap_or_default() {
            let name = exporter.as_str().unwrap_or_default();
            let kind = name.split('/').next().unwrap_or_default();
            match EXPORTER_SERVICES.iter().find(|(k, _)| *k == kind) {
                Some((_, Some(service))) => {
                    services.insert(service.to_string());
                }
                Some((_, None)) => {}
                None => v.push(format!(
                    "otel-collector.yaml: exporter {name}: which AWS API does it send to? (EXPORTER_SERVICES)"
                )),
            }
        }
    }
    services
}

fn check_exporter_endpoints(infra: &Infra) -> Violations {
    check_exporter_endpoints_with(infra, &crate::telemetry::collector_config())
}

/// Every AWS API the collector sends to has an interface endpoint in each environment that has interface endpoints
/// (there, without NAT or public IPs, nothing else leads out of the VPC).
fn check_exporter_endpoints_with(infra: &Infra, config: &str) -> Violations {
    let mut v = Violations::new();
    let needed = exporter_services(config, &mut v);
    for env in ENVIRONMENTS {
        let (env_ctx, ctx) = environment_contexts(infra, env, "vpc_endpoints");
        if setting(&env_ctx, "interface_endpoints") != Some(Value::Bool(true)) {
            continue;
        }
        let services = "local.interface_services".parse::<Expression>().unwrap().evaluate(&ctx);
        let services: BTreeSet<String> = match services {
            Ok(Value::Array(items)) => items.iter().filter_map(|s| s.as_str().map(str::to_string)).collect(),
            other => {
                v.push(format!(
                    "{env}: cannot read modules/vpc_endpoints local.interface_services: {other:?}"
                ));
                continue;
            }
        };
        for service in needed.difference(&services) {
            v.push(format!(
                "{env}: the collector sends to {service}, which has no interface endpoint (interface_services: {services:?})"
            ));
        }
    }
    v
}

#[test]
fn every_api_the_collector_sends_to_has_an_interface_endpoint() {
    assert_clean(check_exporter_endpoints);
    let edit = (
        "modules/vpc_endpoints/main.tf",
        "\"secretsmanager\", \"xray\"]",
        "\"secretsmanager\"]",
    );
    assert_reports(
        check_exporter_endpoints,
        edit,
        "production: the collector sends to xray, which has no interface endpoint",
    );
    let v = check_exporter_endpoints(&load(Some(edit))).join("\n");
    assert!(!v.contains("staging"), "staging has no interface endpoints:\n{v}");
    // A new exporter nobody mapped to its API.
    let config =
        crate::telemetry::collector_config().replace("exporters: [awsxray]", "exporters: [awsxray, otlphttp/vendor]");
    let v = check_exporter_endpoints_with(&load(None), &config).join("\n");
    assert!(v.contains("exporter otlphttp/vendor: which AWS API"), "{v}");
}
