//! Contract between the GitHub Actions workflows (`.github/workflows`) and what Terraform creates (`infra/`):
//! every role a workflow assumes is a role `modules/github_actions` creates (and a job in environment E assumes
//! only E's roles), and the ECS names a deploy job uses (cluster, service, task families, containers, log group,
//! migration command) are the ones `modules/service` gives that environment. Only this project can check that: it
//! needs both sides. The names are rendered from Terraform's name templates (`tests/support/terraform.rs`).
//!
//! Not here, because a standard tool in `scripts/check-workflows.sh` checks it: workflow syntax, expressions and
//! `run:` scripts (actionlint + shellcheck), actions pinned to a commit SHA and least-privilege `permissions`
//! (zizmor), AWS keys committed in a file (checkov's secrets scan). The deploy scripts' behaviour is tested in
//! `scripts.rs`.
//!
//! Run: `cargo test --test workflow_contract` (`-- --include-ignored` adds the script tests, which need bash, jq
//! and curl).

mod scripts;
#[path = "../support/terraform.rs"]
mod terraform;

use serde_norway::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use terraform::{Dir, attr, key_str, object_get, render};

/// What Terraform names: every GitHub Actions role, and per environment the env-var values a deploy job sets.
struct InfraNames {
    roles: BTreeSet<String>,
    environments: Vec<String>,
    deploy_env: BTreeMap<String, BTreeMap<&'static str, String>>,
}

/// The strings of a literal string or list of strings, e.g. a variable's default or a container's command.
fn strings(expr: &hcl::Expression) -> Vec<String> {
    match expr {
        hcl::Expression::Array(items) => items.iter().flat_map(strings).collect(),
        other => terraform::template_text(other).into_iter().collect(),
    }
}

fn default_of(dir: &Dir, variable: &str) -> Vec<String> {
    let default = dir
        .block("variable", &[variable])
        .and_then(|v| attr(&v.body, "default"));
    strings(default.unwrap_or_else(|| panic!("{}: variable {variable} has no default", dir.name)))
}

fn infra_names() -> InfraNames {
    let global = Dir::load("global");
    let project = default_of(&global, "project").concat();
    let environments = default_of(&global, "environments");

    let github = Dir::load("modules/github_actions");
    let mut roles = BTreeSet::new();
    for role in github.blocks("resource", &["aws_iam_role"]) {
        let per_env = attr(&role.body, "for_each").is_some();
        for env in if per_env {
            environments.clone()
        } else {
            vec![String::new()]
        } {
            let name = attr(&role.body, "name").expect("role name");
            roles.insert(render(name, &github, &[("var.project", &project), ("each.key", &env)]).unwrap());
        }
    }

    let environment = Dir::load("modules/environment");
    let service = Dir::load("modules/service");
    let Some(hcl::Expression::Object(tasks)) = service.local("tasks") else {
        panic!("no local.tasks")
    };
    let migrate_command = object_get(tasks, "migrate")
        .and_then(|t| match t {
            hcl::Expression::Object(t) => object_get(t, "container"),
            _ => None,
        })
        .and_then(|c| match c {
            hcl::Expression::Object(c) => object_get(c, "command"),
            _ => None,
        })
        .map(|cmd| strings(cmd).join(" "))
        .expect("local.tasks.migrate.container.command");
    let keys: Vec<String> = tasks.keys().filter_map(key_str).collect();
    let name_of = |kind: &str, label: &str, prefix: &str, key: &str| {
        let block = service
            .block("resource", &[kind, label])
            .unwrap_or_else(|| panic!("no {kind}.{label}"));
        let attribute = if kind == "aws_ecs_task_definition" {
            "family"
        } else {
            "name"
        };
        render(
            attr(&block.body, attribute).unwrap(),
            &service,
            &[("var.name_prefix", prefix), ("each.key", key)],
        )
        .unwrap()
    };
    let mut deploy_env = BTreeMap::new();
    for env in &environments {
        let prefix_expr = environment.local("name_prefix").expect("local.name_prefix");
        let prefix = render(
            prefix_expr,
            &environment,
            &[("var.project", &project), ("var.environment", env)],
        )
        .unwrap();
        let family = |key: &str| {
            assert!(keys.iter().any(|k| k == key), "no task {key} in local.tasks: {keys:?}");
            name_of("aws_ecs_task_definition", "this", &prefix, key)
        };
        let names = BTreeMap::from([
            ("ECS_CLUSTER", name_of("aws_ecs_cluster", "this", &prefix, "")),
            ("ECS_SERVICE", name_of("aws_ecs_service", "api", &prefix, "")),
            ("API_TASK_FAMILY", family("api")),
            ("API_CONTAINER", "api".to_string()),
            ("MIGRATE_TASK_FAMILY", family("migrate")),
            ("MIGRATE_CONTAINER", "migrate".to_string()),
            ("MIGRATE_COMMAND", migrate_command.clone()),
            ("LOG_GROUP", name_of("aws_cloudwatch_log_group", "ecs", &prefix, "")),
        ]);
        deploy_env.insert(env.clone(), names);
    }
    InfraNames {
        roles,
        environments,
        deploy_env,
    }
}

