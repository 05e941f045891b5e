//! The Terraform evaluator shared by the contract tests (`tests/infra_contract`, `tests/workflow_contract`); each
//! includes it with `#[path = "../support/terraform.rs"] mod terraform;`.
//!
//! Loads a tree of Terraform directories with `hcl-rs` and resolves expressions as far as the configuration
//! itself allows: variable defaults, a root's `terraform.tfvars`, the arguments a caller passes to a module
//! (recursively, module calls inside modules included), locals and `for_each` over known collections. Whatever
//! depends on apply-time values (resource attributes, data sources) stays an unevaluated expression; the checks
//! treat "not provably right" as a violation where it matters (e.g. `readonlyRootFilesystem = var.x` without a
//! known value fails the check).

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::expr::{Object, ObjectKey, TraversalOperator};
use hcl::{Block, Body, Expression, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The outputs every `infra/envs/<env>` root must declare: what a deploy works with (the ECS cluster, service and
/// task families, the subnets and security group of a one-off migration task, the log group, the ALB address).
pub const ENV_ROOT_OUTPUTS: [&str; 8] = [
    "alb_dns_name",
    "ecs_cluster_name",
    "ecs_service_name",
    "api_task_family",
    "migrate_task_family",
    "private_subnet_ids",
    "tasks_security_group_id",
    "log_group_name",
];

/// How deep module calls may nest (guards against cycles).
const MAX_MODULE_DEPTH: usize = 8;

/// One directory of `.tf` files (a root or a module), all files merged into one body.
pub struct Dir {
    pub path: PathBuf,
    pub body: Body,
}

impl Dir {
    /// `output "<name>"` labels.
    pub fn outputs(&self) -> impl Iterator<Item = &str> + '_ {
        blocks(&self.body, "output").filter_map(|b| label(b, 0))
    }
}

/// Every Terraform directory under a root path.
pub struct Tree {
    pub root: PathBuf,
    pub dirs: BTreeMap<PathBuf, Dir>,
}

impl Tree {
    pub fn load(root: &Path) -> Tree {
        let root = root
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()));
        let mut dirs = BTreeMap::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let mut tf_files = Vec::new();
            for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = entry.expect("directory entry").path();
                if path.is_dir() {
                    if path.file_name().is_some_and(|n| n != ".terraform") {
                        stack.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "tf") {
                    tf_files.push(path);
                }
            }
            if tf_files.is_empty() {
                continue;
            }
            tf_files.sort();
            let mut structures = Vec::new();
            for file in &tf_files {
                structures.extend(parse_file(file));
            }
            dirs.insert(
                dir.clone(),
                Dir {
                    path: dir,
                    body: Body::from_iter(structures),
                },
            );
        }
        assert!(!dirs.is_empty(), "{}: no Terraform directories", root.display());
        Tree { root, dirs }
    }

    /// A path relative to the tree root, for messages.
    pub fn rel(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path).display().to_string();
        if rel.is_empty() { ".".into() } else { rel }
    }

    /// The directory of this tree a `module` block of `dir` calls, if its source is a literal path to one.
    pub fn module_target(&self, dir: &Dir, module: &Block) -> Option<&Dir> {
        let source = attr(&module.body, "source").and_then(as_str)?;
        let target = dir.path.join(source).canonicalize().ok()?;
        self.dirs.get(&target)
    }

    /// Every way a directory is instantiated: each root (a directory no `module` block calls) with its variable
    /// defaults and `terraform.tfvars`, and each module once per chain of `module` blocks that leads to it from a
    /// root, with the arguments its caller passes. Grouped by directory, in the order the calls are found.
    pub fn instances(&self) -> Vec<Instance<'_>> {
        let called: BTreeSet<&Path> = self
            .dirs
            .values()
            .flat_map(|dir| blocks(&dir.body, "module").filter_map(|m| self.module_target(dir, m)))
            .map(|target| target.path.as_path())
            .collect();
        let mut out = Vec::new();
        for dir in self.dirs.values().filter(|d| !called.contains(d.path.as_path())) {
            let instance = Instance {
                dir,
                scope: Scope::new(dir, &hcl::Map::new(), true),
                name: self.rel(&dir.path),
                root: dir.path.clone(),
                depth: 0,
            };
            self.instantiate(instance, &mut out);
        }
        out.sort_by(|a, b| a.dir.path.cmp(&b.dir.path));
        out
    }

    /// Adds `instance` and, recursively, the modules it calls.
    fn instantiate<'a>(&'a self, instance: Instance<'a>, out: &mut Vec<Instance<'a>>) {
        if instance.depth < MAX_MODULE_DEPTH {
            for block in blocks(&instance.dir.body, "module") {
                let Some(target) = self.module_target(instance.dir, block) else {
                    continue;
                };
                let mut inputs = hcl::Map::new();
                for a in block.body.attributes() {
                    if let Some(value) = to_value(&instance.scope.resolve(&a.expr)) {
                        inputs.insert(a.key().to_string(), value);
                    }
                }
                // The caller's full name, so that a module called from a module still names its root.
                let origin = format!("module.{} in {}", label(block, 0).unwrap_or("?"), instance.name);
                let child = Instance {
                    dir: target,
                    scope: Scope::new(target, &inputs, false),
                    name: format!("{} (as {origin})", self.rel(&target.path)),
                    root: instance.root.clone(),
                    depth: instance.depth + 1,
                };
                self.instantiate(child, out);
            }
        }
        out.push(instance);
    }
}

