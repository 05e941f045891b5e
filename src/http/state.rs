//! What every handler shares.

use super::auth::WritePolicy;
use crate::storage::DynStore;

#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub write_policy: WritePolicy,
}
