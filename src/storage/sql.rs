//! Every statement the catalog runs, written once with sea-query and rendered per backend by its query builder,
//! so SQLite and PostgreSQL cannot drift apart.

use chrono::{DateTime, Utc};
use sea_query::{
    Alias, Asterisk, Condition, Expr, Func, Iden, InsertStatement, JoinType, LikeExpr, LockType, NullOrdering,
    OnConflict, Order, Query, SelectStatement, SimpleExpr, UpdateStatement,
};

use crate::domain::{
    Beer, BeerFields, BeerFilter, ImageKind, ImageMeta, ImageRef, ListQuery, NewImage, SortField, YearMonth,
};

#[derive(Iden, Copy, Clone)]
pub enum Beers {
    Table,
    Id,
    Name,
    NameSearch,
    StyleSearch,
    YeastSearch,
    Abv,
    Ibu,
    Ebc,
    Ph,
    FirstBrewedMonth,
    Document,
    Rendered,
    CreatedAt,
    UpdatedAt,
    ImageSha256,
}

#[derive(Iden, Copy, Clone)]
pub enum Images {
    Table,
    Sha256,
    ContentType,
    Width,
    Height,
    ByteLength,
    Content,
    CreatedAt,
}

#[derive(Iden, Copy, Clone)]
pub enum BeerTerms {
    Table,
    BeerId,
    Kind,
    Term,
}

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

/// Search text is lower-cased here rather than with SQL `LOWER()`, which SQLite applies to ASCII only.
fn search_text(text: &str) -> String {
    text.to_lowercase()
}

/// `punk` -> `%p%u%n%k%`: the characters in order, anything between (the Punk API's fuzzy match).
fn fuzzy_pattern(needle: &str) -> String {
    let mut pattern = String::from("%");
    for c in needle.chars() {
        push_escaped(&mut pattern, c);
        pattern.push('%');
    }
    pattern
}

