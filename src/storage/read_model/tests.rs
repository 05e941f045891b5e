use std::cmp::Ordering;

use chrono::DateTime;

use super::{CatalogIndex, IdPage, IndexBuilder, IndexRow, fuzzy_match};
use crate::domain::{BeerFilter, SortField, SortKey, YearMonth};

#[derive(Clone)]
struct Beer {
    id: i64,
    name: &'static str,
    abv: f64,
    ibu: Option<f64>,
    ph: Option<f64>,
    month: Option<i64>,
    hops: &'static str,
    malts: &'static str,
    foods: &'static str,
}

fn beer(id: i64, name: &'static str, abv: f64, ibu: Option<f64>, month: Option<YearMonth>) -> Beer {
    Beer {
        id,
        name,
        abv,
        ibu,
        ph: None,
        month: month.map(|m| m.0),
        hops: "",
        malts: "",
        foods: "",
    }
}

fn build(beers: &[Beer]) -> CatalogIndex {
    let mut builder = IndexBuilder::new(7);
    for b in beers {
        let at = DateTime::from_timestamp(1_700_000_000 - b.id * 1000, 0).unwrap();
        builder.push_beer(&IndexRow {
            id: b.id,
            name_search: b.name,
            yeast_search: (b.id % 2 == 0).then_some("wyeast 1056 - american ale"),
            style_search: Some(if b.id % 3 == 0 { "stout" } else { "ipa" }),
            abv: b.abv,
            ibu: b.ibu,
            ebc: None,
            ph: b.ph,
            first_brewed_month: b.month,
            created_at: at,
            updated_at: at,
            hops: b.hops,
            malts: b.malts,
            foods: b.foods,
        });
    }
    builder.finish()
}

fn index() -> CatalogIndex {
    build(&[
        Beer {
            hops: "simcoe",
            foods: "spicy chicken",
            ph: Some(4.4),
            ..beer(1, "punk ipa", 5.6, Some(40.0), YearMonth::new(2007, 4))
        },
        beer(2, "dead pony club", 3.8, None, None),
        Beer {
            hops: "citra\u{1f}simcoe",
            ph: Some(3.9),
            ..beer(5, "café über", 9.0, Some(80.0), YearMonth::new(2015, 1))
        },
        Beer {
            malts: "munich",
            ph: Some(4.4),
            ..beer(9, "100% pure", 12.0, Some(5.0), YearMonth::new(2010, 6))
        },
    ])
}

fn ids(filter: BeerFilter) -> Vec<i64> {
    index().page(&filter, &[], 0, 80, false).ids
}

#[test]
fn fuzzy_means_the_characters_in_order() {
    assert!(fuzzy_match("punk ipa", "pnk"));
    assert!(fuzzy_match("punk ipa", "punk ipa"));
    assert!(!fuzzy_match("punk ipa", "knup"));
    assert!(fuzzy_match("café über", "éü"));
    assert!(fuzzy_match("anything", ""));
}

#[test]
fn id_gt_starts_after_an_id_with_any_other_filter() {
    let f = BeerFilter::default;
    assert_eq!(ids(BeerFilter { id_gt: Some(2), ..f() }), [5, 9]);
    assert_eq!(ids(BeerFilter { id_gt: Some(3), ..f() }), [5, 9]);
    assert_eq!(ids(BeerFilter { id_gt: Some(0), ..f() }), [1, 2, 5, 9]);
    assert_eq!(ids(BeerFilter { id_gt: Some(9), ..f() }), [] as [i64; 0]);
    assert_eq!(
        ids(BeerFilter {
            id_gt: Some(1),
            abv_lt: Some(5.6),
            ..f()
        }),
        [2]
    );
    assert_eq!(
        ids(BeerFilter {
            id_gt: Some(2),
            ids: Some(vec![1, 2, 5]),
            ..f()
        }),
        [5]
    );
}

