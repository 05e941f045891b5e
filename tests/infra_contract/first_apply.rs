//! What the first `terraform apply` (and every plan before it) needs, which no offline tool checks: the state
//! writes satisfy the bucket policy, every data source's API calls are allowed to the roles that plan it, the WAF
//! alarm reads the metric WAF publishes, HTTPS can be turned on without replacing the blue/green rules, and the
//! primary's read replicas can be created (the permissions boundary and the plan roles: `roles.rs`). Same pattern as
//! `main.rs`: each check runs on the real files and on a broken copy (the old code, one edit), where it must report.
use crate::terraform::{Infra, attr, label, nested, path, show};
use hcl::Expression;

pub(crate) type Violations = Vec<String>;

const DIRS: &[&str] = &[
    "bootstrap",
    "global",
    "envs/staging",
    "envs/production",
    "modules/environment",
    "modules/network",
    "modules/security_groups",
    "modules/vpc_endpoints",
    "modules/kms",
    "modules/database",
    "modules/load_balancer",
    "modules/edge",
    "modules/service",
    "modules/observability",
    "modules/ecr",
    "modules/ecr_public_cache",
    "modules/github_actions",
];

/// Every data source the roots read, and the API calls its read makes (AWS provider 6.x). Hand-kept: a new data
/// source fails `every_data_source_is_allowed_to_the_plan_roles` until it is listed here with its calls.
const DATA_SOURCE_CALLS: &[(&str, &[&str])] = &[
    ("aws_caller_identity", &[]), // sts:GetCallerIdentity needs no permission
    ("aws_partition", &[]),
    ("aws_region", &[]),
    ("aws_iam_policy_document", &[]),
    ("aws_elb_service_account", &[]), // a table in the provider
    ("aws_availability_zones", &["ec2:DescribeAvailabilityZones"]),
    (
        "aws_ec2_managed_prefix_list",
        &["ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries"],
    ),
    ("aws_ecs_service", &["ecs:DescribeServices"]),
    ("aws_ecs_container_definition", &["ecs:DescribeTaskDefinition"]),
    (
        "aws_cloudfront_response_headers_policy",
        &[
            "cloudfront:ListResponseHeadersPolicies",
            "cloudfront:GetResponseHeadersPolicy",
        ],
    ),
    // Reads the repository and, in provider 6.x, its images (most_recent_image_tags): the calls that failed the
    // plan of both environments.
    (
        "aws_ecr_repository",
        &[
            "ecr:DescribeRepositories",
            "ecr:ListTagsForResource",
            "ecr:DescribeImages",
        ],
    ),
];

pub(crate) fn load(edit: Option<(&str, &str, &str)>) -> Infra {
    Infra::load_edited(DIRS, edit)
}

pub(crate) fn assert_clean(check: fn(&Infra) -> Violations) {
    let v = check(&load(None));
    assert!(v.is_empty(), "on infra/:\n  {}", v.join("\n  "));
}

pub(crate) fn assert_reports(check: fn(&Infra) -> Violations, edit: (&str, &str, &str), want: &str) {
    let v = check(&load(Some(edit))).join("\n  ");
    assert!(v.contains(want), "{edit:?}: no {want:?} in:\n  {v}");
}

pub(crate) fn strings(expr: Option<&Expression>) -> Vec<String> {
    match expr {
        Some(Expression::Array(items)) => items.iter().filter_map(crate::terraform::template_text).collect(),
        _ => Vec::new(),
    }
}

/// An IAM action pattern (`ec2:Describe*`) allows `action`.
pub(crate) fn allows(pattern: &str, action: &str) -> bool {
    let (p, a) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match p.strip_suffix('*') {
        Some(prefix) => a.starts_with(prefix),
        None => p == a,
    }
}

// --- 1. state writes -------------------------------------------------------------------------------------------

