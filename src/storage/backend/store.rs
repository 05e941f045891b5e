//! The reading roles of the storage interface, written once for every backend: [`Administration`],
//! [`CatalogReads`] and [`ChangeSource`] for any [`Store`] over a [`Dialect`] (the writes are in
//! [`super::writes`]).

use std::sync::Arc;

use async_trait::async_trait;

use sqlx::Executor;
use sqlx::pool::PoolConnection;

use super::driver::{Decodes, Statement};
use super::{CHANGED_PER_STATEMENT, Dialect, Store, migrator};
use crate::domain::{Beer, BeerFilter, ImageMeta, IngredientKind, IngredientName, ListQuery};
use crate::observability::Metrics;
use crate::storage::change_signal::{VersionListener, VersionReader};
use crate::storage::read_model::{BuildProgress, CatalogIndex, IndexBuilder, IndexChanges};
use crate::storage::rendered::{self, JsonShape};
use crate::storage::sql::{self, BeerRow, ImageMetaRow, RenderedRow, RenditionRow, StoredImageRow};
use crate::storage::{
    Administration, Backend, CatalogReads, ChangeSource, ImageNames, StoreResult, StoredImage, StoredRendition,
};

/// A pooled connection for a catalog read, the wait for it recorded ([`super::observer::Observer`]).
async fn connection<D: Dialect>(store: &Store<D>) -> StoreResult<PoolConnection<D>> {
    store.observer.acquire(&store.pool).await
}

/// Every row a statement returns, on a connection from the pool.
async fn fetch_all<D: Dialect + Decodes<T>, T: Send>(store: &Store<D>, statement: Statement) -> StoreResult<Vec<T>> {
    Ok(D::fetch_all(&mut *connection(store).await?, statement).await?)
}

/// The first row a statement returns, if any, on a connection from the pool.
async fn fetch_optional<D: Dialect + Decodes<T>, T>(store: &Store<D>, statement: Statement) -> StoreResult<Option<T>> {
    Ok(D::fetch_optional(&mut *connection(store).await?, statement).await?)
}

#[async_trait]
impl<D: Dialect> Administration for Store<D> {
    fn backend(&self) -> Backend {
        D::BACKEND
    }

    fn record_into(&self, metrics: &Metrics, pool: &'static str) {
        self.observer.attach(metrics, pool, &self.pool);
    }

    async fn migrate(&self) -> StoreResult<()> {
        Ok(migrator(D::migrator()).run(&self.pool).await?)
    }

    #[tracing::instrument(name = "store.ping", skip_all, fields(db.operation.name = "ping"))]
    async fn ping(&self) -> StoreResult<()> {
        self.observer
            .observe("ping", async {
                let mut connection = self.pool.acquire().await?;
                D::execute(&mut connection, Statement::fixed("SELECT 1")).await?;
                Ok(())
            })
            .await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl<D: Dialect> CatalogReads for Store<D> {
    #[tracing::instrument(name = "store.list", skip_all, fields(db.operation.name = "list"))]
    async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
        self.observer
            .observe("list", async {
                let rows: Vec<BeerRow> = fetch_all(self, D::build(&sql::list(query))).await?;
                Ok(rows.into_iter().map(Beer::from).collect())
            })
            .await
    }

    #[tracing::instrument(name = "store.count", skip_all, fields(db.operation.name = "count"))]
    async fn count(&self, filter: &BeerFilter) -> StoreResult<u64> {
        self.observer
            .observe("count", async {
                let mut connection = connection(self).await?;
                let (count,): (i64,) = D::fetch_one(&mut connection, D::build(&sql::count(filter))).await?;
                Ok(u64::try_from(count).unwrap_or_default())
            })
            .await
    }

    /// Without a read model (`READ_MODEL=database`, or while it is being built) the facets are counted on an index
    /// built for the request: one read of every beer's filterable fields, the same counting as the read model's.
    #[tracing::instrument(name = "store.ingredient_names", skip_all, fields(db.operation.name = "ingredient_names"))]
    async fn ingredient_names(&self, kind: IngredientKind, filter: &BeerFilter) -> StoreResult<Vec<IngredientName>> {
        let index = ChangeSource::load_index(self).await?;
        let filter = filter.clone();
        Ok(
            tokio::task::spawn_blocking(move || index.ingredient_names(kind, &filter))
                .await
                .expect("counting the facets does not panic"),
        )
    }

    #[tracing::instrument(name = "store.list_json", skip_all, fields(db.operation.name = "list_json"))]
    async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String> {
        self.observer
            .observe("list_json", async {
                let rows: Vec<RenderedRow> = fetch_all(self, D::build(&sql::list_rendered(query))).await?;
                Ok(rendered::json_array(&rows, shape, image_base))
            })
            .await
    }

    #[tracing::instrument(name = "store.get_json", skip_all, fields(db.operation.name = "get_json"))]
    async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>> {
        self.observer
            .observe("get_json", async {
                let row: Option<RenderedRow> = fetch_optional(self, D::build(&sql::rendered_by_id(id))).await?;
                Ok(row.map(|row| row.to_json(shape, image_base)))
            })
            .await
    }

    #[tracing::instrument(name = "store.rendered_rows", skip_all, fields(db.operation.name = "rendered_rows"))]
    async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>> {
        self.observer
            .observe("rendered_rows", async {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                fetch_all(self, D::build(&sql::rendered_by_ids(ids))).await
            })
            .await
    }

    #[tracing::instrument(name = "store.get", skip_all, fields(db.operation.name = "get"))]
    async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
        self.observer
            .observe("get", async {
                let row: Option<BeerRow> = fetch_optional(self, D::build(&sql::by_id(id))).await?;
                Ok(row.map(Beer::from))
            })
            .await
    }

