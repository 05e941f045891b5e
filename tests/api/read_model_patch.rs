//! The read model patched from the database's change log (issue 11): after any writer's changes (this service's
//! writes, an import with ids in the middle of the catalog, raw SQL as psql would run it), the index patched from
//! the previous one equals a full build at the same version and answers like the SQL; bulk writes and a pruned
//! history make readers rebuild instead. And the read model's copies of renderings (issue 10's cold path), which
//! answer as the database does and follow any writer's changes.

use beer_catalog::domain::{BeerFields, BeerFilter, ListQuery, SortField, SortKey};
use beer_catalog::storage::{
    self, CatalogIndex, CatalogReads, ChangeSource, DynDatabase, Freshness, ImportRecord, JsonShape, ReadModel,
    RefreshCounts,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::{TestDatabase, config_for, sample_beer, wait_until_current};

/// SQL as another client runs it, outside the service.
pub(crate) enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    pub(crate) async fn open(url: &str) -> Self {
        if url.starts_with("sqlite:") {
            Raw::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        } else {
            Raw::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        }
    }

    pub(crate) async fn execute(&self, statement: &str) {
        match self {
            Raw::Sqlite(pool) => sqlx::raw_sql(statement).execute(pool).await.map(drop),
            Raw::Postgres(pool) => sqlx::raw_sql(statement).execute(pool).await.map(drop),
        }
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }

    async fn number(&self, query: &str) -> i64 {
        match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(query).fetch_one(pool).await,
            Raw::Postgres(pool) => sqlx::query_scalar(query).fetch_one(pool).await,
        }
        .unwrap()
    }
}

