//! The pipelines as they will really run (issue 26): what actionlint, shellcheck and zizmor accept but GitHub and
//! Terraform would still get wrong, read from the workflows and the Terraform roots together.
//!
//! - every `terraform init` that configures a backend names the state's KMS key (`kms_key_id`);
//! - a `terraform apply` applies a plan made in its own job (a saved plan holds prior state in clear and never
//!   travels), after an init that uses the plan job's provider lock file read-only, downloaded from that job;
//! - no `$GITHUB_OUTPUT` line captures a command substitution (`echo "x=$(cmd)"` hides cmd's failure);
//! - the Terraform applies and the deploys of one environment share one concurrency group, never cancelled;
//! - the deploy jobs deploy a digest CI produced: deploy.yml builds nothing, takes the digest ECR holds under the
//!   commit's tag, and ci.yml's only push to ECR comes after every other CI job;
//! - every input of a root infra.yml plans that has no default is set by the workflow (`TF_VAR_*`) or by the root's
//!   committed `terraform.tfvars`, which sets only declared inputs and none the workflow sets; the environment
//!   roots' bring-up inputs have no default.
//!
//! Each rule is run on a broken copy of the real files (one edit, restoring what the old pipelines did) and must
//! report it.

#[path = "pipeline_broken.rs"]
mod broken;
#[path = "pipeline_multi_arch.rs"]
mod multi_arch;

use super::terraform::{Dir, attr};
use super::{InfraNames, infra_names, job_environment, jobs, read};
use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The three workflows, parsed.
struct Workflows {
    docs: Vec<(&'static str, Value)>,
}

impl Workflows {
    fn load(edit: Option<(&str, &str, &str)>) -> Workflows {
        let docs = ["ci.yml", "deploy.yml", "infra.yml"].map(|name| {
            let mut text = read(&format!(".github/workflows/{name}"));
            if let Some((_, from, to)) = edit.filter(|(file, ..)| *file == name) {
                assert!(text.contains(from), "{name} has no `{from}`: the fixture is stale");
                text = text.replacen(from, to, 1);
            }
            (
                name,
                serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}")),
            )
        });
        Workflows { docs: docs.into() }
    }

    fn get(&self, name: &str) -> &Value {
        &self.docs.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

fn steps(job: &Value) -> impl Iterator<Item = &Value> {
    job["steps"].as_sequence().into_iter().flatten()
}

/// The shell commands of a `run:` script: continuation lines joined, comments dropped.
fn commands(script: &str) -> Vec<String> {
    let joined = script.replace("\\\n", " ");
    let lines = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    lines.map(str::to_string).collect()
}

fn run_commands(step: &Value) -> Vec<String> {
    step["run"].as_str().map(commands).unwrap_or_default()
}

/// A `terraform [-chdir=...] <sub>` command.
fn is_terraform(command: &str, sub: &str) -> bool {
    let mut words = command.split_whitespace().skip_while(|w| *w != "terraform").skip(1);
    words.find(|w| !w.starts_with('-')) == Some(sub)
}

/// `env.KEY` as the step, job or workflow sets it (the innermost wins, as in GitHub).
fn env_value<'a>(doc: &'a Value, job: &'a Value, step: Option<&'a Value>, key: &str) -> Option<&'a str> {
    let scopes = [step.map(|s| &s["env"]), Some(&job["env"]), Some(&doc["env"])];
    scopes.into_iter().flatten().find_map(|env| env[key].as_str())
}

fn uses(step: &Value, action: &str) -> bool {
    step["uses"]
        .as_str()
        .is_some_and(|u| u.starts_with(&format!("{action}@")))
}

/// `name` matches an artifact name that may contain `${{ matrix.X }}` (any value).
fn artifact_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once("${{") {
        None => pattern == name,
        Some((head, rest)) => {
            let tail = rest.split_once("}}").map_or("", |(_, t)| t);
            name.starts_with(head) && name.ends_with(tail) && name.len() >= head.len() + tail.len()
        }
    }
}