fn substring_pattern(needle: &str) -> String {
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
fn condition(filter: &BeerFilter) -> Condition {
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
    all
}

/// Beers with their image's type (the URL's extension), from the images table's primary key.
fn select_beers() -> SelectStatement {
    Query::select()
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
    Query::select()
        .column((Beers::Table, Beers::Id))
        .expr_as(
            Expr::cust(r#"COALESCE("beers"."rendered", CAST("beers"."document" AS TEXT))"#),
            Beers::Rendered,
        )
        .columns([Beers::CreatedAt, Beers::UpdatedAt, Beers::ImageSha256].map(|c| (Beers::Table, c)))
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

/// [`by_id`], locking the beer's row (not its image's: the nullable side of the join cannot be locked) until the
/// transaction ends.
pub fn by_id_for_update(id: i64) -> SelectStatement {
    by_id(id).lock_with_tables(LockType::Update, [Beers::Table]).to_owned()
}

pub fn by_ids(ids: &[i64]) -> SelectStatement {
    select_beers()
        .and_where(Expr::col((Beers::Table, Beers::Id)).is_in(ids.iter().copied()))
        .order_by((Beers::Table, Beers::Id), Order::Asc)
        .to_owned()
}

/// The read model's rows ([`crate::storage::read_model::IndexRow`], in its field order), unordered and without a
/// `WHERE` clause: each beer with its hop, malt and food terms aggregated into one text per kind, joined by
/// [`TERM_SEPARATOR`](crate::storage::read_model::TERM_SEPARATOR), so a million beers are a million rows, not a
/// million plus twelve million term rows (the month widened so both drivers decode it as `i64`). PostgreSQL reads
/// each beer's terms with one probe of `beer_terms (beer_id, kind)` (LATERAL); SQLite, which has no LATERAL, with
/// three (one per kind, each an exact range of that index). Both name the beers `b`, so a `WHERE b.id ...` and an
/// `ORDER BY b.id` complete either.
macro_rules! index_rows_postgres {
    () => {
        "SELECT b.id, b.name_search, b.yeast_search, b.style_search, b.abv, b.ibu, \
         b.ebc, b.ph, CAST(b.first_brewed_month AS BIGINT), b.created_at, b.updated_at, \
         COALESCE(t.hops, ''), COALESCE(t.malts, ''), COALESCE(t.foods, '') \
         FROM beers b CROSS JOIN LATERAL (SELECT \
           string_agg(term, chr(31)) FILTER (WHERE kind = 'hop') AS hops, \
           string_agg(term, chr(31)) FILTER (WHERE kind = 'malt') AS malts, \
           string_agg(term, chr(31)) FILTER (WHERE kind = 'food') AS foods \
         FROM beer_terms WHERE beer_terms.beer_id = b.id) t"
    };
}
macro_rules! index_rows_sqlite {
    () => {
        "SELECT b.id, b.name_search, b.yeast_search, b.style_search, b.abv, b.ibu, b.ebc, b.ph, \
         CAST(b.first_brewed_month AS BIGINT), b.created_at, b.updated_at, \
         COALESCE((SELECT group_concat(term, char(31)) FROM beer_terms WHERE beer_id = b.id AND kind = 'hop'), ''), \
         COALESCE((SELECT group_concat(term, char(31)) FROM beer_terms WHERE beer_id = b.id AND kind = 'malt'), ''), \
         COALESCE((SELECT group_concat(term, char(31)) FROM beer_terms WHERE beer_id = b.id AND kind = 'food'), '') \
         FROM beers b"
    };
}
/// Every beer's read-model row on PostgreSQL, by ascending id (the fallback when a second connection is busy).
pub const INDEX_ROWS_POSTGRES: &str = concat!(index_rows_postgres!(), " ORDER BY b.id");
/// [`INDEX_ROWS_POSTGRES`] for SQLite.
pub const INDEX_ROWS_SQLITE: &str = concat!(index_rows_sqlite!(), " ORDER BY b.id");
/// [`INDEX_ROWS_POSTGRES`] of the given beers only, for patching the read model ([`index_rows_of_ids`]).
pub const INDEX_ROWS_POSTGRES_UNORDERED: &str = index_rows_postgres!();
/// [`INDEX_ROWS_POSTGRES_UNORDERED`] for SQLite.
pub const INDEX_ROWS_SQLITE_UNORDERED: &str = index_rows_sqlite!();
/// The beers' part of [`INDEX_ROWS_POSTGRES`] alone (read beside [`INDEX_TERMS`] on a second connection).
pub const INDEX_BEERS: &str = "SELECT id, name_search, yeast_search, style_search, abv, ibu, ebc, ph, \
     CAST(first_brewed_month AS BIGINT), created_at, updated_at FROM beers ORDER BY id";
/// Each beer's terms of [`INDEX_ROWS_POSTGRES`] alone, by ascending beer id (a beer without terms has no row).
pub const INDEX_TERMS: &str = "SELECT beer_id, \
       string_agg(term, chr(31)) FILTER (WHERE kind = 'hop'), \
       string_agg(term, chr(31)) FILTER (WHERE kind = 'malt'), \
       string_agg(term, chr(31)) FILTER (WHERE kind = 'food') \
     FROM beer_terms GROUP BY beer_id ORDER BY beer_id";

/// `rows` (an unordered read-model query) of the beers `ids` that exist, by ascending id. The ids, integers read
/// from the change log, are written into the text: a list of constants is what lets PostgreSQL's planner see how
/// few rows it asks for (a semi-join with the log was planned as a scan of every term), and no dialect limits the
/// length.
pub fn index_rows_of_ids(rows: &str, ids: &[i64]) -> String {
    use std::fmt::Write;
    let mut query = format!("{rows} WHERE b.id IN (");
    for (i, id) in ids.iter().enumerate() {
        let separator = if i == 0 { "" } else { "," };
        write!(query, "{separator}{id}").expect("writing to a String");
    }
    query.push_str(") ORDER BY b.id");
    query
}

/// The ids of the beers changed (written or deleted) in versions (`$1`, `$2`], at most `$3` of them.
pub const CHANGED_IDS: &str = "SELECT DISTINCT beer_id FROM catalog_changes WHERE version > $1 AND version <= $2 \
     ORDER BY beer_id LIMIT $3";
pub const CATALOG_VERSION: &str = "SELECT version FROM catalog_version";
/// The version, and the version after which the change log is complete (see the `catalog_changes` migrations).
pub const CATALOG_CHANGES_FROM: &str = "SELECT version, changes_from FROM catalog_version";

pub fn random() -> SelectStatement {
    select_beers()
        .order_by_expr(Func::random().into(), Order::Asc)
        .limit(1)
        .to_owned()
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

pub fn delete(id: i64) -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(Beers::Table)
        .and_where(Expr::col(Beers::Id).eq(id))
        .to_owned()
}

pub fn delete_terms(id: i64) -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(BeerTerms::Table)
        .and_where(Expr::col(BeerTerms::BeerId).eq(id))
        .to_owned()
}

/// Stores an image once per content. On a conflict the row is touched rather than skipped: the write locks it
/// (PostgreSQL), so a concurrent [`remove_orphan_images`] cannot delete it before this transaction's beer refers
/// to it.
pub fn insert_image(image: &NewImage, now: DateTime<Utc>) -> InsertStatement {
    let meta = &image.meta;
    Query::insert()
        .into_table(Images::Table)
        .columns([
            Images::Sha256,
            Images::ContentType,
            Images::Width,
            Images::Height,
            Images::ByteLength,
            Images::Content,
            Images::CreatedAt,
        ])
        .values_panic([
            meta.image.sha256.clone().into(),
            meta.image.kind.content_type().into(),
            i32::try_from(meta.width).unwrap_or(i32::MAX).into(),
            i32::try_from(meta.height).unwrap_or(i32::MAX).into(),
            i64::try_from(meta.byte_length).unwrap_or(i64::MAX).into(),
            image.bytes.clone().into(),
            now.into(),
        ])
        .on_conflict(
            OnConflict::column(Images::Sha256)
                .update_column(Images::ByteLength)
                .to_owned(),
        )
        .to_owned()
}

/// Points a beer at a stored image (or at none), returning its id when the beer exists.
pub fn set_beer_image(id: i64, sha256: Option<&str>, now: DateTime<Utc>) -> UpdateStatement {
    Query::update()
        .table(Beers::Table)
        .values([
            (Beers::ImageSha256, sha256.map(str::to_owned).into()),
            (Beers::UpdatedAt, now.into()),
        ])
        .and_where(Expr::col(Beers::Id).eq(id))
        .returning(Query::returning().column(Beers::Id))
        .to_owned()
}

/// An image without its bytes.
#[derive(sqlx::FromRow)]
pub struct ImageMetaRow {
    pub sha256: String,
    pub content_type: String,
    // INTEGER: i32 on PostgreSQL, and SQLite decodes its integers as i32 too.
    pub width: i32,
    pub height: i32,
    pub byte_length: i64,
}

impl ImageMetaRow {
    pub fn into_meta(self) -> Option<ImageMeta> {
        Some(ImageMeta {
            image: ImageRef {
                sha256: self.sha256,
                kind: ImageKind::from_content_type(&self.content_type)?,
            },
            width: u32::try_from(self.width).ok()?,
            height: u32::try_from(self.height).ok()?,
            byte_length: u64::try_from(self.byte_length).ok()?,
        })
    }
}

const IMAGE_META_COLUMNS: [Images; 5] = [
    Images::Sha256,
    Images::ContentType,
    Images::Width,
    Images::Height,
    Images::ByteLength,
];

/// An image's metadata, or with `content` also its bytes.
pub fn image_by_sha256(sha256: &str, content: bool) -> SelectStatement {
    let mut select = Query::select();
    select
        .columns(IMAGE_META_COLUMNS)
        .from(Images::Table)
        .and_where(Expr::col(Images::Sha256).eq(sha256));
    if content {
        select.column(Images::Content);
    }
    select
}

/// Whether the catalog holds any image.
pub fn any_image() -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(Images::Table)
        .limit(1)
        .to_owned()
}

/// Removes every image no beer refers to (after a beer's image was replaced or removed, or the beer deleted).
pub fn remove_orphan_images() -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(Images::Table)
        .and_where(
            Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(Beers::Table)
                    .and_where(Expr::col((Beers::Table, Beers::ImageSha256)).equals((Images::Table, Images::Sha256)))
                    .to_owned(),
            )
            .not(),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    #[test]
    fn fuzzy_patterns_escape_wildcards() {
        assert_eq!(fuzzy_pattern("pnk"), "%p%n%k%");
        assert_eq!(fuzzy_pattern("5%"), "%5%\\%%");
        assert_eq!(substring_pattern("a_b"), "%a\\_b%");
    }

    #[test]
    fn both_dialects_render_the_same_filter() {
        let query = ListQuery {
            filter: BeerFilter {
                abv_gt: Some(8.0),
                hops: Some("citra".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let sqlite = list(&query).to_string(SqliteQueryBuilder);
        let postgres = list(&query).to_string(PostgresQueryBuilder);
        for sql in [&sqlite, &postgres] {
            assert!(sql.contains(r#""beers"."abv" > 8"#), "{sql}");
            assert!(sql.contains("EXISTS"), "{sql}");
            assert!(sql.contains("LIMIT 25"), "{sql}");
        }
    }

    #[test]
    fn sorting_puts_nulls_last_and_ends_with_the_id() {
        let query = ListQuery {
            sort: vec![crate::domain::SortKey {
                field: SortField::Ph,
                descending: true,
            }],
            ..Default::default()
        };
        for sql in [
            list(&query).to_string(SqliteQueryBuilder),
            list(&query).to_string(PostgresQueryBuilder),
        ] {
            assert!(
                sql.contains(r#"ORDER BY "beers"."ph" DESC NULLS LAST, "beers"."id" ASC"#),
                "{sql}"
            );
        }
    }
}
