use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

use super::filter::{fuzzy_pattern, substring_pattern};
use super::list;
use crate::domain::{BeerFilter, ListQuery, SortField};

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
