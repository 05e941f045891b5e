//! Recipes for brewing software: a catalog beer as BeerXML 1.0 or BeerJSON 1.0, and back. Pure functions from
//! [`BeerFields`] to a document and from a document to [`BeerFields`]; the mapping, field by field, is in
//! `docs/recipe-formats.md`.
//!
//! Both formats go through one format-neutral [`recipe::Recipe`] (brewing units, hop additions by use and time);
//! what neither format has a field for travels in the recipe's notes ([`extras`]), so nothing is lost on the way
//! out and a document this service wrote imports back to the same beer.

mod beerjson;
mod beerxml;
mod extras;
mod placeholder;
mod recipe;
#[cfg(test)]
mod tests;
mod units;

use std::fmt;

use crate::domain::BeerFields;

pub use beerjson::write_recipe as beerjson_recipe;
pub use recipe::Recipe;

/// The two recipe formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RecipeFormat {
    BeerXml,
    BeerJson,
}

impl RecipeFormat {
    pub const BEERXML_MEDIA_TYPE: &'static str = "application/xml";
    /// BeerJSON has no registered media type; this is the vendor type the service answers with and accepts.
    pub const BEERJSON_MEDIA_TYPE: &'static str = "application/vnd.beerjson+json";

    pub fn media_type(self) -> &'static str {
        match self {
            RecipeFormat::BeerXml => Self::BEERXML_MEDIA_TYPE,
            RecipeFormat::BeerJson => Self::BEERJSON_MEDIA_TYPE,
        }
    }

    /// The file extension of a download (`/beers/1.xml`, `/beers.beerjson`).
    pub fn extension(self) -> &'static str {
        match self {
            RecipeFormat::BeerXml => "xml",
            RecipeFormat::BeerJson => "beerjson",
        }
    }

    /// The format of a file, from its first non-blank character: `<` is BeerXML, `{` is BeerJSON (a catalog
    /// import file is a JSON array, `[`).
    pub fn sniff(text: &str) -> Option<Self> {
        match text.trim_start_matches('\u{feff}').trim_start().chars().next()? {
            '<' => Some(RecipeFormat::BeerXml),
            '{' => Some(RecipeFormat::BeerJson),
            _ => None,
        }
    }
}

/// A document that cannot be read, saying where and what to fix.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatError {
    /// The recipe it is about, from 1, when it is about one.
    pub recipe: Option<usize>,
    pub message: String,
}

impl FormatError {
    fn new(message: String) -> Self {
        FormatError { recipe: None, message }
    }

    fn at(self, recipe: usize) -> Self {
        FormatError {
            recipe: Some(recipe),
            ..self
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.recipe {
            Some(n) => write!(f, "recipe #{n}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FormatError {}

/// These beers as one document.
pub fn export<'a>(format: RecipeFormat, beers: impl IntoIterator<Item = &'a BeerFields>) -> String {
    let recipes: Vec<Recipe> = beers.into_iter().map(Recipe::from_fields).collect();
    match format {
        RecipeFormat::BeerXml => beerxml::write(&recipes),
        RecipeFormat::BeerJson => beerjson::write(&recipes),
    }
}

/// The beers of a document, in order (not yet validated: the caller checks them like any other input).
pub fn import(format: RecipeFormat, text: &str) -> Result<Vec<BeerFields>, FormatError> {
    let recipes = match format {
        RecipeFormat::BeerXml => beerxml::read(text)?,
        RecipeFormat::BeerJson => beerjson::read(text)?,
    };
    Ok(recipes.into_iter().map(Recipe::into_fields).collect())
}
