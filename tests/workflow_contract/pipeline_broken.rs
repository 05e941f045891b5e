//! The rules of `pipeline.rs` on broken copies of the real files: one edit each, most of them restoring what the
//! workflows, the Dockerfile or the environment roots did before issue 26. Each must be reported.

use super::{Workflows, all_violations, artifact_matches, commands, roots};
use crate::infra_names;

/// `(file, from, to, expected)`: `file` is a workflow name or a path under infra/.
fn caught(edit: (&str, &str, &str), expected: &str) {
    let infra = infra_names();
    let workflows = Workflows::load(Some(edit).filter(|(f, ..)| f.ends_with(".yml")));
    let roots = roots(Some(edit).filter(|(f, ..)| !f.ends_with(".yml")), &infra.environments);
    let violations = all_violations(&workflows, &roots, &infra);
    let message = format!("editing {edit:?} should report `{expected}`, got: {violations:#?}");
    assert!(violations.iter().any(|v| v.contains(expected)), "{message}");
}

#[test]
fn broken_pipelines_are_caught() {
    // The old init: bucket only.
    let kms = " \\\n            -backend-config=\"kms_key_id=${TF_STATE_KMS_KEY_ARN}\"";
    caught(
        ("infra.yml", kms, ""),
        "infra.yml: job `plan`: `terraform init` without -backend-config=\"kms_key_id",
    );
    // The old apply: a saved plan from the plan job, applied after an init that picks the newest providers.
    let plan_again = "          terraform -chdir=\"$ROOT\" plan -input=false -no-color -out=tfplan\n";
    caught(
        ("infra.yml", plan_again, ""),
        "job `apply-staging` applies Some(\"tfplan\"), not a plan made earlier",
    );
    caught(
        ("infra.yml", " -lockfile=readonly", ""),
        "job `apply-staging`: init before an apply without -lockfile=readonly",
    );
    caught(
        ("infra.yml", "include-hidden-files: true", "include-hidden-files: false"),
        "applies without the plan job's .terraform.lock.hcl",
    );
    let upload = "            plan-${{ matrix.environment }}.txt\n";
    let tfplan = "            plan-${{ matrix.environment }}.txt\n            ${{ env.ROOT }}/tfplan\n";
    caught(("infra.yml", upload, tfplan), "job `plan` uploads a saved plan");
    // The old $GITHUB_OUTPUT line, and the same hidden in a group.
    let assign = "arn=$(.github/scripts/ecs-register-task-definition.sh \"$MIGRATE_TASK_FAMILY\" \"$MIGRATE_CONTAINER\" \"$IMAGE\")\n          echo \"arn=$arn\" >> \"$GITHUB_OUTPUT\"";
    let old = "echo \"arn=$(.github/scripts/ecs-register-task-definition.sh \"$MIGRATE_TASK_FAMILY\" \"$MIGRATE_CONTAINER\" \"$IMAGE\")\" >> \"$GITHUB_OUTPUT\"";
    caught(
        ("deploy.yml", assign, old),
        "job `staging` step `Render + register the migrate task definition",
    );
    let line = "            echo \"$remote already in ECR";
    let group = "            {\n              echo \"x=$(date)\"\n            } >> \"$GITHUB_OUTPUT\"\n            echo \"$remote already in ECR";
    caught(
        ("ci.yml", line, group),
        "ci.yml: job `publish` step `Push the tested image",
    );
    // The old groups: deploy-staging in deploy.yml, terraform-staging in infra.yml.
    let want = "staging: the applies and deploys use the concurrency groups Some([\"beer-catalog-staging\", \"deploy-staging\"])";
    caught(
        ("deploy.yml", "group: beer-catalog-staging", "group: deploy-staging"),
        want,
    );
    caught(
        ("infra.yml", "      queue: max\n", ""),
        "infra.yml: job `apply-staging` (environment staging): concurrency must not cancel",
    );
    caught(
        (
            "deploy.yml",
            "group: beer-catalog-production",
            "group: beer-catalog-staging",
        ),
        "staging and production share",
    );
    // The old deploy: build in deploy.yml; a digest not from ECR; CI pushing before the other jobs passed.
    let build = "      - name: Log in to Amazon ECR\n";
    let rebuild = "      - uses: docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a # v7.3.0\n        with:\n          push: true\n      - name: Log in to Amazon ECR\n";
    caught(
        ("deploy.yml", build, rebuild),
        "deploy.yml: job `image` builds or pushes an image",
    );
    caught(
        ("deploy.yml", "aws ecr describe-images", "aws ecr list-images"),
        "job `image`'s digest is not looked up in ECR",
    );
    let want = "deploy.yml: job `staging` deploys";
    caught(
        (
            "deploy.yml",
            "@${{ needs.image.outputs.digest }}\n      IMAGE_TAG",
            ":${{ needs.image.outputs.tag }}\n      IMAGE_TAG",
        ),
        want,
    );
    let needs = "needs: [rust, api-fuzz, dockerfile, image, terraform-checks, terraform-validate, workflows]";
    caught(
        ("ci.yml", needs, "needs: [image]"),
        "ci.yml: job `publish` pushes the image before [\"api-fuzz\", \"rust\"",
    );
    let only_main = "    if: github.event_name == 'push' && github.ref == 'refs/heads/main'\n    runs-on: ubuntu-24.04\n    timeout-minutes: 20";
    caught(
        (
            "ci.yml",
            only_main,
            "    runs-on: ubuntu-24.04\n    timeout-minutes: 20",
        ),
        "pushes the image from more than pushes to main",
    );
    // The old inputs: defaults that plan the bring-up away; a required input nobody sets; tfvars overriding CI.
    let default = "  type        = list(string)\n  nullable    = false\n";
    let with_default = "  type        = list(string)\n  default     = []\n  nullable    = false\n";
    caught(
        ("envs/staging/variables.tf", default, with_default),
        "infra/envs/staging: `alarm_emails` has a default",
    );
    caught(
        ("envs/production/terraform.tfvars", "alarm_emails = []\n", ""),
        "infra/envs/production: `alarm_emails` has no default and neither",
    );
    caught(
        (
            "infra.yml",
            "      TF_VAR_state_kms_key_arn: ${{ vars.TF_STATE_KMS_KEY_ARN }}\n",
            "",
        ),
        "infra/global: `state_kms_key_arn` has no default",
    );
    caught(
        (
            "envs/staging/terraform.tfvars",
            "alarm_emails = []\n",
            "alarm_email = []\n",
        ),
        "sets `alarm_email`, which the root does not declare",
    );
    caught(
        (
            "envs/staging/terraform.tfvars",
            "alarm_emails = []\n",
            "alarm_emails = []\naws_region = \"us-east-1\"\n",
        ),
        "sets `aws_region`, which infra.yml sets as TF_VAR_aws_region",
    );
}

#[test]
fn artifact_names_with_matrix_values_match() {
    assert!(artifact_matches("plan-${{ matrix.environment }}", "plan-staging"));
    assert!(!artifact_matches("plan-${{ matrix.environment }}", "tfplan-staging"));
    assert!(artifact_matches("image", "image"));
    assert_eq!(commands("a \\\n  b\n# c\n"), ["a    b"]);
}
