//! `import` of recipe files from brewing software (BeerXML, BeerJSON): each recipe mapped to a beer by
//! [`crate::domain::recipe_formats`], then checked by [`super::import::plan`] like a record of a JSON import.

use anyhow::Context;
use serde_json::Value;

use crate::domain::recipe_formats::{self, RecipeFormat};

/// The beers of a recipe document, as records to check.
pub fn records(format: RecipeFormat, text: &str) -> anyhow::Result<Vec<Value>> {
    let name = match format {
        RecipeFormat::BeerXml => "BeerXML",
        RecipeFormat::BeerJson => "BeerJSON",
    };
    let beers = recipe_formats::import(format, text)
        .map_err(|e| anyhow::anyhow!("the input is not a readable {name} document (nothing was imported): {e}"))?;
    Ok(beers
        .into_iter()
        .map(|beer| serde_json::to_value(beer).expect("a beer serialises"))
        .collect())
}

/// The recipe format of the file `source` names, from its first bytes; `None` for a JSON array or standard input
/// (read as JSON, streamed).
pub fn recipe_format_of(source: &str) -> anyhow::Result<Option<RecipeFormat>> {
    use std::io::Read;
    if source == "-" {
        return Ok(None);
    }
    let mut head = [0u8; 1024];
    let mut file = std::fs::File::open(source).with_context(|| format!("reading {source}"))?;
    let read = file.read(&mut head).with_context(|| format!("reading {source}"))?;
    Ok(RecipeFormat::sniff(&String::from_utf8_lossy(&head[..read])))
}
