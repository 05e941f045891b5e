//! Documentation of the query parameters the list operations share, in groups an operation combines:
//! [`PageParams`] (every paginated list), [`FilterParams`] (Punk's filters, which every list, export and facet
//! takes), [`NativeFilterParams`] and [`SortParams`] (what the native API adds). For the OpenAPI document only:
//! the handlers parse the raw query string with [`crate::domain::parse_list_query`], which reports every bad
//! parameter rather than the first one serde meets. (Fields are read by the derive, not by code: hence
//! `dead_code`.)

use utoipa::IntoParams;

/// Pagination.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Page number, from 1.
    #[param(minimum = 1)]
    page: Option<i32>,
    /// Beers per page, 1 to 80 (default 25).
    #[param(minimum = 1, maximum = 80)]
    per_page: Option<u32>,
}

/// The filters of `GET /v2/beers` (Punk's), which the native lists and exports accept too.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FilterParams {
    /// ABV strictly greater than this.
    abv_gt: Option<f64>,
    /// ABV strictly less than this.
    abv_lt: Option<f64>,
    /// IBU strictly greater than this.
    ibu_gt: Option<f64>,
    /// IBU strictly less than this.
    ibu_lt: Option<f64>,
    /// EBC strictly greater than this.
    ebc_gt: Option<f64>,
    /// EBC strictly less than this.
    ebc_lt: Option<f64>,
    /// pH strictly greater than this.
    ph_gt: Option<f64>,
    /// pH strictly less than this.
    ph_lt: Option<f64>,
    /// First brewed strictly before this month, `MM-YYYY`.
    #[param(pattern = r"^(0?[1-9]|1[0-2])-[1-9][0-9]{3}$")]
    brewed_before: Option<String>,
    /// First brewed strictly after this month, `MM-YYYY`.
    #[param(pattern = r"^(0?[1-9]|1[0-2])-[1-9][0-9]{3}$")]
    brewed_after: Option<String>,
    /// Fuzzy name match (`pnk` finds `Punk IPA`); underscores mean spaces.
    #[param(max_length = 200)]
    beer_name: Option<String>,
    /// Fuzzy match on the yeast.
    #[param(max_length = 200)]
    yeast: Option<String>,
    /// Fuzzy match on any hop.
    #[param(max_length = 200)]
    hops: Option<String>,
    /// Fuzzy match on any malt.
    #[param(max_length = 200)]
    malt: Option<String>,
    /// Substring of any food pairing; underscores mean spaces.
    #[param(max_length = 200)]
    food: Option<String>,
    /// Ids separated by `|`, e.g. `1|2|3` (at most 80). Under `/v2` an empty `ids=` matches nothing (`200 []`),
    /// as Punk answered an app whose favourites list is empty.
    #[param(pattern = r"^[1-9][0-9]{0,17}(\|[1-9][0-9]{0,17}){0,79}$")]
    ids: Option<String>,
}

/// The filter the native API adds to Punk's.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct NativeFilterParams {
    /// Substring of the style
    #[param(max_length = 200)]
    style: Option<String>,
}

/// The order of a native list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SortParams {
    // One line: the OpenAPI description keeps a doc comment's line breaks.
    /// Sort keys, comma-separated, each `field` or `field:asc`/`field:desc`, e.g. `abv:desc,name`. Fields: id, name (case-insensitive), abv, ibu, ebc, ph, first_brewed, created_at, updated_at; a repeated field adds nothing. Unknown values come last; ties are broken by id. Default: id.
    #[param(
        pattern = r"^(id|name|abv|ibu|ebc|ph|first_brewed|created_at|updated_at)(:(asc|desc))?(,(id|name|abv|ibu|ebc|ph|first_brewed|created_at|updated_at)(:(asc|desc))?)*$"
    )]
    sort: Option<String>,
}
