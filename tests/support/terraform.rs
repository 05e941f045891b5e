//! Narrow reads of the Terraform under `infra/`: the `.tf` files of a directory parsed with `hcl-rs`, lookups of
//! named blocks, attributes and locals, and `Infra::resolve`, which follows a reference one named step at a time
//! (`local.X`; a module's `var.X[.field]` to the argument `modules/environment` passes or the default;
//! `module.M.O` to that output's value). Nothing here evaluates Terraform: what does not reduce that way is reported
//! as unreadable, never guessed. Whether the configuration is valid Terraform (references, arguments, types against
//! the AWS provider schema) is `../shared/tools/tf-schema/check infra`'s job.

#![allow(dead_code)] // each test crate uses part of it

use hcl::expr::{BinaryOperator, Object, ObjectKey, Operation, TraversalOperator};
use hcl::{Block, Body, Expression};
use std::path::Path;

/// One Terraform directory: every `.tf` file in it, parsed. `rel` is its path under `infra/`.
pub struct Dir {
    pub rel: String,
    pub name: String,
    pub files: Vec<(String, Body)>,
}

impl Dir {
    /// `infra/<rel>`, e.g. `Dir::load("modules/service")`.
    pub fn load(rel: &str) -> Dir {
        Dir::load_edited(rel, None)
    }

    /// `infra/<rel>` with `edit = (file, from, to)` applied first: how a test builds a broken copy of the real
    /// configuration. Fails when `from` is not in the file, so a fixture cannot silently stop applying.
    pub fn load_edited(rel: &str, edit: Option<(&str, &str, &str)>) -> Dir {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("infra").join(rel);
        let entries = std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let names = entries.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned());
        let mut names: Vec<String> = names.filter(|name| name.ends_with(".tf")).collect();
        if let Some((file, ..)) = edit.filter(|(file, ..)| !names.iter().any(|name| name == file)) {
            panic!("infra/{rel}/{file}: no such file to edit");
        }
        names.sort();
        let files = names.into_iter().map(|name| {
            let mut text = std::fs::read_to_string(path.join(&name)).unwrap();
            if let Some((file, from, to)) = edit.filter(|(file, ..)| *file == name) {
                let stale = format!("infra/{rel}/{file} has no `{from}`: the fixture is stale");
                assert!(text.contains(from), "{stale}");
                text = text.replacen(from, to, 1);
            }
            let body = hcl::parse(&text).unwrap_or_else(|e| panic!("infra/{rel}/{name}: {e}"));
            (name, body)
        });
        let (rel, name) = (rel.to_string(), format!("infra/{rel}"));
        Dir {
            rel,
            name,
            files: files.collect(),
        }
    }

    /// Top-level blocks `kind "labels[0]" "labels[1]"`, e.g. `("resource", &["aws_iam_role", "task"])`; a shorter
    /// `labels` matches any further labels.
    pub fn blocks(&self, kind: &str, labels: &[&str]) -> Vec<&Block> {
        let matches =
            |b: &&Block| b.identifier() == kind && labels.iter().enumerate().all(|(i, l)| label(b, i) == Some(*l));
        let blocks = self.files.iter().flat_map(|(_, body)| body.blocks());
        blocks.filter(matches).collect()
    }

    pub fn block(&self, kind: &str, labels: &[&str]) -> Option<&Block> {
        self.blocks(kind, labels).into_iter().next()
    }

    pub fn local(&self, name: &str) -> Option<&Expression> {
        self.blocks("locals", &[]).into_iter().find_map(|b| attr(&b.body, name))
    }
}

/// The directories under `infra/` the checks read. `modules/environment` is the one caller of every module, so a
/// module's `var.X` is the argument it passes there.
pub struct Infra {
    pub dirs: Vec<Dir>,
}

impl Infra {
    pub fn load(rels: &[&str]) -> Infra {
        Infra::load_edited(rels, None)
    }

    /// `edit = (path under infra/ of one file, from, to)`, e.g. `("modules/service/service.tf", "a", "b")`.
    pub fn load_edited(rels: &[&str], edit: Option<(&str, &str, &str)>) -> Infra {
        let edit = edit.map(|(path, from, to)| (path.rsplit_once('/').expect("dir/file"), from, to));
        if let Some(((dir, _), ..)) = edit {
            assert!(rels.contains(&dir), "{dir} is not read by these checks");
        }
        let dirs = rels.iter().map(|rel| {
            let edit = edit.filter(|((dir, _), ..)| dir == rel);
            Dir::load_edited(rel, edit.map(|((_, file), from, to)| (file, from, to)))
        });
        Infra { dirs: dirs.collect() }
    }

    pub fn dir(&self, rel: &str) -> Result<&Dir, String> {
        let dir = self.dirs.iter().find(|d| d.rel == rel);
        dir.ok_or(format!("infra/{rel} is not read here"))
    }

