//! `beer-catalog import FILE|-`: a JSON array of beers in the Punk API v2 shape, or this API's own shape (with or
//! without `id`, `created_at`, `updated_at`), or a BeerXML / BeerJSON document of one recipe or many (each recipe
//! mapped to a beer by [`crate::domain::recipe_formats`], then checked like a JSON record). Every record is checked before anything is written; the valid ones
//! are then written in one transaction, so a failure half-way leaves the catalog as it was. With `--images DIR`
//! the label image each record's `image_url` names is loaded from DIR and written in that same transaction.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde_json::Value;

use crate::domain::image::inspect;
use crate::domain::json_kind;
use crate::domain::recipe_formats::RecipeFormat;
use crate::domain::rendition::with_renditions;
use crate::domain::{BeerFields, FieldError, ImageLimits, NewImage, ViolationKind, validate};
use crate::storage::{DynDatabase, ImportRecord};

/// A record left out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// Position in the file, from 1.
    pub position: usize,
    pub label: String,
    pub reason: String,
}

/// A record imported despite a problem: a value outside the catalog's usual range (from a dataset trusted as it
/// is), or a label image that could not be loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub position: usize,
    pub label: String,
    pub reason: String,
    /// What was done about it.
    pub outcome: &'static str,
}

const OUT_OF_RANGE_OUTCOME: &str = "imported as given; use --strict to skip such records";
const IMAGE_OUTCOME: &str = "imported without a stored image, image_url as written";

