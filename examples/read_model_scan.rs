//! Times the in-process read model ([`beer_catalog::storage::read_model`]) without a database or a server: builds
//! an index of N generated beers (the `generate` command's beers, seed 1) and evaluates the requests of issue 11
//! that read every row (no match, deep pages, exact totals, rare combinations, sorts), printing the best, median and
//! worst of a few runs of each. Timings are printed, never asserted; only ratios within one run mean anything on a
//! shared machine.
//!
//!   cargo run --release --example read_model_scan -- 1000000

use std::time::{Duration, Instant};

use beer_catalog::commands::generate::Generator;
use beer_catalog::domain::{BeerFields, Surface, YearMonth, parse_list_query};
use beer_catalog::storage::read_model::{IndexBuilder, IndexRow, TERM_SEPARATOR};
use chrono::Utc;

/// What `load_index` reads for a beer, derived as the write path derives its columns (lower-cased search texts,
/// each kind's distinct terms).
struct Derived {
    name: String,
    yeast: Option<String>,
    style: Option<String>,
    abv: f64,
    ibu: Option<f64>,
    ebc: Option<f64>,
    ph: Option<f64>,
    month: Option<i64>,
    terms: [String; 3],
}

fn derive(fields: &BeerFields) -> Derived {
    let number = |n: &Option<serde_json::Number>| n.as_ref().and_then(serde_json::Number::as_f64);
    let join = |texts: Vec<&String>| {
        let mut texts: Vec<String> = texts.into_iter().map(|t| t.to_lowercase()).collect();
        texts.sort();
        texts.dedup();
        texts.join(&TERM_SEPARATOR.to_string())
    };
    Derived {
        name: fields.name.to_lowercase(),
        yeast: fields.ingredients.yeast.as_deref().map(str::to_lowercase),
        style: fields.style.as_deref().map(str::to_lowercase),
        abv: fields.abv.as_f64().unwrap_or_default(),
        ibu: number(&fields.ibu),
        ebc: number(&fields.ebc),
        ph: number(&fields.ph),
        month: YearMonth::parse_first_brewed(&fields.first_brewed).map(|m| m.0),
        terms: [
            join(fields.ingredients.hops.iter().map(|h| &h.name).collect()),
            join(fields.ingredients.malt.iter().map(|m| &m.name).collect()),
            join(fields.food_pairing.iter().collect()),
        ],
    }
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |n| n.parse().expect("a beer count"));
    let started = Instant::now();
    let mut generator = Generator::new(1);
    let beers: Vec<Derived> = (0..count).map(|_| derive(&generator.beer())).collect();
    println!("generated {count} beers in {:.1} s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let now = Utc::now();
    let mut builder = IndexBuilder::new(1);
    for (n, beer) in beers.iter().enumerate() {
        builder.push_beer(&IndexRow {
            id: n as i64 + 1,
            name_search: &beer.name,
            yeast_search: beer.yeast.as_deref(),
            style_search: beer.style.as_deref(),
            abv: beer.abv,
            ibu: beer.ibu,
            ebc: beer.ebc,
            ph: beer.ph,
            first_brewed_month: beer.month,
            created_at: now,
            updated_at: now,
            hops: &beer.terms[0],
            malts: &beer.terms[1],
            foods: &beer.terms[2],
        });
    }
    let index = builder.finish();
    println!(
        "built the index in {:.2} s (from rows in memory)",
        started.elapsed().as_secs_f64()
    );
    drop(beers);

    let requests: &[(&str, bool)] = &[
        // (query, whether the native API's exact total is asked for)
        ("beer_name=zzzz", false),
        ("beer_name=punk", true),
        ("beer_name=punk", false),
        ("brewed_before=01-2008&page=400", false),
        ("food=cheese&abv_gt=8&hops=zzz", false),
        ("food=cheese&abv_gt=8", true),
        ("hops=cascade", true),
        ("yeast=wyeast", true),
        ("abv_gt=12", true),
        ("malt=extra&ibu_gt=30&ibu_lt=60", true),
        ("beer_name=o&hops=a&malt=a&food=e&abv_lt=7&ebc_gt=5", true),
        ("ph_gt=4.5", true),
        ("style=ipa&page=1000", true),
        ("", true),
        ("sort=abv:desc", true),
        ("sort=name&page=12000", true),
        ("sort=ph,ibu:desc&abv_gt=6", true),
        ("sort=first_brewed:desc&food=cheese", true),
        ("sort=id:desc&beer_name=punk", true),
    ];
    println!(
        "{:<55} {:>9} {:>9} {:>9} {:>9}",
        "request (native API parameters)", "matches", "best", "median", "worst"
    );
    for (raw, count) in requests {
        let query = parse_list_query(Some(raw), Surface::Native).expect("a valid query");
        let mut times: Vec<Duration> = Vec::new();
        let mut total = None;
        for _ in 0..9 {
            let started = Instant::now();
            let page = index.page(
                &query.filter,
                &query.sort,
                query.offset(),
                u64::from(query.per_page),
                *count,
            );
            times.push(started.elapsed());
            total = page.total;
        }
        times.sort();
        let label = format!("{raw}{}", if *count { " (+ total)" } else { "" });
        println!(
            "{label:<55} {:>9} {:>7.2}ms {:>7.2}ms {:>7.2}ms",
            total.map_or("-".to_owned(), |t| t.to_string()),
            times[0].as_secs_f64() * 1e3,
            times[times.len() / 2].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
    }
}
