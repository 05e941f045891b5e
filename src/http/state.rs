//! What every handler shares.

use super::auth::WritePolicy;
use crate::domain::{Beer, ImageLimits};
use crate::storage::DynStore;

#[derive(Clone)]
pub struct AppState {
    pub store: DynStore,
    pub write_policy: WritePolicy,
    pub images: ImageSettings,
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
}

fn missing_base_url_warning() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        tracing::warn!("the catalog holds images but PUBLIC_BASE_URL is not set: image_url links are relative")
    });
}
