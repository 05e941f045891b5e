//! Contract between the GitHub Actions workflows (`.github/workflows`) and what Terraform creates (`infra/`):
//! every role a workflow assumes is a role `modules/github_actions` creates (and a job in environment E assumes
//! only E's roles), and the ECS names a deploy job uses (cluster, service, task families, containers, log group,
//! migration command) are the ones `modules/service` gives that environment. Only this project can check that: it
//! needs both sides. The names are rendered from Terraform's name templates (`tests/support/terraform.rs`).
//!
//! Not here, because a standard tool in `scripts/check-workflows.sh` checks it: workflow syntax, expressions and
//! `run:` scripts (actionlint + shellcheck), actions pinned to a commit SHA and least-privilege `permissions`
//! (zizmor), AWS keys committed in a file (checkov's secrets scan). The deploy scripts' behaviour is tested in
//! `scripts.rs`; what the pipelines must hold as they will really run (KMS on every backend init, plans never
//! travelling, the lock file travelling, one concurrency group per environment, the promotion of CI's image, every
//! Terraform input set) in `pipeline.rs`.
//!
//! Run: `cargo test --test workflow_contract` (`-- --include-ignored` adds the script tests, which need bash, jq
//! and curl).

mod pipeline;
mod scripts;
#[path = "../support/terraform.rs"]
mod terraform;

use hcl::Expression;
use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};
use terraform::{Dir, attr, object_get, render};

/// What Terraform names: every GitHub Actions role, and per environment the env-var values a deploy job sets.
struct InfraNames {
    roles: BTreeSet<String>,
    environments: Vec<String>,
    deploy_env: BTreeMap<String, BTreeMap<&'static str, String>>,
}

/// The strings of a literal string or list of strings, e.g. a variable's default or a container's command.
fn strings(expr: &Expression) -> Vec<String> {
    match expr {
        Expression::Array(items) => items.iter().flat_map(strings).collect(),
        other => terraform::template_text(other).into_iter().collect(),
    }
}

/// `expr.key` of a literal object.
fn field<'a>(expr: Option<&'a Expression>, key: &str) -> Option<&'a Expression> {
    match expr? {
        Expression::Object(o) => object_get(o, key),
        _ => None,
    }
}