#[derive(Debug, Default)]
pub struct Plan {
    pub records: Vec<ImportRecord>,
    /// Each record's position in the file and label, in `records` order (for warnings found after planning).
    pub sources: Vec<(usize, String)>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<Warning>,
    /// What `--images` loaded, when given.
    pub images: Option<ImageSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSummary {
    /// Records that got an image.
    pub records: usize,
    /// Distinct images among them (stored once each).
    pub distinct: usize,
}

/// Checks every record of `json` (or of a BeerXML / BeerJSON document). `strict` also skips records with
/// out-of-range values instead of warning.
pub fn plan(json: &str, strict: bool) -> anyhow::Result<Plan> {
    let items = match RecipeFormat::sniff(json) {
        // An object that is not a BeerJSON document is a JSON import in the wrong shape: say what is expected.
        Some(RecipeFormat::BeerJson) if !json.contains("\"beerjson\"") => anyhow::bail!(
            "the input must be a JSON array of beers (or a BeerJSON document, {{\"beerjson\": ...}}), got an object"
        ),
        Some(format) => super::import_recipes::records(format, json)?,
        None => {
            let value: Value = serde_json::from_str(json).context("the input is not valid JSON")?;
            let Value::Array(items) = value else {
                anyhow::bail!("the input must be a JSON array of beers, got {}", json_kind(&value));
            };
            items
        }
    };
    let mut plan = Plan::default();
    let mut checker = Checker::new(strict);
    for item in items {
        if let Some((record, position, label)) = checker.accept(item) {
            plan.records.push(record);
            plan.sources.push((position, label));
        }
    }
    plan.skipped = checker.skipped;
    plan.warnings = checker.warnings;
    Ok(plan)
}

/// Checks records one at a time, in file order, remembering what it skipped and warned about and which ids it has
/// seen (a repeated id is skipped: one import must not write a beer twice).
pub struct Checker {
    strict: bool,
    position: usize,
    seen_ids: HashMap<i64, usize>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<Warning>,
}

impl Checker {
    pub fn new(strict: bool) -> Self {
        Self {
            strict,
            position: 0,
            seen_ids: HashMap::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The next record of the file: the record to write with its position and label, or `None` when skipped.
    pub fn accept(&mut self, item: Value) -> Option<(ImportRecord, usize, String)> {
        self.position += 1;
        let position = self.position;
        let label = label(&item, position);
        match check(item, self.strict) {
            Ok((record, warnings)) => {
                if let Some(id) = record.id
                    && let Some(first) = self.seen_ids.insert(id, position)
                {
                    let reason = format!("id {id} appears again (first at record #{first})");
                    self.skipped.push(Skipped {
                        position,
                        label,
                        reason,
                    });
                    return None;
                }
                self.warnings.extend(warnings.into_iter().map(|reason| Warning {
                    position,
                    label: label.clone(),
                    reason,
                    outcome: OUT_OF_RANGE_OUTCOME,
                }));
                Some((record, position, label))
            }
            Err(reason) => {
                self.skipped.push(Skipped {
                    position,
                    label,
                    reason,
                });
                None
            }
        }
    }
}

fn check(item: Value, strict: bool) -> Result<(ImportRecord, Vec<String>), String> {
    let Value::Object(mut object) = item else {
        return Err(format!("must be a JSON object, got {}", json_kind(&item)));
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
    Ok((
        ImportRecord {
            id,
            fields,
            image: None,
        },
        warnings,
    ))
}

/// Loads the label image of every record whose `image_url` names a file in `dir` (the URL's last path segment).
/// A file missing, unreadable or not an accepted image is a warning on each record that names it; the record is
/// imported all the same, keeping its `image_url` as written. Each file is read once, however many records name
/// it, and checked against the same limits as an upload; files are loaded (and their renditions made) on as many
/// threads as there are cores.
pub async fn load_images(plan: &mut Plan, dir: &Path, limits: ImageLimits) -> anyhow::Result<()> {
    let metadata = tokio::fs::metadata(dir)
        .await
        .with_context(|| format!("--images {}: cannot read the directory", dir.display()))?;
    anyhow::ensure!(metadata.is_dir(), "--images {}: not a directory", dir.display());
    let names = plan
        .records
        .iter()
        .filter_map(|record| record.fields.image_url.as_deref().and_then(file_name));
    let files = load_files(names, dir, limits).await;
    let mut summary = ImageSummary {
        records: 0,
        distinct: 0,
    };
    for (record, (position, label)) in plan.records.iter_mut().zip(&plan.sources) {
        let Some(url) = record.fields.image_url.as_deref() else {
            continue;
        };
        let loaded = match file_name(url) {
            Some(name) => files[&name].clone(),
            None => Err(format!("image: image_url {url:?} names no file")),
        };
        match loaded {
            Ok(image) => {
                record.image = Some(image);
                summary.records += 1;
            }
            Err(reason) => plan.warnings.push(Warning {
                position: *position,
                label: label.clone(),
                reason,
                outcome: IMAGE_OUTCOME,
            }),
        }
    }
    let mut distinct: Vec<&str> = files
        .values()
        .flatten()
        .map(|image| image.meta.image.sha256.as_str())
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    summary.distinct = distinct.len();
    plan.warnings.sort_by_key(|warning| warning.position);
    plan.images = Some(summary);
    Ok(())
}

/// The file an image URL names: its last path segment (`https://images.punkapi.com/v2/keg.png` -> `keg.png`).
fn file_name(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let segment = url.path_segments()?.next_back()?;
    let name = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
    // Decoded, a name could hold a separator or be a dot name: none may lead out of the directory.
    let safe = !matches!(&*name, "" | "." | "..") && !name.contains(['/', '\\', '\0']);
    safe.then(|| name.into_owned())
}

/// Each distinct file of `names` loaded once, a few at a time (decoding for the renditions is CPU work).
async fn load_files(
    names: impl Iterator<Item = String>,
    dir: &Path,
    limits: ImageLimits,
) -> HashMap<String, Result<Arc<NewImage>, String>> {
    let mut files = HashMap::new();
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut loading = tokio::task::JoinSet::new();
    for name in names {
        if files.contains_key(&name) {
            continue;
        }
        files.insert(name.clone(), Err(String::new()));
        if loading.len() >= parallel
            && let Some(done) = loading.join_next().await
        {
            let (name, loaded) = done.expect("loading an image does not panic");
            files.insert(name, loaded);
        }
        let dir = dir.to_owned();
        loading.spawn(async move {
            let loaded = load_image(&dir, &name, limits).await;
            (name, loaded)
        });
    }
    while let Some(done) = loading.join_next().await {
        let (name, loaded) = done.expect("loading an image does not panic");
        files.insert(name, loaded);
    }
    files
}

async fn load_image(dir: &Path, name: &str, limits: ImageLimits) -> Result<Arc<NewImage>, String> {
    let path = dir.join(name);
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("image: {name} is not in {}", dir.display()));
        }
        Err(error) => return Err(format!("image: cannot read {}: {error}", path.display())),
    };
    // Decoded whole for its renditions (stored with it): tens of milliseconds of CPU, on the blocking pool.
    let judged = tokio::task::spawn_blocking(move || inspect(bytes, limits).and_then(with_renditions))
        .await
        .map_err(|error| format!("image: judging {}: {error}", path.display()))?;
    judged
        .map(Arc::new)
        .map_err(|rejection| format!("image: {} is not accepted: {rejection}", path.display()))
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
pub async fn run(store: &DynDatabase, mut plan: Plan, dry_run: bool, all_or_nothing: bool) -> anyhow::Result<Outcome> {
    let refused = all_or_nothing && !plan.skipped.is_empty();
    if refused {
        plan.records.clear();
    }
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
    if refused {
        println!("{}", nothing_written(plan.skipped.len()));
    }
    if let Some(images) = plan.images {
        println!(
            "images: {} records {} one of {} distinct images",
            images.records,
            if dry_run { "would get" } else { "got" },
            images.distinct
        );
    }
    print_problems(&plan.skipped, &plan.warnings);
    Ok(Outcome {
        imported: total,
        skipped: plan.skipped.len(),
    })
}

/// What `--all-or-nothing` says when a record was invalid.
pub fn nothing_written(skipped: usize) -> String {
    format!(
        "nothing written: {skipped} records are invalid and --all-or-nothing is set (fix them, or drop the flag to import the valid ones)"
    )
}

/// Each skipped record and each warning, one a line, after the summary.
pub fn print_problems(skipped: &[Skipped], warnings: &[Warning]) {
    for skipped in skipped {
        println!("skipped {}: {}", skipped.label, skipped.reason);
    }
    for warning in warnings {
        println!("warning {}: {} ({})", warning.label, warning.reason, warning.outcome);
    }
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
    fn image_file_names_come_from_the_url_and_stay_in_the_directory() {
        assert_eq!(
            file_name("https://images.punkapi.com/v2/keg.png").as_deref(),
            Some("keg.png")
        );
        assert_eq!(
            file_name("https://example.com/a/b/12.png?size=large").as_deref(),
            Some("12.png")
        );
        assert_eq!(file_name("https://example.com/v2/"), None);
        assert_eq!(file_name("https://example.com/v2/%2E%2E"), None);
        assert_eq!(file_name("https://example.com/..%5Csecret"), None);
        assert_eq!(file_name("https://example.com/a%2F..%2Fb.png"), None);
        assert_eq!(
            file_name("https://example.com/My%20Beer.png").as_deref(),
            Some("My Beer.png")
        );
    }

    #[tokio::test]
    async fn images_are_loaded_once_per_file_and_problems_are_warnings() {
        let dir = std::env::temp_dir().join(format!("import-images-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A real PNG of 1 x 1 pixels: it is decoded whole, for its renditions.
        let mut png = Vec::new();
        image::RgbaImage::new(1, 1)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        std::fs::write(dir.join("keg.png"), &png).unwrap();
        std::fs::write(dir.join("notes.png"), b"not an image at all").unwrap();
        let json = r#"[
            {"id": 1, "name": "A", "abv": 5, "image_url": "https://images.punkapi.com/v2/keg.png"},
            {"id": 2, "name": "B", "abv": 5, "image_url": "https://images.punkapi.com/v2/keg.png"},
            {"id": 3, "name": "C", "abv": 5, "image_url": "https://images.punkapi.com/v2/missing.png"},
            {"id": 4, "name": "D", "abv": 5, "image_url": "https://images.punkapi.com/v2/notes.png"},
            {"id": 5, "name": "E", "abv": 5, "image_url": null}
        ]"#;
        let mut plan = plan(json, false).unwrap();
        let limits = ImageLimits {
            max_bytes: 1024,
            max_dimension: 10,
        };
        load_images(&mut plan, &dir, limits).await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(
            plan.images,
            Some(ImageSummary {
                records: 2,
                distinct: 1
            })
        );
        let (first, second) = (
            plan.records[0].image.as_ref().unwrap(),
            plan.records[1].image.as_ref().unwrap(),
        );
        assert!(Arc::ptr_eq(first, second), "one file, loaded once");
        assert!(plan.records[2..].iter().all(|record| record.image.is_none()));
        let warnings: Vec<_> = plan
            .warnings
            .iter()
            .map(|w| (w.position, w.reason.as_str(), w.outcome))
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!(warnings[0].0, 3);
        assert!(warnings[0].1.contains("missing.png is not in"), "{warnings:?}");
        assert_eq!(warnings[1].0, 4);
        assert!(
            warnings[1].1.contains("notes.png is not accepted") && warnings[1].1.contains("PNG, JPEG or WebP"),
            "{warnings:?}"
        );
        assert_eq!(warnings[1].2, IMAGE_OUTCOME);

        let error = load_images(&mut plan, Path::new("/no/such/dir"), limits)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("--images /no/such/dir"), "{error}");
    }

    #[test]
    fn the_api_own_read_shape_is_accepted() {
        let json = r#"[{"id": 7, "name": "Mine", "abv": 4.2, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}]"#;
        let plan = plan(json, false).unwrap();
        assert_eq!(plan.records[0].id, Some(7));
    }
}
