//! Reading beers: whole rows (document and columns) or the read path's pre-rendered ones, one, several or a page.

use chrono::{DateTime, Utc};
use sea_query::{Alias, Asterisk, Expr, Func, JoinType, NullOrdering, Order, Query, SelectStatement};

use super::filter::condition;
use super::{Beers, Images};
use crate::domain::{Beer, BeerFields, BeerFilter, ImageKind, ImageRef, ListQuery, SortField};

/// A row as read back: the stored document plus the catalog's own columns and its image's key.
#[derive(sqlx::FromRow)]
pub struct BeerRow {
    pub id: i64,
    pub document: sqlx::types::Json<BeerFields>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub image_sha256: Option<String>,
    pub image_content_type: Option<String>,
}

/// A beer's image key from its row's `image_sha256` and the joined image's content type.
fn image_ref(sha256: Option<String>, content_type: Option<&str>) -> Option<ImageRef> {
    Some(ImageRef {
        sha256: sha256?,
        // The table's CHECK admits only the types ImageKind knows.
        kind: ImageKind::from_content_type(content_type?)?,
    })
}

impl From<BeerRow> for Beer {
    fn from(row: BeerRow) -> Self {
        let image = image_ref(row.image_sha256, row.image_content_type.as_deref());
        Beer {
            id: row.id,
            fields: row.document.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
            image,
        }
    }
}

/// Beers with their image's type (the URL's extension), from the images table's primary key.
fn select_beers() -> SelectStatement {
    let select = Query::select()
        .columns(
            [
                Beers::Id,
                Beers::Document,
                Beers::CreatedAt,
                Beers::UpdatedAt,
                Beers::ImageSha256,
            ]
            .map(|c| (Beers::Table, c)),
        )
        .to_owned();
    with_image_type(select)
}

fn sort_column(field: SortField) -> Beers {
    match field {
        SortField::Id => Beers::Id,
        // The lower-cased copy, so `a` and `B` sort as a reader expects; PostgreSQL compares it byte-wise
        // (`COLLATE "C"`, see the migrations) as SQLite does, so both backends give the same order.
        SortField::Name => Beers::NameSearch,
        SortField::Abv => Beers::Abv,
        SortField::Ibu => Beers::Ibu,
        SortField::Ebc => Beers::Ebc,
        SortField::Ph => Beers::Ph,
        SortField::FirstBrewed => Beers::FirstBrewedMonth,
        SortField::CreatedAt => Beers::CreatedAt,
        SortField::UpdatedAt => Beers::UpdatedAt,
    }
}

/// A row for the read path: the beer's pre-rendered fields (or, for rows older than that column, its document's
/// text) with the columns spliced around them, and its stored image (whose URL is spliced in when answering).
#[derive(sqlx::FromRow)]
pub struct RenderedRow {
    pub id: i64,
    pub rendered: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub image_sha256: Option<String>,
    pub image_content_type: Option<String>,
}

impl RenderedRow {
    /// The stored image this beer's `image_url` points at, if any.
    pub fn image(&self) -> Option<ImageRef> {
        image_ref(self.image_sha256.clone(), self.image_content_type.as_deref())
    }
}

fn select_rendered() -> SelectStatement {
    let select = Query::select()
        .column((Beers::Table, Beers::Id))
        .expr_as(
            Expr::cust(r#"COALESCE("beers"."rendered", CAST("beers"."document" AS TEXT))"#),
            Beers::Rendered,
        )
        .columns([Beers::CreatedAt, Beers::UpdatedAt, Beers::ImageSha256].map(|c| (Beers::Table, c)))
        .to_owned();
    with_image_type(select)
}

/// `select` from `beers` with its stored image's content type (NULL without one), which the answer's image URL needs.
fn with_image_type(mut select: SelectStatement) -> SelectStatement {
    select
        .expr_as(
            Expr::col((Images::Table, Images::ContentType)),
            Alias::new("image_content_type"),
        )
        .from(Beers::Table)
        .join(
            JoinType::LeftJoin,
            Images::Table,
            Expr::col((Images::Table, Images::Sha256)).equals((Beers::Table, Beers::ImageSha256)),
        )
        .to_owned()
}

/// One page of the read path, in the same order as [`list`].
pub fn list_rendered(query: &ListQuery) -> SelectStatement {
    page(select_rendered(), query)
}

pub fn rendered_by_id(id: i64) -> SelectStatement {
    select_rendered()
        .and_where(Expr::col((Beers::Table, Beers::Id)).eq(id))
        .to_owned()
}

/// The renderings of the beers with these ids, by ascending id.
pub fn rendered_by_ids(ids: &[i64]) -> SelectStatement {
    select_rendered()
        .and_where(Expr::col((Beers::Table, Beers::Id)).is_in(ids.iter().copied()))
        .order_by((Beers::Table, Beers::Id), Order::Asc)
        .to_owned()
}

/// One page, in the requested order. Unknown values (NULL) come last whichever the direction (PostgreSQL would
/// put them first when descending, SQLite first when ascending), and ties end in id order, so the order is total
/// and paging through it neither repeats nor skips a beer.
pub fn list(query: &ListQuery) -> SelectStatement {
    page(select_beers(), query)
}

fn page(mut select: SelectStatement, query: &ListQuery) -> SelectStatement {
    select.cond_where(condition(&query.filter));
    for key in &query.sort {
        let order = if key.descending { Order::Desc } else { Order::Asc };
        select.order_by_with_nulls((Beers::Table, sort_column(key.field)), order, NullOrdering::Last);
    }
    if !query.sort.iter().any(|key| key.field == SortField::Id) {
        select.order_by((Beers::Table, Beers::Id), Order::Asc);
    }
    select
        .limit(u64::from(query.per_page))
        .offset(query.offset())
        .to_owned()
}

pub fn count(filter: &BeerFilter) -> SelectStatement {
    Query::select()
        .expr(Func::count(Expr::col(Asterisk)))
        .from(Beers::Table)
        .cond_where(condition(filter))
        .to_owned()
}

pub fn by_id(id: i64) -> SelectStatement {
    select_beers()
        .and_where(Expr::col((Beers::Table, Beers::Id)).eq(id))
        .to_owned()
}

pub fn by_ids(ids: &[i64]) -> SelectStatement {
    select_beers()
        .and_where(Expr::col((Beers::Table, Beers::Id)).is_in(ids.iter().copied()))
        .order_by((Beers::Table, Beers::Id), Order::Asc)
        .to_owned()
}

pub fn random() -> SelectStatement {
    select_beers()
        .order_by_expr(Func::random().into(), Order::Asc)
        .limit(1)
        .to_owned()
}
