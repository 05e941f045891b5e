//! `beer-catalog import FILE|-`: a JSON array of beers in the Punk API v2 shape, or this API's own shape (with or
//! without `id`, `created_at`, `updated_at`). Every record is checked before anything is written; the valid ones
//! are then written in one transaction, so a failure half-way leaves the catalog as it was.

use std::collections::HashMap;
use std::io::IsTerminal;

use anyhow::Context;
use serde_json::Value;

use crate::domain::{BeerFields, FieldError, ViolationKind, validate};
use crate::storage::{DynStore, ImportRecord};

/// A record left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// Position in the file, from 1.
    pub position: usize,
    pub label: String,
    pub reason: String,
}

/// A record imported despite a value outside the catalog's usual range (from a dataset trusted as it is).
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub position: usize,
    pub label: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub records: Vec<ImportRecord>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<Warning>,
}

/// Checks every record of `json`. `strict` also skips records with out-of-range values instead of warning.
pub fn plan(json: &str, strict: bool) -> anyhow::Result<Plan> {
    let value: Value = serde_json::from_str(json).context("the input is not valid JSON")?;
    let Value::Array(items) = value else {
        anyhow::bail!("the input must be a JSON array of beers, got {}", kind_of(&value));
    };
    let mut plan = Plan::default();
    let mut seen_ids: HashMap<i64, usize> = HashMap::new();
    for (index, item) in items.into_iter().enumerate() {
        let position = index + 1;
        let label = label(&item, position);
        match check(item, strict) {
            Ok((record, warnings)) => {
                if let Some(id) = record.id
                    && let Some(first) = seen_ids.insert(id, position)
                {
                    let reason = format!("id {id} appears again (first at record #{first})");
                    plan.skipped.push(Skipped {
                        position,
                        label,
                        reason,
                    });
                    continue;
                }
                plan.warnings.extend(warnings.into_iter().map(|reason| Warning {
                    position,
                    label: label.clone(),
                    reason,
                }));
                plan.records.push(record);
            }
            Err(reason) => plan.skipped.push(Skipped {
                position,
                label,
                reason,
            }),
        }
    }
    Ok(plan)
}

fn check(item: Value, strict: bool) -> Result<(ImportRecord, Vec<String>), String> {
    let Value::Object(mut object) = item else {
        return Err(format!("must be a JSON object, got {}", kind_of(&item)));
    };
    let id = match object.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|id| id >= 1) => n.as_i64(),
        Some(other) => return Err(format!("id: must be a whole number greater than 0, got {other}")),
    };
    // This API's own read shape carries its timestamps; the catalog sets its own.
    object.remove("created_at");
    object.remove("updated_at");
    let fields: BeerFields = serde_json::from_value(Value::Object(object)).map_err(|e| e.to_string())?;
    let violations = validate(&fields).err().unwrap_or_default();
    let (range, invalid): (Vec<FieldError>, Vec<FieldError>) = violations
        .into_iter()
        .partition(|v| v.kind == ViolationKind::OutOfRange && !strict);
    if !invalid.is_empty() {
        return Err(describe(&invalid));
    }
    let warnings = range.iter().map(|v| format!("{}: {}", v.field, v.message)).collect();
    Ok((ImportRecord { id, fields }, warnings))
}

fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

