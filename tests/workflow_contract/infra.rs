//! The names Terraform creates out of `infra/`, read with the shared evaluator (`tests/support/terraform.rs`):
//! for each root, its resources and those of the modules it calls (recursively, with their arguments), once per
//! element of a known `for_each`. Names that depend on something only known at apply time (resource attributes,
//! data sources) stay unevaluated and are ignored; names in this project are built from variables and locals,
//! so they evaluate.

use crate::terraform::{Instance, Scope, Tree, as_str, label, object_get};
use hcl::Expression;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What one Terraform root (and the modules it calls) creates, by name.
#[derive(Debug, Default, Clone)]
pub struct InfraNames {
    pub ecr_repositories: BTreeSet<String>,
    pub clusters: BTreeSet<String>,
    pub services: BTreeSet<String>,
    /// task family -> container name -> command (empty when the container has no fixed command)
    pub task_families: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    pub iam_roles: BTreeSet<String>,
    pub log_groups: BTreeSet<String>,
    pub security_groups: BTreeSet<String>,
    /// The root's outputs (only a root's outputs are the contract).
    pub outputs: BTreeSet<String>,
}

impl InfraNames {
    pub fn merge(&mut self, other: &InfraNames) {
        self.ecr_repositories.extend(other.ecr_repositories.iter().cloned());
        self.clusters.extend(other.clusters.iter().cloned());
        self.services.extend(other.services.iter().cloned());
        for (family, containers) in &other.task_families {
            self.task_families
                .entry(family.clone())
                .or_default()
                .extend(containers.clone());
        }
        self.iam_roles.extend(other.iam_roles.iter().cloned());
        self.log_groups.extend(other.log_groups.iter().cloned());
        self.security_groups.extend(other.security_groups.iter().cloned());
        self.outputs.extend(other.outputs.iter().cloned());
    }

    /// Adds what one instance's resources create.
    fn record(&mut self, instance: &Instance) {
        let scope = &instance.scope;
        for block in instance.dir.body.blocks().filter(|b| b.identifier() == "resource") {
            let Some(kind) = label(block, 0) else {
                continue;
            };
            let names = || {
                scope
                    .resolve_per_instance(block, "name")
                    .into_iter()
                    .flatten()
                    .filter_map(|n| as_str(&n).map(str::to_string))
            };
            match kind {
                "aws_ecr_repository" => self.ecr_repositories.extend(names()),
                "aws_ecs_cluster" => self.clusters.extend(names()),
                "aws_ecs_service" => self.services.extend(names()),
                "aws_iam_role" => self.iam_roles.extend(names()),
                "aws_cloudwatch_log_group" => self.log_groups.extend(names()),
                "aws_security_group" => self.security_groups.extend(names()),
                "aws_ecs_task_definition" => {
                    let families = scope.resolve_per_instance(block, "family");
                    let definitions = scope.resolve_per_instance(block, "container_definitions");
                    for (family, definitions) in families.into_iter().zip(definitions) {
                        let Some(family) = family.as_ref().and_then(as_str) else {
                            continue;
                        };
                        let mut containers = BTreeMap::new();
                        if let Some(definitions) = definitions {
                            collect_containers(&definitions, scope, 0, &mut containers);
                        }
                        self.task_families
                            .entry(family.to_string())
                            .or_default()
                            .extend(containers);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Finds container definitions (objects with a known `name` and an `image`) anywhere in the expression,
/// e.g. inside `jsonencode([...])`, a conditional or a `concat`.
fn collect_containers(expr: &Expression, scope: &Scope, depth: usize, out: &mut BTreeMap<String, Vec<String>>) {
    if depth > 16 {
        return;
    }
    let recurse =
        |e: &Expression, out: &mut BTreeMap<String, Vec<String>>| collect_containers(e, scope, depth + 1, out);
    match expr {
        Expression::Object(object) => {
            if let (Some(Expression::String(name)), Some(_)) = (object_get(object, "name"), object_get(object, "image"))
            {
                let command = match object_get(object, "command") {
                    Some(Expression::Array(items)) => items.iter().filter_map(as_str).map(str::to_string).collect(),
                    _ => Vec::new(),
                };
                out.insert(name.clone(), command);
            } else {
                for (_, value) in object.iter() {
                    recurse(value, out);
                }
            }
        }
        Expression::Array(items) => items.iter().for_each(|item| recurse(item, out)),
        Expression::FuncCall(call) => call.args.iter().for_each(|arg| recurse(arg, out)),
        Expression::Parenthesis(inner) => recurse(inner, out),
        Expression::Conditional(cond) => {
            recurse(&cond.true_expr, out);
            recurse(&cond.false_expr, out);
        }
        // `local.name` left inside an expression the evaluator does not enter: follow it into the local.
        Expression::Traversal(traversal) => {
            if let (Expression::Variable(var), [hcl::expr::TraversalOperator::GetAttr(name)]) =
                (&traversal.expr, traversal.operators.as_slice())
                && var.as_str() == "local"
                && let Some(local) = scope.local(name.as_str())
            {
                recurse(local, out);
            }
        }
        _ => {}
    }
}

/// The four roots; a missing root is an error (the contract is with all of them).
pub fn read_roots(infra: &Path) -> Result<BTreeMap<String, InfraNames>, String> {
    let tree = Tree::load(infra);
    let instances = tree.instances();
    let mut roots = BTreeMap::new();
    for root in ["bootstrap", "global", "envs/staging", "envs/production"] {
        let path = tree.root.join(root);
        let dir = tree
            .dirs
            .get(&path)
            .ok_or_else(|| format!("{}: no .tf files", path.display()))?;
        let mut names = InfraNames {
            outputs: dir.outputs().map(str::to_string).collect(),
            ..InfraNames::default()
        };
        for instance in instances.iter().filter(|i| i.root == path) {
            names.record(instance);
        }
        roots.insert(root.to_string(), names);
    }
    Ok(roots)
}