    /// Follows `expr`, written in `dir`, while it is `local.X`, a module's `var.X[.field...]` or (in
    /// `modules/environment`) `module.M.O`; returns the expression reached and the directory it is written in.
    pub fn resolve<'a>(&'a self, dir: &'a Dir, expr: &'a Expression) -> Result<(&'a Dir, &'a Expression), String> {
        let unreadable = || format!("{}: cannot follow {}", dir.name, show(expr));
        let Some((root, parts)) = path(expr) else {
            return Ok((dir, expr));
        };
        let (dir, value, fields) = match (root, parts.as_slice()) {
            ("local", [name]) => (dir, dir.local(name), &[][..]),
            ("var", [name, fields @ ..]) => {
                let environment = self.dir("modules/environment")?;
                let module = dir.rel.strip_prefix("modules/").filter(|_| dir.rel != environment.rel);
                let argument = module.and_then(|m| attr(&environment.block("module", &[m])?.body, name));
                let default = || dir.block("variable", &[name]).and_then(|v| attr(&v.body, "default"));
                match argument {
                    Some(argument) => (environment, Some(argument), fields),
                    None => (dir, default(), fields),
                }
            }
            ("module", [module, output]) if dir.rel == "modules/environment" => {
                let module = self.dir(&format!("modules/{module}"))?;
                let value = module.block("output", &[output]).and_then(|o| attr(&o.body, "value"));
                (module, value, &[][..])
            }
            _ => return Ok((dir, expr)),
        };
        let (mut dir, mut value) = (dir, value.ok_or_else(unreadable)?);
        for field in fields {
            let (at, object) = self.resolve(dir, value)?;
            dir = at;
            let Expression::Object(object) = object else {
                return Err(unreadable());
            };
            value = object_get(object, field).ok_or_else(unreadable)?;
        }
        self.resolve(dir, value)
    }

    /// A literal value, as text: a string, a number, a bool, or what `tostring(...)`, `(...)` and `a + b` of
    /// numbers reduce to, after [`Infra::resolve`].
    pub fn literal(&self, dir: &Dir, expr: &Expression) -> Result<String, String> {
        let (dir, expr) = self.resolve(dir, expr)?;
        let unreadable = || format!("{}: cannot read {} as a literal", dir.name, show(expr));
        match expr {
            Expression::String(s) => Ok(s.clone()),
            Expression::Number(n) => Ok(n.to_string()),
            Expression::Bool(b) => Ok(b.to_string()),
            Expression::Parenthesis(inner) => self.literal(dir, inner),
            Expression::FuncCall(call) if call.name.name.as_str() == "tostring" && call.args.len() == 1 => {
                self.literal(dir, &call.args[0])
            }
            Expression::Operation(op) => match op.as_ref() {
                Operation::Binary(b) if b.operator == BinaryOperator::Plus => {
                    let number = |e| self.literal(dir, e)?.parse::<i64>().map_err(|_| unreadable());
                    Ok((number(&b.lhs_expr)? + number(&b.rhs_expr)?).to_string())
                }
                _ => Err(unreadable()),
            },
            _ => Err(unreadable()),
        }
    }
}

pub fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| &a.expr)
}

pub fn label(block: &Block, index: usize) -> Option<&str> {
    block.labels().get(index).map(|l| l.as_str())
}

/// Nested blocks of a body (`health_check`, `statement`, ...).
pub fn nested<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == ident)
}

pub fn key_str(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Identifier(id) => Some(id.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
        _ => None,
    }
}

pub fn object_get<'a>(obj: &'a Object<ObjectKey, Expression>, key: &str) -> Option<&'a Expression> {
    obj.iter()
        .find_map(|(k, v)| (key_str(k).as_deref() == Some(key)).then_some(v))
}

/// `root.a["b"].c` -> `("root", ["a", "b", "c"])`; other expressions (and other indexes) -> `None`.
pub fn path(expr: &Expression) -> Option<(&str, Vec<String>)> {
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let parts = t.operators.iter().map(|op| match op {
        TraversalOperator::GetAttr(id) => Some(id.as_str().to_string()),
        TraversalOperator::Index(Expression::String(s)) => Some(s.clone()),
        _ => None,
    });
    Some((root.as_str(), parts.collect::<Option<_>>()?))
}

/// The source text of a string or template, e.g. `${var.name_prefix}-api`.
pub fn template_text(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.clone()),
        Expression::TemplateExpr(t) => Some(t.to_string()),
        _ => None,
    }
}

/// Fills a name template's `${...}` from `bindings` (`("var.name_prefix", "beer-catalog-staging")`); a bare
/// `local.X` is read from `dir` first. An interpolation without a binding is an error naming it.
pub fn render(expr: &Expression, dir: &Dir, bindings: &[(&str, &str)]) -> Result<String, String> {
    if let Some((root, [name])) = path(expr).as_ref().map(|(root, parts)| (*root, parts.as_slice())) {
        if root == "local"
            && let Some(local) = dir.local(name)
        {
            return render(local, dir, bindings);
        }
        let bound = bindings.iter().find(|(b, _)| *b == format!("{root}.{name}"));
        return bound
            .map(|(_, value)| value.to_string())
            .ok_or(format!("no value for {root}.{name}"));
    }
    let mut text = template_text(expr).ok_or_else(|| format!("not a string: {}", show(expr)))?;
    for (name, value) in bindings {
        text = text.replace(&format!("${{{name}}}"), value);
    }
    match text.find("${") {
        Some(at) => Err(format!("cannot fill {} in {text:?}", &text[at..])),
        None => Ok(text),
    }
}

/// One-line rendering of an expression for messages.
pub fn show(expr: &Expression) -> String {
    let text = hcl::format::to_string(expr).unwrap_or_else(|_| format!("{expr:?}"));
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ").chars().take(120).collect()
}