fn terraform_violations(w: &Workflows) -> Vec<String> {
    let mut v = Vec::new();
    for (name, doc) in &w.docs {
        for (id, job) in jobs(doc) {
            let at = format!("{name}: job `{id}`");
            let mut planned_here = BTreeSet::new();
            let mut downloaded_lock = false;
            for step in steps(job) {
                if uses(step, "actions/upload-artifact")
                    && step["with"]["path"].as_str().unwrap_or_default().contains("tfplan")
                {
                    v.push(format!(
                        "{at} uploads a saved plan (it holds prior state in clear): plan again where it is applied"
                    ));
                }
                if uses(step, "actions/download-artifact") {
                    let want = step["with"]["name"].as_str().unwrap_or_default();
                    downloaded_lock |= lock_file_uploads(doc)
                        .iter()
                        .any(|pattern| artifact_matches(pattern, want));
                }
                for command in run_commands(step) {
                    if is_terraform(&command, "init") && !command.contains("-backend=false") {
                        let key = env_value(doc, job, Some(step), "TF_STATE_KMS_KEY_ARN");
                        let passes = ["kms_key_id=${TF_STATE_KMS_KEY_ARN}", "kms_key_id=$TF_STATE_KMS_KEY_ARN"]
                            .iter()
                            .any(|arg| command.contains(&format!("-backend-config=\"{arg}\"")));
                        if !passes || key != Some("${{ vars.TF_STATE_KMS_KEY_ARN }}") {
                            v.push(format!("{at}: `terraform init` without -backend-config=\"kms_key_id=${{TF_STATE_KMS_KEY_ARN}}\" (vars.TF_STATE_KMS_KEY_ARN)"));
                        }
                    }
                    if is_terraform(&command, "plan") {
                        let out = command.split_whitespace().find_map(|w| w.strip_prefix("-out="));
                        planned_here.extend(out.map(str::to_string));
                    }
                    if is_terraform(&command, "apply") {
                        let words: Vec<&str> = command.split_whitespace().collect();
                        let plan = words.last().filter(|w| !w.starts_with('-'));
                        if !plan.is_some_and(|p| planned_here.contains(*p)) {
                            v.push(format!("{at} applies {plan:?}, not a plan made earlier in this job"));
                        }
                        if !downloaded_lock {
                            v.push(format!(
                                "{at} applies without the plan job's .terraform.lock.hcl (downloaded before init)"
                            ));
                        }
                    }
                }
            }
            let applies = steps(job).flat_map(run_commands).any(|c| is_terraform(&c, "apply"));
            let inits = steps(job).flat_map(run_commands).filter(|c| is_terraform(c, "init"));
            for init in inits.filter(|_| applies) {
                if !init.contains("-lockfile=readonly") {
                    v.push(format!(
                        "{at}: init before an apply without -lockfile=readonly (could pick other providers)"
                    ));
                }
            }
        }
    }
    v
}

/// Artifact names (patterns) whose upload includes a root's `.terraform.lock.hcl`, dot files included.
fn lock_file_uploads(doc: &Value) -> Vec<&str> {
    let steps = jobs(doc)
        .flat_map(|(_, job)| steps(job))
        .filter(|s| uses(s, "actions/upload-artifact"));
    let with_lock = steps.filter(|s| {
        s["with"]["path"]
            .as_str()
            .unwrap_or_default()
            .contains(".terraform.lock.hcl")
            && s["with"]["include-hidden-files"].as_bool() == Some(true)
    });
    with_lock.filter_map(|s| s["with"]["name"].as_str()).collect()
}

fn output_violations(w: &Workflows) -> Vec<String> {
    let mut v = Vec::new();
    for (name, doc) in &w.docs {
        for (id, job) in jobs(doc) {
            for step in steps(job) {
                let script = step["run"].as_str().unwrap_or_default();
                let lines: Vec<&str> = script.lines().collect();
                for (i, line) in lines.iter().enumerate() {
                    if !line.contains("GITHUB_OUTPUT") {
                        continue;
                    }
                    // `{ ...; } >> "$GITHUB_OUTPUT"`: the whole group writes the output.
                    let mut from = i;
                    if line.trim_start().starts_with('}') {
                        while from > 0 && !lines[from].trim_start().starts_with('{') {
                            from -= 1;
                        }
                    }
                    let group = lines[from..=i].join("\n");
                    if group.contains("$(") || group.contains('`') {
                        let step_name = step["name"].as_str().unwrap_or("(unnamed)");
                        v.push(format!("{name}: job `{id}` step `{step_name}` writes a command substitution to $GITHUB_OUTPUT: assign first, then echo"));
                    }
                }
            }
        }
    }
    v
}

