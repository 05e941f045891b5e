//! The read model's queries: its rows (all, or of the changed ids), the catalog version and the change log.

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
/// Every stored image's name.
pub const IMAGE_NAMES: &str = "SELECT sha256 FROM images";
/// The version, and the version after which the change log is complete (see the `catalog_changes` migrations).
pub const CATALOG_CHANGES_FROM: &str = "SELECT version, changes_from FROM catalog_version";
