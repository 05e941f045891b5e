//! What every handler shares.

use crate::config::{ApiKeys, Config};
use crate::storage::DynStore;

/// Who may create, change and delete beers.
#[derive(Clone)]
pub enum WritePolicy {
    /// Development with no keys configured: anyone (the start-up log says so).
    Open,
    /// A valid `Authorization: Bearer <key>` is required.
    Keys(ApiKeys),
    /// Production with no keys configured: nobody, rather than everybody.
    Closed,
}

impl WritePolicy {
    pub fn from_config(config: &Config) -> Self {
        match (config.api_keys.is_empty(), config.is_production()) {
            (false, _) => WritePolicy::Keys(config.api_keys.clone()),
            (true, false) => WritePolicy::Open,
            (true, true) => WritePolicy::Closed,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub write_policy: WritePolicy,
}