/// `concurrency.group` of a job, `cancel-in-progress` and `queue`.
fn concurrency(job: &Value) -> (Option<&str>, Option<bool>, Option<&str>) {
    let c = &job["concurrency"];
    (
        c["group"].as_str().or(c.as_str()),
        c["cancel-in-progress"].as_bool(),
        c["queue"].as_str(),
    )
}

fn concurrency_violations(w: &Workflows, environments: &[String]) -> Vec<String> {
    let mut v = Vec::new();
    let mut groups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for name in ["deploy.yml", "infra.yml"] {
        for (id, job) in jobs(w.get(name)) {
            let Some(env) = job_environment(job) else { continue };
            let (group, cancel, queue) = concurrency(job);
            let at = format!("{name}: job `{id}` (environment {env})");
            match group {
                Some(g) if !g.contains("${{") => {
                    groups.entry(env).or_default().insert(g);
                }
                other => v.push(format!("{at} has concurrency group {other:?}, not one fixed group")),
            }
            if cancel != Some(false) || queue != Some("max") {
                v.push(format!(
                    "{at}: concurrency must not cancel (cancel-in-progress: false) nor drop a waiting job (queue: max)"
                ));
            }
        }
    }
    for env in environments {
        match groups.get(env.as_str()).map(|g| g.iter().collect::<Vec<_>>()) {
            Some(g) if g.len() == 1 => {
                let shared = groups
                    .iter()
                    .filter(|(e, gs)| *e != env && gs.contains(g[0]))
                    .map(|(e, _)| *e);
                if let Some(other) = shared.into_iter().next() {
                    v.push(format!("{env} and {other} share the concurrency group `{}`", g[0]));
                }
            }
            other => v.push(format!(
                "{env}: the applies and deploys use the concurrency groups {other:?}, not one"
            )),
        }
    }
    v
}

