//! Contract between the Terraform under `infra/` and the service it deploys.
//!
//! The Terraform files are parsed with `hcl-rs` (see `tests/support/terraform.rs`, shared with the workflow
//! contract); the service's side comes from the crate itself: `Cli::command()` (every environment variable it
//! reads, per subcommand, and which are secrets), `DEFAULT_PORT` and the OpenAPI document (every route it
//! serves). Each check returns a list of violations: the real `infra/` must have none, and each broken copy under
//! `tests/fixtures/infra_broken/` must make its check report the specific violation, which proves the check can
//! fail.
//!
//! Run: `cargo test --test infra_contract`.

mod checks;
mod scale;
#[path = "../support/service.rs"]
mod service;
#[path = "../support/terraform.rs"]
mod terraform;

use checks::Violations;
use service::ServiceContract;
use std::path::{Path, PathBuf};
use terraform::{Tree, as_str, attr, object_get};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn infra() -> Tree {
    Tree::load(&repo().join("infra"))
}

fn fixture(name: &str) -> Tree {
    let path: PathBuf = repo().join("tests/fixtures/infra_broken").join(name);
    Tree::load(&path)
}

fn assert_clean(check: &str, violations: Violations) {
    assert!(
        violations.is_empty(),
        "{check} on infra/ found {} violation(s):\n  {}",
        violations.len(),
        violations.join("\n  ")
    );
}

/// The fixture's check must report a violation containing every one of `expected`.
fn assert_reports(fixture_name: &str, violations: &Violations, expected: &[&str]) {
    for needle in expected {
        assert!(
            violations.iter().any(|v| v.contains(needle)),
            "fixture {fixture_name}: expected a violation mentioning {needle:?}, got:\n  {}",
            violations.join("\n  ")
        );
    }
}

// --- the service side is what the checks assume ------------------------------------------------------------------

#[test]
fn service_contract_is_what_the_checks_rely_on() {
    let svc = ServiceContract::from_service();
    assert_eq!(svc.default_port, 8080);
    for route in ["/health", "/ready"] {
        assert!(
            svc.routes.contains(route),
            "the service no longer serves {route}: {:?}",
            svc.routes
        );
    }
    for sub in ["serve", "migrate", "healthcheck", "provision-roles"] {
        assert!(svc.has_subcommand(sub), "the service has no `{sub}` subcommand");
    }
    for name in [
        "APP_ENV",
        "DB_HOST",
        "DB_PORT",
        "DB_NAME",
        "DB_USER",
        "DB_PASSWORD",
        "DB_SSLMODE",
        "API_KEYS",
        "PORT",
    ] {
        assert!(svc.global_env.contains(name), "the service no longer reads {name}");
    }
    let roles = svc.env_for("provision-roles").expect("provision-roles");
    for name in [
        "DB_SCHEMA",
        "MIGRATOR_DB_USER",
        "MIGRATOR_DB_PASSWORD",
        "APP_DB_USER",
        "APP_DB_PASSWORD",
    ] {
        assert!(roles.contains(name), "provision-roles no longer reads {name}");
    }
    // Subcommand-only variables are not accepted for the server.
    assert!(!svc.env_for("serve").expect("serve").contains("MIGRATOR_DB_PASSWORD"));
    for name in [
        "DB_PASSWORD",
        "API_KEYS",
        "DATABASE_URL",
        "MIGRATOR_DB_PASSWORD",
        "APP_DB_PASSWORD",
    ] {
        assert!(
            svc.secret_env.contains(name),
            "{name} should be a hidden (secret) setting"
        );
    }
}

// --- the real infra/ satisfies every check -------------------------------------------------------------------------

#[test]
fn infra_ports_match_the_service() {
    assert_clean(
        "check_ports",
        checks::check_ports(&infra(), &ServiceContract::from_service()),
    );
}

#[test]
fn infra_health_checks_use_served_routes_and_subcommands() {
    assert_clean(
        "check_health_checks",
        checks::check_health_checks(&infra(), &ServiceContract::from_service()),
    );
}