/// The state bucket refuses a PutObject without `x-amz-server-side-encryption: aws:kms`. Terraform's S3 backend
/// sends aws:kms on the state and on the `.tflock` only with `kms_key_id` (AES256 with `encrypt = true` alone): so
/// every backend must encrypt, and every `terraform init` the bring-up documents must pass the key.
fn check_state_encryption(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let bootstrap = infra.dir("bootstrap").unwrap();
    let policy = bootstrap.block("data", &["aws_iam_policy_document", "state"]);
    let deny = policy
        .into_iter()
        .flat_map(|p| nested(&p.body, "statement"))
        .find(|s| attr(&s.body, "sid").map(show).as_deref() == Some("\"DenyUnencryptedUploads\""));
    let required = deny
        .and_then(|s| nested(&s.body, "condition").next())
        .map(|c| strings(attr(&c.body, "values")));
    if required != Some(vec!["aws:kms".to_string()]) {
        v.push(format!(
            "bootstrap: DenyUnencryptedUploads should require aws:kms, got {required:?}"
        ));
    }
    for root in ["global", "envs/staging", "envs/production"] {
        let dir = infra.dir(root).unwrap();
        let backend = dir
            .block("terraform", &[])
            .and_then(|t| nested(&t.body, "backend").next());
        match backend.and_then(|b| attr(&b.body, "encrypt")) {
            Some(Expression::Bool(true)) => {}
            other => v.push(format!("infra/{root}: backend encrypt = {other:?}, want true")),
        }
        if backend.and_then(|b| attr(&b.body, "kms_key_id")).is_some() {
            v.push(format!(
                "infra/{root}: kms_key_id is hard-coded; pass it with -backend-config"
            ));
        }
    }
    v.extend(documented_inits(&readme()));
    v
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/README.md")).unwrap()
}

/// Every `terraform init` of infra/README.md that configures the S3 backend (`-backend-config`) passes kms_key_id.
fn documented_inits(readme: &str) -> Violations {
    let mut v = Violations::new();
    let lines: Vec<&str> = readme.lines().collect();
    let mut seen = 0;
    for (i, line) in lines.iter().enumerate() {
        if !line.contains("terraform init") || !line.contains("-backend-config") {
            continue;
        }
        seen += 1;
        // The command may continue on the next lines (trailing backslash).
        let mut command = line.to_string();
        let mut j = i;
        while command.trim_end().ends_with('\\') && j + 1 < lines.len() {
            j += 1;
            command.push_str(lines[j]);
        }
        if !command.contains("kms_key_id=") {
            v.push(format!(
                "infra/README.md:{}: `{}` does not pass -backend-config=\"kms_key_id=...\"",
                i + 1,
                line.trim()
            ));
        }
    }
    if seen == 0 {
        v.push("infra/README.md documents no terraform init with -backend-config".into());
    }
    v
}

#[test]
fn state_writes_send_the_encryption_the_bucket_requires() {
    assert_clean(check_state_encryption);
    let old = r#"terraform init -backend-config="bucket=<state_bucket_name>""#;
    let v = documented_inits(&format!("```sh\n{old}\n```\n"));
    assert!(
        v.iter().any(|m| m.contains("does not pass")),
        "the old documented init passes: {v:?}"
    );
    let edit = ("global/versions.tf", "encrypt      = true", "encrypt      = false");
    assert_reports(
        check_state_encryption,
        edit,
        "infra/global: backend encrypt = Some(Bool(false))",
    );
    let edit = (
        "bootstrap/main.tf",
        r#"values   = ["aws:kms"]"#,
        r#"values   = ["AES256"]"#,
    );
    assert_reports(
        check_state_encryption,
        edit,
        "DenyUnencryptedUploads should require aws:kms",
    );
}

// --- 2. data sources -------------------------------------------------------------------------------------------

/// Every data source in the directories the environment and global roots read is listed in DATA_SOURCE_CALLS, and
/// its calls are allowed to the plan roles (`local.read_actions`, shared with the apply roles): a refresh that is
/// denied fails the whole plan.
fn check_data_source_calls(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let github = infra.dir("modules/github_actions").unwrap();
    let read = github
        .local("read_actions")
        .map(|e| strings(Some(e)))
        .unwrap_or_default();
    if read.is_empty() {
        v.push("modules/github_actions: no local.read_actions list".into());
    }
    for dir in infra.dirs.iter().filter(|d| d.rel != "bootstrap") {
        for block in dir.blocks("data", &[]) {
            let kind = label(block, 0).unwrap_or("?");
            let Some((_, calls)) = DATA_SOURCE_CALLS.iter().find(|(k, _)| *k == kind) else {
                v.push(format!(
                    "{}: data \"{kind}\" is not in DATA_SOURCE_CALLS (list the API calls it makes)",
                    dir.name
                ));
                continue;
            };
            for call in calls.iter().filter(|c| !read.iter().any(|p| allows(p, c))) {
                v.push(format!(
                    "{}: data \"{kind}\" calls {call}, which the plan roles may not",
                    dir.name
                ));
            }
        }
    }
    v
}

