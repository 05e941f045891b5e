//! `/`: the catalog with search, filters and pages; `/catalog/{id}`: one beer's whole recipe.
//!
//! The catalog's query string is the API's: `/?beer_name=punk&abv_gt=6` shows the beers
//! `/beers?beer_name=punk&abv_gt=6` returns, parsed by the same code with the same defaults (every filter, `sort`,
//! 25 a page) and the same refusals (an unknown parameter is a 400 page naming it), so a shared link means the
//! same thing to a person and to a program.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use serde_json::Number;

use super::catalog_form::{FILTERS, field_input, has_control, sort_select};
use super::{Nav, Page, PageError, layout};
use crate::domain::beer::Quantity;
use crate::domain::{Beer, ListQuery, ParamError, RENDITION_WIDTHS, Surface, parse_list_query};
use crate::http::AppState;
use crate::http::renditions::rendition_path;

/// The query as given, minus empty parameters (a submitted form sends every field, filled or not). Everything
/// else goes to the API's parser, unknown parameters included: a page answers a query as `/beers` does.
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn value_of<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

pub async fn catalog_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Page, PageError> {
    let pairs = query_pairs(raw.as_deref());
    // The API's parser, defaults (25 a page) and errors: `/?q` shows what `/beers?q` returns, page for page.
    match parse_list_query(Some(&encode(&pairs)), Surface::Native) {
        Ok(query) => {
            let (beers, total) = tokio::try_join!(
                state.catalog.reads().list(&query),
                state.catalog.reads().count(&query.filter)
            )?;
            Ok(Page::ok(catalog_markup(&pairs, &[], Some((&query, &beers, total)))))
        }
        Err(errors) => Ok(Page::with_status(
            StatusCode::BAD_REQUEST,
            catalog_markup(&pairs, &errors, None),
        )),
    }
}

fn catalog_markup(
    pairs: &[(String, String)],
    errors: &[ParamError],
    results: Option<(&ListQuery, &[Beer], u64)>,
) -> Markup {
    let error_for = |param: &str| errors.iter().find(|e| e.param == param);
    let searching = pairs
        .iter()
        .any(|(k, _)| !matches!(k.as_str(), "page" | "per_page" | "sort"));
    let content = html! {
        h1 { "Beer catalog" }
        form.filters #filters method="get" action="/" role="search" aria-label="Search and filter beers" {
            div.search-row {
                (field_input("beer_name", "Name", None, "search", "text", value_of(pairs, "beer_name"), error_for("beer_name")))
                div.actions {
                    button type="submit" { "Search" }
                    @if searching { a.button.secondary href="/" { "Clear" } }
                }
            }
            details.more-filters open[FILTERS.iter().map(|f| f.param).chain(["sort"]).any(|p| !value_of(pairs, p).is_empty() || error_for(p).is_some())] {
                summary { "Filters and order" }
                div.filter-grid {
                    @for f in FILTERS {
                        (field_input(f.param, f.label, f.hint, "text", f.input_mode, value_of(pairs, f.param), error_for(f.param)))
                    }
                    (sort_select(value_of(pairs, "sort"), error_for("sort")))
                }
                button type="submit" { "Apply filters" }
            }
            @let per_page = value_of(pairs, "per_page");
            @if !per_page.is_empty() { input type="hidden" name="per_page" value=(per_page); }
        }
        @let other_errors: Vec<&ParamError> = errors.iter().filter(|e| !has_control(&e.param)).collect();
        @if !errors.is_empty() {
            div.notice.error role="alert" {
                @if other_errors.len() < errors.len() { p { "Some filters are not valid; fix the fields marked below." } }
                @if !other_errors.is_empty() {
                    p { "The address has parameters this catalog does not understand or accept (it takes those of the API's " code { "GET /beers" } "):" }
                    ul { @for e in other_errors { li { code { (e.param) } " " (e.msg) " (got \u{201c}" (e.value) "\u{201d})" } } }
                }
            }
        }
        @if let Some((query, beers, total)) = results {
            p.result-count #result-count aria-live="polite" {
                @if total == 0 { "No beers match." }
                @else if total == 1 { "1 beer" }
                @else { (total) " beers" }
                @if total > 0 {
                    ", page " (query.page) " of " (last_page(query, total))
                }
            }
            ol.beer-grid #beers {
                @for beer in beers { li { (beer_card(beer)) } }
            }
            (pagination(pairs, query, total))
        }
    };
    let title = if searching { "Search results" } else { "Catalog" };
    layout(title, Nav::Catalog, content)
}

fn last_page(query: &ListQuery, total: u64) -> u64 {
    total.div_ceil(u64::from(query.per_page)).max(1)
}

