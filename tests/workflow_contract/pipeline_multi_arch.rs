//! ARM64 images (issue 23): ci.yml builds each architecture on a native runner and publishes one manifest list of
//! both; deploy.yml registers task definitions only through the script that refuses a digest without the task's
//! architecture, and wakes a sleeping staging before its migration. Each rule also on a broken copy.

use super::{Workflows, jobs, run_commands, steps};
use crate::read;

fn multi_arch_violations(w: &Workflows) -> Vec<String> {
    let mut v = Vec::new();
    let (ci, deploy) = (w.get("ci.yml"), w.get("deploy.yml"));
    let image = &ci["jobs"]["image"];
    let legs = image["strategy"]["matrix"]["include"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    for (arch, runner) in [("amd64", "ubuntu-24.04"), ("arm64", "ubuntu-24.04-arm")] {
        let native = legs
            .iter()
            .any(|l| l["arch"].as_str() == Some(arch) && l["runner"].as_str() == Some(runner));
        if !native {
            v.push(format!(
                "ci.yml: job `image` has no {arch} leg on the native runner {runner}"
            ));
        }
    }
    if image["runs-on"].as_str() != Some("${{ matrix.runner }}") {
        v.push("ci.yml: job `image` does not run on its leg's runner".into());
    }
    let build = steps(image).find(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("docker/build-push-action"))
    });
    if build.and_then(|b| b["with"]["platforms"].as_str()) != Some("linux/${{ matrix.arch }}") {
        v.push("ci.yml: job `image` does not build its leg's platform only".into());
    }
    let lists = jobs(ci).any(|(_, job)| {
        steps(job)
            .flat_map(run_commands)
            .any(|c| c.contains("docker buildx imagetools create") && c.contains("$TAG"))
    });
    if !lists {
        v.push("ci.yml: no job pushes the manifest list of the architectures under the commit's tag".into());
    }
    let register = read(".github/scripts/ecs-register-task-definition.sh");
    if !register
        .lines()
        .any(|l| !l.trim_start().starts_with('#') && l.contains("ecr-image-has-architecture.sh"))
    {
        v.push("ecs-register-task-definition.sh does not check the image's architecture".into());
    }
    for (id, job) in jobs(deploy).filter(|(_, j)| !j["env"]["ECS_CLUSTER"].is_null()) {
        let commands: Vec<String> = steps(job).flat_map(run_commands).collect();
        let registers = commands
            .iter()
            .filter(|c| c.contains("register-task-definition"))
            .count();
        let through_script = commands
            .iter()
            .filter(|c| c.contains("ecs-register-task-definition.sh"))
            .count();
        if registers != through_script {
            v.push(format!(
                "deploy.yml: job `{id}` registers a task definition without the architecture check"
            ));
        }
    }
    let staging = &deploy["jobs"]["staging"];
    let position = |needle: &str| steps(staging).position(|s| run_commands(s).iter().any(|c| c.contains(needle)));
    match (position("ecs-wake-service.sh"), position("ecs-run-migration.sh")) {
        (Some(wake), Some(migrate)) if wake < migrate => {}
        other => v.push(format!(
            "deploy.yml: staging does not wake before it migrates (steps {other:?})"
        )),
    }
    v
}

#[test]
fn images_are_multi_arch_and_deploys_check_the_architecture() {
    let real = multi_arch_violations(&Workflows::load(None));
    assert!(real.is_empty(), "{}", real.join("\n"));
    for (file, from, to, want) in [
        (
            "ci.yml",
            "runner: ubuntu-24.04-arm",
            "runner: ubuntu-24.04",
            "no arm64 leg on the native runner",
        ),
        (
            "ci.yml",
            "docker buildx imagetools create",
            "echo",
            "no job pushes the manifest list",
        ),
        (
            "deploy.yml",
            "        run: .github/scripts/ecs-wake-service.sh\n",
            "        run: echo\n",
            "staging does not wake",
        ),
        (
            "deploy.yml",
            "arn=$(.github/scripts/ecs-register-task-definition.sh \"$API_TASK_FAMILY\"",
            "arn=$(aws ecs register-task-definition --family \"$API_TASK_FAMILY\"",
            "registers a task definition without the architecture check",
        ),
    ] {
        let broken = multi_arch_violations(&Workflows::load(Some((file, from, to)))).join("\n");
        assert!(
            broken.contains(want),
            "{file} `{from}` -> `{to}`: no {want:?} in:\n{broken}"
        );
    }
}
