//! The catalog's domain: the beer model, its validation rules, list filters and label images. No HTTP, no SQL.

pub mod beer;
pub mod filter;
pub mod image;
pub mod ingredient_names;
pub mod recipe_formats;
pub mod rendition;
pub mod validation;

pub use beer::{Beer, BeerFields, PunkBeer, YearMonth};
pub use filter::{BeerFilter, ListQuery, ParamError, SortField, SortKey, Surface, parse_list_query};
pub use image::{ImageKind, ImageLimits, ImageMeta, ImageRef, ImageRejection, NewImage};
pub use ingredient_names::{IngredientKind, IngredientName, Spelling};
pub use rendition::{RENDITION_KIND, RENDITION_WIDTHS, Rendition};
pub use validation::{FieldError, ViolationKind, json_kind, validate};