/// Previous/next and a window of page numbers around the current one, each a real link keeping the filters.
fn pagination(pairs: &[(String, String)], query: &ListQuery, total: u64) -> Markup {
    let last = last_page(query, total);
    let current = u64::from(query.page);
    if last <= 1 && current <= 1 {
        return html! {};
    }
    let others: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "page").cloned().collect();
    let href = |page: u64| {
        let mut with_page = others.clone();
        with_page.push(("page".into(), page.to_string()));
        format!("/?{}", encode(&with_page))
    };
    let mut numbers: Vec<u64> = [
        1,
        current.saturating_sub(2),
        current.saturating_sub(1),
        current,
        current + 1,
        current + 2,
        last,
    ]
    .into_iter()
    .filter(|p| (1..=last).contains(p))
    .collect();
    numbers.sort_unstable();
    numbers.dedup();
    html! {
        nav.pagination aria-label="Pages" {
            @if current > 1 { a rel="prev" href=(href((current - 1).min(last))) { "\u{2190} Previous" } }
            ol {
                @for (i, page) in numbers.iter().enumerate() {
                    @if i > 0 && numbers[i - 1] + 1 < *page { li.gap aria-hidden="true" { "\u{2026}" } }
                    li {
                        @if *page == current { a href=(href(*page)) aria-current="page" { (page) } }
                        @else { a href=(href(*page)) aria-label={ "Page " (page) } { (page) } }
                    }
                }
            }
            @if current < last { a rel="next" href=(href(current + 1)) { "Next \u{2192}" } }
        }
    }
}

/// Where the browser should load a beer's label from: the image this service stores for it, as a same-origin path
/// (whatever host name the browser used, and within the `img-src 'self'` policy). A beer without one shows a
/// placeholder: other `image_url`s (the retired Punk API's image host...) are not fetched, as a page on a private
/// network must neither depend on another site nor tell it who is reading.
pub(super) fn label_src(beer: &Beer) -> Option<String> {
    beer.image
        .as_ref()
        .map(|image| format!("/images/{}", image.file_name()))
}

/// A stored label's renditions as a `srcset` (`/images/<sha256>/64.webp 64w, ...`), and the one for browsers that
/// ignore it: the smallest at least `width` wide. The browser picks by the drawn width (`sizes`) and its pixel
/// density, so a phone downloads about what it draws and the original (`image_url`) is never fetched. Widths past
/// twice the drawn one are left out: a 3x phone takes the 2x picture rather than one three times as heavy (a
/// 64-pixel label: 20 KB at 128 pixels, 61 KB at 256).
fn label_renditions(beer: &Beer, width: u32) -> Option<(String, String)> {
    let image = beer.image.as_ref()?;
    let srcset = RENDITION_WIDTHS
        .iter()
        .filter(|w| **w <= 2 * width)
        .map(|w| format!("{} {w}w", rendition_path(image, *w)))
        .collect::<Vec<_>>()
        .join(", ");
    let fallback = RENDITION_WIDTHS
        .into_iter()
        .find(|w| *w >= width)
        .unwrap_or(RENDITION_WIDTHS[2]);
    Some((rendition_path(image, fallback), srcset))
}

/// A label with its box size fixed by `width`/`height` (CSS keeps the aspect, `object-fit` the picture), so
/// nothing moves when it arrives; a placeholder of the same size when there is none.
fn label(beer: &Beer, width: u32, height: u32, lazy: bool) -> Markup {
    html! {
        @if let Some((src, srcset)) = label_renditions(beer, width) {
            img.label.large[!lazy] src=(src) srcset=(srcset) sizes={ (width) "px" } width=(width) height=(height)
                alt={ "Label of " (beer.fields.name) } loading=[lazy.then_some("lazy")] decoding="async";
        } @else {
            div.label.no-label.large[!lazy] role="img" aria-label={ "No label image for " (beer.fields.name) } {
                span aria-hidden="true" { "No label" }
            }
        }
    }
}

fn beer_card(beer: &Beer) -> Markup {
    let f = &beer.fields;
    html! {
        article.beer-card {
            (label(beer, 64, 250, true))
            div.card-text {
                h2 { a href={ "/catalog/" (beer.id) } { (f.name) } }
                @if !f.tagline.is_empty() { p.tagline { (f.tagline) } }
                dl.stats {
                    div { dt { "ABV" } dd { (f.abv) "%" } }
                    @if let Some(ibu) = &f.ibu { div { dt { "IBU" } dd { (ibu) } } }
                }
            }
        }
    }
}

pub async fn beer_page(State(state): State<AppState>, Path(raw_id): Path<String>) -> Result<Page, PageError> {
    let not_found = || PageError::not_found(format!("there is no beer {raw_id} in the catalog"));
    let id = crate::http::extract::parse_beer_id(raw_id.clone()).map_err(|_| not_found())?;
    let beer = state.catalog.reads().get(id).await?.ok_or_else(not_found)?;
    Ok(Page::ok(layout(&beer.fields.name, Nav::None, beer_markup(&beer))))
}

fn quantity(q: &Quantity) -> String {
    match &q.value {
        Some(value) => format!("{value} {}", q.unit),
        None => q.unit.clone(),
    }
}

fn number(value: Option<&Number>) -> Option<String> {
    value.map(Number::to_string)
}

