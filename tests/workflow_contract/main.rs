//! Contract between the GitHub Actions workflows (.github/workflows) and what Terraform creates (infra/).
//!
//! Each rule is a function returning violations (empty = fine). The real workflows must have none; the
//! deliberately broken copy in tests/fixtures/workflows_broken/ must trip every rule it was broken for, so
//! a rule that silently stops matching fails here too. This test reads files only: it needs neither the
//! crate's library nor a network.
//!
//! Run: cargo test --test workflow_contract

mod infra;
mod scripts;
#[path = "../support/terraform.rs"]
mod terraform;

use infra::InfraNames;
use serde_norway::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The fixed names of issue 5 (the Terraform helper creates exactly these). The workflows are checked
/// against infra/ *and* against this list, so a rename on either side is caught.
const PROJECT: &str = "beer-catalog";
const ENVIRONMENTS: [&str; 2] = ["staging", "production"];
const ECR_REPOSITORY: &str = "beer-catalog";
const MIGRATE_COMMAND: &[&str] = &["migrate"];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Workflow {
    path: PathBuf,
    text: String,
    doc: Value,
}

impl Workflow {
    fn name(&self) -> String {
        self.path.file_name().unwrap().to_string_lossy().into_owned()
    }

    fn jobs(&self) -> Vec<(String, &Mapping)> {
        self.doc
            .get("jobs")
            .and_then(Value::as_mapping)
            .map(|jobs| {
                jobs.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_mapping()?)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn load_workflows(dir: &Path) -> Vec<Workflow> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "yml" || ext == "yaml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no workflow files in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).unwrap();
            let doc: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Workflow { path, text, doc }
        })
        .collect()
}

fn get<'a>(map: &'a Mapping, key: &str) -> Option<&'a Value> {
    map.get(Value::String(key.to_string()))
}

fn steps(job: &Mapping) -> Vec<&Mapping> {
    get(job, "steps")
        .and_then(Value::as_sequence)
        .map(|s| s.iter().filter_map(Value::as_mapping).collect())
        .unwrap_or_default()
}