#[test]
fn infra_task_environment_is_what_the_service_reads() {
    assert_clean(
        "check_task_environment",
        checks::check_task_environment(&infra(), &ServiceContract::from_service()),
    );
}

#[test]
fn infra_containers_are_hardened() {
    assert_clean("check_container_hardening", checks::check_container_hardening(&infra()));
}

#[test]
fn infra_security_groups_are_chained_by_reference() {
    assert_clean("check_security_groups", checks::check_security_groups(&infra()));
}

#[test]
fn infra_database_is_private_and_encrypted() {
    assert_clean("check_database", checks::check_database(&infra()));
}

#[test]
fn infra_ecs_service_has_no_public_ip() {
    assert_clean("check_ecs_service", checks::check_ecs_service(&infra()));
}

#[test]
fn infra_uses_local_modules_only() {
    assert_clean("check_module_sources", checks::check_module_sources(&infra()));
}

#[test]
fn infra_module_interfaces_are_consistent() {
    assert_clean("check_module_interfaces", checks::check_module_interfaces(&infra()));
}

#[test]
fn infra_deploy_role_passes_exactly_the_task_roles() {
    assert_clean("check_pass_role_targets", checks::check_pass_role_targets(&infra()));
}

/// The checks above are only meaningful if they saw the real thing: the three task families with their
/// containers and commands, in both environments, and the fixed names the workflows use.
#[test]
fn infra_checks_see_every_environment_and_task() {
    let tree = infra();
    let instances = tree.instances();
    for env in ["staging", "production"] {
        let service = instances
            .iter()
            .find(|i| i.name.starts_with("modules/service") && i.name.contains(&format!("envs/{env}")))
            .unwrap_or_else(|| panic!("modules/service is not instantiated by infra/envs/{env}"));
        let prefix = format!("beer-catalog-{env}");
        let mut families = Vec::new();
        // One resource with for_each over the task families: one (family, containers) per instance.
        for td in service.resources("aws_ecs_task_definition") {
            let per_family = service.scope.resolve_per_instance(td, "family");
            let per_containers = service.scope.resolve_per_instance(td, "container_definitions");
            for (family, containers) in per_family.into_iter().zip(per_containers) {
                let family = family
                    .as_ref()
                    .and_then(as_str)
                    .expect("family resolves to a string")
                    .to_string();
                let Some(hcl::Expression::Array(containers)) = containers else {
                    panic!("{family}: containers not a list")
                };
                let names: Vec<String> = containers
                    .iter()
                    .filter_map(|c| match c {
                        hcl::Expression::Object(o) => object_get(o, "name").and_then(as_str).map(str::to_string),
                        _ => None,
                    })
                    .collect();
                families.push((family, names));
            }
        }
        families.sort();
        assert_eq!(
            families,
            vec![
                (format!("{prefix}-api"), vec!["api".to_string()]),
                (format!("{prefix}-db-roles"), vec!["db-roles".to_string()]),
                (format!("{prefix}-migrate"), vec!["migrate".to_string()]),
            ]
        );
        let log_group = service
            .resources("aws_cloudwatch_log_group")
            .find_map(|lg| attr(&lg.body, "name").map(|e| service.scope.resolve(e)))
            .expect("log group");
        assert_eq!(as_str(&log_group), Some(format!("/ecs/{prefix}").as_str()));

        let root = tree
            .dirs
            .values()
            .find(|d| d.path.ends_with(format!("envs/{env}")))
            .expect("env root");
        let outputs: Vec<&str> = root.outputs().collect();
        for required in terraform::ENV_ROOT_OUTPUTS {
            assert!(
                outputs.contains(&required),
                "infra/envs/{env} does not output {required}"
            );
        }
    }
}

// --- each check reports its violation on a broken fixture ----------------------------------------------------------

