//! A beer's create and replace as one statement each, its row and its term rows together (PostgreSQL's
//! data-modifying `WITH`; SQLite has none and keeps the transaction of [`super::writes`]). One statement in
//! autocommit is one round trip instead of five or six (BEGIN, the beer, the terms' DELETE and INSERT, COMMIT), and
//! the catalog version's lock, which the first write to `beers` takes, is held for that one statement only.

use chrono::{DateTime, Utc};
use sea_query::{Alias, CommonTableExpression, Expr, InsertStatement, JoinType, Query, WithClause, WithQuery};

use super::writes::{insert, terms_of, update};
use super::{BeerTerms, Beers, Images, delete_terms};
use crate::domain::BeerFields;

/// The name of the CTE holding the written beer's row.
fn written() -> Alias {
    Alias::new("written")
}

/// `INSERT INTO beer_terms SELECT written.id, t.kind, t.term FROM written, (VALUES ...) t`: the terms of the
/// beer the statement wrote, none when it wrote none (a replace of an id that does not exist).
fn terms_of_written(fields: &BeerFields) -> Option<InsertStatement> {
    let terms = terms_of(fields);
    if terms.is_empty() {
        return None;
    }
    let values = Alias::new("t");
    let select = Query::select()
        .column((written(), Beers::Id))
        // PostgreSQL names a VALUES list's columns column1, column2, ...
        .column((values.clone(), Alias::new("column1")))
        .column((values.clone(), Alias::new("column2")))
        .from(written())
        .from_values(terms.into_iter().map(|(kind, term)| (kind.to_owned(), term)), values)
        .to_owned();
    Some(
        Query::insert()
            .into_table(BeerTerms::Table)
            .columns([BeerTerms::BeerId, BeerTerms::Kind, BeerTerms::Term])
            .select_from(select)
            .expect("three columns for three values")
            .to_owned(),
    )
}

fn cte(name: &str, query: impl sea_query::QueryStatementBuilder) -> CommonTableExpression {
    CommonTableExpression::new()
        .query(query)
        .table_name(Alias::new(name))
        .to_owned()
}

/// A new beer (the database assigns its id) and its term rows; answers `(id, created_at)`.
pub fn create_with_terms(fields: &BeerFields, now: DateTime<Utc>) -> WithQuery {
    let mut with = WithClause::new();
    with.cte(cte("written", insert(None, fields, now)));
    if let Some(terms) = terms_of_written(fields) {
        with.cte(cte("new_terms", terms));
    }
    Query::select()
        .columns([Beers::Id, Beers::CreatedAt].map(|c| (written(), c)))
        .from(written())
        .to_owned()
        .with(with)
}

/// Beer `id`'s new fields and term rows; answers the beer's row as [`super::by_id`] reads it (no row: no such
/// beer, and nothing was written). The DELETE and the INSERT of the terms see the same snapshot, taken before the
/// statement, so the DELETE removes the old rows only.
pub fn update_with_terms(id: i64, fields: &BeerFields, now: DateTime<Utc>) -> WithQuery {
    let mut with = WithClause::new();
    let mut written_row = update(id, fields, now);
    written_row.returning(Query::returning().columns([
        Beers::Id,
        Beers::Document,
        Beers::CreatedAt,
        Beers::UpdatedAt,
        Beers::ImageSha256,
    ]));
    with.cte(cte("written", written_row));
    with.cte(cte("old_terms", delete_terms(id)));
    if let Some(terms) = terms_of_written(fields) {
        with.cte(cte("new_terms", terms));
    }
    Query::select()
        .columns(
            [
                Beers::Id,
                Beers::Document,
                Beers::CreatedAt,
                Beers::UpdatedAt,
                Beers::ImageSha256,
            ]
            .map(|c| (written(), c)),
        )
        .expr_as(
            Expr::col((Images::Table, Images::ContentType)),
            Alias::new("image_content_type"),
        )
        .from(written())
        .join(
            JoinType::LeftJoin,
            Images::Table,
            Expr::col((Images::Table, Images::Sha256)).equals((written(), Beers::ImageSha256)),
        )
        .to_owned()
        .with(with)
}