#[test]
fn each_filter_selects_what_it_defines() {
    let f = BeerFilter::default;
    assert_eq!(ids(f()), [1, 2, 5, 9]);
    assert_eq!(
        ids(BeerFilter {
            abv_gt: Some(5.6),
            ..f()
        }),
        [5, 9]
    );
    assert_eq!(
        ids(BeerFilter {
            abv_lt: Some(5.6),
            ..f()
        }),
        [2]
    );
    // A missing IBU matches neither direction.
    assert_eq!(
        ids(BeerFilter {
            ibu_lt: Some(1000.0),
            ..f()
        }),
        [1, 5, 9]
    );
    assert_eq!(
        ids(BeerFilter {
            ibu_gt: Some(-1.0),
            ..f()
        }),
        [1, 5, 9]
    );
    assert_eq!(
        ids(BeerFilter {
            brewed_before: YearMonth::new(2010, 6),
            ..f()
        }),
        [1]
    );
    assert_eq!(
        ids(BeerFilter {
            brewed_after: YearMonth::new(2010, 6),
            ..f()
        }),
        [5]
    );
    assert_eq!(
        ids(BeerFilter {
            beer_name: Some("pny".into()),
            ..f()
        }),
        [2]
    );
    assert_eq!(
        ids(BeerFilter {
            beer_name: Some("zzzz".into()),
            ..f()
        }),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(BeerFilter {
            beer_name: Some("% p".into()),
            ..f()
        }),
        [9]
    );
    assert_eq!(
        ids(BeerFilter {
            beer_name: Some("cü".into()),
            ..f()
        }),
        [5]
    );
    assert_eq!(
        ids(BeerFilter {
            yeast: Some("wyeast 1056".into()),
            ..f()
        }),
        [2]
    );
    assert_eq!(
        ids(BeerFilter {
            style: Some("tou".into()),
            ..f()
        }),
        [9]
    );
    assert_eq!(
        ids(BeerFilter {
            hops: Some("smc".into()),
            ..f()
        }),
        [1, 5]
    );
    assert_eq!(
        ids(BeerFilter {
            malt: Some("munich".into()),
            ..f()
        }),
        [9]
    );
    assert_eq!(
        ids(BeerFilter {
            food: Some("spicy chicken".into()),
            ..f()
        }),
        [1]
    );
    assert_eq!(
        ids(BeerFilter {
            food: Some("spc".into()),
            ..f()
        }),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(BeerFilter {
            ids: Some(vec![9, 2, 4, 2]),
            ..f()
        }),
        [2, 9]
    );
    let combined = BeerFilter {
        abv_gt: Some(5.0),
        hops: Some("simcoe".into()),
        ..f()
    };
    assert_eq!(ids(combined), [1, 5]);
}

/// A food filter matching under half the beers starts from the beers of its matching pairings (postings): a beer
/// with two matching pairings is listed once, in id order either way, after `id_gt`, and the facets count it once.
#[test]
fn a_term_filter_starting_from_its_beers_lists_each_once_in_order() {
    let beers: Vec<Beer> = (1..=40)
        .map(|id| Beer {
            foods: match id {
                _ if id % 10 == 0 => "cheese\u{1f}cheesecake",
                _ if id % 7 == 0 => "blue cheese",
                _ => "salad",
            },
            ..beer(id, "b", 5.0, None, None)
        })
        .collect();
    let index = build(&beers);
    let cheese = BeerFilter {
        food: Some("cheese".into()),
        ..BeerFilter::default()
    };
    let page = index.page(&cheese, &[], 0, 100, true);
    assert_eq!(page.ids, [7, 10, 14, 20, 21, 28, 30, 35, 40]);
    assert_eq!(page.total, Some(9));
    let descending = [SortKey {
        field: SortField::Id,
        descending: true,
    }];
    assert_eq!(index.page(&cheese, &descending, 0, 3, false).ids, [40, 35, 30]);
    let after_20 = BeerFilter {
        id_gt: Some(20),
        ..cheese.clone()
    };
    assert_eq!(index.page(&after_20, &[], 0, 100, true).ids, [21, 28, 30, 35, 40]);
    let foods = index.ingredient_names(crate::domain::IngredientKind::Food, &cheese);
    let beers_of = |key: &str| foods.iter().find(|name| name.key == key).map(|name| name.beers);
    assert_eq!(beers_of("cheese"), Some(4));
    assert_eq!(beers_of("bluecheese"), Some(5));
    assert_eq!(beers_of("salad"), None);
}

#[test]
fn ph_filters_and_impossible_texts() {
    let f = BeerFilter::default;
    assert_eq!(
        ids(BeerFilter {
            ph_gt: Some(4.0),
            ..f()
        }),
        [1, 9]
    );
    assert_eq!(
        ids(BeerFilter {
            ph_lt: Some(4.4),
            ..f()
        }),
        [5]
    );
    assert_eq!(
        ids(BeerFilter {
            ph_gt: Some(3.0),
            ph_lt: Some(4.5),
            ..f()
        }),
        [1, 5, 9]
    );
    // No name holds a `q`, no hop matches `zzz`: nothing, whatever else the filter says.
    assert_eq!(
        ids(BeerFilter {
            beer_name: Some("q".into()),
            ..f()
        }),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(BeerFilter {
            hops: Some("zzz".into()),
            abv_gt: Some(1.0),
            ..f()
        }),
        Vec::<i64>::new()
    );
    assert_eq!(
        index()
            .page(
                &BeerFilter {
                    hops: Some("zzz".into()),
                    ..f()
                },
                &[],
                0,
                5,
                true
            )
            .total,
        Some(0)
    );
}

