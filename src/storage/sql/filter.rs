//! The WHERE clause of a filter, and the lower-cased search texts and LIKE patterns it matches.

use sea_query::{Condition, Expr, LikeExpr, Query, SimpleExpr};

use super::{BeerTerms, Beers};
use crate::domain::BeerFilter;

/// Search text is lower-cased here rather than with SQL `LOWER()`, which SQLite applies to ASCII only.
pub(super) fn search_text(text: &str) -> String {
    text.to_lowercase()
}

/// `punk` -> `%p%u%n%k%`: the characters in order, anything between (the Punk API's fuzzy match).
pub(super) fn fuzzy_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.chars() {
        push_escaped(&mut pattern, c);
        pattern.push('%');
    }
    pattern
}

pub(super) fn substring_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    needle.chars().for_each(|c| push_escaped(&mut pattern, c));
    pattern.push('%');
    pattern
}

fn push_escaped(pattern: &mut String, c: char) {
    if matches!(c, '%' | '_' | '\\') {
        pattern.push('\\');
    }
    pattern.push(c);
}

fn like(pattern: String) -> LikeExpr {
    LikeExpr::new(pattern).escape('\\')
}

/// `EXISTS (SELECT 1 FROM beer_terms WHERE beer_id = beers.id AND kind = ? AND term LIKE ?)`.
fn has_term(kind: &str, pattern: String) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(BeerTerms::Table)
            .and_where(Expr::col((BeerTerms::Table, BeerTerms::BeerId)).equals((Beers::Table, Beers::Id)))
            .and_where(Expr::col((BeerTerms::Table, BeerTerms::Kind)).eq(kind))
            .and_where(Expr::col((BeerTerms::Table, BeerTerms::Term)).like(like(pattern)))
            .to_owned(),
    )
}

/// The WHERE clause for a filter. A NULL measurement never satisfies a comparison, as in the Punk API.
pub(super) fn condition(filter: &BeerFilter) -> Condition {
    let col = |c: Beers| Expr::col((Beers::Table, c));
    let mut all = Condition::all();
    let comparisons = [
        (Beers::Abv, filter.abv_gt, filter.abv_lt),
        (Beers::Ibu, filter.ibu_gt, filter.ibu_lt),
        (Beers::Ebc, filter.ebc_gt, filter.ebc_lt),
        (Beers::Ph, filter.ph_gt, filter.ph_lt),
    ];
    for (column, gt, lt) in comparisons {
        if let Some(gt) = gt {
            all = all.add(col(column).gt(gt));
        }
        if let Some(lt) = lt {
            all = all.add(col(column).lt(lt));
        }
    }
    if let Some(before) = filter.brewed_before {
        all = all.add(col(Beers::FirstBrewedMonth).lt(before.0));
    }
    if let Some(after) = filter.brewed_after {
        all = all.add(col(Beers::FirstBrewedMonth).gt(after.0));
    }
    if let Some(name) = &filter.beer_name {
        all = all.add(col(Beers::NameSearch).like(like(fuzzy_pattern(name))));
    }
    if let Some(yeast) = &filter.yeast {
        all = all.add(col(Beers::YeastSearch).like(like(fuzzy_pattern(yeast))));
    }
    if let Some(style) = &filter.style {
        all = all.add(col(Beers::StyleSearch).like(like(substring_pattern(style))));
    }
    if let Some(hops) = &filter.hops {
        all = all.add(has_term("hop", fuzzy_pattern(hops)));
    }
    if let Some(malt) = &filter.malt {
        all = all.add(has_term("malt", fuzzy_pattern(malt)));
    }
    if let Some(food) = &filter.food {
        all = all.add(has_term("food", substring_pattern(food)));
    }
    if let Some(ids) = &filter.ids {
        all = all.add(col(Beers::Id).is_in(ids.iter().copied()));
    }
    if let Some(id) = filter.id_gt {
        all = all.add(col(Beers::Id).gt(id));
    }
    all
}
