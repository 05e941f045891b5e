//! The import's fast path, for beers whose ids are not in the catalog yet (the common case of a bulk load): their
//! rows go to the database without sea-query's value tree or the upsert's conflict handling. PostgreSQL receives
//! them with `COPY ... FROM STDIN` (text format), SQLite with multi-row INSERTs whose SQL text is the same for
//! every full chunk, so the connection's prepared statement is reused and only the values are bound. Both write
//! exactly what the normal write path ([`sql::insert`]) writes: the same derived columns ([`sql::Written`]), the
//! same `document` and `rendered`, `created_at` = `updated_at` = the import's time, and the same term rows; the
//! columns not listed in [`BEER_COLUMNS`] (`image_sha256`, and any added later with a default) get their
//! defaults, as an INSERT without them would. Ids that exist already keep the upsert in [`sql::insert_many`].

use std::io::Write as _;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, SqliteConnection};

use crate::domain::BeerFields;
use crate::storage::StoreResult;
use crate::storage::sql::{self, Written};

/// The `beers` columns the fast path writes, in this order in both writers (`copy_new_beers` and
/// `insert_new_beers_sqlite`): a new column that needs a value from the beer is added here and in those two lists.
pub const BEER_COLUMNS: &str = "id, name, name_search, style_search, yeast_search, abv, ibu, ebc, ph, \
     first_brewed_month, document, rendered, created_at, updated_at";
const BEER_COLUMN_COUNT: usize = 14;
/// The `beer_terms` columns, in the order they are written.
pub const TERM_COLUMNS: &str = "beer_id, kind, term";

/// COPY data is handed to the connection in pieces of about this size, so the server parses one while the next
/// is encoded.
const COPY_CHUNK: usize = 1 << 20;
/// Beers per SQLite INSERT: 14 values each, under SQLite's 32,766 bound parameters.
const SQLITE_BEERS_PER_STATEMENT: usize = 500;
/// Term rows per SQLite INSERT (3 values each).
const SQLITE_TERMS_PER_STATEMENT: usize = 2_000;

/// A value as COPY's text format spells it.
enum Field<'a> {
    Null,
    Text(&'a str),
    Integer(i64),
    Float(f64),
}

/// Appends one row of COPY text: tab-separated fields, `\N` for NULL, backslash escapes for the characters the
/// format reserves.
fn copy_row<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = Field<'a>>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match field {
            Field::Null => out.extend_from_slice(b"\\N"),
            Field::Text(text) => copy_escape(out, text),
            Field::Integer(n) => write!(out, "{n}").expect("writing to a Vec"),
            // The shortest text that reads back as the same double (what a bound f64 stores).
            Field::Float(x) => write!(out, "{x}").expect("writing to a Vec"),
        }
    }
    out.push(b'\n');
}

fn copy_escape(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// PostgreSQL's text for a `TIMESTAMPTZ` (microseconds, UTC).
fn pg_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

fn text_or_null(text: &Option<String>) -> Field<'_> {
    text.as_deref().map_or(Field::Null, Field::Text)
}

fn float_or_null(x: Option<f64>) -> Field<'static> {
    x.map_or(Field::Null, Field::Float)
}

/// Sends `data` to an open COPY when it has grown past a chunk.
async fn send_if_full(copy: &mut sqlx::postgres::PgCopyIn<&mut PgConnection>, data: &mut Vec<u8>) -> StoreResult<()> {
    if data.len() >= COPY_CHUNK {
        copy.send(data.as_slice()).await?;
        data.clear();
    }
    Ok(())
}