/// A reference order written apart from the index's keys: values as options, missing last either way, ties
/// by id.
fn reference_order(beers: &[Beer], sort: &[SortKey]) -> Vec<i64> {
    let mut sorted: Vec<&Beer> = beers.iter().collect();
    sorted.sort_by(|a, b| {
        let mut order = Ordering::Equal;
        for key in sort {
            let values = |beer: &Beer| -> Option<Result<f64, &str>> {
                match key.field {
                    SortField::Id => Some(Ok(beer.id as f64)),
                    SortField::Name => Some(Err(beer.name)),
                    SortField::Abv => Some(Ok(beer.abv)),
                    SortField::Ibu => beer.ibu.map(Ok),
                    SortField::Ph => beer.ph.map(Ok),
                    SortField::FirstBrewed => beer.month.map(|m| Ok(m as f64)),
                    // `build` dates beers backwards from their id.
                    SortField::CreatedAt | SortField::UpdatedAt => Some(Ok(-beer.id as f64)),
                    SortField::Ebc => None,
                }
            };
            let next = match (values(a), values(b)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = match (x, y) {
                        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap(),
                        (Err(x), Err(y)) => x.as_bytes().cmp(y.as_bytes()),
                        _ => unreachable!(),
                    };
                    if key.descending { o.reverse() } else { o }
                }
            };
            order = order.then(next);
        }
        order.then(a.id.cmp(&b.id))
    });
    sorted.into_iter().map(|b| b.id).collect()
}

#[test]
fn sorted_pages_follow_the_sql_order() {
    // Few distinct values (ties), missing values, -0.0 beside 0.0, names sharing their first 8 bytes.
    const NAMES: [&str; 6] = [
        "brewdog punk",
        "brewdog punk ipa",
        "brewdog",
        "äpfel",
        "a",
        "brewdog pale",
    ];
    let beers: Vec<Beer> = (1..=300)
        .map(|id| Beer {
            ph: (id % 7 != 0).then(|| [4.2, 3.9, 4.4][id as usize % 3]),
            ..beer(
                id * 3,
                NAMES[(id * 7 % 6) as usize],
                [0.0, -0.0, 5.5, 12.0, 5.5][(id % 5) as usize],
                (id % 4 != 0).then_some((id % 9) as f64),
                (id % 11 != 0).then(|| YearMonth::new(2000 + id % 13, 1 + id % 12).unwrap()),
            )
        })
        .collect();
    let index = build(&beers);
    let key = |field, descending| SortKey { field, descending };
    let sorts = [
        vec![key(SortField::Abv, false)],
        vec![key(SortField::Abv, true)],
        vec![key(SortField::Ibu, true), key(SortField::Name, false)],
        vec![key(SortField::Name, true), key(SortField::Ph, false)],
        vec![key(SortField::Name, false)],
        vec![key(SortField::Ph, false), key(SortField::FirstBrewed, true)],
        vec![key(SortField::FirstBrewed, false)],
        vec![key(SortField::Ebc, true), key(SortField::Abv, false)],
        vec![key(SortField::CreatedAt, false)],
        vec![key(SortField::UpdatedAt, true)],
        vec![key(SortField::Id, true)],
        vec![key(SortField::Abv, false), key(SortField::Id, true)],
        vec![
            key(SortField::Ph, false),
            key(SortField::Abv, true),
            key(SortField::Name, false),
        ],
        vec![
            key(SortField::FirstBrewed, true),
            key(SortField::Ibu, false),
            key(SortField::Id, true),
        ],
    ];
    let filters = [
        BeerFilter::default(),
        BeerFilter {
            abv_gt: Some(-1.0),
            ph_lt: Some(4.3),
            ..BeerFilter::default()
        },
        BeerFilter {
            beer_name: Some("pnk".into()),
            ..BeerFilter::default()
        },
        BeerFilter {
            ids: Some(vec![3, 30, 33, 600, 601]),
            ..BeerFilter::default()
        },
    ];
    for filter in &filters {
        let expected_all = index.page(filter, &[], 0, 1000, true);
        for sort in &sorts {
            let matching: Vec<Beer> = beers
                .iter()
                .filter(|b| expected_all.ids.contains(&b.id))
                .cloned()
                .collect();
            let expected = reference_order(&matching, sort);
            // Shallow pages (a heap) and deep ones (select), by ending before or after SHALLOW_PAGES.
            for (offset, limit) in [
                (0, 1000),
                (0, 25),
                (25, 25),
                (100, 7),
                (295, 80),
                (400, 10),
                (0, 2000),
                (150, 5000),
            ] {
                let page = index.page(filter, sort, offset, limit, true);
                let want: Vec<i64> = expected
                    .iter()
                    .skip(offset as usize)
                    .take(limit as usize)
                    .copied()
                    .collect();
                assert_eq!(page.ids, want, "{filter:?} {sort:?} {offset}+{limit}");
                assert_eq!(page.total, expected_all.total);
            }
        }
    }
}

#[test]
fn pages_and_totals() {
    let index = index();
    let all = BeerFilter::default();
    assert_eq!(
        index.page(&all, &[], 1, 2, true),
        IdPage {
            ids: vec![2, 5],
            total: Some(4)
        }
    );
    assert_eq!(
        index.page(&all, &[], 1, 2, false),
        IdPage {
            ids: vec![2, 5],
            total: None
        }
    );
    assert_eq!(
        index.page(&all, &[], 10, 2, true),
        IdPage {
            ids: vec![],
            total: Some(4)
        }
    );
    assert_eq!(index.version(), 7);
    assert_eq!(index.len(), 4);
}