// --- the workflows ---------------------------------------------------------------------------------------------

fn jobs(doc: &Value) -> Vec<(String, &Mapping)> {
    let jobs = doc.get("jobs").and_then(Value::as_mapping).expect("jobs");
    jobs.iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_mapping()?)))
        .collect()
}

fn get<'a>(map: &'a Mapping, key: &str) -> Option<&'a Value> {
    map.get(Value::String(key.into()))
}

/// `environment: staging` or `environment: {name: staging, url: ...}`.
fn job_environment(job: &Mapping) -> Option<&str> {
    match get(job, "environment")? {
        Value::Mapping(m) => get(m, "name")?.as_str(),
        other => other.as_str(),
    }
}

fn steps(job: &Mapping) -> impl Iterator<Item = &Mapping> {
    get(job, "steps")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_mapping)
}

/// Violations of one workflow (`name` for messages, `text` its YAML).
fn check_workflow(name: &str, text: &str, infra: &InfraNames) -> Vec<String> {
    let mut v = Vec::new();
    let doc: Value = serde_norway::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    for (job_name, job) in jobs(&doc) {
        let env = job_environment(job);
        let at = format!("{name}: job `{job_name}`");
        for step in steps(job) {
            let Some(with) = get(step, "with").and_then(Value::as_mapping) else {
                continue;
            };
            // checkov's secrets scan finds an AWS key committed in a file; a long-lived key kept in GitHub
            // secrets and handed to the action here is the case it misses. Roles come through OIDC only.
            for key in ["aws-access-key-id", "aws-secret-access-key"] {
                if get(with, key).is_some() {
                    v.push(format!(
                        "{at} passes `{key}`: use OIDC (role-to-assume) instead of a long-lived key"
                    ));
                }
            }
            let Some(arn) = get(with, "role-to-assume").and_then(Value::as_str) else {
                continue;
            };
            let role = arn.rsplit_once(":role/").map_or(arn, |(_, r)| r);
            if !infra.roles.contains(role) {
                v.push(format!("{at} assumes role `{role}`, which infra/ does not create"));
            }
            let other_env = infra
                .environments
                .iter()
                .find(|e| Some(e.as_str()) != env && role.contains(&format!("-{e}-")));
            if let Some(other) = other_env {
                v.push(format!("{at} (environment {env:?}) assumes {other}'s role `{role}`"));
            }
        }
        let job_env = get(job, "env").and_then(Value::as_mapping);
        let Some(job_env) = job_env.filter(|e| get(e, "ECS_CLUSTER").is_some()) else {
            continue;
        };
        let Some(want) = env.and_then(|e| infra.deploy_env.get(e)) else {
            v.push(format!(
                "{at} deploys to ECS but its environment {env:?} is not one infra/ creates"
            ));
            continue;
        };
        for (var, want) in want {
            match get(job_env, var).and_then(Value::as_str) {
                Some(got) if got == want => {}
                got => v.push(format!("{at} sets {var} = {got:?}, but infra/ names it `{want}`")),
            }
        }
    }
    v
}

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn infra_names_are_what_the_checks_assume() {
    let infra = infra_names();
    assert_eq!(infra.environments, ["staging", "production"]);
    for role in ["beer-catalog-github-ecr-push", "beer-catalog-production-github-deploy"] {
        assert!(infra.roles.contains(role), "{:?}", infra.roles);
    }
    let staging = &infra.deploy_env["staging"];
    assert_eq!(staging["ECS_CLUSTER"], "beer-catalog-staging");
    assert_eq!(staging["MIGRATE_TASK_FAMILY"], "beer-catalog-staging-migrate");
    assert_eq!(staging["LOG_GROUP"], "/ecs/beer-catalog-staging");
    assert_eq!(staging["MIGRATE_COMMAND"], "migrate");
}

