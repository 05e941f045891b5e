//! Reads the names Terraform creates out of `infra/` with a small HCL evaluator: for each root, the
//! variable defaults and `terraform.tfvars`, the locals, the module calls (recursively, with their
//! arguments as the module's variables) and `for_each` over known collections. Expressions that depend on
//! something only known at apply time (resource attributes, data sources) stay unevaluated and are
//! ignored; names in this project are built from variables and locals, so they evaluate.

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::expr::TraversalOperator;
use hcl::{Block, Body, Expression, ObjectKey, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

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
}

/// Every `*.tf` file of one directory, as one body.
fn read_dir_body(dir: &Path) -> Result<Body, String> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "tf"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no .tf files", dir.display()));
    }
    let mut structures = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let body: Body = hcl::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        structures.extend(body);
    }
    Ok(Body::from_iter(structures))
}

fn func_identity(args: FuncArgs) -> Result<Value, String> {
    args.into_values()
        .into_iter()
        .next()
        .ok_or_else(|| "missing argument".to_string())
}

fn func_lower(args: FuncArgs) -> Result<Value, String> {
    match args.into_values().into_iter().next() {
        Some(Value::String(s)) => Ok(Value::String(s.to_lowercase())),
        _ => Err("lower: want a string".into()),
    }
}

fn func_merge(args: FuncArgs) -> Result<Value, String> {
    let mut merged = hcl::Map::new();
    for value in args.into_values() {
        match value {
            Value::Object(object) => merged.extend(object),
            Value::Null => {}
            _ => return Err("merge: want objects".into()),
        }
    }
    Ok(Value::Object(merged))
}

fn func_concat(args: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for value in args.into_values() {
        match value {
            Value::Array(items) => out.extend(items),
            _ => return Err("concat: want lists".into()),
        }
    }
    Ok(Value::Array(out))
}

fn base_context() -> Context<'static> {
    let mut ctx = Context::new();
    for name in ["toset", "tolist", "tomap", "jsonencode"] {
        ctx.declare_func(name, FuncDef::builder().param(ParamType::Any).build(func_identity));
    }
    ctx.declare_func("lower", FuncDef::builder().param(ParamType::String).build(func_lower));
    ctx.declare_func(
        "merge",
        FuncDef::builder().variadic_param(ParamType::Any).build(func_merge),
    );
    ctx.declare_func(
        "concat",
        FuncDef::builder().variadic_param(ParamType::Any).build(func_concat),
    );
    ctx
}

fn attr_expr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|attr| attr.key() == key).map(|attr| &attr.expr)
}

fn label(block: &Block, index: usize) -> Option<&str> {
    block.labels().get(index).map(|label| label.as_str())
}

