//! The docs make promises; these tests hold them: every troubleshooting entry names tests that exist, the state
//! backends lock, the README's two set-up commands are the ones CI runs, and the runbook lists every metric.

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: impl AsRef<Path>) -> String {
    let path = repo().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(entry title, guarding test references)` for each `### ` entry of the troubleshooting guide.
fn troubleshooting_entries(text: &str) -> Vec<(String, Vec<String>)> {
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("### ") {
            entries.push((title.to_owned(), Vec::new()));
        } else if let (Some(entry), Some(reference)) = (entries.last_mut(), line.strip_prefix("- `"))
            && let Some(reference) = reference.strip_suffix('`').filter(|r| r.contains("::"))
        {
            entry.1.push(reference.to_owned());
        }
    }
    entries
}

/// Whether `file::function` names a test function that exists.
fn test_exists(reference: &str) -> bool {
    let Some((file, function)) = reference.split_once("::") else {
        return false;
    };
    let Ok(source) = std::fs::read_to_string(repo().join(file)) else {
        return false;
    };
    source.contains(&format!("fn {function}("))
}

#[test]
fn every_troubleshooting_entry_is_guarded_by_existing_tests() {
    let entries = troubleshooting_entries(&read("docs/troubleshooting.md"));
    assert!(entries.len() >= 10, "{} entries", entries.len());
    for (title, references) in &entries {
        assert!(
            !references.is_empty(),
            "troubleshooting entry {title:?} names no guarding test"
        );
        for reference in references {
            assert!(
                test_exists(reference),
                "{title:?} names {reference}, which does not exist"
            );
        }
    }
}

#[test]
fn the_guard_check_notices_missing_tests() {
    let entries = troubleshooting_entries("### A\n\nGuarded by:\n- `tests/docs.rs::no_such_test`\n### B\ntext\n");
    assert_eq!(entries.len(), 2);
    assert!(!test_exists(&entries[0].1[0]));
    assert!(entries[1].1.is_empty());
    assert!(test_exists("tests/docs.rs::the_guard_check_notices_missing_tests"));
}

/// The S3 backend blocks of every Terraform root, with their `use_lockfile` setting.
fn backends(root: &Path) -> Vec<(PathBuf, Option<bool>)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                for terraform in body.blocks().filter(|b| b.identifier() == "terraform") {
                    for backend in terraform.body().blocks().filter(|b| b.identifier() == "backend") {
                        let lock = backend
                            .body()
                            .attributes()
                            .find(|a| a.key() == "use_lockfile")
                            .map(|a| matches!(a.expr(), hcl::Expression::Bool(true)));
                        found.push((path.clone(), lock));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_state_backend_locks() {
    let found = backends(&repo().join("infra"));
    for root in ["infra/global", "infra/envs/staging", "infra/envs/production"] {
        assert!(
            found.iter().any(|(path, _)| path.starts_with(repo().join(root))),
            "{root} has no backend block"
        );
    }
    for (path, lock) in &found {
        assert_eq!(
            *lock,
            Some(true),
            "{}: backend without use_lockfile = true",
            path.display()
        );
    }
    // And the check sees a backend that does not lock.
    let dir = std::env::temp_dir().join(format!("backend-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("versions.tf"),
        "terraform {\n  backend \"s3\" {\n    key = \"x\"\n  }\n}\n",
    )
    .unwrap();
    let broken = backends(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].1, None);
}

#[test]
fn the_readme_set_up_commands_are_what_ci_runs() {
    let readme = read("README.md");
    assert!(readme.contains("\ncargo run\n"), "README: `cargo run` runs the service");
    assert!(readme.contains("\ncargo test\n"), "README: `cargo test` runs the tests");
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim().starts_with("cargo test")),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn the_operations_runbook_lists_every_exported_metric() {
    let runbook = read("docs/operations.md");
    for metric in beer_catalog::observability::names::CATALOGUE {
        assert!(
            runbook.contains(&format!("| `{}` |", metric.name)),
            "docs/operations.md (Metrics and traces) does not list {}",
            metric.name
        );
    }
}
