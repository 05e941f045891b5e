//! The CI roles' half of the contract (the part of `first_apply.rs` about IAM): every role an environment creates
//! carries the permissions boundary, and the plan roles are what the workflows rely on (trust, state, no secret).

use crate::first_apply::{Violations, allows, assert_clean, assert_reports, strings};
use crate::terraform::{Infra, attr, label, nested, show};
use hcl::Expression;

// --- permissions boundary -----------------------------------------------------------------------------------

/// Every role the environment modules create carries the permissions boundary (the apply role may not create one
/// without it, so a role missing it fails the apply), and the environment passes the global root's boundary.
fn check_boundaries(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let mut roles = 0;
    for dir in infra
        .dirs
        .iter()
        .filter(|d| d.rel.starts_with("modules/") && d.rel != "modules/github_actions")
    {
        for role in dir.blocks("resource", &["aws_iam_role"]) {
            roles += 1;
            let name = label(role, 1).unwrap_or("?");
            match attr(&role.body, "permissions_boundary").map(show) {
                Some(b) if b == "var.permissions_boundary_arn" => {}
                other => v.push(format!(
                    "{}: aws_iam_role.{name} permissions_boundary = {other:?}",
                    dir.name
                )),
            }
        }
    }
    let env = infra.dir("modules/environment").unwrap();
    let boundary = env
        .local("permissions_boundary_arn")
        .and_then(crate::terraform::template_text);
    if !boundary
        .as_deref()
        .is_some_and(|b| b.ends_with(":policy/${local.name_prefix}-workload-boundary"))
    {
        v.push(format!(
            "modules/environment: local.permissions_boundary_arn = {boundary:?}"
        ));
    }
    let github = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/infra/modules/github_actions/main.tf"
    ));
    let github = github.unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    if !github.contains("boundary_name = \"${var.project}-${e}-workload-boundary\"") {
        v.push("modules/github_actions: local.env[*].boundary_name is not <project>-<env>-workload-boundary".into());
    }
    if roles < 5 {
        v.push(format!("expected the environment's roles, saw {roles}"));
    }
    v
}

#[test]
fn every_environment_role_carries_the_boundary() {
    assert_clean(check_boundaries);
    let from = "  name                 = \"${var.name_prefix}-flow-logs\"\n  assume_role_policy   = data.aws_iam_policy_document.flow_logs_assume.json\n  permissions_boundary = var.permissions_boundary_arn";
    let to = "  name                 = \"${var.name_prefix}-flow-logs\"\n  assume_role_policy   = data.aws_iam_policy_document.flow_logs_assume.json";
    let want = "modules/network: aws_iam_role.flow_logs permissions_boundary = None";
    assert_reports(check_boundaries, ("modules/network/main.tf", from, to), want);
}

// --- the plan roles (the interface the workflows rely on) -----------------------------------------------------

/// `-plan` is trusted only for pushes to main, `-plan-pr` only for pull requests; the PR role reads the state of
/// global and staging, never production's; neither plan policy can call secretsmanager:GetSecretValue.
fn check_plan_roles(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let github = infra.dir("modules/github_actions").unwrap();
    let trust = github
        .block("data", &["aws_iam_policy_document", "trust"])
        .and_then(|b| attr(&b.body, "for_each"));
    for (role, subject) in [("plan", "ref:refs/heads/main"), ("plan_pr", "pull_request")] {
        let subjects = match trust {
            Some(Expression::Object(o)) => strings(crate::terraform::object_get(o, role)),
            _ => Vec::new(),
        };
        if subjects != [format!("${{local.repo_sub}}:{subject}")] {
            v.push(format!(
                "modules/github_actions/oidc.tf: trust of {role} is not exactly `{subject}`: {subjects:?}"
            ));
        }
    }
    let prefixes = github.local("plan_state_prefixes");
    let prefixes = match prefixes {
        Some(Expression::Object(o)) => o
            .iter()
            .map(|(k, e)| (crate::terraform::key_str(k).unwrap_or_default(), strings(Some(e))))
            .collect(),
        _ => Vec::new(),
    };
    match prefixes.iter().find(|(k, _)| k == "plan_pr") {
        Some((_, p)) if !p.iter().any(|p| p.starts_with("production")) && p.contains(&"staging/".to_string()) => {}
        other => v.push(format!(
            "local.plan_state_prefixes.plan_pr = {other:?}: staging and global, not production"
        )),
    }
    let read = github
        .local("read_actions")
        .map(|e| strings(Some(e)))
        .unwrap_or_default();
    let plan = github.block("data", &["aws_iam_policy_document", "plan"]);
    let statements: Vec<_> = plan.into_iter().flat_map(|p| nested(&p.body, "statement")).collect();
    if statements.is_empty() {
        v.push("modules/github_actions: no data.aws_iam_policy_document.plan".into());
    }
    for st in statements {
        let actions = match attr(&st.body, "actions") {
            Some(Expression::Array(_)) => strings(attr(&st.body, "actions")),
            Some(e) if show(e) == "local.read_actions" => read.clone(),
            other => vec![other.map(show).unwrap_or_default()],
        };
        for a in actions.iter().filter(|a| allows(a, "secretsmanager:GetSecretValue")) {
            v.push(format!("the plan roles may call secretsmanager:GetSecretValue ({a})"));
        }
    }
    v
}

#[test]
fn plan_roles_read_no_secret_and_prs_not_production() {
    assert_clean(check_plan_roles);
    let file = "modules/github_actions/terraform_plan.tf";
    let edit = (
        file,
        r#"plan_pr = ["global/", "staging/"]"#,
        r#"plan_pr = ["global/", "staging/", "production/"]"#,
    );
    assert_reports(check_plan_roles, edit, "plan_pr = Some");
    let edit = (
        file,
        r#""secretsmanager:DescribeSecret","#,
        r#""secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue","#,
    );
    assert_reports(check_plan_roles, edit, "may call secretsmanager:GetSecretValue");
    let edit = (file, r#""secretsmanager:DescribeSecret","#, r#""secretsmanager:*","#);
    assert_reports(
        check_plan_roles,
        edit,
        "may call secretsmanager:GetSecretValue (secretsmanager:*)",
    );
    let edit = (
        "modules/github_actions/oidc.tf",
        r#"plan_pr = ["${local.repo_sub}:pull_request"]"#,
        r#"plan_pr = ["${local.repo_sub}:*"]"#,
    );
    assert_reports(check_plan_roles, edit, "trust of plan_pr is not exactly `pull_request`");
    let old = r#"plan    = ["${local.repo_sub}:pull_request", "${local.repo_sub}:ref:refs/heads/main"]"#;
    let edit = (
        "modules/github_actions/oidc.tf",
        r#"plan    = ["${local.repo_sub}:ref:refs/heads/main"]"#,
        old,
    );
    assert_reports(
        check_plan_roles,
        edit,
        "trust of plan is not exactly `ref:refs/heads/main`",
    );
}