#[test]
fn every_data_source_is_allowed_to_the_plan_roles() {
    assert_clean(check_data_source_calls);
    // The old modules/environment read the ECR repository through the data source.
    let from = "data \"aws_caller_identity\" \"current\" {}";
    let old =
        "data \"aws_caller_identity\" \"current\" {}\ndata \"aws_ecr_repository\" \"app\" {\n  name = var.project\n}";
    let want = "data \"aws_ecr_repository\" calls ecr:DescribeImages, which the plan roles may not";
    assert_reports(
        check_data_source_calls,
        ("modules/environment/main.tf", from, old),
        want,
    );
    let from = r#""ec2:Describe*","#;
    let want = "data \"aws_availability_zones\" calls ec2:DescribeAvailabilityZones";
    assert_reports(
        check_data_source_calls,
        ("modules/github_actions/terraform_plan.tf", from, ""),
        want,
    );
}

// --- 3. WAF metric dimension -----------------------------------------------------------------------------------

/// AWS/WAFV2 metrics carry the web ACL's `visibility_config.metric_name` in their WebACL dimension, not its name:
/// every alarm and dashboard widget must use that value, or the alarm can never fire.
fn check_waf_dimension(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let edge = infra.dir("modules/edge").unwrap();
    let acl = edge.block("resource", &["aws_wafv2_web_acl", "this"]);
    let metric = acl
        .and_then(|a| nested(&a.body, "visibility_config").next())
        .and_then(|c| attr(&c.body, "metric_name"));
    let Some(metric) = metric else {
        return vec!["modules/edge: aws_wafv2_web_acl.this has no visibility_config.metric_name".into()];
    };
    let want = infra.resolve(edge, metric).map(|(_, e)| show(e));
    let mut seen = 0;
    for alarm in edge.blocks("resource", &["aws_cloudwatch_metric_alarm"]) {
        if attr(&alarm.body, "namespace").map(show).as_deref() != Some("\"AWS/WAFV2\"") {
            continue;
        }
        let Some(Expression::Object(dims)) = attr(&alarm.body, "dimensions") else {
            continue;
        };
        let acl_dim = crate::terraform::object_get(dims, "WebACL");
        seen += 1;
        let got = acl_dim.map(|d| infra.resolve(edge, d).map(|(_, e)| show(e)));
        if got.as_ref().map(|g| g.as_ref().ok()) != Some(want.as_ref().ok()) {
            let name = label(alarm, 1).unwrap_or("?");
            v.push(format!(
                "modules/edge: alarm {name} WebACL = {got:?}, not the ACL's metric_name {want:?}"
            ));
        }
    }
    // The dashboard: ["AWS/WAFV2", "<metric>", "WebACL", <value>, ...] in modules/observability.
    let obs = infra.dir("modules/observability").unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/infra/modules/observability/main.tf"
    ))
    .unwrap();
    for line in text
        .lines()
        .filter(|l| l.contains("\"AWS/WAFV2\"") && l.contains("\"WebACL\""))
    {
        seen += 1;
        let value = line
            .split("\"WebACL\",")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .unwrap_or("")
            .trim();
        let expr: Result<Expression, _> = value.parse();
        let got = expr
            .map_err(|e| e.to_string())
            .and_then(|e| infra.resolve(obs, &e).map(|(_, r)| show(r)));
        if got.as_ref().ok() != want.as_ref().ok() {
            v.push(format!(
                "modules/observability: dashboard WebACL {value} = {got:?}, not {want:?}"
            ));
        }
    }
    if seen < 2 {
        v.push(format!(
            "expected the WAF alarm and the dashboard's WAF metrics, saw {seen}"
        ));
    }
    v
}

#[test]
fn waf_metrics_are_read_by_the_acl_metric_name() {
    assert_clean(check_waf_dimension);
    let from = "WebACL = local.waf_metric,";
    let want = "alarm waf_blocked WebACL";
    assert_reports(
        check_waf_dimension,
        ("modules/edge/main.tf", from, "WebACL = aws_wafv2_web_acl.this.name,"),
        want,
    );
}