fn step_uses(job: &Mapping) -> Vec<String> {
    steps(job)
        .iter()
        .filter_map(|step| get(step, "uses").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn uses_oidc_action(job: &Mapping) -> bool {
    step_uses(job)
        .iter()
        .any(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
}

fn grants_id_token(permissions: Option<&Value>) -> bool {
    match permissions {
        Some(Value::Mapping(m)) => get(m, "id-token").and_then(Value::as_str) == Some("write"),
        Some(Value::String(s)) => s == "write-all",
        _ => false,
    }
}

/// `environment: staging` or `environment: {name: staging, url: ...}`.
fn job_environment(job: &Mapping) -> Option<String> {
    match get(job, "environment")? {
        Value::String(s) => Some(s.clone()),
        Value::Mapping(m) => get(m, "name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Workflow-level env overlaid with job-level env.
fn job_env(wf: &Workflow, job: &Mapping) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for source in [wf.doc.get("env"), get(job, "env")] {
        if let Some(Value::Mapping(m)) = source {
            for (k, v) in m {
                if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                    env.insert(k.to_string(), v.to_string());
                }
            }
        }
    }
    env
}

/// Every string in a YAML value (for `with:` inputs, run scripts, ...).
fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Mapping(m) => m.iter().for_each(|(_, v)| strings_in(v, out)),
        Value::Tagged(t) => strings_in(&t.value, out),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------------

/// Least privilege: the workflow defaults to no (or read-only) permissions, and every job says what it gets.
fn check_permissions(wf: &Workflow) -> Vec<String> {
    let mut v = Vec::new();
    match wf.doc.get("permissions") {
        Some(Value::Mapping(m)) if m.is_empty() => {}
        Some(Value::Mapping(m)) if m.len() == 1 && get(m, "contents").and_then(Value::as_str) == Some("read") => {}
        other => v.push(format!(
            "{}: top-level permissions must be {{}} or {{contents: read}}, found {other:?}",
            wf.name()
        )),
    }
    for (id, job) in wf.jobs() {
        match get(job, "permissions") {
            None => v.push(format!("{}: job `{id}` has no explicit permissions", wf.name())),
            Some(Value::String(s)) if s == "write-all" => {
                v.push(format!("{}: job `{id}` has permissions: write-all", wf.name()))
            }
            _ => {}
        }
    }
    v
}

/// `id-token: write` only where a role is assumed through OIDC, and OIDC only with it.
fn check_id_token(wf: &Workflow) -> Vec<String> {
    let mut v = Vec::new();
    if grants_id_token(wf.doc.get("permissions")) {
        v.push(format!("{}: id-token: write at the workflow level", wf.name()));
    }
    for (id, job) in wf.jobs() {
        let grants = grants_id_token(get(job, "permissions"));
        let oidc = uses_oidc_action(job);
        if grants && !oidc {
            v.push(format!(
                "{}: job `{id}` has id-token: write but does not use aws-actions/configure-aws-credentials",
                wf.name()
            ));
        }
        if oidc && !grants {
            v.push(format!(
                "{}: job `{id}` assumes an AWS role without id-token: write",
                wf.name()
            ));
        }
    }
    v
}

fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// Third-party actions and reusable workflows are pinned to a full commit SHA, with the version in a comment.
fn check_pinned(wf: &Workflow) -> Vec<String> {
    let mut v = Vec::new();
    let mut all_uses = Vec::new();
    for (id, job) in wf.jobs() {
        if let Some(u) = get(job, "uses").and_then(Value::as_str) {
            all_uses.push((id.clone(), u.to_string()));
        }
        all_uses.extend(step_uses(job).into_iter().map(|u| (id.clone(), u)));
    }
    for (id, u) in all_uses {
        if u.starts_with("./") || u.starts_with("docker://") {
            continue;
        }
        match u.rsplit_once('@') {
            Some((_, reference)) if is_full_sha(reference) => {}
            _ => v.push(format!(
                "{}: job `{id}` uses `{u}`, not pinned to a full commit SHA",
                wf.name()
            )),
        }
    }
    // The version comment lives in the text, not the YAML value.
    for (n, line) in wf.text.lines().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        if let Some(rest) = trimmed.strip_prefix("uses:") {
            let rest = rest.trim();
            if rest.starts_with("./") || rest.starts_with("docker://") {
                continue;
            }
            let comment_ok = rest.split_once('#').is_some_and(|(_, c)| c.trim().starts_with('v'));
            if !comment_ok {
                v.push(format!(
                    "{}:{}: `{rest}` has no `# vX.Y.Z` version comment",
                    wf.name(),
                    n + 1
                ));
            }
        }
    }
    v
}

/// No long-lived AWS keys anywhere: OIDC only.
fn check_no_static_keys(wf: &Workflow) -> Vec<String> {
    let mut v = Vec::new();
    let lower = wf.text.to_lowercase();
    for needle in [
        "aws-access-key-id",
        "aws-secret-access-key",
        "aws_secret_access_key",
        "aws_access_key_id",
    ] {
        if lower.contains(needle) {
            v.push(format!(
                "{}: mentions `{needle}` (use OIDC role assumption, not access keys)",
                wf.name()
            ));
        }
    }
    let bytes = wf.text.as_bytes();
    for i in 0..bytes.len().saturating_sub(20) {
        if &bytes[i..i + 4] == b"AKIA"
            && bytes[i + 4..i + 20]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            v.push(format!("{}: contains what looks like an AWS access key id", wf.name()));
            break;
        }
    }
    v
}

/// Jobs that act on an environment (deploys, applies) run one at a time per environment, never cancelled.
fn check_deploy_concurrency(wf: &Workflow) -> Vec<String> {
    let mut v = Vec::new();
    for (id, job) in wf.jobs() {
        let Some(environment) = job_environment(job) else {
            continue;
        };
        match get(job, "concurrency") {
            Some(Value::Mapping(c)) => {
                let group = get(c, "group").and_then(Value::as_str).unwrap_or("");
                if !group.contains(&environment) {
                    v.push(format!(
                        "{}: job `{id}` concurrency group `{group}` is not per environment ({environment})",
                        wf.name()
                    ));
                }
                if get(c, "cancel-in-progress").and_then(Value::as_bool) != Some(false) {
                    v.push(format!("{}: job `{id}` must set cancel-in-progress: false", wf.name()));
                }
            }
            _ => v.push(format!(
                "{}: deploy job `{id}` ({environment}) has no concurrency",
                wf.name()
            )),
        }
    }
    v
}

/// Role names in `role-to-assume` (arn:aws:iam::<account>:role/<name>).
fn assumed_roles(wf: &Workflow) -> Vec<(String, String)> {
    let mut roles = Vec::new();
    for (id, job) in wf.jobs() {
        for step in steps(job) {
            let Some(with) = get(step, "with").and_then(Value::as_mapping) else {
                continue;
            };
            if let Some(role) = get(with, "role-to-assume").and_then(Value::as_str) {
                let name = role
                    .rsplit_once(":role/")
                    .map(|(_, n)| n.to_string())
                    .unwrap_or_else(|| role.to_string());
                roles.push((id.clone(), name));
            }
        }
    }
    roles
}

/// Roles are assumed by ARN built from vars.AWS_ACCOUNT_ID and a fixed name, and exist in infra/.
fn check_roles(wf: &Workflow, infra_roles: &BTreeSet<String>) -> Vec<String> {
    let mut v = Vec::new();
    for (id, job) in wf.jobs() {
        for step in steps(job) {
            let Some(with) = get(step, "with").and_then(Value::as_mapping) else {
                continue;
            };
            if let Some(role) = get(with, "role-to-assume").and_then(Value::as_str)
                && !role.starts_with("arn:aws:iam::${{ vars.AWS_ACCOUNT_ID }}:role/")
            {
                v.push(format!(
                    "{}: job `{id}` role `{role}` is not arn:aws:iam::${{{{ vars.AWS_ACCOUNT_ID }}}}:role/<name>",
                    wf.name()
                ));
            }
        }
    }
    for (id, name) in assumed_roles(wf) {
        if !infra_roles.contains(&name) {
            v.push(format!(
                "{}: job `{id}` assumes role `{name}`, which infra/ does not create",
                wf.name()
            ));
        }
        if let Some(environment) = wf
            .jobs()
            .iter()
            .find(|(j, _)| *j == id)
            .and_then(|(_, job)| job_environment(job))
            && name.contains("-github-")
            && ENVIRONMENTS
                .iter()
                .any(|e| name.starts_with(&format!("{PROJECT}-{e}-")))
            && !name.starts_with(&format!("{PROJECT}-{environment}-"))
        {
            v.push(format!(
                "{}: job `{id}` in environment {environment} assumes another environment's role `{name}`",
                wf.name()
            ));
        }
    }
    v
}

/// The ECS/ECR names a deploy job uses are the ones Terraform creates for that environment, and the fixed names.
fn check_deploy_names(wf: &Workflow, roots: &BTreeMap<String, InfraNames>, all: &InfraNames) -> Vec<String> {
    let mut v = Vec::new();
    let name = wf.name();
    if let Some(repo) = job_env(wf, &Mapping::new()).get("ECR_REPOSITORY") {
        if !all.ecr_repositories.contains(repo) {
            v.push(format!(
                "{name}: ECR_REPOSITORY `{repo}` is not an aws_ecr_repository in infra/"
            ));
        }
        if repo != ECR_REPOSITORY {
            v.push(format!(
                "{name}: ECR_REPOSITORY `{repo}` is not the fixed name `{ECR_REPOSITORY}`"
            ));
        }
    }
    for (id, job) in wf.jobs() {
        let env = job_env(wf, job);
        if !env.contains_key("ECS_CLUSTER") {
            continue;
        }
        let Some(environment) = job_environment(job) else {
            v.push(format!(
                "{name}: job `{id}` deploys to ECS without a GitHub environment"
            ));
            continue;
        };
        let Some(root) = roots.get(&format!("envs/{environment}")) else {
            v.push(format!(
                "{name}: job `{id}` environment `{environment}` has no infra/envs/{environment} root"
            ));
            continue;
        };
        let want = |key: &str| env.get(key).cloned().unwrap_or_default();
        let (cluster, service) = (want("ECS_CLUSTER"), want("ECS_SERVICE"));
        let (api_family, api_container) = (want("API_TASK_FAMILY"), want("API_CONTAINER"));
        let (migrate_family, migrate_container) = (want("MIGRATE_TASK_FAMILY"), want("MIGRATE_CONTAINER"));
        let migrate_command: Vec<String> = want("MIGRATE_COMMAND").split_whitespace().map(str::to_string).collect();

        let mut expect_in = |what: &str, value: &str, set: &BTreeSet<String>| {
            if !set.contains(value) {
                v.push(format!(
                    "{name}: job `{id}` {what} `{value}` is not created by infra/envs/{environment} {set:?}"
                ));
            }
        };
        expect_in("ECS cluster", &cluster, &root.clusters);
        expect_in("ECS service", &service, &root.services);
        let families: BTreeSet<String> = root.task_families.keys().cloned().collect();
        expect_in("API task family", &api_family, &families);
        expect_in("migrate task family", &migrate_family, &families);
        if let Some(log_group) = env.get("LOG_GROUP") {
            expect_in("log group", log_group, &root.log_groups);
        }
        if let Some(containers) = root.task_families.get(&api_family)
            && !containers.contains_key(&api_container)
        {
            v.push(format!(
                "{name}: job `{id}` container `{api_container}` is not in task family {api_family}"
            ));
        }
        match root
            .task_families
            .get(&migrate_family)
            .and_then(|c| c.get(&migrate_container))
        {
            None if families.contains(&migrate_family) => v.push(format!(
                "{name}: job `{id}` container `{migrate_container}` is not in task family {migrate_family}"
            )),
            Some(command) if *command != migrate_command => v.push(format!(
                "{name}: job `{id}` migration command {migrate_command:?} differs from infra's {command:?}"
            )),
            _ => {}
        }
        // The fixed naming convention, independently of what infra/ says.
        let fixed = [
            ("ECS cluster", cluster.clone(), format!("{PROJECT}-{environment}")),
            ("ECS service", service, format!("{PROJECT}-{environment}-api")),
            ("API task family", api_family, format!("{PROJECT}-{environment}-api")),
            ("API container", api_container, "api".to_string()),
            (
                "migrate task family",
                migrate_family,
                format!("{PROJECT}-{environment}-migrate"),
            ),
            ("migrate container", migrate_container, "migrate".to_string()),
        ];
        for (what, got, want) in fixed {
            if got != want {
                v.push(format!(
                    "{name}: job `{id}` {what} `{got}` is not the fixed name `{want}`"
                ));
            }
        }
        if migrate_command != MIGRATE_COMMAND {
            v.push(format!(
                "{name}: job `{id}` migration command {migrate_command:?} is not {MIGRATE_COMMAND:?}"
            ));
        }
        // The image is deployed by digest from the one ECR repository.
        let image = want("IMAGE");
        match image
            .split_once(".amazonaws.com/")
            .and_then(|(_, rest)| rest.split_once('@'))
        {
            Some((repo, digest))
                if all.ecr_repositories.contains(repo) && digest.contains("needs.build.outputs.digest") => {}
            _ => v.push(format!(
                "{name}: job `{id}` IMAGE `{image}` is not <registry>/<infra ECR repo>@<build digest>"
            )),
        }
    }
    v
}

/// Production releases only after staging, with the same build output (never rebuilt).
fn check_release_order(wf: &Workflow) -> Vec<String> {
    let jobs = wf.jobs();
    let by_env: BTreeMap<String, String> = jobs
        .iter()
        .filter(|(_, job)| job_env(wf, job).contains_key("ECS_CLUSTER"))
        .filter_map(|(id, job)| Some((job_environment(job)?, id.clone())))
        .collect();
    let (Some(staging), Some(production)) = (by_env.get("staging"), by_env.get("production")) else {
        return vec![format!("{}: no staging and production deploy jobs", wf.name())];
    };
    let needs = |id: &str| -> Vec<String> {
        let job = jobs.iter().find(|(j, _)| j == id).map(|(_, job)| *job);
        match job.and_then(|job| get(job, "needs")) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Sequence(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    };
    // transitive closure of `needs` from production
    let mut seen = BTreeSet::new();
    let mut todo = vec![production.clone()];
    while let Some(id) = todo.pop() {
        for n in needs(&id) {
            if seen.insert(n.clone()) {
                todo.push(n);
            }
        }
    }
    let mut v = Vec::new();
    if !seen.contains(staging) {
        v.push(format!(
            "{}: production job `{production}` does not need the staging job `{staging}`",
            wf.name()
        ));
    }
    let build_steps: Vec<String> = jobs
        .iter()
        .filter(|(id, _)| id == production)
        .flat_map(|(_, job)| step_uses(job))
        .filter(|u| u.starts_with("docker/build-push-action@"))
        .collect();
    if !build_steps.is_empty() {
        v.push(format!(
            "{}: the production job builds an image; it must deploy the staging digest",
            wf.name()
        ));
    }
    v
}

/// The strings of a workflow can only name this project's resources (a typo'd cluster in a `run:` or
/// `with:` would otherwise pass): every `beer-catalog-...` token must be a name infra/ creates.
fn check_resource_tokens(wf: &Workflow, all: &InfraNames) -> Vec<String> {
    let mut known: BTreeSet<String> = BTreeSet::new();
    known.extend(all.clusters.iter().cloned());
    known.extend(all.services.iter().cloned());
    known.extend(all.task_families.keys().cloned());
    known.extend(all.iam_roles.iter().cloned());
    known.extend(all.log_groups.iter().map(|g| g.trim_start_matches("/ecs/").to_string()));
    known.extend(all.security_groups.iter().cloned());
    let mut strings = Vec::new();
    strings_in(&wf.doc, &mut strings);
    let mut v = BTreeSet::new();
    for s in strings {
        for token in s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if token.starts_with(&format!("{PROJECT}-")) && !known.contains(token) {
                v.insert(format!("{}: `{token}` is not a name infra/ creates", wf.name()));
            }
        }
    }
    v.into_iter().collect()
}

fn all_violations(workflows: &[Workflow], roots: &BTreeMap<String, InfraNames>) -> Vec<String> {
    let mut all = InfraNames::default();
    roots.values().for_each(|r| all.merge(r));
    let mut v = Vec::new();
    for wf in workflows {
        v.extend(check_permissions(wf));
        v.extend(check_id_token(wf));
        v.extend(check_pinned(wf));
        v.extend(check_no_static_keys(wf));
        v.extend(check_deploy_concurrency(wf));
        v.extend(check_roles(wf, &all.iam_roles));
        v.extend(check_deploy_names(wf, roots, &all));
        v.extend(check_resource_tokens(wf, &all));
        if wf
            .jobs()
            .iter()
            .any(|(_, job)| job_env(wf, job).contains_key("ECS_CLUSTER"))
        {
            v.extend(check_release_order(wf));
        }
    }
    v
}

fn infra_roots() -> BTreeMap<String, InfraNames> {
    infra::read_roots(&repo_root().join("infra")).unwrap_or_else(|e| panic!("reading infra/: {e}"))
}

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------

#[test]
fn infra_creates_the_fixed_names() {
    let roots = infra_roots();
    let mut all = InfraNames::default();
    roots.values().for_each(|r| all.merge(r));
    assert!(
        all.ecr_repositories.contains(ECR_REPOSITORY),
        "ECR repositories: {:?}",
        all.ecr_repositories
    );
    for role in ["beer-catalog-github-ecr-push", "beer-catalog-github-terraform-plan"] {
        assert!(
            all.iam_roles.contains(role),
            "missing IAM role {role}; infra has {:?}",
            all.iam_roles
        );
    }
    for env in ENVIRONMENTS {
        for role in [
            format!("{PROJECT}-{env}-github-deploy"),
            format!("{PROJECT}-{env}-github-terraform-apply"),
        ] {
            assert!(
                all.iam_roles.contains(&role),
                "missing IAM role {role}; infra has {:?}",
                all.iam_roles
            );
        }
        let root = &roots[&format!("envs/{env}")];
        assert!(
            root.clusters.contains(&format!("{PROJECT}-{env}")),
            "{env} clusters: {:?}",
            root.clusters
        );
        assert!(
            root.services.contains(&format!("{PROJECT}-{env}-api")),
            "{env} services: {:?}",
            root.services
        );
        assert!(
            root.log_groups.contains(&format!("/ecs/{PROJECT}-{env}")),
            "{env} log groups: {:?}",
            root.log_groups
        );
        assert!(
            root.security_groups.contains(&format!("{PROJECT}-{env}-tasks")),
            "{env} security groups: {:?}",
            root.security_groups
        );
        let families = &root.task_families;
        let api = families
            .get(&format!("{PROJECT}-{env}-api"))
            .unwrap_or_else(|| panic!("{env} families: {families:?}"));
        assert!(api.contains_key("api"), "{env} api containers: {api:?}");
        let migrate = families
            .get(&format!("{PROJECT}-{env}-migrate"))
            .unwrap_or_else(|| panic!("{env} families: {families:?}"));
        assert_eq!(
            migrate.get("migrate").map(Vec::as_slice),
            Some(&["migrate".to_string()][..]),
            "{env} migrate: {migrate:?}"
        );
        let roles = families
            .get(&format!("{PROJECT}-{env}-db-roles"))
            .unwrap_or_else(|| panic!("{env} families: {families:?}"));
        assert_eq!(
            roles.get("db-roles").map(Vec::as_slice),
            Some(&["provision-roles".to_string()][..]),
            "{env} db-roles: {roles:?}"
        );
        for output in terraform::ENV_ROOT_OUTPUTS {
            assert!(
                root.outputs.contains(output),
                "infra/envs/{env} has no output {output}: {:?}",
                root.outputs
            );
        }
    }
}

#[test]
fn real_workflows_satisfy_the_contract() {
    let workflows = load_workflows(&repo_root().join(".github/workflows"));
    let names: BTreeSet<String> = workflows.iter().map(Workflow::name).collect();
    for required in ["ci.yml", "deploy.yml", "infra.yml"] {
        assert!(
            names.contains(required),
            "missing .github/workflows/{required}; have {names:?}"
        );
    }
    let violations = all_violations(&workflows, &infra_roots());
    assert!(
        violations.is_empty(),
        "workflow contract violations:\n  {}",
        violations.join("\n  ")
    );

    // The rules saw what they are meant to police (a rule that matches nothing proves nothing).
    let deploy = workflows.iter().find(|w| w.name() == "deploy.yml").unwrap();
    let roles: BTreeSet<String> = workflows.iter().flat_map(assumed_roles).map(|(_, r)| r).collect();
    for role in [
        "beer-catalog-github-ecr-push",
        "beer-catalog-staging-github-deploy",
        "beer-catalog-production-github-deploy",
        "beer-catalog-github-terraform-plan",
        "beer-catalog-staging-github-terraform-apply",
        "beer-catalog-production-github-terraform-apply",
    ] {
        assert!(roles.contains(role), "no workflow assumes {role}: {roles:?}");
    }
    let deploy_envs: BTreeSet<String> = deploy
        .jobs()
        .iter()
        .filter(|(_, job)| job_env(deploy, job).contains_key("ECS_CLUSTER"))
        .filter_map(|(_, job)| job_environment(job))
        .collect();
    assert_eq!(deploy_envs, ENVIRONMENTS.iter().map(|e| e.to_string()).collect());
    let pinned = workflows
        .iter()
        .flat_map(|w| w.jobs().into_iter().flat_map(|(_, j)| step_uses(j)))
        .count();
    assert!(
        pinned >= 10,
        "expected the workflows to use pinned actions, found {pinned}"
    );
}

#[test]
fn ci_runs_the_required_checks() {
    let ci = load_workflows(&repo_root().join(".github/workflows"))
        .into_iter()
        .find(|w| w.name() == "ci.yml")
        .unwrap();
    let mut strings = Vec::new();
    strings_in(&ci.doc, &mut strings);
    let text = strings.join("\n");
    for needle in [
        "cargo fmt --all --check",
        "cargo clippy --locked --all-targets -- -D warnings",
        "cargo test --locked",
        "postgres:17",
        "postgres://postgres:postgres@localhost:5432/postgres",
        "hadolint Dockerfile",
        "type=gha,mode=max",
        "scripts/check-infra.sh",
        "scripts/check-workflows.sh",
        "terraform fmt -check -recursive",
        "init -backend=false",
        "validate",
        "cargo test --locked --test workflow_contract",
    ] {
        assert!(text.contains(needle), "ci.yml does not run `{needle}`");
    }
    let roots: Vec<String> = ci
        .jobs()
        .iter()
        .filter_map(|(_, job)| get(job, "strategy")?.get("matrix")?.get("root")?.as_sequence().cloned())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert_eq!(
        roots,
        [
            "infra/bootstrap",
            "infra/global",
            "infra/envs/staging",
            "infra/envs/production"
        ]
    );
    // Scripts the workflows call exist in the repository.
    for script in [
        "scripts/check-infra.sh",
        "scripts/check-workflows.sh",
        "scripts/tools-venv.sh",
    ] {
        assert!(
            repo_root().join(script).is_file(),
            "ci.yml calls {script}, which does not exist"
        );
    }
}

#[test]
fn broken_workflows_are_caught() {
    let broken = load_workflows(&repo_root().join("tests/fixtures/workflows_broken"));
    let violations = all_violations(&broken, &infra_roots());
    let expect = [
        // an unpinned action
        "uses `actions/checkout@v5`, not pinned to a full commit SHA",
        "`actions/checkout@v5` has no `# vX.Y.Z` version comment",
        // a job without permissions
        "job `smoke` has no explicit permissions",
        // id-token where no role is assumed
        "job `notify` has id-token: write but does not use aws-actions/configure-aws-credentials",
        // a wrong cluster name
        "ECS cluster `beer-catalog-stage` is not created by infra/envs/staging",
        "ECS cluster `beer-catalog-stage` is not the fixed name `beer-catalog-staging`",
        "`beer-catalog-stage` is not a name infra/ creates",
        // a wrong migration command
        "migration command [\"migrate\", \"--all\"] differs from infra's [\"migrate\"]",
        // access keys
        "mentions `aws-access-key-id`",
        "mentions `aws_secret_access_key`",
        // a role that does not exist, and another environment's role
        "assumes role `beer-catalog-github-deployer`, which infra/ does not create",
        "in environment production assumes another environment's role `beer-catalog-staging-github-deploy`",
        // a deploy job without concurrency, and production not waiting for staging
        "deploy job `production` (production) has no concurrency",
        "production job `production` does not need the staging job `staging`",
        // workflow-level write permissions
        "top-level permissions must be {} or {contents: read}",
    ];
    let mut missing = Vec::new();
    for needle in expect {
        if !violations.iter().any(|v| v.contains(needle)) {
            missing.push(needle);
        }
    }
    assert!(
        missing.is_empty(),
        "the broken fixture should trip these rules but did not:\n  {}\nviolations found:\n  {}",
        missing.join("\n  "),
        violations.join("\n  ")
    );
}

#[test]
fn no_static_aws_keys_anywhere_under_github() {
    // Workflows are covered by check_no_static_keys; this also covers the deploy scripts and anything added later.
    let mut files = Vec::new();
    let mut dirs = vec![repo_root().join(".github")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(
        files.len() >= 7,
        "expected the workflows and scripts under .github, found {files:?}"
    );
    let mut offenders = Vec::new();
    for path in files {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let wf = Workflow {
            path: path.clone(),
            text,
            doc: Value::Null,
        };
        offenders.extend(
            check_no_static_keys(&wf)
                .into_iter()
                .map(|v| format!("{}: {v}", path.display())),
        );
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));

    // And the rule itself bites (on an in-memory example, so no key-like string is committed).
    let key_id = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
    let bad = Workflow {
        path: PathBuf::from("x.yml"),
        text: format!("env:\n  KEY: {key_id}\n"),
        doc: Value::Null,
    };
    assert_eq!(
        check_no_static_keys(&bad).len(),
        1,
        "an AKIA... key id must be reported"
    );
}