fn parse_file(file: &Path) -> Body {
    let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    hcl::from_str(&text).unwrap_or_else(|e| panic!("{}: not valid HCL: {e}", file.display()))
}

/// One instantiation of a directory with its evaluation scope.
pub struct Instance<'a> {
    pub dir: &'a Dir,
    pub scope: Scope,
    pub name: String,
    /// The root directory whose module calls lead here (the directory itself for a root).
    pub root: PathBuf,
    /// How many `module` blocks lead here from the root (0 for a root).
    pub depth: usize,
}

impl Instance<'_> {
    /// `resource "<kind>" "<name>"` blocks.
    pub fn resources<'b>(&'b self, kind: &'b str) -> impl Iterator<Item = &'b Block> + 'b {
        self.dir
            .body
            .blocks()
            .filter(move |b| b.identifier() == "resource" && label(b, 0) == Some(kind))
    }
}

/// Known variable values and resolved locals of one instance.
pub struct Scope {
    vars: hcl::Map<String, Value>,
    locals: BTreeMap<String, Expression>,
    ctx: Context<'static>,
}

impl Scope {
    /// Variables: defaults, then `terraform.tfvars` (`tfvars`, for roots), then `inputs` (a caller's arguments).
    fn new(dir: &Dir, inputs: &hcl::Map<String, Value>, tfvars: bool) -> Scope {
        let base = base_context();
        let mut vars = hcl::Map::new();
        for block in blocks(&dir.body, "variable") {
            if let (Some(name), Some(default)) = (label(block, 0), attr(&block.body, "default"))
                && let Ok(value) = default.evaluate(&base)
            {
                vars.insert(name.to_string(), value);
            }
        }
        let tfvars_file = dir.path.join("terraform.tfvars");
        if tfvars && tfvars_file.is_file() {
            for a in parse_file(&tfvars_file).attributes() {
                if let Ok(value) = a.expr.evaluate(&base) {
                    vars.insert(a.key().to_string(), value);
                }
            }
        }
        vars.extend(inputs.clone());

        let exprs: Vec<(String, Expression)> = blocks(&dir.body, "locals")
            .flat_map(|b| {
                b.body
                    .attributes()
                    .map(|a| (a.key().to_string(), a.expr.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut scope = Scope {
            vars,
            locals: BTreeMap::new(),
            ctx: base,
        };
        scope.rebuild_context();
        // Locals may refer to each other in any order: resolve to a fixed point.
        for _ in 0..exprs.len().max(8) {
            let mut changed = false;
            for (name, expr) in &exprs {
                let resolved = scope.resolve(expr);
                if scope.locals.get(name) != Some(&resolved) {
                    scope.locals.insert(name.clone(), resolved);
                    changed = true;
                }
            }
            scope.rebuild_context();
            if !changed {
                break;
            }
        }
        scope
    }

    fn rebuild_context(&mut self) {
        let mut ctx = base_context();
        ctx.declare_var("var", Value::Object(self.vars.clone()));
        let locals: hcl::Map<String, Value> = self
            .locals
            .iter()
            .filter_map(|(k, e)| to_value(e).map(|v| (k.clone(), v)))
            .collect();
        ctx.declare_var("local", Value::Object(locals));
        self.ctx = ctx;
    }

    /// A local as far as it resolves.
    pub fn local(&self, name: &str) -> Option<&Expression> {
        self.locals.get(name)
    }

    /// Resolves `expr` as far as known values allow; what cannot be resolved stays an expression.
    pub fn resolve(&self, expr: &Expression) -> Expression {
        let mut expr = self.substitute(expr, 0);
        // Partial evaluation: errors only mean "not everything is known", which is expected.
        let _ = expr.evaluate_in_place(&self.ctx);
        flatten_calls(&mut expr);
        expr
    }

    /// Like [`Scope::resolve`], inside a `for_each` iteration (`each.key`, `each.value`).
    pub fn resolve_each(&self, expr: &Expression, key: &str, value: &Expression) -> Expression {
        // each.value.<field> is replaced by the expression itself, so a for_each value that holds unresolved parts
        // (apply-time attributes) still yields its known fields.
        let expr = substitute_each_value(expr, value);
        let mut expr = self.substitute(&expr, 0);
        let mut ctx = self.ctx.clone();
        let mut each = hcl::Map::new();
        each.insert("key".to_string(), Value::String(key.to_string()));
        if let Some(v) = to_value(value) {
            each.insert("value".to_string(), v);
        }
        ctx.declare_var("each", Value::Object(each));
        let _ = expr.evaluate_in_place(&ctx);
        flatten_calls(&mut expr);
        expr
    }

    /// The (key, value) pairs of a resource's `for_each`, or no pairs when it has none; `None` when the
    /// `for_each` cannot be resolved.
    pub fn for_each_keys(&self, block: &Block) -> Option<Vec<(String, Expression)>> {
        let Some(expr) = attr(&block.body, "for_each") else {
            return Some(vec![]);
        };
        match self.resolve(expr) {
            Expression::Object(obj) => obj.iter().map(|(k, v)| key_str(k).map(|k| (k, v.clone()))).collect(),
            Expression::Array(items) => items
                .iter()
                .map(|i| as_str(i).map(|s| (s.to_string(), i.clone())))
                .collect(),
            _ => None,
        }
    }

    /// `attr` of a resource resolved once per instance the resource creates: once without `for_each`, once per
    /// element with it, not at all when its `for_each` cannot be resolved. `None` where the attribute is unset.
    pub fn resolve_per_instance(&self, block: &Block, attr_name: &str) -> Vec<Option<Expression>> {
        let expr = attr(&block.body, attr_name);
        if attr(&block.body, "for_each").is_none() {
            return vec![expr.map(|e| self.resolve(e))];
        }
        self.for_each_keys(block)
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| expr.map(|e| self.resolve_each(e, k, v)))
            .collect()
    }

    /// Replaces `local.NAME` (and `var.NAME` with a known value) by their resolved expressions, so that
    /// partially known locals (e.g. a container definition holding resource ARNs) can still be inspected.
    fn substitute(&self, expr: &Expression, depth: usize) -> Expression {
        if depth > 32 {
            return expr.clone();
        }
        match expr {
            Expression::Traversal(t) => {
                if let (Expression::Variable(root), Some(TraversalOperator::GetAttr(first))) =
                    (&t.expr, t.operators.first())
                {
                    let base = match root.as_str() {
                        "local" => self.locals.get(first.as_str()).cloned(),
                        "var" => self.vars.get(first.as_str()).cloned().map(Expression::from),
                        _ => None,
                    };
                    if let Some(mut current) = base {
                        for op in &t.operators[1..] {
                            match (op, &current) {
                                (TraversalOperator::GetAttr(key), Expression::Object(obj)) => {
                                    match object_get(obj, key.as_str()) {
                                        Some(v) => current = v.clone(),
                                        None => return expr.clone(),
                                    }
                                }
                                _ => return expr.clone(),
                            }
                        }
                        return self.substitute(&current, depth + 1);
                    }
                }
                expr.clone()
            }
            Expression::Array(items) => {
                Expression::Array(items.iter().map(|e| self.substitute(e, depth + 1)).collect())
            }
            Expression::Object(obj) => Expression::Object(
                obj.iter()
                    .map(|(k, v)| (k.clone(), self.substitute(v, depth + 1)))
                    .collect::<Object<_, _>>(),
            ),
            Expression::FuncCall(call) => {
                let mut call = call.clone();
                call.args = call.args.iter().map(|e| self.substitute(e, depth + 1)).collect();
                Expression::FuncCall(call)
            }
            Expression::Parenthesis(inner) => self.substitute(inner, depth + 1),
            other => other.clone(),
        }
    }
}

/// `expr` with every `each.value[.field...]` replaced by that part of `value` (left as is where a field is missing).
fn substitute_each_value(expr: &Expression, value: &Expression) -> Expression {
    match expr {
        Expression::Traversal(t) if matches!(&t.expr, Expression::Variable(v) if v.as_str() == "each") => {
            let mut ops = t.operators.iter();
            if !matches!(ops.next(), Some(TraversalOperator::GetAttr(a)) if a.as_str() == "value") {
                return expr.clone();
            }
            let mut current = value.clone();
            for op in ops {
                let next = match (op, &current) {
                    (TraversalOperator::GetAttr(key), Expression::Object(obj)) => {
                        object_get(obj, key.as_str()).cloned()
                    }
                    _ => None,
                };
                match next {
                    Some(e) => current = e,
                    None => return expr.clone(),
                }
            }
            current
        }
        Expression::Array(items) => Expression::Array(items.iter().map(|e| substitute_each_value(e, value)).collect()),
        Expression::Object(obj) => Expression::Object(
            obj.iter()
                .map(|(k, v)| (k.clone(), substitute_each_value(v, value)))
                .collect::<Object<_, _>>(),
        ),
        Expression::FuncCall(call) => {
            let mut call = call.clone();
            call.args = call.args.iter().map(|e| substitute_each_value(e, value)).collect();
            Expression::FuncCall(call)
        }
        Expression::Parenthesis(inner) => substitute_each_value(inner, value),
        other => other.clone(),
    }
}

/// `concat(...)` of literal lists becomes one list, `merge(...)` of literal objects one object and `jsonencode(x)`
/// becomes `x`, even when they hold unresolved elements (which the evaluator cannot pass to a function); a conditional whose condition is known
/// becomes the branch it takes (the evaluator keeps it whole when that branch holds an unresolved value).
fn flatten_calls(expr: &mut Expression) {
    if let Expression::Conditional(c) = expr {
        if let Expression::Bool(taken) = c.cond_expr {
            *expr = if taken {
                c.true_expr.clone()
            } else {
                c.false_expr.clone()
            };
        }
    }
    match expr {
        Expression::Array(items) => items.iter_mut().for_each(flatten_calls),
        Expression::Object(obj) => obj.values_mut().for_each(flatten_calls),
        Expression::FuncCall(call) => {
            call.args.iter_mut().for_each(flatten_calls);
            let name = call.name.name.as_str();
            if name == "jsonencode" && call.args.len() == 1 {
                *expr = call.args[0].clone();
            } else if name == "merge" && call.args.iter().all(|a| matches!(a, Expression::Object(_))) {
                // Later arguments win, as in Terraform.
                let mut merged = Object::new();
                for arg in &call.args {
                    if let Expression::Object(obj) = arg {
                        for (k, v) in obj.iter() {
                            merged.insert(k.clone(), v.clone());
                        }
                    }
                }
                *expr = Expression::Object(merged);
            } else if name == "concat" && call.args.iter().all(|a| matches!(a, Expression::Array(_))) {
                let merged = call
                    .args
                    .iter()
                    .flat_map(|a| match a {
                        Expression::Array(items) => items.clone(),
                        _ => unreachable!(),
                    })
                    .collect();
                *expr = Expression::Array(merged);
            }
        }
        _ => {}
    }
}

// --- the Terraform functions the configuration uses ----------------------------------------------------------------

fn func_identity(args: FuncArgs) -> Result<Value, String> {
    args.into_values()
        .into_iter()
        .next()
        .ok_or_else(|| "missing argument".to_string())
}

fn func_tostring(args: FuncArgs) -> Result<Value, String> {
    match args.into_values().into_iter().next() {
        Some(Value::String(s)) => Ok(Value::String(s)),
        Some(Value::Number(n)) => Ok(Value::String(n.to_string())),
        Some(Value::Bool(b)) => Ok(Value::String(b.to_string())),
        _ => Err("tostring: want a primitive".into()),
    }
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
    ctx.declare_func(
        "tostring",
        FuncDef::builder().param(ParamType::Any).build(func_tostring),
    );
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

// --- reading expressions -------------------------------------------------------------------------------------------

/// The value of a fully literal expression.
pub fn to_value(expr: &Expression) -> Option<Value> {
    Some(match expr {
        Expression::Null => Value::Null,
        Expression::Bool(b) => Value::Bool(*b),
        Expression::Number(n) => Value::Number(*n),
        Expression::String(s) => Value::String(s.clone()),
        Expression::Array(items) => Value::Array(items.iter().map(to_value).collect::<Option<Vec<_>>>()?),
        Expression::Object(obj) => {
            let mut map = hcl::Map::new();
            for (k, v) in obj {
                map.insert(key_str(k)?, to_value(v)?);
            }
            Value::Object(map)
        }
        _ => return None,
    })
}

pub fn key_str(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Identifier(id) => Some(id.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
        ObjectKey::Expression(Expression::Variable(v)) => Some(v.as_str().to_string()),
        _ => None,
    }
}

pub fn object_get<'a>(obj: &'a Object<ObjectKey, Expression>, key: &str) -> Option<&'a Expression> {
    obj.iter()
        .find(|(k, _)| key_str(k).as_deref() == Some(key))
        .map(|(_, v)| v)
}

pub fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| &a.expr)
}