#[test]
fn fixture_unknown_env_var_is_reported() {
    let v = checks::check_task_environment(&fixture("unknown_env_var"), &ServiceContract::from_service());
    assert_reports(
        "unknown_env_var",
        &v,
        &[
            "sets DATABASE_HOST, which the service does not read",
            // A subcommand-only variable on the server container.
            "sets MIGRATOR_DB_PASSWORD, which the service does not read when running `serve`",
        ],
    );
}

#[test]
fn fixture_missing_production_settings_are_reported() {
    let v = checks::check_task_environment(&fixture("missing_production_env"), &ServiceContract::from_service());
    assert_reports(
        "missing_production_env",
        &v,
        &[
            "API_KEYS from secrets",
            "DB_SSLMODE must be \"require\"",
            "APP_ENV must be \"production\"",
            "needs DB_HOST in environment",
        ],
    );
}

#[test]
fn fixture_secret_in_plain_environment_is_reported() {
    let v = checks::check_task_environment(&fixture("secret_in_environment"), &ServiceContract::from_service());
    assert_reports(
        "secret_in_environment",
        &v,
        &["DB_PASSWORD is a secret setting", "API_KEYS is a secret setting"],
    );
}

#[test]
fn fixture_wrong_port_is_reported() {
    let v = checks::check_ports(&fixture("wrong_port"), &ServiceContract::from_service());
    assert_reports(
        "wrong_port",
        &v,
        &[
            "containerPort 3000 != service DEFAULT_PORT 8080",
            "aws_lb_target_group.api port 3000",
        ],
    );
}

#[test]
fn fixture_bad_health_checks_are_reported() {
    let v = checks::check_health_checks(&fixture("bad_health_checks"), &ServiceContract::from_service());
    assert_reports(
        "bad_health_checks",
        &v,
        &[
            "aws_lb_target_group.ready health check uses /ready",
            "aws_lb_target_group.typo health check path /healthz is not a route",
            "healthCheck runs `health`, which is not a subcommand",
            "healthCheck command must be",
        ],
    );
}

#[test]
fn fixture_writable_root_is_reported() {
    // readonlyRootFilesystem comes from a variable whose default is false: checkov misses this, we must not.
    let v = checks::check_container_hardening(&fixture("writable_root"));
    assert_reports(
        "writable_root",
        &v,
        &[
            "readonlyRootFilesystem must be true, got false",
            "user must be \"65532\"",
        ],
    );
}

#[test]
fn fixture_database_open_to_the_world_is_reported() {
    let v = checks::check_security_groups(&fixture("db_open_to_world"));
    assert_reports(
        "db_open_to_world",
        &v,
        &[
            "aws_vpc_security_group_ingress_rule.db_from_anywhere: cidr_ipv4 = \"0.0.0.0/0\" ingress into a Db group",
            "security group chain broken: no ingress rule lets the tasks' group reach the database's group",
        ],
    );
}

#[test]
fn fixture_wrong_chain_and_open_ports_are_reported() {
    let v = checks::check_security_groups(&fixture("open_ingress"));
    assert_reports(
        "open_ingress",
        &v,
        &[
            // SSH open to the world on the ALB.
            "aws_vpc_security_group_ingress_rule.alb_ssh: cidr_ipv4 = \"0.0.0.0/0\" on ports (Some(22), Some(22))",
            // The ALB reaching the database directly, skipping the tasks.
            "aws_vpc_security_group_ingress_rule.db_from_alb: the database accepts only the tasks' security group",
            // A CIDR into the tasks.
            "aws_vpc_security_group_ingress_rule.tasks_from_vpc: cidr_ipv4 = \"10.0.0.0/16\" ingress into a Tasks group",
            "inline ingress blocks",
            "has no description",
        ],
    );
}

#[test]
fn fixture_public_database_is_reported() {
    let v = checks::check_database(&fixture("public_db"));
    assert_reports(
        "public_db",
        &v,
        &[
            "publicly_accessible must be false",
            "storage_encrypted must be true",
            "manage_master_user_password must be true",
            "sets a master password",
            "must set rds.force_ssl = 1",
        ],
    );
}

