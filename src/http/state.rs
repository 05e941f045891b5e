//! What every handler shares.

use std::sync::Arc;

use axum::extract::FromRef;

use super::auth::WritePolicy;
use super::health::ReadinessCheck;
use crate::domain::{Beer, ImageLimits};
use crate::storage::Catalog;

#[derive(Clone)]
pub struct AppState {
    /// The storage stack: `catalog.reads()` for reads, `catalog.writes()` for writes.
    pub catalog: Catalog,
    pub write_policy: WritePolicy,
    pub images: ImageSettings,
    /// `/ready`'s last database check, shared by the requests of one interval.
    pub readiness: Arc<ReadinessCheck>,
}

/// What [`super::auth::WriteAccess`] checks a request against.
impl FromRef<AppState> for WritePolicy {
    fn from_ref(state: &AppState) -> Self {
        state.write_policy.clone()
    }
}

/// How stored images are linked and uploads judged.
#[derive(Clone, Debug)]
pub struct ImageSettings {
    /// The absolute URL `image_url` links start with (`PUBLIC_BASE_URL`, or where a development server listens).
    /// `None` only in production without `PUBLIC_BASE_URL` on a catalog that held no image at start-up.
    pub public_base_url: Option<String>,
    pub limits: ImageLimits,
}

impl AppState {
    /// The one way to make the state, for the server and for tests.
    pub fn new(catalog: Catalog, write_policy: WritePolicy, images: ImageSettings) -> Self {
        Self {
            catalog,
            write_policy,
            images,
            readiness: Arc::default(),
        }
    }

    /// A beer as clients see it: `image_url` pointing at its stored image, when it has one.
    pub fn present(&self, beer: Beer) -> Beer {
        match &self.images.public_base_url {
            Some(base) => beer.link_image(base),
            None => {
                if beer.image.is_some() {
                    // Start-up refuses this configuration when images exist; an image imported since then is
                    // linked relative to this host rather than not at all.
                    missing_base_url_warning();
                }
                beer.link_image("")
            }
        }
    }

    /// What a stored image's URL starts with in answers the store renders (`list_json`, `get_json`): the same
    /// links [`AppState::present`] makes.
    pub fn image_base(&self) -> &str {
        self.images.public_base_url.as_deref().unwrap_or_default()
    }
}

fn missing_base_url_warning() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        tracing::warn!("the catalog holds images but PUBLIC_BASE_URL is not set: image_url links are relative")
    });
}
