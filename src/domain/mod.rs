//! The catalog's domain: the beer model, its validation rules and list filters. No HTTP, no SQL.

pub mod beer;
pub mod filter;
pub mod validation;

pub use beer::{Beer, BeerFields, PunkBeer, YearMonth};
pub use filter::{BeerFilter, ListQuery, ParamError, SortField, SortKey, Surface, parse_list_query};
pub use validation::{FieldError, ViolationKind, validate};
