//! What the store's generic code ([`super::store`], [`super::writes`]) asks of sqlx for one database.
//!
//! sqlx states what a database can do as bounds on other types, most of them higher-ranked
//! (`for<'c> &'c mut Connection: Executor<'c>`, `for<'r> BeerRow: FromRow<'r, Row>`, ...). Rust passes a trait's
//! supertraits on to the code that uses it, but not its other `where` clauses, so [`Dialect`](super::Dialect)
//! cannot carry those bounds itself: every generic impl would have to repeat them. Instead each is stated once,
//! on the blanket impl of a small trait here ([`Decodes`], [`Runs`]) that holds for SQLite and PostgreSQL and
//! turns the bound into a method, and `Dialect` requires these traits as supertraits, which do carry over: a
//! `D: Dialect` bound is all the generic code needs. The methods go straight to sqlx's own futures and streams
//! (the same calls `query_as(...).fetch_all(...)` makes), so they cost no allocation of their own.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use sea_query_binder::SqlxValues;
use sqlx::database::HasStatementCache;
use sqlx::{ColumnIndex, Database, Decode, Execute, Executor, FromRow, IntoArguments, Result, Row, Type};

use crate::storage::StoreResult;
use crate::storage::read_model::{IndexBuilder, IndexRow};

/// A statement ready to run on one backend: its SQL text and the values it binds
/// ([`Dialect::build`](super::Dialect::build) makes one from a sea-query statement).
pub struct Statement {
    sql: Cow<'static, str>,
    values: SqlxValues,
    /// Whether the connection keeps it prepared for the next run: not when its text is unlikely to recur.
    persistent: bool,
}

impl Statement {
    pub fn new(sql: impl Into<Cow<'static, str>>, values: sea_query::Values) -> Self {
        Self {
            sql: sql.into(),
            values: SqlxValues(values),
            persistent: true,
        }
    }

    /// A fixed statement that binds nothing.
    pub fn fixed(sql: &'static str) -> Self {
        Self::new(sql, sea_query::Values(Vec::new()))
    }

    /// A statement whose text carries its values (a list of ids): not worth preparing.
    pub fn one_off(sql: String) -> Self {
        Self {
            persistent: false,
            ..Self::new(sql, sea_query::Values(Vec::new()))
        }
    }
}

/// Rows of this database decoded as `T`.
pub trait Decodes<T>: Database {
    fn decode(row: &Self::Row) -> Result<T>;
}

impl<DB: Database, T: for<'r> FromRow<'r, DB::Row>> Decodes<T> for DB {
    fn decode(row: &DB::Row) -> Result<T> {
        T::from_row(row)
    }
}

/// Running a [`Statement`] on a connection (a pooled one, or a transaction's).
pub trait Runs: Database<Row: DecodesIndexRow> {
    /// The connection as sqlx's executor.
    fn on(connection: &mut Self::Connection) -> impl Executor<'_, Database = Self>;
    /// The statement as a query sqlx can run (which takes its values).
    fn query(statement: &mut Statement) -> impl Execute<'_, Self>;

    fn execute(
        on: &mut Self::Connection,
        mut statement: Statement,
    ) -> impl Future<Output = Result<Self::QueryResult>> + Send {
        async move { Self::on(on).execute(Self::query(&mut statement)).await }
    }

    /// Every row, decoded as `T`.
    fn fetch_all<T>(on: &mut Self::Connection, mut statement: Statement) -> impl Future<Output = Result<Vec<T>>> + Send
    where
        Self: Decodes<T>,
        T: Send,
    {
        async move {
            let rows = Self::on(on).fetch(Self::query(&mut statement));
            rows.map(|row| Self::decode(&row?)).try_collect().await
        }
    }

    /// The first row, if any, decoded as `T`.
    fn fetch_optional<T>(
        on: &mut Self::Connection,
        mut statement: Statement,
    ) -> impl Future<Output = Result<Option<T>>> + Send
    where
        Self: Decodes<T>,
    {
        async move {
            let row = Self::on(on).fetch_optional(Self::query(&mut statement)).await?;
            row.as_ref().map(Self::decode).transpose()
        }
    }

    /// The first row decoded as `T`; `RowNotFound` when there is none.
    fn fetch_one<T>(on: &mut Self::Connection, statement: Statement) -> impl Future<Output = Result<T>> + Send
    where
        Self: Decodes<T>,
    {
        let row = Self::fetch_optional(on, statement);
        async move { row.await?.ok_or(sqlx::Error::RowNotFound) }
    }

    /// Decodes every row the statement returns (the columns of `sql::INDEX_ROWS_*`) into `builder`, one row at
    /// a time.
    fn push_index_rows(
        on: &mut Self::Connection,
        mut statement: Statement,
        builder: &mut IndexBuilder,
    ) -> impl Future<Output = StoreResult<()>> + Send {
        async move {
            let mut rows = Self::on(on).fetch(Self::query(&mut statement));
            while let Some(row) = rows.try_next().await? {
                builder.push_beer(&row.index_row()?);
            }
            Ok(())
        }
    }
}

impl<DB> Runs for DB
where
    DB: Database<Row: DecodesIndexRow> + HasStatementCache,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> SqlxValues: IntoArguments<'q, DB>,
{
    fn on(connection: &mut DB::Connection) -> impl Executor<'_, Database = DB> {
        connection
    }

    fn query(statement: &mut Statement) -> impl Execute<'_, DB> {
        let values = std::mem::replace(&mut statement.values, SqlxValues(sea_query::Values(Vec::new())));
        sqlx::query_with(&statement.sql, values).persistent(statement.persistent)
    }
}

/// A row whose columns decode as the read model's: what every `sql::INDEX_ROWS_*` and `sql::INDEX_BEERS` row is.
pub trait DecodesIndexRow: Row {
    /// The [`IndexRow`] from the first 11 columns and the beer's terms, each text borrowed from the rows.
    fn index_row_with<'r>(&'r self, hops: &'r str, malts: &'r str, foods: &'r str) -> Result<IndexRow<'r>>;
    /// The [`IndexRow`] from all 14 columns (the terms in the last three), each text borrowed from the row.
    fn index_row(&self) -> Result<IndexRow<'_>>;
}

impl<R> DecodesIndexRow for R
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> &'r str: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn index_row_with<'r>(&'r self, hops: &'r str, malts: &'r str, foods: &'r str) -> Result<IndexRow<'r>> {
        Ok(IndexRow {
            id: self.try_get(0)?,
            name_search: self.try_get(1)?,
            yeast_search: self.try_get(2)?,
            style_search: self.try_get(3)?,
            abv: self.try_get(4)?,
            ibu: self.try_get(5)?,
            ebc: self.try_get(6)?,
            ph: self.try_get(7)?,
            first_brewed_month: self.try_get(8)?,
            created_at: self.try_get(9)?,
            updated_at: self.try_get(10)?,
            hops,
            malts,
            foods,
        })
    }

    fn index_row(&self) -> Result<IndexRow<'_>> {
        self.index_row_with(self.try_get(11)?, self.try_get(12)?, self.try_get(13)?)
    }
}