fn beer_markup(beer: &Beer) -> Markup {
    let f = &beer.fields;
    let stats: Vec<(&str, &str, Option<String>)> = vec![
        ("ABV", "Alcohol by volume", Some(format!("{}%", f.abv))),
        ("IBU", "International bitterness units", number(f.ibu.as_ref())),
        ("EBC", "Colour (European Brewery Convention)", number(f.ebc.as_ref())),
        ("SRM", "Colour (Standard Reference Method)", number(f.srm.as_ref())),
        ("pH", "pH", number(f.ph.as_ref())),
        ("OG", "Target original gravity", number(f.target_og.as_ref())),
        ("FG", "Target final gravity", number(f.target_fg.as_ref())),
        ("Attenuation", "Attenuation level", number(f.attenuation_level.as_ref())),
        ("Volume", "Batch volume", f.volume.as_ref().map(quantity)),
        ("Boil volume", "Boil volume", f.boil_volume.as_ref().map(quantity)),
    ];
    let method = &f.method;
    let ingredients = &f.ingredients;
    html! {
        article.beer #beer data-beer-id=(beer.id) {
            div.beer-head {
                (label(beer, 135, 529, false))
                div {
                    h1 { (f.name) }
                    @if !f.tagline.is_empty() { p.tagline { (f.tagline) } }
                    p.meta {
                        @if !f.first_brewed.is_empty() { "First brewed " (f.first_brewed) }
                        @if let Some(style) = &f.style { @if !f.first_brewed.is_empty() { " \u{b7} " } (style) }
                    }
                    dl.stats.wide {
                        @for (short, long, value) in &stats {
                            @if let Some(value) = value { div { dt { abbr title=(long) { (short) } } dd { (value) } } }
                        }
                    }
                    p.actions {
                        a.button href={ "/catalog/" (beer.id) "/edit" } { "Edit this beer" }
                        a.button.secondary href={ "/beers/" (beer.id) } { "As JSON" }
                    }
                    p.downloads {
                        "Download for your brewing software: "
                        a href={ "/beers/" (beer.id) ".xml" } download { "BeerXML" }
                        " \u{b7} "
                        a href={ "/beers/" (beer.id) ".beerjson" } download { "BeerJSON" }
                    }
                }
            }
            @if !f.description.is_empty() {
                section aria-labelledby="h-description" { h2 #h-description { "Description" } p { (f.description) } }
            }
            section aria-labelledby="h-food" {
                h2 #h-food { "Food pairing" }
                @if f.food_pairing.is_empty() { p { "None given." } }
                @else { ul { @for food in &f.food_pairing { li { (food) } } } }
            }
            section aria-labelledby="h-ingredients" {
                h2 #h-ingredients { "Ingredients" }
                @if !ingredients.malt.is_empty() {
                    table {
                        caption { "Malt" }
                        thead { tr { th scope="col" { "Malt" } th scope="col" { "Amount" } } }
                        tbody { @for malt in &ingredients.malt { tr { td { (malt.name) } td { (quantity(&malt.amount)) } } } }
                    }
                }
                @if !ingredients.hops.is_empty() {
                    table {
                        caption { "Hops" }
                        thead { tr { th scope="col" { "Hop" } th scope="col" { "Amount" } th scope="col" { "Added" } th scope="col" { "For" } } }
                        tbody {
                            @for hop in &ingredients.hops {
                                tr { td { (hop.name) } td { (quantity(&hop.amount)) } td { (hop.add) } td { (hop.attribute) } }
                            }
                        }
                    }
                }
                @if let Some(yeast) = &ingredients.yeast { p { strong { "Yeast: " } (yeast) } }
                @if ingredients.malt.is_empty() && ingredients.hops.is_empty() && ingredients.yeast.is_none() { p { "None given." } }
            }
            section aria-labelledby="h-method" {
                h2 #h-method { "Method" }
                @if !method.mash_temp.is_empty() {
                    table {
                        caption { "Mash" }
                        thead { tr { th scope="col" { "Temperature" } th scope="col" { "Duration (minutes)" } } }
                        tbody {
                            @for step in &method.mash_temp {
                                tr { td { (quantity(&step.temp)) } td { (number(step.duration.as_ref()).unwrap_or_else(|| "\u{2014}".into())) } }
                            }
                        }
                    }
                }
                @if let Some(temp) = &method.fermentation.temp { p { strong { "Fermentation: " } (quantity(temp)) } }
                @if let Some(twist) = &method.twist { p { strong { "Twist: " } (twist) } }
                @if method.mash_temp.is_empty() && method.fermentation.temp.is_none() && method.twist.is_none() { p { "None given." } }
            }
            @if !f.brewers_tips.is_empty() {
                section aria-labelledby="h-tips" { h2 #h-tips { "Brewer\u{2019}s tips" } p { (f.brewers_tips) } }
            }
            @if !f.contributed_by.is_empty() { p.meta { "Contributed by " (f.contributed_by) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_parameters_are_dropped_and_unknown_ones_kept_for_the_parser_to_refuse() {
        assert_eq!(
            query_pairs(Some("beer_name=punk&abv_gt=&utm_source=x&page=2")),
            [
                ("beer_name".to_owned(), "punk".to_owned()),
                ("utm_source".to_owned(), "x".to_owned()),
                ("page".to_owned(), "2".to_owned())
            ]
        );
    }
}
