//! The built-in sample catalog (our own data, shipped in the binary), loaded only into an empty catalog: by the
//! `seed` command, and by the server on a fresh development database so `cargo run` serves something at once.

use anyhow::Context;

use crate::domain::{BeerFields, BeerFilter, validate};
use crate::storage::{DynDatabase, ImportRecord};

const CATALOG: &str = include_str!("seed/catalog.json");

/// The sample beers, parsed and validated (a unit test keeps them valid).
pub fn sample_catalog() -> anyhow::Result<Vec<BeerFields>> {
    let beers: Vec<BeerFields> = serde_json::from_str(CATALOG).context("the built-in catalog is not valid JSON")?;
    for beer in &beers {
        validate(beer).map_err(|errors| anyhow::anyhow!("sample beer {:?} is invalid: {errors:?}", beer.name))?;
    }
    Ok(beers)
}

#[derive(Debug, PartialEq, Eq)]
pub enum SeedOutcome {
    Seeded(usize),
    AlreadyPopulated(u64),
}

impl std::fmt::Display for SeedOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedOutcome::Seeded(n) => write!(f, "seeded {n} sample beers"),
            SeedOutcome::AlreadyPopulated(n) => write!(f, "catalog already holds {n} beers: nothing seeded"),
        }
    }
}

/// Loads the sample catalog when the catalog is empty; never touches existing data.
pub async fn seed_if_empty(store: &DynDatabase) -> anyhow::Result<SeedOutcome> {
    let existing = store.count(&BeerFilter::default()).await?;
    let outcome = if existing > 0 {
        SeedOutcome::AlreadyPopulated(existing)
    } else {
        let records: Vec<ImportRecord> = sample_catalog()?
            .into_iter()
            .map(|fields| ImportRecord {
                id: None,
                fields,
                image: None,
            })
            .collect();
        store.import(&records, &|_| {}).await?;
        SeedOutcome::Seeded(records.len())
    };
    tracing::info!("{outcome}");
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sample_catalog_is_valid_and_varied() {
        let beers = super::sample_catalog().unwrap();
        assert!(beers.len() >= 20, "{}", beers.len());
        let styles: std::collections::HashSet<_> = beers.iter().map(|b| b.style.clone()).collect();
        assert!(styles.len() >= 15, "{styles:?}");
        assert!(
            beers
                .iter()
                .all(|b| !b.ingredients.malt.is_empty() && !b.ingredients.hops.is_empty())
        );
    }
}
