//! Writing beers: the derived columns, inserts, updates and deletes, and the term rows behind the ingredient
//! filters.

use chrono::{DateTime, Utc};
use sea_query::{Expr, InsertStatement, OnConflict, Query, SimpleExpr, UpdateStatement};

use super::filter::search_text;
use super::{BeerTerms, Beers};
use crate::domain::{BeerFields, YearMonth};

const WRITTEN_COLUMNS: [Beers; 11] = [
    Beers::Name,
    Beers::NameSearch,
    Beers::StyleSearch,
    Beers::YeastSearch,
    Beers::Abv,
    Beers::Ibu,
    Beers::Ebc,
    Beers::Ph,
    Beers::FirstBrewedMonth,
    Beers::Document,
    Beers::Rendered,
];

/// The columns every write derives from a beer (besides `document`), computed in one place for the statements
/// here and the import's fast path (`bulk`).
pub struct Written<'a> {
    pub name: &'a str,
    pub name_search: String,
    pub style_search: Option<String>,
    pub yeast_search: Option<String>,
    pub abv: f64,
    pub ibu: Option<f64>,
    pub ebc: Option<f64>,
    pub ph: Option<f64>,
    pub first_brewed_month: Option<i64>,
    /// The fields as the API prints them (see `rendered`).
    pub rendered: String,
}

impl<'a> Written<'a> {
    pub fn new(fields: &'a BeerFields) -> Self {
        let number = |n: &Option<serde_json::Number>| n.as_ref().and_then(serde_json::Number::as_f64);
        Written {
            name: &fields.name,
            name_search: search_text(&fields.name),
            style_search: fields.style.as_deref().map(search_text),
            yeast_search: fields.ingredients.yeast.as_deref().map(search_text),
            abv: fields.abv.as_f64().unwrap_or_default(),
            ibu: number(&fields.ibu),
            ebc: number(&fields.ebc),
            ph: number(&fields.ph),
            first_brewed_month: YearMonth::parse_first_brewed(&fields.first_brewed).map(|m| m.0),
            rendered: serde_json::to_string(fields).expect("a beer always serialises to JSON"),
        }
    }
}

/// The derived columns for a beer, in [`WRITTEN_COLUMNS`] order.
fn written_values(fields: &BeerFields) -> Vec<SimpleExpr> {
    let document = serde_json::to_value(fields).expect("a beer always serialises to JSON");
    let written = Written::new(fields);
    vec![
        written.name.to_owned().into(),
        written.name_search.into(),
        written.style_search.into(),
        written.yeast_search.into(),
        written.abv.into(),
        written.ibu.into(),
        written.ebc.into(),
        written.ph.into(),
        written.first_brewed_month.into(),
        sea_query::Value::Json(Some(Box::new(document))).into(),
        written.rendered.into(),
    ]
}

/// INSERT, with an explicit id when given; an existing id is replaced (import's upsert), keeping `created_at`.
pub fn insert(id: Option<i64>, fields: &BeerFields, now: DateTime<Utc>) -> InsertStatement {
    let mut columns: Vec<Beers> = WRITTEN_COLUMNS.to_vec();
    let mut values = written_values(fields);
    columns.extend([Beers::CreatedAt, Beers::UpdatedAt]);
    values.extend([now.into(), now.into()]);
    if let Some(id) = id {
        columns.insert(0, Beers::Id);
        values.insert(0, id.into());
    }
    let mut on_conflict = OnConflict::column(Beers::Id);
    on_conflict
        .update_columns(WRITTEN_COLUMNS)
        .update_column(Beers::UpdatedAt);
    Query::insert()
        .into_table(Beers::Table)
        .columns(columns)
        .values_panic(values)
        .on_conflict(on_conflict)
        .returning(Query::returning().columns([Beers::Id, Beers::CreatedAt]))
        .to_owned()
}

