//! Documentation of query parameters shared by the native and Punk list operations.

use utoipa::IntoParams;

/// The list query parameters, for the OpenAPI document only: the handlers parse the raw query string with
/// [`crate::domain::parse_list_query`], which reports every bad parameter rather than the first one serde meets.
/// (Fields are read by the derive, not by code: hence `dead_code`.)
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Page number, from 1.
    #[param(minimum = 1)]
    page: Option<i32>,
    /// Beers per page, 1 to 80 (default 25).
    #[param(minimum = 1, maximum = 80)]
    per_page: Option<u32>,
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