pub fn label(block: &Block, index: usize) -> Option<&str> {
    block.labels().get(index).map(|l| l.as_str())
}

/// Nested blocks of a body with the given identifier (e.g. `health_check`, `network_configuration`).
pub fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == ident)
}

pub fn as_str(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::String(s) => Some(s),
        _ => None,
    }
}

pub fn as_u64(expr: &Expression) -> Option<u64> {
    match expr {
        Expression::Number(n) => n.as_u64(),
        Expression::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `aws_security_group.NAME.id` -> `NAME`.
pub fn referenced_resource<'a>(expr: &'a Expression, kind: &str) -> Option<&'a str> {
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.as_str() != kind {
        return None;
    }
    match t.operators.first() {
        Some(TraversalOperator::GetAttr(name)) => Some(name.as_str()),
        _ => None,
    }
}

/// Short, single-line rendering of an expression for violation messages.
pub fn show(expr: &Expression) -> String {
    match to_value(expr) {
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => v.to_string(),
        None => {
            let text = hcl::format::to_string(expr).unwrap_or_else(|_| format!("{expr:?}"));
            let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            one_line.chars().take(120).collect()
        }
    }
}

/// Every `var.X`, `local.X` and `module.M.O` reference in an expression, including inside string templates, as
/// (root, first attribute, second attribute).
pub fn references(expr: &Expression, out: &mut Vec<(String, String, Option<String>)>) {
    use hcl::expr::Operation;
    use hcl::template::{Directive, Element, Template};

    fn template(t: &Template, out: &mut Vec<(String, String, Option<String>)>) {
        for element in t.elements() {
            match element {
                Element::Literal(_) => {}
                Element::Interpolation(i) => references(&i.expr, out),
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(i) => {
                        references(&i.cond_expr, out);
                        template(&i.true_template, out);
                        if let Some(f) = &i.false_template {
                            template(f, out);
                        }
                    }
                    Directive::For(f) => {
                        references(&f.collection_expr, out);
                        template(&f.template, out);
                    }
                },
            }
        }
    }

    match expr {
        Expression::Traversal(t) => {
            if let Expression::Variable(root) = &t.expr
                && matches!(root.as_str(), "var" | "local" | "module")
                && let Some(TraversalOperator::GetAttr(first)) = t.operators.first()
            {
                let second = match t.operators.get(1) {
                    Some(TraversalOperator::GetAttr(s)) => Some(s.as_str().to_string()),
                    _ => None,
                };
                out.push((root.as_str().to_string(), first.as_str().to_string(), second));
            }
            references(&t.expr, out);
            for op in &t.operators {
                if let TraversalOperator::Index(e) = op {
                    references(e, out);
                }
            }
        }
        Expression::Array(items) => items.iter().for_each(|e| references(e, out)),
        Expression::Object(obj) => {
            for (k, v) in obj {
                if let ObjectKey::Expression(k) = k {
                    references(k, out);
                }
                references(v, out);
            }
        }
        Expression::TemplateExpr(t) => {
            if let Ok(t) = Template::from_expr(t) {
                template(&t, out);
            }
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|e| references(e, out)),
        Expression::Parenthesis(e) => references(e, out),
        Expression::Conditional(c) => {
            references(&c.cond_expr, out);
            references(&c.true_expr, out);
            references(&c.false_expr, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => references(&u.expr, out),
            Operation::Binary(b) => {
                references(&b.lhs_expr, out);
                references(&b.rhs_expr, out);
            }
        },
        Expression::ForExpr(f) => {
            references(&f.collection_expr, out);
            if let Some(k) = &f.key_expr {
                references(k, out);
            }
            references(&f.value_expr, out);
            if let Some(c) = &f.cond_expr {
                references(c, out);
            }
        }
        _ => {}
    }
}

/// Every attribute expression of a body, nested blocks included.
pub fn body_expressions<'a>(body: &'a Body, out: &mut Vec<&'a Expression>) {
    for a in body.attributes() {
        out.push(&a.expr);
    }
    for b in body.blocks() {
        body_expressions(&b.body, out);
    }
}