/// One INSERT of many beers with their ids (import's upsert, as [`insert`] but without reading anything back).
/// The ids must be distinct: one statement cannot update a row twice.
pub fn insert_many(beers: &[(i64, &BeerFields)], now: DateTime<Utc>) -> InsertStatement {
    let mut columns: Vec<Beers> = vec![Beers::Id];
    columns.extend(WRITTEN_COLUMNS);
    columns.extend([Beers::CreatedAt, Beers::UpdatedAt]);
    let mut on_conflict = OnConflict::column(Beers::Id);
    on_conflict
        .update_columns(WRITTEN_COLUMNS)
        .update_column(Beers::UpdatedAt);
    let mut insert = Query::insert();
    insert
        .into_table(Beers::Table)
        .columns(columns)
        .on_conflict(on_conflict);
    for (id, fields) in beers {
        let mut values: Vec<SimpleExpr> = vec![(*id).into()];
        values.extend(written_values(fields));
        values.extend([now.into(), now.into()]);
        insert.values_panic(values);
    }
    insert
}

/// Every term row of these beers.
pub fn delete_terms_many(ids: &[i64]) -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(BeerTerms::Table)
        .and_where(Expr::col(BeerTerms::BeerId).is_in(ids.iter().copied()))
        .to_owned()
}

/// The term rows of many beers, as INSERTs of at most `rows_per_statement` rows each.
pub fn insert_terms_many(beers: &[(i64, &BeerFields)], rows_per_statement: usize) -> Vec<InsertStatement> {
    let rows: Vec<(i64, &'static str, String)> = beers
        .iter()
        .flat_map(|(id, fields)| terms_of(fields).into_iter().map(move |(kind, term)| (*id, kind, term)))
        .collect();
    rows.chunks(rows_per_statement.max(1))
        .map(|chunk| {
            let mut insert = Query::insert();
            insert
                .into_table(BeerTerms::Table)
                .columns([BeerTerms::BeerId, BeerTerms::Kind, BeerTerms::Term]);
            for (id, kind, term) in chunk {
                insert.values_panic([(*id).into(), (*kind).into(), term.clone().into()]);
            }
            insert
        })
        .collect()
}

pub fn update(id: i64, fields: &BeerFields, now: DateTime<Utc>) -> UpdateStatement {
    let mut values: Vec<(Beers, SimpleExpr)> = WRITTEN_COLUMNS.into_iter().zip(written_values(fields)).collect();
    values.push((Beers::UpdatedAt, now.into()));
    Query::update()
        .table(Beers::Table)
        .values(values)
        .and_where(Expr::col(Beers::Id).eq(id))
        .returning(Query::returning().columns([Beers::Id, Beers::CreatedAt]))
        .to_owned()
}

/// Deletes beer `id`, answering its image's key (`NULL` without one) when there was such a beer: only a beer
/// with an image can leave one that nothing uses.
pub fn delete(id: i64) -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(Beers::Table)
        .and_where(Expr::col(Beers::Id).eq(id))
        .returning(Query::returning().column(Beers::ImageSha256))
        .to_owned()
}

pub fn delete_terms(id: i64) -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(BeerTerms::Table)
        .and_where(Expr::col(BeerTerms::BeerId).eq(id))
        .to_owned()
}

/// A beer's searchable terms: (kind, lower-cased text), each once.
pub fn terms_of(fields: &BeerFields) -> Vec<(&'static str, String)> {
    let hops = fields.ingredients.hops.iter().map(|h| ("hop", &h.name));
    let malts = fields.ingredients.malt.iter().map(|m| ("malt", &m.name));
    let foods = fields.food_pairing.iter().map(|f| ("food", f));
    let mut terms: Vec<(&'static str, String)> = hops
        .chain(malts)
        .chain(foods)
        .map(|(k, t)| (k, search_text(t)))
        .collect();
    // A recipe adds the same hop several times (start, middle, dry hop): one row per name is enough to match.
    terms.sort();
    terms.dedup();
    terms
}

/// The hop, malt and food rows behind the "any ingredient" filters; `None` when the beer has none.
pub fn insert_terms(id: i64, fields: &BeerFields) -> Option<InsertStatement> {
    let terms = terms_of(fields);
    if terms.is_empty() {
        return None;
    }
    let mut insert = Query::insert();
    insert
        .into_table(BeerTerms::Table)
        .columns([BeerTerms::BeerId, BeerTerms::Kind, BeerTerms::Term]);
    for (kind, term) in terms {
        insert.values_panic([id.into(), kind.into(), term.into()]);
    }
    Some(insert)
}