fn label(item: &Value, position: usize) -> String {
    let id = item
        .get("id")
        .and_then(Value::as_i64)
        .map(|id| format!("id {id}, "))
        .unwrap_or_default();
    let name = item.get("name").and_then(Value::as_str).unwrap_or("(no name)");
    format!("record #{position} ({id}{name:?})")
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads `source` (a path, or `-` for standard input).
pub async fn read_source(source: &str) -> anyhow::Result<String> {
    if source == "-" {
        use tokio::io::AsyncReadExt;
        let mut text = String::new();
        tokio::io::stdin()
            .read_to_string(&mut text)
            .await
            .context("reading standard input")?;
        Ok(text)
    } else {
        tokio::fs::read_to_string(source)
            .await
            .with_context(|| format!("reading {source}"))
    }
}

/// What an import run did, for the summary line and the exit code.
pub struct Outcome {
    pub imported: usize,
    pub skipped: usize,
}

/// Writes the plan's records and prints the report: a summary line on stdout, each skip and warning after it.
/// Progress goes to stderr: a bar on a terminal, a line every 10% otherwise (CI logs, ECS tasks).
pub async fn run(store: &DynStore, plan: Plan, dry_run: bool) -> anyhow::Result<Outcome> {
    let total = plan.records.len();
    if !dry_run && total > 0 {
        let bar = indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
        let on_terminal = std::io::stderr().is_terminal();
        let step = total.div_ceil(10).max(1);
        let progress = move |done: usize| {
            bar.set_position(done as u64);
            if !on_terminal && (done.is_multiple_of(step) || done == total) {
                eprintln!("import: written {done}/{total}");
            }
        };
        store
            .import(&plan.records, &progress)
            .await
            .context("writing the beers (nothing was imported)")?;
    }
    let verb = if dry_run { "would import" } else { "imported" };
    println!("{verb} {total}, skipped {}", plan.skipped.len());
    for skipped in &plan.skipped {
        println!("skipped {}: {}", skipped.label, skipped.reason);
    }
    for warning in &plan.warnings {
        println!(
            "warning {}: {} (imported as given; use --strict to skip such records)",
            warning.label, warning.reason
        );
    }
    Ok(Outcome {
        imported: total,
        skipped: plan.skipped.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_record_is_skipped_with_its_reason() {
        let json = r#"[
            {"id": 1, "name": "Good", "abv": 5},
            {"id": 2, "name": "", "abv": 5},
            {"id": "x", "name": "Bad id", "abv": 5},
            {"id": 3, "name": "Typo", "abv": 5, "ibus": 10},
            {"id": 1, "name": "Duplicate", "abv": 5},
            {"name": "Odd pH", "abv": 5, "ph": 79},
            42
        ]"#;
        let plan = plan(json, false).unwrap();
        assert_eq!(plan.records.len(), 2);
        let reasons: Vec<_> = plan.skipped.iter().map(|s| (s.position, s.reason.as_str())).collect();
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert!(reasons[0].1.starts_with("name:"), "{reasons:?}");
        assert!(reasons[1].1.starts_with("id:"), "{reasons:?}");
        assert!(reasons[2].1.contains("unknown field `ibus`"), "{reasons:?}");
        assert!(reasons[3].1.contains("first at record #1"), "{reasons:?}");
        assert!(reasons[4].1.contains("must be a JSON object"), "{reasons:?}");
        assert_eq!(plan.warnings.len(), 1);
        assert!(plan.warnings[0].reason.starts_with("ph:"));
    }

    #[test]
    fn control_characters_skip_the_record_naming_the_field() {
        let plan = plan(
            r#"[{"name": "Tab\tis fine", "abv": 5, "food_pairing": ["ok", "bad\u0001"]}]"#,
            false,
        )
        .unwrap();
        assert!(plan.records.is_empty());
        assert!(
            plan.skipped[0]
                .reason
                .starts_with("food_pairing[1]: must not contain control characters"),
            "{:?}",
            plan.skipped
        );
    }

    #[test]
    fn strict_mode_skips_out_of_range_values() {
        let plan = plan(r#"[{"name": "Odd pH", "abv": 5, "ph": 79}]"#, true).unwrap();
        assert!(plan.records.is_empty());
        assert!(plan.skipped[0].reason.contains("between 0 and 14"));
    }

    #[test]
    fn the_input_must_be_an_array() {
        let error = plan(r#"{"name": "x"}"#, false).unwrap_err().to_string();
        assert!(error.contains("JSON array"), "{error}");
        assert!(plan("[", false).is_err());
    }

    #[test]
    fn the_api_own_read_shape_is_accepted() {
        let json = r#"[{"id": 7, "name": "Mine", "abv": 4.2, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}]"#;
        let plan = plan(json, false).unwrap();
        assert_eq!(plan.records[0].id, Some(7));
    }
}