#[test]
fn fixture_public_ip_service_is_reported() {
    let v = checks::check_ecs_service(&fixture("public_ip_service"));
    assert_reports(
        "public_ip_service",
        &v,
        &[
            "assign_public_ip must be false",
            "lifecycle.ignore_changes must include task_definition",
        ],
    );
}

#[test]
fn fixture_remote_module_is_reported() {
    let v = checks::check_module_sources(&fixture("remote_module"));
    assert_reports(
        "remote_module",
        &v,
        &[
            "module.vpc: source \"terraform-aws-modules/vpc/aws\" is not a local path",
            "module.vpc: has a version argument",
            "module.from_git: source \"git::https://example.com/modules.git//ecs\" is not a local path",
        ],
    );
}

#[test]
fn fixture_pass_role_mismatch_is_reported() {
    let v = checks::check_pass_role_targets(&fixture("pass_role_mismatch"));
    assert_reports(
        "pass_role_mismatch",
        &v,
        &[
            "task definitions use role beer-catalog-staging-migrate-execution, which the deploy role cannot pass",
            "the deploy role may pass beer-catalog-staging-admin, which no task definition uses",
        ],
    );
}

#[test]
fn fixture_module_interface_errors_are_reported() {
    let v = checks::check_module_interfaces(&fixture("module_interface"));
    assert_reports(
        "module_interface",
        &v,
        &[
            "module.app passes instance_size, which child does not declare",
            "module.app does not pass required variable name_prefix",
            "module.app.endpoint: the module has no output endpoint",
            "var.regoin is not declared",
            "local.missing is not declared",
            "module.db is not a module call here",
        ],
    );
}

// --- issue 13: read replicas, CloudFront in front of the ALB, blue/green (tests/infra_contract/scale.rs) -----------

#[test]
fn infra_read_endpoint_reaches_the_task_as_db_read_host() {
    assert_clean(
        "check_read_endpoint",
        scale::check_read_endpoint(&infra(), &ServiceContract::from_service()),
    );
}

#[test]
fn infra_alb_trusts_only_cloudfront() {
    assert_clean(
        "check_alb_trusts_only_cloudfront",
        scale::check_alb_trusts_only_cloudfront(&infra()),
    );
}

#[test]
fn infra_blue_green_rules_lead_to_the_service_port_and_health_path() {
    assert_clean(
        "check_blue_green",
        scale::check_blue_green(&infra(), &ServiceContract::from_service()),
    );
}

#[test]
fn broken_read_endpoint_is_reported() {
    let name = "read_endpoint_on_primary";
    let v = scale::check_read_endpoint(&fixture(name), &ServiceContract::from_service());
    assert_reports(name, &v, &["DB_READ_HOST", "is not the read replicas' endpoint"]);
    let name = "replicas_unused";
    let v = scale::check_read_endpoint(&fixture(name), &ServiceContract::from_service());
    assert_reports(name, &v, &["does not set DB_READ_HOST"]);
}

#[test]
fn broken_alb_open_to_all_is_reported() {
    let name = "alb_bypasses_cloudfront";
    let v = scale::check_alb_trusts_only_cloudfront(&fixture(name));
    assert_reports(
        name,
        &v,
        &[
            "the ALB admits cidr_ipv4",
            "must be the com.amazonaws.global.cloudfront.origin-facing prefix list",
            "forwards by default",
            "forwards without requiring the header CloudFront sends",
        ],
    );
}

#[test]
fn broken_blue_green_rules_are_reported() {
    let name = "blue_green_wrong_target";
    let v = scale::check_blue_green(&fixture(name), &ServiceContract::from_service());
    assert_reports(
        name,
        &v,
        &[
            "(alternate_target_group_arn): port Some(9090)",
            "(test_listener_rule target): health check path Some(\"/ready\")",
            "no bake_time_in_minutes",
        ],
    );
}