fn infra_names() -> InfraNames {
    let global = Dir::load("global");
    let default = |name: &str| {
        let default = global.block("variable", &[name]).and_then(|v| attr(&v.body, "default"));
        strings(default.unwrap_or_else(|| panic!("global: no default for var.{name}")))
    };
    let (project, environments) = (default("project").concat(), default("environments"));

    let github = Dir::load("modules/github_actions");
    let mut roles = BTreeSet::new();
    for role in github.blocks("resource", &["aws_iam_role"]) {
        let per_env = attr(&role.body, "for_each").is_some();
        for env in if per_env {
            environments.clone()
        } else {
            vec![String::new()]
        } {
            let bindings = [("var.project", project.as_str()), ("each.key", &env)];
            roles.insert(render(attr(&role.body, "name").unwrap(), &github, &bindings).unwrap());
        }
    }

    let (environment, service) = (Dir::load("modules/environment"), Dir::load("modules/service"));
    let tasks = service.local("tasks");
    let command = field(field(field(tasks, "migrate"), "container"), "command");
    let migrate_command = strings(command.expect("local.tasks.migrate.container.command")).join(" ");
    let name_of = |kind: &str, label: &str, prefix: &str, key: &str| {
        let block = service.block("resource", &[kind, label]);
        let block = block.unwrap_or_else(|| panic!("no {kind}.{label}"));
        let attribute = if kind == "aws_ecs_task_definition" {
            "family"
        } else {
            "name"
        };
        let bindings = [("var.name_prefix", prefix), ("each.key", key)];
        render(attr(&block.body, attribute).unwrap(), &service, &bindings).unwrap()
    };
    let mut deploy_env = BTreeMap::new();
    for env in &environments {
        let bindings = [("var.project", project.as_str()), ("var.environment", env)];
        let prefix = render(environment.local("name_prefix").unwrap(), &environment, &bindings).unwrap();
        let family = |key| {
            assert!(field(tasks, key).is_some(), "no task {key} in local.tasks");
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

/// `(job id, job)` of a workflow.
fn jobs(doc: &Value) -> impl Iterator<Item = (&str, &Value)> {
    let jobs = doc["jobs"].as_mapping().expect("jobs").iter();
    jobs.filter_map(|(id, job)| Some((id.as_str()?, job)))
}

/// `environment: staging` or `environment: {name: staging, url: ...}`.
fn job_environment(job: &Value) -> Option<&str> {
    job["environment"]["name"].as_str().or(job["environment"].as_str())
}

/// The role ARN each step of `job` hands the AWS credentials action.
fn assumed_roles(job: &Value) -> impl Iterator<Item = &str> {
    let steps = job["steps"].as_sequence().into_iter().flatten();
    steps.filter_map(|step| step["with"]["role-to-assume"].as_str())
}

/// Violations of one workflow (`name` for messages, `text` its YAML).
fn check_workflow(name: &str, text: &str, infra: &InfraNames) -> Vec<String> {
    let mut v = Vec::new();
    let doc: Value = serde_norway::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    for (id, job) in jobs(&doc) {
        let (env, at) = (job_environment(job), format!("{name}: job `{id}`"));
        // checkov's secrets scan finds an AWS key committed in a file; a long-lived key kept in GitHub secrets and
        // handed to the action here is the case it misses. Roles come through OIDC only.
        for step in job["steps"].as_sequence().into_iter().flatten() {
            for key in ["aws-access-key-id", "aws-secret-access-key"] {
                if !step["with"][key].is_null() {
                    v.push(format!("{at} passes `{key}`: use OIDC (role-to-assume) instead"));
                }
            }
        }
        for arn in assumed_roles(job) {
            let role = arn.rsplit_once(":role/").map_or(arn, |(_, r)| r);
            if !infra.roles.contains(role) {
                v.push(format!("{at} assumes role `{role}`, which infra/ does not create"));
            }
            let mut others = infra.environments.iter().filter(|e| Some(e.as_str()) != env);
            if let Some(other) = others.find(|e| role.contains(&format!("-{e}-"))) {
                v.push(format!("{at} (environment {env:?}) assumes {other}'s role `{role}`"));
            }
        }
        if job["env"]["ECS_CLUSTER"].is_null() {
            continue;
        }
        let Some(want) = env.and_then(|e| infra.deploy_env.get(e)) else {
            v.push(format!("{at} deploys to ECS, to no environment {env:?} of infra/"));
            continue;
        };
        for (var, want) in want {
            match job["env"][var].as_str() {
                Some(got) if got == want => {}
                got => v.push(format!("{at} sets {var} = {got:?}, but infra/ names it `{want}`")),
            }
        }
    }
    v
}

fn read(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(full).unwrap_or_else(|e| panic!("{path}: {e}"))
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
    let (mut deploy_jobs, mut assumed) = (BTreeSet::new(), BTreeSet::new());
    for name in ["ci.yml", "deploy.yml", "infra.yml"] {
        let text = read(&format!(".github/workflows/{name}"));
        let violations = check_workflow(name, &text, &infra);
        assert!(violations.is_empty(), "{}", violations.join("\n"));
        // The checks saw what they police: a check that matches nothing proves nothing.
        let doc: Value = serde_norway::from_str(&text).unwrap();
        for (_, job) in jobs(&doc) {
            if !job["env"]["ECS_CLUSTER"].is_null() {
                deploy_jobs.insert(job_environment(job).unwrap_or_default().to_string());
            }
            assumed.extend(assumed_roles(job).map(|arn| arn.rsplit_once(":role/").unwrap().1.to_string()));
        }
    }
    assert_eq!(deploy_jobs, BTreeSet::from(["staging".into(), "production".into()]));
    let message = "every role infra/ creates for GitHub Actions is used, and only those";
    assert_eq!(assumed, infra.roles, "{message}");
}

#[test]
fn broken_workflows_are_caught() {
    let (infra, deploy) = (infra_names(), read(".github/workflows/deploy.yml"));
    let caught = |from: &str, to: &str, expected: &str| {
        assert!(
            deploy.contains(from),
            "deploy.yml has no `{from}`: the fixture is stale"
        );
        let violations = check_workflow("deploy.yml", &deploy.replacen(from, to, 1), &infra);
        let message = format!("replacing `{from}` should report `{expected}`, got: {violations:#?}");
        assert!(violations.iter().any(|v| v.contains(expected)), "{message}");
    };
    let want = "sets ECS_CLUSTER = Some(\"beer-catalog-stage\"), but infra/ names it `beer-catalog-staging`";
    caught(
        "ECS_CLUSTER: beer-catalog-staging",
        "ECS_CLUSTER: beer-catalog-stage",
        want,
    );
    let want = "sets MIGRATE_COMMAND = Some(\"migrate --all\")";
    caught("MIGRATE_COMMAND: migrate", "MIGRATE_COMMAND: migrate --all", want);
    let want = "sets LOG_GROUP = Some(\"/ecs/beer-catalog\")";
    caught(
        "LOG_GROUP: /ecs/beer-catalog-staging",
        "LOG_GROUP: /ecs/beer-catalog",
        want,
    );
    let want = "assumes role `beer-catalog-github-deployer`, which infra/ does not create";
    caught(
        "role/beer-catalog-github-ecr-push",
        "role/beer-catalog-github-deployer",
        want,
    );
    let want = "assumes staging's role `beer-catalog-staging-github-deploy`";
    let staging = "role/beer-catalog-staging-github-deploy";
    caught("role/beer-catalog-production-github-deploy", staging, want);
    let key = "aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}\n          role-session-name: gha-deploy-image-";
    caught(
        "role-session-name: gha-deploy-image-",
        key,
        "passes `aws-access-key-id`",
    );
    let want = "job `production` sets ECS_CLUSTER";
    caught(
        "ECS_CLUSTER: beer-catalog-production",
        "ECS_CLUSTER: beer-catalog-staging",
        want,
    );
}