    #[tracing::instrument(name = "store.get_many", skip_all, fields(db.operation.name = "get_many"))]
    async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
        self.observer
            .observe("get_many", async {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let rows: Vec<BeerRow> = fetch_all(self, D::build(&sql::by_ids(ids))).await?;
                Ok(rows.into_iter().map(Beer::from).collect())
            })
            .await
    }

    #[tracing::instrument(name = "store.random", skip_all, fields(db.operation.name = "random"))]
    async fn random(&self) -> StoreResult<Option<Beer>> {
        self.observer
            .observe("random", async {
                let row: Option<BeerRow> = fetch_optional(self, D::build(&sql::random())).await?;
                Ok(row.map(Beer::from))
            })
            .await
    }

    #[tracing::instrument(name = "store.image_meta", skip_all, fields(db.operation.name = "image_meta"))]
    async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
        self.observer
            .observe("image_meta", async {
                let row: Option<ImageMetaRow> =
                    fetch_optional(self, D::build(&sql::image_by_sha256(sha256, false))).await?;
                Ok(row.and_then(ImageMetaRow::into_meta))
            })
            .await
    }

    #[tracing::instrument(name = "store.image", skip_all, fields(db.operation.name = "image"))]
    async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
        self.observer
            .observe("image", async {
                let row: Option<StoredImageRow> =
                    fetch_optional(self, D::build(&sql::image_by_sha256(sha256, true))).await?;
                let Some(StoredImageRow { meta, content: bytes }) = row else {
                    return Ok(None);
                };
                Ok(meta.into_meta().map(|meta| StoredImage { meta, bytes }))
            })
            .await
    }

    #[tracing::instrument(name = "store.image_rendition", skip_all, fields(db.operation.name = "image_rendition"))]
    async fn image_rendition(&self, sha256: &str, width: u32) -> StoreResult<Option<StoredRendition>> {
        self.observer
            .observe("image_rendition", async {
                let row: Option<RenditionRow> =
                    fetch_optional(self, D::build(&sql::rendition_by_width(sha256, width))).await?;
                Ok(row.map(|row| StoredRendition {
                    sha256: row.sha256,
                    bytes: row.content,
                }))
            })
            .await
    }

    #[tracing::instrument(name = "store.has_images", skip_all, fields(db.operation.name = "has_images"))]
    async fn has_images(&self) -> StoreResult<bool> {
        self.observer
            .observe("has_images", async {
                let mut connection = connection(self).await?;
                let mut statement = D::build(&sql::any_image());
                // Whether there is a row, whatever its columns decode as.
                let row = D::on(&mut connection).fetch_optional(D::query(&mut statement)).await?;
                Ok(row.is_some())
            })
            .await
    }
}

