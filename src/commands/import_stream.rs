//! `import` at catalog scale: the input is parsed as a stream (one record's parse tree at a time, never the whole
//! array), each record checked as it is read, and the valid ones handed in batches to the store, which writes them
//! inside one transaction while the next batch is parsed (beers new to the catalog through the backend's bulk path,
//! `COPY` on PostgreSQL, existing ids as multi-row upserts; see `storage::bulk`). Memory stays bounded by the
//! batches in flight, whatever the file's size. The transaction commits only when the whole input was read and,
//! with `--all-or-nothing`, every record was valid; a parse error, a database error or an interruption (the
//! process killed) leaves the catalog as it was.

use std::io::{BufReader, IsTerminal, Read};
use std::time::Instant;

use anyhow::Context;
use serde::de::{DeserializeSeed, Deserializer as _, SeqAccess, Visitor};
use serde_json::Value;
use tokio::sync::mpsc;

use super::import::{Checker, Outcome, nothing_written, print_problems};
use crate::storage::{DynDatabase, ImportMessage, ImportRecord};

/// Records a batch carries from the reader to the writer; two batches in flight bound the memory.
const BATCH: usize = 2_000;
/// A progress line every so many records when standard error is not a terminal (CI logs, ECS tasks).
const PROGRESS_EVERY: usize = 100_000;

pub struct StreamOptions {
    pub strict: bool,
    pub all_or_nothing: bool,
    pub dry_run: bool,
}

/// What the reader found.
struct ReadReport {
    checker: Checker,
    accepted: usize,
    /// The reader told the writer to commit.
    committed: bool,
}

/// Imports `source` (a path, or `-` for standard input) into `store`, printing the report as `run` does.
pub async fn run(store: &DynDatabase, source: &str, options: StreamOptions) -> anyhow::Result<Outcome> {
    let input: Box<dyn Read + Send> = if source == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(source).with_context(|| format!("reading {source}"))?)
    };
    let (sender, mut receiver) = mpsc::channel::<ImportMessage>(2);
    let StreamOptions {
        strict,
        all_or_nothing,
        dry_run,
    } = options;
    let reader = tokio::task::spawn_blocking(move || read(input, strict, all_or_nothing, &sender));

    let started = Instant::now();
    let on_terminal = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    let progress = move |done: usize| {
        bar.set_position(done as u64);
        // The first batch too: it says rows are being written (inside the transaction, not yet visible).
        let first = done <= BATCH;
        if !on_terminal && (first || done / PROGRESS_EVERY != (done - done.min(BATCH)) / PROGRESS_EVERY) {
            eprintln!("import: written {done}");
        }
    };
    let written = if dry_run {
        // Read and check everything, write nothing.
        while receiver.recv().await.is_some() {}
        Ok(false)
    } else {
        store.import_stream(&mut receiver, &progress).await
    };
    // The reader may be waiting to hand over a batch the writer will never take.
    drop(receiver);
    let report = reader.await.context("the import reader stopped")??;
    let committed = written.context("writing the beers (nothing was imported)")?;

    let refused = all_or_nothing && !report.checker.skipped.is_empty();
    let imported = if committed { report.accepted } else { 0 };
    if committed {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "import: written {imported}/{imported} in {seconds:.1} s ({:.0} beers/s)",
            imported as f64 / seconds.max(0.001)
        );
    }
    let verb = if dry_run { "would import" } else { "imported" };
    let count = if dry_run && !refused { report.accepted } else { imported };
    println!("{verb} {count}, skipped {}", report.checker.skipped.len());
    if refused {
        println!("{}", nothing_written(report.checker.skipped.len()));
    }
    debug_assert!(dry_run || refused || report.committed == committed);
    print_problems(&report.checker.skipped, &report.checker.warnings);
    Ok(Outcome {
        imported: count,
        skipped: report.checker.skipped.len(),
    })
}

/// Parses and checks the input, sending valid records in batches, then `Commit` when the writer may keep them.
fn read(
    input: Box<dyn Read + Send>,
    strict: bool,
    all_or_nothing: bool,
    sender: &mpsc::Sender<ImportMessage>,
) -> anyhow::Result<ReadReport> {
    let mut state = ReadState {
        checker: Checker::new(strict),
        batch: Vec::with_capacity(BATCH),
        accepted: 0,
        sender,
        writer_gone: false,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, input));
    let parsed = (&mut deserializer)
        .deserialize_seq(Records(&mut state))
        .and_then(|()| deserializer.end());
    if state.writer_gone {
        // The writer failed; it reports why.
        return Ok(ReadReport {
            checker: state.checker,
            accepted: state.accepted,
            committed: false,
        });
    }
    parsed.context("the input is not a valid JSON array of beers (nothing was imported)")?;
    state.flush();
    let keep = (!all_or_nothing || state.checker.skipped.is_empty()) && !state.writer_gone;
    let committed = keep && sender.blocking_send(ImportMessage::Commit).is_ok();
    Ok(ReadReport {
        checker: state.checker,
        accepted: state.accepted,
        committed,
    })
}

struct ReadState<'a> {
    checker: Checker,
    batch: Vec<ImportRecord>,
    accepted: usize,
    sender: &'a mpsc::Sender<ImportMessage>,
    writer_gone: bool,
}

impl ReadState<'_> {
    fn flush(&mut self) {
        if self.batch.is_empty() || self.writer_gone {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.writer_gone = self.sender.blocking_send(ImportMessage::Batch(batch)).is_err();
    }
}

/// The top-level array, visited element by element: each element is parsed, checked and dropped before the next.
struct Records<'s, 'a>(&'s mut ReadState<'a>);

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON array of beers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.0;
        while let Some(item) = seq.next_element::<Value>()? {
            if let Some((record, _, _)) = state.checker.accept(item) {
                state.batch.push(record);
                state.accepted += 1;
                if state.batch.len() >= BATCH {
                    state.flush();
                    if state.writer_gone {
                        return Err(serde::de::Error::custom("the writer stopped"));
                    }
                }
            }
        }
        Ok(())
    }
}
