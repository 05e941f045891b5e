//! The deploy scripts added for issue 23 (ARM64 images, a sleeping staging), with the stub `aws` of `scripts.rs`:
//! the architecture check before a task definition is registered, and waking a sleeping service.

use super::{NEW_IMAGE, Sandbox};
use std::fs;

/// The task runs ARM64 (`TASK_DEF`): an image list or a single image without linux/arm64 is refused before anything
/// is registered; a list with it (the stub's default) or a single arm64 image passes.
#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn register_refuses_an_image_without_the_tasks_architecture() {
    let amd64_list = r#"{"manifests":[{"digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}}]}"#;
    let single = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:c"}}"#;
    for (manifest, config, ok) in [
        (None, None, true),
        (Some(amd64_list), None, false),
        (Some(single), Some(r#"{"architecture":"amd64","os":"linux"}"#), false),
        (Some(single), Some(r#"{"architecture":"arm64","os":"linux"}"#), true),
    ] {
        let sb = Sandbox::new();
        for (file, content) in [("manifest.json", manifest), ("config.json", config)] {
            if let Some(content) = content {
                fs::write(sb.dir.join(file), content).unwrap();
            }
        }
        let run = sb.run(
            "ecs-register-task-definition.sh",
            &["beer-catalog-staging-migrate", "migrate", NEW_IMAGE],
            &[],
        );
        run.has(
            "calls.log",
            &["ecr batch-get-image --repository-name beer-catalog --image-ids imageDigest=sha256:1111"],
        );
        if ok {
            run.exits(Some(0)).has("calls.log", &["register-task-definition"]);
        } else {
            run.exits(None)
                .has("out", &["has no linux/arm64 image", "refusing to deploy"]);
            run.expect("calls.log", false, &["register-task-definition"]);
        }
    }
}

/// A sleeping staging (scalable target max 0) is woken to its wake action's bounds before a release and waited
/// for; an awake one is left alone; a sleeping one without a wake action fails the job, saying so.
#[test]
#[ignore = "needs bash, jq and curl, as the deploy scripts do: run with --include-ignored"]
fn wake_wakes_a_sleeping_service_and_leaves_an_awake_one() {
    let wake = |env: &[(&str, &str)]| Sandbox::new().run("ecs-wake-service.sh", &[], env);
    let register = "register-scalable-target --service-namespace ecs --resource-id service/beer-catalog-staging/beer-catalog-staging-api --scalable-dimension ecs:service:DesiredCount --min-capacity 1 --max-capacity 2";
    let asleep = wake(&[("STUB_MAX_CAPACITY", "0")]);
    asleep
        .exits(Some(0))
        .has("calls.log", &[register])
        .has("outputs.txt", &["woken=true"]);
    asleep.has("calls.log", &["--scheduled-action-names beer-catalog-staging-api-wake"]);
    asleep.has("summary.md", &["was asleep: woken to 1..2 tasks"]);
    let awake = wake(&[]);
    awake.exits(Some(0)).has("outputs.txt", &["woken=false"]);
    awake.expect("calls.log", false, &["register-scalable-target"]);
    let no_wake_action = wake(&[("STUB_MAX_CAPACITY", "0"), ("STUB_WAKE_ACTION", "null")]);
    no_wake_action
        .exits(None)
        .has("out", &["is asleep (max capacity 0) and has no usable wake action"]);
    no_wake_action.expect("calls.log", false, &["register-scalable-target"]);
}