/// Writes beers whose ids are not in `beers` yet, and their term rows, with two COPYs.
pub async fn copy_new_beers(
    conn: &mut PgConnection,
    beers: &[(i64, &BeerFields)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if beers.is_empty() {
        return Ok(());
    }
    let now = pg_timestamp(now);
    let mut data = Vec::with_capacity(COPY_CHUNK + (64 << 10));
    {
        let mut copy = conn
            .copy_in_raw(&format!("COPY beers ({BEER_COLUMNS}) FROM STDIN"))
            .await?;
        for (id, fields) in beers {
            let w = Written::new(fields);
            copy_row(
                &mut data,
                [
                    Field::Integer(*id),
                    Field::Text(w.name),
                    Field::Text(&w.name_search),
                    text_or_null(&w.style_search),
                    text_or_null(&w.yeast_search),
                    Field::Float(w.abv),
                    float_or_null(w.ibu),
                    float_or_null(w.ebc),
                    float_or_null(w.ph),
                    w.first_brewed_month.map_or(Field::Null, Field::Integer),
                    // jsonb keeps neither key order nor spacing: the rendered text makes the same document as the
                    // normal path's `serde_json::Value`.
                    Field::Text(&w.rendered),
                    Field::Text(&w.rendered),
                    Field::Text(&now),
                    Field::Text(&now),
                ],
            );
            if let Err(error) = send_if_full(&mut copy, &mut data).await {
                copy.abort("the import failed").await.ok();
                return Err(error);
            }
        }
        copy.send(data.as_slice()).await?;
        copy.finish().await?;
    }
    data.clear();
    let mut copy = conn
        .copy_in_raw(&format!("COPY beer_terms ({TERM_COLUMNS}) FROM STDIN"))
        .await?;
    for (id, fields) in beers {
        let id = id.to_string();
        for (kind, term) in sql::terms_of(fields) {
            data.extend_from_slice(id.as_bytes());
            data.push(b'\t');
            data.extend_from_slice(kind.as_bytes());
            data.push(b'\t');
            copy_escape(&mut data, &term);
            data.push(b'\n');
        }
        if let Err(error) = send_if_full(&mut copy, &mut data).await {
            copy.abort("the import failed").await.ok();
            return Err(error);
        }
    }
    copy.send(data.as_slice()).await?;
    copy.finish().await?;
    Ok(())
}

/// Which of `ids` are in `beers` (as this transaction sees it).
pub async fn existing_ids_postgres(conn: &mut PgConnection, ids: &[i64]) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM beers WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(conn)
        .await?)
}

/// Which of `ids` are in `beers` (as this transaction sees it).
pub async fn existing_ids_sqlite(conn: &mut SqliteConnection, ids: &[i64]) -> StoreResult<Vec<i64>> {
    let list = serde_json::to_string(ids).expect("integers always serialise");
    Ok(
        sqlx::query_scalar("SELECT id FROM beers WHERE id IN (SELECT value FROM json_each(?1))")
            .bind(list)
            .fetch_all(conn)
            .await?,
    )
}

/// Multi-row `INSERT INTO table (columns) VALUES (?, ...), ...` for `rows` rows of `width` values.
fn insert_sql(table: &str, columns: &str, width: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(","));
    let mut sql = format!("INSERT INTO {table} ({columns}) VALUES ");
    sql.reserve(rows * (row.len() + 1));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&row);
    }
    sql
}

/// Writes beers whose ids are not in `beers` yet, and their term rows, with prepared multi-row INSERTs.
pub async fn insert_new_beers_sqlite(
    conn: &mut SqliteConnection,
    beers: &[(i64, &BeerFields)],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let full = insert_sql("beers", BEER_COLUMNS, BEER_COLUMN_COUNT, SQLITE_BEERS_PER_STATEMENT);
    for chunk in beers.chunks(SQLITE_BEERS_PER_STATEMENT) {
        let partial;
        let statement = if chunk.len() == SQLITE_BEERS_PER_STATEMENT {
            &full
        } else {
            partial = insert_sql("beers", BEER_COLUMNS, BEER_COLUMN_COUNT, chunk.len());
            &partial
        };
        // What sqlx stores for the normal path's `serde_json::Value`: its text, keys sorted.
        let written: Vec<(Written, String)> = chunk
            .iter()
            .map(|(_, fields)| {
                let value = serde_json::to_value(fields).expect("a beer always serialises to JSON");
                let document = serde_json::to_string(&value).expect("a JSON value always serialises");
                (Written::new(fields), document)
            })
            .collect();
        let mut query = sqlx::query(statement);
        for ((id, _), (written, document)) in chunk.iter().zip(&written) {
            query = query
                .bind(*id)
                .bind(written.name)
                .bind(written.name_search.as_str())
                .bind(written.style_search.as_deref())
                .bind(written.yeast_search.as_deref())
                .bind(written.abv)
                .bind(written.ibu)
                .bind(written.ebc)
                .bind(written.ph)
                .bind(written.first_brewed_month)
                .bind(document.as_str())
                .bind(written.rendered.as_str())
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }

    let terms: Vec<(i64, &'static str, String)> = beers
        .iter()
        .flat_map(|(id, fields)| {
            sql::terms_of(fields)
                .into_iter()
                .map(move |(kind, term)| (*id, kind, term))
        })
        .collect();
    let full = insert_sql("beer_terms", TERM_COLUMNS, 3, SQLITE_TERMS_PER_STATEMENT);
    for chunk in terms.chunks(SQLITE_TERMS_PER_STATEMENT) {
        let partial;
        let statement = if chunk.len() == SQLITE_TERMS_PER_STATEMENT {
            &full
        } else {
            partial = insert_sql("beer_terms", TERM_COLUMNS, 3, chunk.len());
            &partial
        };
        let mut query = sqlx::query(statement);
        for (id, kind, term) in chunk {
            query = query.bind(*id).bind(*kind).bind(term.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