/// Jobs `id` needs, directly or through the jobs it needs.
fn needs_closure<'a>(doc: &'a Value, id: &'a str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![id];
    while let Some(id) = todo.pop() {
        let needs = &doc["jobs"][id]["needs"];
        let direct: Vec<&str> = match needs {
            Value::String(s) => vec![s.as_str()],
            Value::Sequence(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        todo.extend(direct.into_iter().filter(|n| seen.insert(*n)));
    }
    seen
}

fn promotion_violations(w: &Workflows) -> Vec<String> {
    let mut v = Vec::new();
    let (ci, deploy) = (w.get("ci.yml"), w.get("deploy.yml"));
    for (id, job) in jobs(deploy) {
        for step in steps(job) {
            let builds = uses(step, "docker/build-push-action")
                || run_commands(step)
                    .iter()
                    .any(|c| c.contains("docker build") || c.contains("docker push"));
            if builds {
                v.push(format!(
                    "deploy.yml: job `{id}` builds or pushes an image: deploy only what CI tested"
                ));
            }
        }
        if job["env"]["ECS_CLUSTER"].is_null() {
            continue;
        }
        let image = job["env"]["IMAGE"].as_str().unwrap_or_default();
        let from = image
            .rsplit_once("@${{ needs.")
            .and_then(|(_, r)| r.strip_suffix(".outputs.digest }}"));
        let Some(from) = from.filter(|f| needs_closure(deploy, id).contains(f)) else {
            v.push(format!(
                "deploy.yml: job `{id}` deploys `{image}`, not the digest of a job it needs"
            ));
            continue;
        };
        // The digest output comes from a step that asks ECR what the commit's tag holds.
        let output = deploy["jobs"][from]["outputs"]["digest"].as_str().unwrap_or_default();
        let step_id = output
            .strip_prefix("${{ steps.")
            .and_then(|s| s.strip_suffix(".outputs.digest }}"));
        let step = steps(&deploy["jobs"][from]).find(|s| step_id.is_some() && s["id"].as_str() == step_id);
        if !step.is_some_and(|s| run_commands(s).iter().any(|c| c.contains("aws ecr describe-images"))) {
            v.push(format!(
                "deploy.yml: job `{from}`'s digest is not looked up in ECR by the commit's tag"
            ));
        }
    }
    let all: BTreeSet<&str> = jobs(ci).map(|(id, _)| id).collect();
    let mut publishers = 0;
    for (id, job) in jobs(ci) {
        let pushes = steps(job).flat_map(run_commands).any(|c| c.contains("docker push"))
            || steps(job).any(|s| uses(s, "docker/build-push-action") && s["with"]["push"].as_bool() == Some(true));
        if !pushes {
            continue;
        }
        publishers += 1;
        let missing: Vec<&str> = all
            .iter()
            .copied()
            .filter(|j| *j != id && !needs_closure(ci, id).contains(j))
            .collect();
        if !missing.is_empty() {
            v.push(format!("ci.yml: job `{id}` pushes the image before {missing:?} passed"));
        }
        let only_main = job["if"].as_str().unwrap_or_default();
        if !(only_main.contains("github.event_name == 'push'") && only_main.contains("refs/heads/main")) {
            v.push(format!(
                "ci.yml: job `{id}` pushes the image from more than pushes to main (if: {only_main:?})"
            ));
        }
    }
    if publishers != 1 {
        v.push(format!(
            "ci.yml: {publishers} jobs push the image to ECR, want exactly one (after all the others)"
        ));
    }
    v
}

/// A root infra.yml plans, with its variables and its committed terraform.tfvars (text), if any.
struct Root {
    rel: String,
    dir: Dir,
    tfvars: Option<String>,
}

fn load_root(rel: &str, edit: Option<(&str, &str, &str)>) -> Root {
    let edit_here = edit.filter(|(path, ..)| path.starts_with(&format!("{rel}/")));
    let tf_edit = edit_here.filter(|(path, ..)| path.ends_with(".tf"));
    let tf_edit = tf_edit.map(|(path, from, to)| (path.rsplit_once('/').unwrap().1, from, to));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("infra")
        .join(rel)
        .join("terraform.tfvars");
    let mut tfvars = std::fs::read_to_string(path).ok();
    if let Some((_, from, to)) = edit_here.filter(|(path, ..)| path.ends_with("terraform.tfvars")) {
        let text = tfvars.as_mut().expect("a terraform.tfvars to edit");
        assert!(
            text.contains(from),
            "{rel}/terraform.tfvars has no `{from}`: the fixture is stale"
        );
        *text = text.replacen(from, to, 1);
    }
    let dir = Dir::load_edited(rel, tf_edit);
    Root {
        rel: rel.to_string(),
        dir,
        tfvars,
    }
}

/// Inputs the environment roots must not default: the bring-up's values, which a default would plan away.
const BRING_UP_INPUTS: [&str; 6] = [
    "domain_name",
    "hosted_zone_id",
    "certificate_arn",
    "origin_domain_name",
    "alarm_emails",
    "db_role_password_version",
];

fn input_violations(w: &Workflows, roots: &[Root], environments: &[String]) -> Vec<String> {
    let mut v = Vec::new();
    let infra = w.get("infra.yml");
    for root in roots {
        let at = format!("infra/{}", root.rel);
        // The workflow's TF_VAR_* for every job that plans this root.
        let planners = jobs(infra).filter(|(_, job)| {
            let template = job["env"]["ROOT"].as_str().unwrap_or_default();
            let expanded = environments
                .iter()
                .map(|e| template.replace("${{ matrix.environment }}", e));
            expanded
                .chain([template.to_string()])
                .any(|r| r == format!("infra/{}", root.rel))
                && steps(job).flat_map(run_commands).any(|c| is_terraform(&c, "plan"))
        });
        let planners: Vec<&Value> = planners.map(|(_, job)| job).collect();
        if planners.is_empty() {
            v.push(format!("{at}: no infra.yml job plans it"));
        }
        let tfvars: BTreeSet<String> = match &root.tfvars {
            Some(text) => hcl::parse(text)
                .unwrap_or_else(|e| panic!("{at}/terraform.tfvars: {e}"))
                .attributes()
                .map(|a| a.key().to_string())
                .collect(),
            None => BTreeSet::new(),
        };
        let variables = root.dir.blocks("variable", &[]);
        let declared: BTreeSet<&str> = variables
            .iter()
            .filter_map(|b| b.labels().first().map(|l| l.as_str()))
            .collect();
        for key in tfvars.iter().filter(|k| !declared.contains(k.as_str())) {
            v.push(format!(
                "{at}/terraform.tfvars sets `{key}`, which the root does not declare"
            ));
        }
        for variable in &variables {
            let name = variable.labels()[0].as_str();
            let env_key = format!("TF_VAR_{name}");
            let by_workflow = |job: &Value| env_value(infra, job, None, &env_key).is_some();
            if tfvars.contains(name) && planners.iter().any(|j| by_workflow(j)) {
                v.push(format!(
                    "{at}/terraform.tfvars sets `{name}`, which infra.yml sets as {env_key} (the file would win)"
                ));
            }
            let has_default = attr(&variable.body, "default").is_some();
            if root.rel.starts_with("envs/") && BRING_UP_INPUTS.contains(&name) && has_default {
                v.push(format!(
                    "{at}: `{name}` has a default, so a plan without it plans the bring-up's value away"
                ));
            }
            if !has_default && !tfvars.contains(name) && !planners.iter().all(|j| by_workflow(j)) {
                v.push(format!(
                    "{at}: `{name}` has no default and neither infra.yml nor terraform.tfvars sets it"
                ));
            }
        }
    }
    v
}

fn all_violations(w: &Workflows, roots: &[Root], infra: &InfraNames) -> Vec<String> {
    let mut v = terraform_violations(w);
    v.extend(output_violations(w));
    v.extend(concurrency_violations(w, &infra.environments));
    v.extend(promotion_violations(w));
    v.extend(input_violations(w, roots, &infra.environments));
    v
}

fn roots(edit: Option<(&str, &str, &str)>, environments: &[String]) -> Vec<Root> {
    let rels = environments
        .iter()
        .map(|e| format!("envs/{e}"))
        .chain(["global".to_string()]);
    rels.map(|rel| load_root(&rel, edit)).collect()
}

#[test]
fn real_pipelines_run_as_intended() {
    let infra = infra_names();
    let violations = all_violations(&Workflows::load(None), &roots(None, &infra.environments), &infra);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
    // The checks saw what they police.
    let w = Workflows::load(None);
    let inits = w
        .docs
        .iter()
        .flat_map(|(_, d)| jobs(d))
        .flat_map(|(_, j)| steps(j))
        .flat_map(run_commands);
    let inits = inits
        .filter(|c| is_terraform(c, "init") && !c.contains("-backend=false"))
        .count();
    assert!(inits >= 4, "only {inits} terraform init with a backend seen");
    assert_eq!(
        lock_file_uploads(w.get("infra.yml")),
        ["plan-${{ matrix.environment }}"]
    );
    for root in roots(None, &infra.environments)
        .iter()
        .filter(|r| r.rel.starts_with("envs/"))
    {
        assert!(root.tfvars.is_some(), "infra/{}/terraform.tfvars is missing", root.rel);
    }
}

/// The `terraform_data` resources infra.yml's rotation guard looks for in a plan (`.type == "terraform_data" and
/// .name == "..."`) that no module declares: a guard looking for a name that does not exist never refuses anything.
fn rotation_guard_violations(workflow: &str, modules: &str) -> Vec<String> {
    let marker = r#".type == "terraform_data" and .name == ""#;
    workflow
        .match_indices(marker)
        .filter_map(|(at, _)| workflow[at + marker.len()..].split('"').next())
        .filter(|name| !modules.contains(&format!(r#"resource "terraform_data" "{name}""#)))
        .map(|name| format!("infra.yml's rotation guard looks for terraform_data.{name}, which no module declares"))
        .collect()
}

#[test]
fn the_rotation_guard_names_the_resource_that_writes_the_passwords() {
    let workflow =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.github/workflows/infra.yml")).unwrap();
    let modules =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/modules/database/main.tf")).unwrap();
    assert!(
        workflow.contains(r#".type == "terraform_data" and .name == ""#),
        "the guard is gone"
    );
    assert_eq!(rotation_guard_violations(&workflow, &modules), Vec::<String>::new());
    // The name the guard had when the two were written apart.
    let broken = workflow.replace(r#".name == "credentials""#, r#".name == "role_password""#);
    assert_eq!(rotation_guard_violations(&broken, &modules).len(), 1);
}