#[test]
fn real_workflows_use_the_names_infra_creates() {
    let infra = infra_names();
    let mut deploy_jobs = BTreeSet::new();
    let mut assumed = BTreeSet::new();
    for name in ["ci.yml", "deploy.yml", "infra.yml"] {
        let text = read(&format!(".github/workflows/{name}"));
        let violations = check_workflow(name, &text, &infra);
        assert!(violations.is_empty(), "{}", violations.join("\n"));
        // The checks saw what they police: a check that matches nothing proves nothing.
        let doc: Value = serde_norway::from_str(&text).unwrap();
        for (_, job) in jobs(&doc) {
            if get(job, "env").and_then(|e| e.get("ECS_CLUSTER")).is_some() {
                deploy_jobs.insert(job_environment(job).unwrap_or_default().to_string());
            }
            let roles = steps(job).filter_map(|s| get(s, "with")?.get("role-to-assume")?.as_str());
            assumed.extend(roles.map(|arn| arn.rsplit_once(":role/").unwrap().1.to_string()));
        }
    }
    assert_eq!(deploy_jobs, BTreeSet::from(["staging".into(), "production".into()]));
    assert_eq!(
        assumed, infra.roles,
        "every role infra/ creates for GitHub Actions is used, and only those"
    );
}

#[test]
fn broken_workflows_are_caught() {
    let infra = infra_names();
    let deploy = read(".github/workflows/deploy.yml");
    let cases = [
        (
            "ECS_CLUSTER: beer-catalog-staging",
            "ECS_CLUSTER: beer-catalog-stage",
            "sets ECS_CLUSTER = Some(\"beer-catalog-stage\"), but infra/ names it `beer-catalog-staging`",
        ),
        (
            "MIGRATE_COMMAND: migrate",
            "MIGRATE_COMMAND: migrate --all",
            "sets MIGRATE_COMMAND = Some(\"migrate --all\")",
        ),
        (
            "LOG_GROUP: /ecs/beer-catalog-staging",
            "LOG_GROUP: /ecs/beer-catalog",
            "sets LOG_GROUP",
        ),
        (
            "role/beer-catalog-github-ecr-push",
            "role/beer-catalog-github-deployer",
            "assumes role `beer-catalog-github-deployer`, which infra/ does not create",
        ),
        (
            "role/beer-catalog-production-github-deploy",
            "role/beer-catalog-staging-github-deploy",
            "assumes staging's role `beer-catalog-staging-github-deploy`",
        ),
        (
            "role-session-name: gha-build-",
            "aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}\n          role-session-name: gha-build-",
            "passes `aws-access-key-id`",
        ),
        (
            "ECS_CLUSTER: beer-catalog-production",
            "ECS_CLUSTER: beer-catalog-staging",
            "job `production` sets ECS_CLUSTER",
        ),
    ];
    for (from, to, expected) in cases {
        assert!(
            deploy.contains(from),
            "deploy.yml has no `{from}`: the fixture is stale"
        );
        let violations = check_workflow("deploy.yml", &deploy.replacen(from, to, 1), &infra);
        assert!(
            violations.iter().any(|v| v.contains(expected)),
            "replacing `{from}` should report `{expected}`, got: {violations:#?}"
        );
    }
}