// --- 4. HTTPS later --------------------------------------------------------------------------------------------

/// The blue/green listener rules hang on one listener whose existence does not depend on the certificate: a rule's
/// listener_arn forces its replacement, and a replaced rule comes back with its initial weights.
fn check_rules_keep_their_listener(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let lb = infra.dir("modules/load_balancer").unwrap();
    let rules = lb.blocks("resource", &["aws_lb_listener_rule"]);
    if rules.is_empty() {
        v.push("modules/load_balancer: no aws_lb_listener_rule".into());
    }
    for rule in rules {
        let name = label(rule, 1).unwrap_or("?");
        let arn = attr(&rule.body, "listener_arn");
        let resolved = arn.map(|a| infra.resolve(lb, a));
        let listener = match resolved {
            Some(Ok((_, e))) => path(e).filter(|(root, parts)| *root == "aws_lb_listener" && parts.len() == 2),
            _ => None,
        };
        let Some((_, parts)) = listener else {
            let text = arn.map(show).unwrap_or_default();
            v.push(format!(
                "listener rule {name}: listener_arn {text} is not one aws_lb_listener's arn"
            ));
            continue;
        };
        let block = lb.block("resource", &["aws_lb_listener", &parts[0]]);
        if block.is_none_or(|b| attr(&b.body, "count").is_some() || attr(&b.body, "for_each").is_some()) {
            v.push(format!(
                "listener rule {name}: its listener {} comes and goes (count/for_each)",
                parts[0]
            ));
        }
    }
    v
}

#[test]
fn https_later_keeps_the_blue_green_rules() {
    assert_clean(check_rules_keep_their_listener);
    let from = "  listener_arn = aws_lb_listener.origin.arn\n  priority     = 100";
    let old = "  listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http_forward[0].arn\n  priority     = 100";
    let want = "listener rule production: listener_arn";
    assert_reports(
        check_rules_keep_their_listener,
        ("modules/load_balancer/main.tf", from, old),
        want,
    );
    let from = "resource \"aws_lb_listener\" \"origin\" {";
    let want = "its listener origin comes and goes";
    let to = "resource \"aws_lb_listener\" \"origin\" {\n  count = var.certificate_arn != null ? 1 : 0";
    assert_reports(
        check_rules_keep_their_listener,
        ("modules/load_balancer/main.tf", from, to),
        want,
    );
}

// --- 7. read replicas of the primary -----------------------------------------------------------------------------

/// RDS refuses to create a read replica of an instance whose master password it manages
/// (`manage_master_user_password`; "Creating read replicas for source instance ... where ManageMasterUserPassword
/// is enabled is not supported", every engine but SQL Server): with replicas, the master password must come from
/// us (`password_wo`).
fn check_replicas_can_be_created(infra: &Infra) -> Violations {
    let mut v = Violations::new();
    let db = infra.dir("modules/database").unwrap();
    let has_replicas = db
        .blocks("resource", &["aws_db_instance"])
        .iter()
        .any(|b| attr(&b.body, "replicate_source_db").is_some());
    let primary = db.block("resource", &["aws_db_instance", "this"]);
    let managed = primary
        .and_then(|p| attr(&p.body, "manage_master_user_password"))
        .map(show);
    if has_replicas && managed.as_deref() != Some("false") && managed.is_some() {
        v.push(format!(
            "modules/database: the primary has replicas and manage_master_user_password = {managed:?}"
        ));
    }
    if primary.and_then(|p| attr(&p.body, "password_wo")).is_none() {
        v.push("modules/database: the primary's master password is not the write-only password_wo".into());
    }
    v
}

#[test]
fn replicas_of_the_primary_can_be_created() {
    assert_clean(check_replicas_can_be_created);
    let from = "  password_wo         = ephemeral.random_password.credentials[\"master\"].result\n  password_wo_version = var.role_password_version\n";
    let old = "  manage_master_user_password   = true\n  master_user_secret_kms_key_id = var.kms_key_arn\n";
    let want = "the primary has replicas and manage_master_user_password = Some(\"true\")";
    assert_reports(
        check_replicas_can_be_created,
        ("modules/database/main.tf", from, old),
        want,
    );
}
