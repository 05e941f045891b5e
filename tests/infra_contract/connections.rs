//! Client connections in the api task (issue 19, slowloris): the open-file limit is set (`ulimits`) and holds the
//! service's whole descriptor budget (`src/server/budget.rs`), and idle keep-alive connections outlive the ALB's
//! idle timeout, so the ALB closes them first.

use crate::service::ServiceContract;
use crate::terraform::{Infra, object_get};
use crate::{LOAD_BALANCER, Violations, assert_clean, assert_reports, dir, tasks};
use hcl::Expression;

/// What the service sets aside beside client connections (src/server/budget.rs): refusals in flight, reserved.
const REFUSALS_IN_FLIGHT: u64 = 32;
const RESERVED_DESCRIPTORS: u64 = 64;

fn check_connection_budget(infra: &Infra, svc: &ServiceContract) -> Violations {
    let mut v = Violations::new();
    let services = dir(infra, "modules/service");
    let number = |what: &str, r: Option<Result<String, String>>| -> Result<u64, String> {
        let text = r.ok_or(format!("{what} not set"))??;
        text.parse::<u64>()
            .map_err(|_| format!("{what} {text:?} is not a number"))
    };
    for task in tasks(infra, &mut v) {
        if task.subcommand().as_deref() != Ok("serve") {
            continue;
        }
        let key = &task.key;
        let nofile = match task.field("ulimits") {
            Some(Expression::Array(limits)) => limits.iter().find_map(|limit| match limit {
                Expression::Object(limit)
                    if object_get(limit, "name")
                        .and_then(crate::terraform::template_text)
                        .as_deref()
                        == Some("nofile") =>
                {
                    Some(limit)
                }
                _ => None,
            }),
            _ => None,
        };
        let Some(nofile) = nofile else {
            v.push(format!(
                "task {key}: no nofile ulimit (the service's open-file budget must be set)"
            ));
            continue;
        };
        let limit = |field| number(field, object_get(nofile, field).map(|e| infra.literal(services, e)));
        let (soft, hard) = (limit("softLimit"), limit("hardLimit"));
        let max_connections = number("MAX_CONNECTIONS", task.env(infra, "MAX_CONNECTIONS", &mut v));
        let pool = task
            .env(infra, "DB_MAX_CONNECTIONS", &mut v)
            .or_else(|| svc.defaults.get("DB_MAX_CONNECTIONS").cloned().map(Ok));
        let pool = number("DB_MAX_CONNECTIONS", pool);
        match (soft, hard, max_connections, pool) {
            (Ok(soft), Ok(hard), Ok(max), Ok(pool)) => {
                // A replica doubles the pools; count it always (the replica may be added later).
                let needed = max + REFUSALS_IN_FLIGHT + 2 * pool + RESERVED_DESCRIPTORS;
                if soft < needed || hard < soft {
                    v.push(format!(
                        "task {key}: nofile {soft}/{hard} does not hold the budget of {needed}"
                    ));
                }
            }
            other => v.push(format!("task {key}: connection budget unreadable: {other:?}")),
        }
        let keep_alive = number(
            "KEEP_ALIVE_TIMEOUT_SECS",
            task.env(infra, "KEEP_ALIVE_TIMEOUT_SECS", &mut v),
        );
        let balancer = dir(infra, "modules/load_balancer");
        let idle = balancer
            .block("resource", &["aws_lb", "this"])
            .and_then(|lb| crate::terraform::attr(&lb.body, "idle_timeout"))
            .map(|e| infra.literal(balancer, e));
        match (keep_alive, number("the ALB's idle_timeout", idle)) {
            (Ok(keep_alive), Ok(idle)) if keep_alive > idle => {}
            other => v.push(format!(
                "task {key}: keep-alive not above the ALB's idle timeout: {other:?}"
            )),
        }
    }
    v
}

#[test]
fn infra_api_task_holds_its_connection_budget_and_outlives_the_alb_idle_timeout() {
    let check = check_connection_budget;
    assert_clean(check);
    let file = "modules/service/task_definitions.tf";
    assert_reports(
        check,
        file,
        ("open_file_limit    = 4096", "open_file_limit    = 1024"),
        &["task api: nofile 1024/1024 does not hold the budget of 1140"],
    );
    assert_reports(
        check,
        file,
        ("var.load_balancer_idle_timeout_seconds + 15", "30"),
        &["task api: keep-alive not above the ALB's idle timeout: (Ok(30), Ok(60))"],
    );
    assert_reports(
        check,
        LOAD_BALANCER,
        (
            "idle_timeout               = var.idle_timeout_seconds",
            "idle_timeout = 120",
        ),
        &["task api: keep-alive not above the ALB's idle timeout: (Ok(75), Ok(120))"],
    );
    assert_reports(
        check,
        file,
        (
            r#"ulimits     = [{ name = "nofile""#,
            r#"ulimits     = [{ name = "core""#,
        ),
        &["task api: no nofile ulimit"],
    );
}