/// Evaluates a module directory with the given variable values; `depth` guards against cycles.
pub fn evaluate_module(dir: &Path, inputs: &hcl::Map<String, Value>, depth: usize) -> Result<InfraNames, String> {
    if depth > 8 {
        return Err(format!("{}: module nesting too deep", dir.display()));
    }
    let body = read_dir_body(dir)?;
    let base = base_context();

    // Variables: defaults, then terraform.tfvars (roots only), then the caller's arguments.
    let mut vars = hcl::Map::new();
    for block in body.blocks().filter(|b| b.identifier() == "variable") {
        if let (Some(name), Some(default)) = (label(block, 0), attr_expr(&block.body, "default"))
            && let Ok(value) = default.evaluate(&base)
        {
            vars.insert(name.to_string(), value);
        }
    }
    let tfvars = dir.join("terraform.tfvars");
    if depth == 0 && tfvars.is_file() {
        let text = fs::read_to_string(&tfvars).map_err(|e| format!("{}: {e}", tfvars.display()))?;
        let tf: Body = hcl::from_str(&text).map_err(|e| format!("{}: {e}", tfvars.display()))?;
        for attr in tf.attributes() {
            if let Ok(value) = attr.expr.evaluate(&base) {
                vars.insert(attr.key().to_string(), value);
            }
        }
    }
    vars.extend(inputs.clone());

    // Locals: evaluate to a fixed point (locals may refer to each other in any order).
    let local_exprs: Vec<(String, Expression)> = body
        .blocks()
        .filter(|b| b.identifier() == "locals")
        .flat_map(|b| {
            b.body
                .attributes()
                .map(|a| (a.key().to_string(), a.expr.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut locals = hcl::Map::new();
    loop {
        let mut ctx = base_context();
        ctx.declare_var("var", Value::Object(vars.clone()));
        ctx.declare_var("local", Value::Object(locals.clone()));
        let mut progressed = false;
        for (name, expr) in &local_exprs {
            if locals.contains_key(name) {
                continue;
            }
            if let Ok(value) = expr.evaluate(&ctx) {
                locals.insert(name.clone(), value);
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }

    let mut ctx = base_context();
    ctx.declare_var("var", Value::Object(vars.clone()));
    ctx.declare_var("local", Value::Object(locals.clone()));

    // Locals that depend on apply-time values, evaluated as far as possible (container definitions often
    // live in such a local: `container_definitions = jsonencode([local.api_container])`).
    let mut partial_locals: BTreeMap<String, Expression> = BTreeMap::new();
    for (name, expr) in &local_exprs {
        let mut expr = expr.clone();
        let _ = expr.evaluate_in_place(&ctx);
        partial_locals.insert(name.clone(), expr);
    }

    let mut names = InfraNames::default();
    for block in body.blocks() {
        match block.identifier() {
            "resource" => {
                let Some(kind) = label(block, 0) else {
                    continue;
                };
                for each in for_each_contexts(&block.body, &ctx) {
                    let mut each_ctx = ctx.clone();
                    if let Some(each) = each {
                        each_ctx.declare_var("each", each);
                    }
                    let mut evaluated = block.body.clone();
                    // Partial evaluation: whatever depends on apply-time values stays an expression.
                    let _ = evaluated.evaluate_in_place(&each_ctx);
                    record_resource(kind, &evaluated, &partial_locals, &mut names);
                }
            }
            "module" => {
                let Some(Expression::String(source)) = attr_expr(&block.body, "source").cloned() else {
                    continue;
                };
                if !source.starts_with("./") && !source.starts_with("../") {
                    continue; // registry modules are not read
                }
                let mut args = hcl::Map::new();
                for attr in block.body.attributes() {
                    if let Ok(value) = attr.expr.evaluate(&ctx) {
                        args.insert(attr.key().to_string(), value);
                    }
                }
                let child = evaluate_module(&dir.join(&source), &args, depth + 1)?;
                names.merge(&child);
            }
            "output" => {
                if let Some(name) = label(block, 0) {
                    names.outputs.insert(name.to_string());
                }
            }
            _ => {}
        }
    }
    if depth > 0 {
        names.outputs.clear(); // only a root's outputs are the contract
    }
    Ok(names)
}

/// One context per `for_each` element (`each.key`/`each.value`), or a single `None` without `for_each`.
/// A `for_each` that cannot be evaluated yields nothing: its names are unknown here.
fn for_each_contexts(body: &Body, ctx: &Context) -> Vec<Option<Value>> {
    let Some(expr) = attr_expr(body, "for_each") else {
        return vec![None];
    };
    let each = |key: Value, value: Value| {
        let mut object = hcl::Map::new();
        object.insert("key".to_string(), key);
        object.insert("value".to_string(), value);
        Some(Value::Object(object))
    };
    match expr.evaluate(ctx) {
        Ok(Value::Array(items)) => items.into_iter().map(|item| each(item.clone(), item)).collect(),
        Ok(Value::Object(object)) => object.into_iter().map(|(k, v)| each(Value::String(k), v)).collect(),
        _ => Vec::new(),
    }
}

fn string_attr(body: &Body, key: &str) -> Option<String> {
    match attr_expr(body, key) {
        Some(Expression::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn record_resource(kind: &str, body: &Body, locals: &BTreeMap<String, Expression>, names: &mut InfraNames) {
    let name = string_attr(body, "name");
    match kind {
        "aws_ecr_repository" => names.ecr_repositories.extend(name),
        "aws_ecs_cluster" => names.clusters.extend(name),
        "aws_ecs_service" => names.services.extend(name),
        "aws_iam_role" => names.iam_roles.extend(name),
        "aws_cloudwatch_log_group" => names.log_groups.extend(name),
        "aws_security_group" => names.security_groups.extend(name),
        "aws_ecs_task_definition" => {
            if let Some(family) = string_attr(body, "family") {
                let mut containers = BTreeMap::new();
                if let Some(defs) = attr_expr(body, "container_definitions") {
                    collect_containers(defs, locals, 0, &mut containers);
                }
                names.task_families.entry(family).or_default().extend(containers);
            }
        }
        _ => {}
    }
}

fn object_get<'a>(object: &'a hcl::expr::Object<ObjectKey, Expression>, key: &str) -> Option<&'a Expression> {
    object.iter().find_map(|(k, v)| {
        let matches = match k {
            ObjectKey::Identifier(ident) => ident.as_str() == key,
            ObjectKey::Expression(Expression::String(s)) => s == key,
            _ => false,
        };
        matches.then_some(v)
    })
}

/// Finds container definitions (objects with a known `name` and an `image`) anywhere in the expression,
/// e.g. inside `jsonencode([...])`, a conditional or a `concat`.
fn collect_containers(
    expr: &Expression,
    locals: &BTreeMap<String, Expression>,
    depth: usize,
    out: &mut BTreeMap<String, Vec<String>>,
) {
    if depth > 16 {
        return;
    }
    let recurse =
        |e: &Expression, out: &mut BTreeMap<String, Vec<String>>| collect_containers(e, locals, depth + 1, out);
    match expr {
        Expression::Object(object) => {
            if let (Some(Expression::String(name)), Some(_)) = (object_get(object, "name"), object_get(object, "image"))
            {
                let command = match object_get(object, "command") {
                    Some(Expression::Array(items)) => items
                        .iter()
                        .filter_map(|item| match item {
                            Expression::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect(),
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
        // `local.name`: follow it into the (partially evaluated) local.
        Expression::Traversal(traversal) => {
            if let (Expression::Variable(var), [TraversalOperator::GetAttr(name)]) =
                (&traversal.expr, traversal.operators.as_slice())
                && var.as_str() == "local"
                && let Some(local) = locals.get(name.as_str())
            {
                recurse(local, out);
            }
        }
        _ => {}
    }
}

/// The four roots; a missing root is an error (the contract is with all of them).
pub fn read_roots(infra: &Path) -> Result<BTreeMap<String, InfraNames>, String> {
    let mut roots = BTreeMap::new();
    for root in ["bootstrap", "global", "envs/staging", "envs/production"] {
        let names = evaluate_module(&infra.join(root), &hcl::Map::new(), 0)?;
        roots.insert(root.to_string(), names);
    }
    Ok(roots)
}
