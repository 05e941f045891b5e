//! The catalog's search and filter form: a control for every filter of `GET /beers` and for `sort`, each named by
//! its API parameter, so submitting the form builds the API's own query string.

use maud::{Markup, html};

use crate::domain::ParamError;

/// A filter of the catalog form: the API parameter it sets, its label, and a hint on the format.
pub struct FilterField {
    pub param: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    pub input_mode: &'static str,
}

const fn filter(
    param: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    input_mode: &'static str,
) -> FilterField {
    FilterField {
        param,
        label,
        hint,
        input_mode,
    }
}

/// Every filter of `GET /beers` but `beer_name`, which has the search box of its own.
pub const FILTERS: &[FilterField] = &[
    filter("abv_gt", "ABV above (%)", None, "decimal"),
    filter("abv_lt", "ABV below (%)", None, "decimal"),
    filter("ibu_gt", "IBU above", None, "decimal"),
    filter("ibu_lt", "IBU below", None, "decimal"),
    filter("ebc_gt", "EBC above", None, "decimal"),
    filter("ebc_lt", "EBC below", None, "decimal"),
    filter("ph_gt", "pH above", None, "decimal"),
    filter("ph_lt", "pH below", None, "decimal"),
    filter("brewed_after", "Brewed after", Some("MM-YYYY"), "numeric"),
    filter("brewed_before", "Brewed before", Some("MM-YYYY"), "numeric"),
    filter("hops", "Hops", None, "text"),
    filter("malt", "Malt", None, "text"),
    filter("yeast", "Yeast", None, "text"),
    filter("food", "Food pairing", None, "text"),
    filter("style", "Style", None, "text"),
    filter("ids", "Beer ids", Some("1|2|3"), "text"),
];

/// The orders offered in the form's list: `sort` values of the API with their labels. Any other valid `sort` from
/// a link (`abv:desc,name`) is shown as an extra entry, so the form never drops it.
const SORT_ORDERS: &[(&str, &str)] = &[
    ("", "Id (catalog order)"),
    ("name", "Name, A to Z"),
    ("name:desc", "Name, Z to A"),
    ("abv:desc", "Strongest first"),
    ("abv", "Lightest first"),
    ("ibu:desc", "Most bitter first"),
    ("ibu", "Least bitter first"),
    ("ebc:desc", "Darkest first"),
    ("ebc", "Palest first"),
    ("ph", "Lowest pH first"),
    ("first_brewed:desc", "Newest brew first"),
    ("first_brewed", "Oldest brew first"),
    ("updated_at:desc", "Recently changed first"),
];

/// Whether the form has a control for this parameter (an error about it is shown beside that control).
pub fn has_control(param: &str) -> bool {
    param == "beer_name" || param == "sort" || FILTERS.iter().any(|f| f.param == param)
}

pub fn field_input(
    param: &str,
    label: &str,
    hint: Option<&str>,
    input_type: &str,
    input_mode: &str,
    value: &str,
    error: Option<&ParamError>,
) -> Markup {
    let id = format!("f-{param}");
    let described_by = described_by(&id, hint.is_some(), error.is_some());
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { (label) }
            input #(id) name=(param) type=(input_type) inputmode=(input_mode) value=(value)
                aria-describedby=[described_by.as_deref()]
                aria-invalid=[error.map(|_| "true")];
            @if let Some(hint) = hint { small.hint #{(id) "-hint"} { (hint) } }
            @if let Some(error) = error { p.field-error #{(id) "-error"} { (error.msg) } }
        }
    }
}

/// The order of the results: a list of the usual ones, keeping whatever `sort` the address holds.
pub fn sort_select(current: &str, error: Option<&ParamError>) -> Markup {
    let id = "f-sort";
    let known = SORT_ORDERS.iter().any(|(value, _)| *value == current);
    let described_by = described_by(id, false, error.is_some());
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) { "Order" }
            select #(id) name="sort" aria-describedby=[described_by.as_deref()] aria-invalid=[error.map(|_| "true")] {
                @for (value, label) in SORT_ORDERS {
                    option value=(value) selected[*value == current] { (label) }
                }
                @if !known { option value=(current) selected { "As in the address: " (current) } }
            }
            @if let Some(error) = error { p.field-error #{(id) "-error"} { (error.msg) } }
        }
    }
}

fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let ids: Vec<String> = [hint.then(|| format!("{id}-hint")), error.then(|| format!("{id}-error"))]
        .into_iter()
        .flatten()
        .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

#[cfg(test)]
mod tests {
    use crate::domain::{Surface, parse_list_query};

    #[test]
    fn every_control_is_an_api_parameter_and_every_order_a_valid_sort() {
        for f in super::FILTERS {
            let query = format!("{}=1", f.param);
            // A parameter the API does not know is refused as such; a known one at most for its value.
            if let Err(errors) = parse_list_query(Some(&query), Surface::Native) {
                assert!(
                    errors.iter().all(|e| e.msg != "is not a known parameter"),
                    "{query}: {errors:?}"
                );
            }
        }
        for (value, _) in super::SORT_ORDERS.iter().filter(|(value, _)| !value.is_empty()) {
            assert!(
                parse_list_query(Some(&format!("sort={value}")), Surface::Native).is_ok(),
                "{value}"
            );
        }
    }
}