pub(crate) async fn connected(database: &TestDatabase) -> DynDatabase {
    let config = config_for(&database.url, &[]);
    let store = storage::connect(&config.database, &config.store).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// A beer of varied fields, drawn from a few texts so vocabularies share, lose and gain them.
pub(crate) fn random_fields(rng: &mut StdRng) -> BeerFields {
    let mut beer: Value = sample_beer(&format!(
        "{} {}",
        ["Punk", "Dead Pony", "Café Über", "Hazy Jane"].choose(rng).unwrap(),
        rng.gen_range(0..1000)
    ));
    beer["abv"] = rng.gen_range(0..150).into();
    beer["ibu"] = if rng.gen_bool(0.2) {
        Value::Null
    } else {
        rng.gen_range(0..120).into()
    };
    beer["first_brewed"] = format!("{:02}/{}", rng.gen_range(1..=12), rng.gen_range(2007..2020)).into();
    beer["style"] = ["IPA", "Stout", "Lager", "Saison"].choose(rng).copied().into();
    beer["ingredients"]["yeast"] = if rng.gen_bool(0.2) {
        Value::Null
    } else {
        format!("Yeast {}", rng.gen_range(0..20)).into()
    };
    let hop = |name: String| serde_json::json!({"name": name, "amount": {"value": 30, "unit": "grams"}, "add": "end", "attribute": "aroma"});
    beer["ingredients"]["hops"] = (0..rng.gen_range(0..4))
        .map(|_| hop(format!("Hop {}", rng.gen_range(0..40))))
        .collect();
    beer["food_pairing"] = (0..rng.gen_range(0..3))
        .map(|_| Value::from(format!("dish {}", rng.gen_range(0..40))))
        .collect();
    serde_json::from_value(beer).unwrap()
}

pub(crate) fn records(rng: &mut StdRng, ids: impl IntoIterator<Item = i64>) -> Vec<ImportRecord> {
    ids.into_iter()
        .map(|id| ImportRecord {
            id: Some(id),
            fields: random_fields(rng),
            image: None,
        })
        .collect()
}

fn filters() -> Vec<BeerFilter> {
    let f = BeerFilter::default;
    vec![
        f(),
        BeerFilter {
            beer_name: Some("pny".into()),
            ..f()
        },
        BeerFilter {
            hops: Some("hop 1".into()),
            abv_gt: Some(40.0),
            ..f()
        },
        BeerFilter {
            food: Some("dish 2".into()),
            ..f()
        },
        BeerFilter {
            yeast: Some("yeast 1".into()),
            ibu_lt: Some(60.0),
            ..f()
        },
        BeerFilter {
            style: Some("out".into()),
            ..f()
        },
    ]
}

/// The index answers every filter as the database's SQL does.
async fn assert_answers_like_sql(index: &CatalogIndex, store: &dyn CatalogReads, context: &str) {
    for filter in filters() {
        let query = ListQuery {
            page: 1,
            per_page: 100_000,
            filter: filter.clone(),
            sort: Vec::new(),
        };
        let sql: Vec<i64> = store.list(&query).await.unwrap().iter().map(|b| b.id).collect();
        let page = index.page(&filter, &[], 0, 100_000, true);
        assert_eq!(page.ids, sql, "{context}: {filter:?}");
        assert_eq!(page.total, Some(sql.len() as u64), "{context}: {filter:?}");
    }
}

/// A new database holding beers 1 to 300 of random fields (drawn from `seed`), the service's store on it, a raw
/// client, and the generator to draw more from.
async fn catalog_of_300(backend: crate::helpers::Backend, seed: u64) -> (TestDatabase, DynDatabase, Raw, StdRng) {
    let database = TestDatabase::create(backend).await;
    let store = connected(&database).await;
    let raw = Raw::open(&database.url).await;
    let mut rng = StdRng::seed_from_u64(seed);
    store.import(&records(&mut rng, 1..=300), &|_| {}).await.unwrap();
    (database, store, raw, rng)
}

/// Has `freshness` confirm the catalog's current version, as the server's version follower does after each read.
async fn confirm(freshness: &Freshness, store: &dyn ChangeSource) {
    let ticket = freshness.issue();
    freshness.confirm(store.catalog_version().await.unwrap(), ticket);
}

/// Every page of a few filters and orders, in both shapes, and every beer by id (and one past them), as `store`
/// answers them.
async fn answers(store: &dyn CatalogReads, ids: std::ops::RangeInclusive<i64>) -> Vec<Option<String>> {
    let base = "https://beers.example";
    let mut answers = Vec::new();
    for filter in filters() {
        for sort in [
            Vec::new(),
            vec![SortKey {
                field: SortField::Abv,
                descending: true,
            }],
        ] {
            for page in 1..=4 {
                let query = ListQuery {
                    page,
                    per_page: 80,
                    filter: filter.clone(),
                    sort: sort.clone(),
                };
                for shape in [JsonShape::Punk, JsonShape::Native] {
                    answers.push(Some(store.list_json(&query, shape, base).await.unwrap()));
                }
            }
        }
    }
    for id in ids {
        for shape in [JsonShape::Punk, JsonShape::Native] {
            answers.push(store.get_json(id, shape, base).await.unwrap());
        }
    }
    answers
}

backend_tests! {
    async fn the_read_models_copies_answer_as_the_database_follow_any_writer_and_need_no_round_trip(backend) {
        let (database, store, raw, mut rng) = catalog_of_300(backend, 11).await;
        let freshness = Freshness::new();
        confirm(&freshness, store.as_ref()).await;
        let inner = connected(&database).await;
        let indexed = ReadModel::start(inner.clone(), Some(freshness.clone()), 1 << 20);
        wait_until_current(&indexed).await;

        assert_eq!(answers(indexed.as_ref(), 1..=301).await, answers(store.as_ref(), 1..=301).await);
        assert_eq!(indexed.rendered_rows_held().0, 300, "a copy of every beer read");

        // Writes by other writers: the service's SQL through another store, and raw SQL. Once the change signal
        // has the new version, the changed beers' copies no longer count: they are read again.
        store.update(7, &random_fields(&mut rng)).await.unwrap();
        store.delete(8).await.unwrap();
        // Behind the service's back: the rendering changed, updated_at not. The change log still names it.
        raw.execute("UPDATE beers SET rendered = REPLACE(rendered, '\"name\":\"', '\"name\":\"Raw ') WHERE id = 9").await;
        raw.execute("DELETE FROM beers WHERE id = 10").await;
        let created = store.create(&random_fields(&mut rng)).await.unwrap();
        confirm(&freshness, store.as_ref()).await;
        assert_eq!(
            answers(indexed.as_ref(), 1..=created.id + 1).await,
            answers(store.as_ref(), 1..=created.id + 1).await,
            "after other writers' changes"
        );
        assert_eq!(indexed.get_json(8, JsonShape::Punk, "").await.unwrap(), None);
        let raw_named = indexed.get_json(9, JsonShape::Punk, "").await.unwrap().unwrap();
        assert!(raw_named.contains("\"name\":\"Raw "), "{raw_named}");

        // Everything is held now: with the signal vouching, no answer needs the database, whose pool is closed.
        confirm(&freshness, store.as_ref()).await;
        let expected = store.get_json(7, JsonShape::Native, "").await.unwrap();
        let first_page = ListQuery { per_page: 80, ..ListQuery::default() };
        let expected_page = store.list_json(&first_page, JsonShape::Punk, "").await.unwrap();
        inner.close().await;
        assert!(inner.get_json(7, JsonShape::Native, "").await.is_err(), "the database is out of reach");
        assert_eq!(indexed.get_json(7, JsonShape::Native, "").await.unwrap(), expected);
        assert_eq!(indexed.list_json(&first_page, JsonShape::Punk, "").await.unwrap(), expected_page);
        assert_eq!(indexed.get_json(8, JsonShape::Native, "").await.unwrap(), None, "a deleted beer: 404 from the index");
        assert_eq!(indexed.count(&BeerFilter::default()).await.unwrap(), 299);
        store.close().await;
    }

    async fn random_writes_by_any_writer_patch_the_index_into_what_a_full_build_gives(backend) {
        let database = TestDatabase::create(backend).await;
        let store = connected(&database).await;
        let raw = Raw::open(&database.url).await;
        let mut rng = StdRng::seed_from_u64(11);
        // Odd ids, so that imports with even ids land between existing beers.
        store.import(&records(&mut rng, (1..400).step_by(2)), &|_| {}).await.unwrap();
        let mut index = store.load_index().await.unwrap();
        assert_eq!(index.len(), 200);

        for round in 0..12 {
            // An id changed in place: the copy the previous round made (below), which the index holds, moves.
            if round > 0 {
                raw.execute(&format!("UPDATE beers SET id = {} WHERE id = {}", 200_000 + round * 1_000, 100_000 + (round - 1) * 1_000)).await;
            }
            for _ in 0..rng.gen_range(1..6) {
                let ids: Vec<i64> = store.load_index().await.unwrap().page(&BeerFilter::default(), &[], 0, u64::MAX, false).ids;
                let existing = *ids.choose(&mut rng).unwrap();
                match rng.gen_range(0..7) {
                    0 => drop(store.create(&random_fields(&mut rng)).await.unwrap()),
                    1 => assert!(store.update(existing, &random_fields(&mut rng)).await.unwrap().is_some()),
                    2 => assert!(store.delete(existing).await.unwrap()),
                    // An import with explicit ids: new ones in the gaps, existing ones replaced.
                    3 => {
                        let ids: Vec<i64> = (0..rng.gen_range(1..8)).map(|_| rng.gen_range(1..420)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
                        store.import(&records(&mut rng, ids), &|_| {}).await.unwrap();
                    }
                    // psql: one statement over several rows, a delete, an id changed in place.
                    4 => raw.execute(&format!("UPDATE beers SET abv = abv + 1.5, ibu = NULL WHERE id % 7 = {}", rng.gen_range(0..7))).await,
                    5 => raw.execute(&format!("DELETE FROM beers WHERE id = {existing}")).await,
                    _ => raw.execute(&format!("UPDATE beers SET ebc = NULL WHERE id % 11 = {}", rng.gen_range(0..11))).await,
                }
            }
            // A copy without terms (the terms' foreign key lets only such a beer's id change), moved next round. Ids
            // far apart: SQLite gives a new beer the largest id ever used plus one.
            let source = *store.load_index().await.unwrap().page(&BeerFilter::default(), &[], 0, u64::MAX, false).ids.first().unwrap();
            raw.execute(&format!(
                "INSERT INTO beers (id, name, name_search, style_search, yeast_search, abv, ibu, ebc, \
                 first_brewed_month, ph, document, rendered, created_at, updated_at) \
                 SELECT {}, name, name_search, style_search, yeast_search, abv, ibu, ebc, \
                 first_brewed_month, ph, document, rendered, created_at, updated_at FROM beers WHERE id = {source}",
                100_000 + round * 1_000
            ))
            .await;
            let changes = store
                .load_index_changes(index.version(), 10_000)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: the log covers version {}", index.version()));
            assert!(changes.version > index.version(), "round {round}: the version moved");
            let patched = index.patched(&changes);
            let fresh = store.load_index().await.unwrap();
            assert_eq!(patched.difference(&fresh), None, "round {round}");
            assert_eq!(patched, fresh, "round {round}");
            assert_answers_like_sql(&patched, store.as_ref(), &format!("round {round}")).await;
            index = patched;
        }

        // Nothing changed: nothing to read.
        let unchanged = store.load_index_changes(index.version(), 10_000).await.unwrap().unwrap();
        assert_eq!((unchanged.version, unchanged.ids.len(), unchanged.current.len()), (index.version(), 0, 0));
        // More changed beers than allowed: a full build instead.
        raw.execute("UPDATE beers SET abv = abv + 1 WHERE id < 100").await;
        assert!(store.load_index_changes(index.version(), 10).await.unwrap().is_none());
        store.close().await;
    }

    async fn an_indexed_store_patches_after_writes_and_rebuilds_after_a_bulk_import(backend) {
        let (database, store, raw, mut rng) = catalog_of_300(backend, 5).await;
        let inner = connected(&database).await;
        let indexed = ReadModel::start(inner.clone(), None, 0);
        wait_until_current(&indexed).await;
        assert_eq!(indexed.refreshes(), RefreshCounts { patched: 0, rebuilt: 1 });

        // A write through the service and one from outside: each patched in.
        store.update(17, &random_fields(&mut rng)).await.unwrap();
        wait_until_current(&indexed).await;
        raw.execute("DELETE FROM beers WHERE id = 18").await;
        wait_until_current(&indexed).await;
        assert_eq!(indexed.refreshes(), RefreshCounts { patched: 2, rebuilt: 1 });
        let fresh = store.load_index().await.unwrap();
        assert_answers_like_sql(&fresh, indexed.as_ref(), "after patches").await;
        let every = ListQuery { page: 1, per_page: 1_000, filter: BeerFilter::default(), sort: Vec::new() };
        assert_eq!(indexed.list(&every).await.unwrap(), store.list(&every).await.unwrap());

        // A bulk import is not logged row by row: the next refresh rebuilds.
        let before = store.catalog_version().await.unwrap();
        store.import(&records(&mut rng, 200..1_500), &|_| {}).await.unwrap();
        assert!(store.catalog_version().await.unwrap() > before, "the import moved the version");
        assert!(store.load_index_changes(before, 100_000).await.unwrap().is_none());
        let logged = raw.number(&format!("SELECT COUNT(*) FROM catalog_changes WHERE version > {before}")).await;
        assert_eq!(logged, 0, "the import's rows were not logged");
        wait_until_current(&indexed).await;
        assert_eq!(indexed.refreshes(), RefreshCounts { patched: 2, rebuilt: 2 });
        // 1..=1_499 but 18, deleted above.
        assert_eq!(indexed.count(&BeerFilter::default()).await.unwrap(), 1_498);
        assert_answers_like_sql(&store.load_index().await.unwrap(), indexed.as_ref(), "after the import").await;

        // Logging resumes after it, for every writer.
        store.delete(1_000).await.unwrap();
        wait_until_current(&indexed).await;
        assert_eq!(indexed.refreshes(), RefreshCounts { patched: 3, rebuilt: 2 });
        inner.close().await;
        store.close().await;
    }

    async fn the_change_log_is_pruned_and_readers_older_than_it_rebuild(backend) {
        let database = TestDatabase::create(backend).await;
        let store = connected(&database).await;
        let raw = Raw::open(&database.url).await;
        let mut rng = StdRng::seed_from_u64(3);
        store.import(&records(&mut rng, 1..=100), &|_| {}).await.unwrap();
        let old = store.load_index().await.unwrap();
        // SQLite moves the version per row and keeps 10,000; PostgreSQL per statement and keeps 1,000.
        let (statement, times, kept) = match backend {
            crate::helpers::Backend::Sqlite => ("UPDATE beers SET abv = abv + 1", 110, 10_000),
            crate::helpers::Backend::Postgres => ("UPDATE beers SET abv = abv + 1 WHERE id = 1", 1_100, 1_100),
        };
        for _ in 0..times {
            raw.execute(statement).await;
        }
        assert!(store.load_index_changes(old.version(), 100_000).await.unwrap().is_none(), "pruned past it");
        let logged = raw.number("SELECT COUNT(*) FROM catalog_changes").await;
        assert!(logged <= kept, "the log is bounded: {logged} entries");
        // A recent reader still patches.
        let recent = store.load_index().await.unwrap();
        raw.execute("DELETE FROM beers WHERE id = 50").await;
        let changes = store.load_index_changes(recent.version(), 1_000).await.unwrap().unwrap();
        assert_eq!(changes.ids, [50]);
        assert_eq!(recent.patched(&changes).difference(&store.load_index().await.unwrap()), None);

        // One transaction changing more than 1,000 beers is a bulk change, whoever writes it.
        store.import(&records(&mut rng, 101..=1_100), &|_| {}).await.unwrap();
        let before = store.load_index().await.unwrap();
        raw.execute("UPDATE beers SET ibu = NULL").await;
        match backend {
            crate::helpers::Backend::Postgres => {
                assert!(store.load_index_changes(before.version(), 100_000).await.unwrap().is_none());
            }
            // SQLite cannot tell one transaction from the next: logged row by row, within the 10,000 kept.
            crate::helpers::Backend::Sqlite => {
                let changes = store.load_index_changes(before.version(), 100_000).await.unwrap().unwrap();
                assert_eq!(before.patched(&changes).difference(&store.load_index().await.unwrap()), None);
            }
        }
        store.close().await;
    }
}