/// How long the resume probe waits for the server to accept a TCP connection.
const TCP_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

#[async_trait]
impl<D: Dialect> ChangeSource for Store<D> {
    async fn accepts_tcp(&self) -> Option<std::io::Result<()>> {
        let (host, port) = D::tcp_address(&self.pool)?;
        let connect = tokio::net::TcpStream::connect((host.as_str(), port));
        Some(match tokio::time::timeout(TCP_PROBE_TIMEOUT, connect).await {
            Ok(Ok(_stream)) => Ok(()),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no TCP connection within {} s", TCP_PROBE_TIMEOUT.as_secs()),
            )),
        })
    }

    async fn catalog_version(&self) -> StoreResult<i64> {
        let mut connection = self.pool.acquire().await?;
        let (version,): (i64,) = D::fetch_one(&mut connection, Statement::fixed(sql::CATALOG_VERSION)).await?;
        Ok(version)
    }

    #[tracing::instrument(name = "store.load_index", skip_all, fields(db.operation.name = "load_index"))]
    async fn load_index_with_progress(&self, progress: &Arc<BuildProgress>) -> StoreResult<CatalogIndex> {
        self.observer
            .observe("load_index", async {
                let mut builder = IndexBuilder::new(0).reporting_to(progress.clone());
                let version = D::load_index_rows(&self.pool, &mut builder).await?;
                Ok(builder.finish_at(version))
            })
            .await
    }

    #[tracing::instrument(name = "store.load_image_names", skip_all, fields(db.operation.name = "load_image_names"))]
    async fn load_image_names(&self) -> StoreResult<ImageNames> {
        self.observer
            .observe("load_image_names", async {
                let mut tx = self.pool.begin().await?;
                D::snapshot(&mut tx).await?;
                let (version,): (i64,) = D::fetch_one(&mut tx, Statement::fixed(sql::CATALOG_VERSION)).await?;
                let names: Vec<(String,)> = D::fetch_all(&mut tx, Statement::fixed(sql::IMAGE_NAMES)).await?;
                // (String,) and String have one layout: the vector is reused, not copied.
                let sha256 = names.into_iter().map(|(name,)| name).collect();
                Ok(ImageNames { version, sha256 })
            })
            .await
    }

    #[tracing::instrument(name = "store.load_index_changes", skip_all, fields(db.operation.name = "load_index_changes"))]
    async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>> {
        self.observer
            .observe("load_index_changes", async {
                let mut tx = self.pool.begin().await?;
                D::snapshot(&mut tx).await?;
                let (version, changes_from): (i64, i64) =
                    D::fetch_one(&mut tx, Statement::fixed(sql::CATALOG_CHANGES_FROM)).await?;
                if since < changes_from || version < since {
                    return Ok(None);
                }
                let mut ids: Vec<i64> = Vec::new();
                if version > since {
                    // One more than allowed tells "too many" from "exactly the limit".
                    let most = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
                    let bounds = sea_query::Values(vec![since.into(), version.into(), most.into()]);
                    let changed: Vec<(i64,)> = D::fetch_all(&mut tx, Statement::new(sql::CHANGED_IDS, bounds)).await?;
                    ids = changed.into_iter().map(|(id,)| id).collect();
                    if ids.len() > limit {
                        return Ok(None);
                    }
                }
                let mut builder = IndexBuilder::new(version);
                for chunk in ids.chunks(CHANGED_PER_STATEMENT) {
                    let rows = Statement::one_off(sql::index_rows_of_ids(D::INDEX_ROWS_UNORDERED, chunk));
                    D::push_index_rows(&mut tx, rows, &mut builder).await?;
                }
                let current = builder.finish_at(version);
                tx.commit().await?;
                Ok(Some(IndexChanges { version, ids, current }))
            })
            .await
    }

    async fn version_reader(&self) -> StoreResult<Box<dyn VersionReader>> {
        D::version_reader(&self.pool).await
    }

    async fn version_listener(&self) -> StoreResult<Option<Box<dyn VersionListener>>> {
        D::version_listener(&self.pool).await
    }
}
