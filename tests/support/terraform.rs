//! Narrow reads of the Terraform under `infra/`: the `.tf` files of one directory parsed with `hcl-rs`, and
//! lookups of named blocks, attributes and locals. Nothing here evaluates Terraform: a check reads a literal, follows
//! a `local.X` / `var.X` to its definition (a module variable to the argument one caller passes, or its default),
//! or fills the `${...}` of a name template with values the check names itself. Whatever does not reduce that
//! way is reported as unreadable, never guessed. Whether the configuration is valid Terraform (references,
//! arguments, types against the AWS provider schema) is `../shared/tools/tf-schema/check infra`'s job.

#![allow(dead_code)] // each test crate uses part of it

use hcl::expr::{BinaryOperator, Object, ObjectKey, Operation, TraversalOperator};
use hcl::{Block, Body, Expression};
use std::path::Path;

/// One Terraform directory: every `.tf` file in it, parsed.
pub struct Dir {
    pub name: String,
    pub files: Vec<(String, Body)>,
}

impl Dir {
    /// `infra/<rel>`, e.g. `Dir::load("modules/service")`.
    pub fn load(rel: &str) -> Dir {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("infra").join(rel);
        let mut files: Vec<(String, String)> = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|ext| ext == "tf"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        Dir::parse(rel, files)
    }

    /// The same directory with one file's text changed first: how a test builds a broken copy of the real
    /// configuration. Fails when `from` is not in the file, so a fixture cannot silently stop applying.
    pub fn load_broken(rel: &str, file: &str, from: &str, to: &str) -> Dir {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("infra").join(rel);
        let mut files = Vec::new();
        for (name, _) in Dir::load(rel).files {
            let mut text = std::fs::read_to_string(dir.join(&name)).unwrap();
            if name == file {
                assert!(
                    text.contains(from),
                    "infra/{rel}/{file} has no `{from}`: the fixture is stale"
                );
                text = text.replacen(from, to, 1);
            }
            files.push((name, text));
        }
        Dir::parse(rel, files)
    }

    fn parse(rel: &str, files: Vec<(String, String)>) -> Dir {
        let files = files
            .into_iter()
            .map(|(name, text)| {
                let body = hcl::parse(&text).unwrap_or_else(|e| panic!("infra/{rel}/{name}: {e}"));
                (name, body)
            })
            .collect();
        Dir {
            name: format!("infra/{rel}"),
            files,
        }
    }

    /// Top-level blocks `kind "labels[0]" "labels[1]"`, e.g. `("resource", &["aws_iam_role", "task"])`; a shorter
    /// `labels` matches any further labels.
    pub fn blocks(&self, kind: &str, labels: &[&str]) -> Vec<&Block> {
        let matches =
            |b: &&Block| b.identifier() == kind && labels.iter().enumerate().all(|(i, l)| label(b, i) == Some(*l));
        self.files
            .iter()
            .flat_map(|(_, body)| body.blocks())
            .filter(matches)
            .collect()
    }

    pub fn block(&self, kind: &str, labels: &[&str]) -> Option<&Block> {
        self.blocks(kind, labels).into_iter().next()
    }

    pub fn local(&self, name: &str) -> Option<&Expression> {
        self.blocks("locals", &[]).into_iter().find_map(|b| attr(&b.body, name))
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
        .find(|(k, _)| key_str(k).as_deref() == Some(key))
        .map(|(_, v)| v)
}

/// `local.NAME` / `var.NAME` -> `("local", "NAME")`; other expressions -> `None`.
pub fn reference(expr: &Expression) -> Option<(&str, &str)> {
    let Expression::Traversal(t) = expr else { return None };
    let (Expression::Variable(root), [TraversalOperator::GetAttr(name)]) = (&t.expr, t.operators.as_slice()) else {
        return None;
    };
    Some((root.as_str(), name.as_str()))
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
    if let Some((root, name)) = reference(expr) {
        if root == "local"
            && let Some(local) = dir.local(name)
        {
            return render(local, dir, bindings);
        }
        let bound = bindings.iter().find(|(b, _)| *b == format!("{root}.{name}"));
        return bound
            .map(|(_, value)| value.to_string())
            .ok_or_else(|| format!("no value for {root}.{name}"));
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

/// A literal value, as text: a string, a number, or what `tostring(...)`, `local.X`, `var.X` and `a + b` of
/// numbers reduce to. `var.X` is the argument `caller` passes to this module (read in the caller's directory)
/// or the variable's default.
pub fn literal(expr: &Expression, dir: &Dir, caller: Option<(&Dir, &Block)>) -> Result<String, String> {
    let unreadable = || format!("{}: cannot read {} as a literal", dir.name, show(expr));
    match expr {
        Expression::String(s) => Ok(s.clone()),
        Expression::Number(n) => Ok(n.to_string()),
        Expression::Bool(b) => Ok(b.to_string()),
        Expression::Parenthesis(inner) => literal(inner, dir, caller),
        Expression::FuncCall(call) if call.name.name.as_str() == "tostring" && call.args.len() == 1 => {
            literal(&call.args[0], dir, caller)
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Binary(b) if b.operator == BinaryOperator::Plus => {
                let number = |e| literal(e, dir, caller)?.parse::<i64>().map_err(|_| unreadable());
                Ok((number(&b.lhs_expr)? + number(&b.rhs_expr)?).to_string())
            }
            _ => Err(unreadable()),
        },
        _ => match reference(expr) {
            Some(("local", name)) => literal(dir.local(name).ok_or_else(unreadable)?, dir, caller),
            Some(("var", name)) => {
                if let Some((caller_dir, call)) = caller
                    && let Some(arg) = attr(&call.body, name)
                {
                    return literal(arg, caller_dir, None);
                }
                let default = dir.block("variable", &[name]).and_then(|v| attr(&v.body, "default"));
                literal(default.ok_or_else(unreadable)?, dir, None)
            }
            _ => Err(unreadable()),
        },
    }
}

/// One-line rendering of an expression for messages.
pub fn show(expr: &Expression) -> String {
    let text = hcl::format::to_string(expr).unwrap_or_else(|_| format!("{expr:?}"));
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(120)
        .collect()
}
