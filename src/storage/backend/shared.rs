//! What is the same in both backends: every role of the storage interface, written once over a [`Dialect`] and
//! expanded for each concrete store type by `impl_database!` (see the module documentation of [`super`] for why a
//! macro and not a generic impl).

use async_trait::async_trait;
use chrono::{SubsecRound, Utc};
use sea_query_binder::SqlxBinder;
use sqlx::FromRow;

use super::{
    BULK_WRITE, CHANGED_PER_STATEMENT, Dialect, IMPORT_BATCH, PostgresStore, SqliteStore, TERMS_PER_STATEMENT, migrator,
};
use crate::domain::{Beer, BeerFields, BeerFilter, ImageMeta, ListQuery, NewImage};
use crate::observability::Metrics;
use crate::storage::change_signal::{VersionListener, VersionReader};
use crate::storage::read_model::{CatalogIndex, IndexBuilder, IndexChanges};
use crate::storage::rendered::{self, JsonShape};
use crate::storage::sql::{self, BeerRow, ImageMetaRow, RenderedRow};
use crate::storage::{
    Administration, Backend, CatalogReads, CatalogWrites, ChangeSource, ImageNames, ImageRemoval, ImportMessage,
    ImportRecord, StoreResult, StoredImage,
};

/// Every role of the storage interface over a [`Dialect`], written once and expanded per concrete store type.
macro_rules! impl_database {
    ($store:ty) => {
        impl $store {
            /// A pooled connection for a catalog read, the wait for it recorded ([`Observer`]).
            async fn connection(&self) -> StoreResult<sqlx::pool::PoolConnection<<$store as Dialect>::Database>> {
                self.observer.acquire(self.pool()).await
            }
        }

        #[async_trait]
        impl Administration for $store {
            fn backend(&self) -> Backend {
                <$store as Dialect>::BACKEND
            }

            fn record_into(&self, metrics: &Metrics, pool: &'static str) {
                self.observer.attach(metrics, pool, self.pool());
            }

            async fn migrate(&self) -> StoreResult<()> {
                Ok(migrator(<$store as Dialect>::migrator()).run(self.pool()).await?)
            }

            #[tracing::instrument(name = "store.ping", skip_all, fields(db.operation.name = "ping"))]
            async fn ping(&self) -> StoreResult<()> {
                self.observer.observe("ping", async {
                    sqlx::query("SELECT 1").execute(self.pool()).await?;
                    Ok(())
                })
                .await
            }

            async fn close(&self) {
                self.pool().close().await;
            }
        }

        #[async_trait]
        impl CatalogReads for $store {
            #[tracing::instrument(name = "store.list", skip_all, fields(db.operation.name = "list"))]
            async fn list(&self, query: &ListQuery) -> StoreResult<Vec<Beer>> {
                self.observer.observe("list", async {
                    let (statement, values) = sql::list(query).build_sqlx(<$store as Dialect>::Builder::default());
                    let rows: Vec<BeerRow> = sqlx::query_as_with(&statement, values)
                        .fetch_all(&mut *self.connection().await?)
                        .await?;
                    Ok(rows.into_iter().map(Beer::from).collect())
                })
                .await
            }

            #[tracing::instrument(name = "store.count", skip_all, fields(db.operation.name = "count"))]
            async fn count(&self, filter: &BeerFilter) -> StoreResult<u64> {
                self.observer.observe("count", async {
                    let (statement, values) = sql::count(filter).build_sqlx(<$store as Dialect>::Builder::default());
                    let (count,): (i64,) = sqlx::query_as_with(&statement, values)
                        .fetch_one(&mut *self.connection().await?)
                        .await?;
                    Ok(u64::try_from(count).unwrap_or_default())
                })
                .await
            }

            #[tracing::instrument(name = "store.list_json", skip_all, fields(db.operation.name = "list_json"))]
            async fn list_json(&self, query: &ListQuery, shape: JsonShape, image_base: &str) -> StoreResult<String> {
                self.observer.observe("list_json", async {
                    let (statement, values) = sql::list_rendered(query).build_sqlx(<$store as Dialect>::Builder::default());
                    let rows: Vec<RenderedRow> = sqlx::query_as_with(&statement, values)
                        .fetch_all(&mut *self.connection().await?)
                        .await?;
                    Ok(rendered::json_array(&rows, shape, image_base))
                })
                .await
            }

            #[tracing::instrument(name = "store.get_json", skip_all, fields(db.operation.name = "get_json"))]
            async fn get_json(&self, id: i64, shape: JsonShape, image_base: &str) -> StoreResult<Option<String>> {
                self.observer.observe("get_json", async {
                    let (statement, values) = sql::rendered_by_id(id).build_sqlx(<$store as Dialect>::Builder::default());
                    let row: Option<RenderedRow> = sqlx::query_as_with(&statement, values)
                        .fetch_optional(&mut *self.connection().await?)
                        .await?;
                    Ok(row.map(|row| row.to_json(shape, image_base)))
                })
                .await
            }

            #[tracing::instrument(name = "store.rendered_rows", skip_all, fields(db.operation.name = "rendered_rows"))]
            async fn rendered_rows(&self, ids: &[i64]) -> StoreResult<Vec<RenderedRow>> {
                self.observer.observe("rendered_rows", async {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let (statement, values) = sql::rendered_by_ids(ids).build_sqlx(<$store as Dialect>::Builder::default());
                    Ok(sqlx::query_as_with(&statement, values).fetch_all(&mut *self.connection().await?).await?)
                })
                .await
            }

            #[tracing::instrument(name = "store.get", skip_all, fields(db.operation.name = "get"))]
            async fn get(&self, id: i64) -> StoreResult<Option<Beer>> {
                self.observer.observe("get", async {
                    let (statement, values) = sql::by_id(id).build_sqlx(<$store as Dialect>::Builder::default());
                    let row: Option<BeerRow> = sqlx::query_as_with(&statement, values)
                        .fetch_optional(&mut *self.connection().await?)
                        .await?;
                    Ok(row.map(Beer::from))
                })
                .await
            }

            #[tracing::instrument(name = "store.get_many", skip_all, fields(db.operation.name = "get_many"))]
            async fn get_many(&self, ids: &[i64]) -> StoreResult<Vec<Beer>> {
                self.observer.observe("get_many", async {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let (statement, values) = sql::by_ids(ids).build_sqlx(<$store as Dialect>::Builder::default());
                    let rows: Vec<BeerRow> = sqlx::query_as_with(&statement, values)
                        .fetch_all(&mut *self.connection().await?)
                        .await?;
                    Ok(rows.into_iter().map(Beer::from).collect())
                })
                .await
            }

            #[tracing::instrument(name = "store.random", skip_all, fields(db.operation.name = "random"))]
            async fn random(&self) -> StoreResult<Option<Beer>> {
                self.observer.observe("random", async {
                    let (statement, values) = sql::random().build_sqlx(<$store as Dialect>::Builder::default());
                    let row: Option<BeerRow> = sqlx::query_as_with(&statement, values)
                        .fetch_optional(&mut *self.connection().await?)
                        .await?;
                    Ok(row.map(Beer::from))
                })
                .await
            }

            #[tracing::instrument(name = "store.image_meta", skip_all, fields(db.operation.name = "image_meta"))]
            async fn image_meta(&self, sha256: &str) -> StoreResult<Option<ImageMeta>> {
                self.observer.observe("image_meta", async {
                    let (statement, values) = sql::image_by_sha256(sha256, false).build_sqlx(<$store as Dialect>::Builder::default());
                    let row: Option<ImageMetaRow> = sqlx::query_as_with(&statement, values)
                        .fetch_optional(&mut *self.connection().await?)
                        .await?;
                    Ok(row.and_then(ImageMetaRow::into_meta))
                })
                .await
            }

            #[tracing::instrument(name = "store.image", skip_all, fields(db.operation.name = "image"))]
            async fn image(&self, sha256: &str) -> StoreResult<Option<StoredImage>> {
                self.observer.observe("image", async {
                    let (statement, values) = sql::image_by_sha256(sha256, true).build_sqlx(<$store as Dialect>::Builder::default());
                    let row = sqlx::query_with(&statement, values).fetch_optional(&mut *self.connection().await?).await?;
                    let Some(row) = row else { return Ok(None) };
                    let bytes: Vec<u8> = sqlx::Row::try_get(&row, "content")?;
                    let meta = ImageMetaRow::from_row(&row)?.into_meta();
                    Ok(meta.map(|meta| StoredImage { meta, bytes }))
                })
                .await
            }

            #[tracing::instrument(name = "store.has_images", skip_all, fields(db.operation.name = "has_images"))]
            async fn has_images(&self) -> StoreResult<bool> {
                self.observer.observe("has_images", async {
                    let (statement, values) = sql::any_image().build_sqlx(<$store as Dialect>::Builder::default());
                    let row = sqlx::query_with(&statement, values).fetch_optional(&mut *self.connection().await?).await?;
                    Ok(row.is_some())
                })
                .await
            }
        }

        #[async_trait]
        impl CatalogWrites for $store {
            #[tracing::instrument(name = "store.create", skip_all, fields(db.operation.name = "create"))]
            async fn create(&self, fields: &BeerFields) -> StoreResult<Beer> {
                self.observer.observe("create", async {
                    let now = Utc::now().trunc_subsecs(6);
                    let mut tx = self.pool().begin().await?;
                    let (statement, values) =
                        sql::insert(None, fields, now).build_sqlx(<$store as Dialect>::Builder::default());
                    let (id, created_at) = sqlx::query_as_with(&statement, values)
                        .fetch_one(&mut *tx)
                        .await?;
                    Self::write_terms(&mut tx, id, fields).await?;
                    tx.commit().await?;
                    Ok(Beer {
                        id,
                        fields: fields.clone(),
                        created_at,
                        updated_at: now,
                        image: None,
                    })
                })
                .await
            }

            #[tracing::instrument(name = "store.update", skip_all, fields(db.operation.name = "update"))]
            async fn update(&self, id: i64, fields: &BeerFields) -> StoreResult<Option<Beer>> {
                self.observer.observe("update", async {
                    let now = Utc::now().trunc_subsecs(6);
                    let mut tx = self.pool().begin().await?;
                    if <$store as Dialect>::LOCKS_BEER_BEFORE_WRITING {
                        // Every write to `beers` takes the catalog version's row lock (its statement trigger) until
                        // commit, so writers serialise on it, and under load each statement's round trip waits for a
                        // core: locking and reading the beer's row first, then its terms, and `beers` last holds that
                        // lock for one statement and the commit instead of four statements (measured: writes went from
                        // about 200/s to over 600/s beside a read load).
                        let (statement, values) = sql::by_id_for_update(id).build_sqlx(<$store as Dialect>::Builder::default());
                        let current: Option<BeerRow> = sqlx::query_as_with(&statement, values)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let Some(current) = current.map(Beer::from) else {
                            return Ok(None);
                        };
                        Self::write_terms(&mut tx, id, fields).await?;
                        let (statement, values) = sql::update(id, fields, now).build_sqlx(<$store as Dialect>::Builder::default());
                        sqlx::query_with(&statement, values).execute(&mut *tx).await?;
                        tx.commit().await?;
                        // What reading it back would give: the row is locked, and a JSON write keeps the stored image.
                        return Ok(Some(Beer {
                            fields: fields.clone(),
                            updated_at: now,
                            ..current
                        }));
                    }
                    let (statement, values) =
                        sql::update(id, fields, now).build_sqlx(<$store as Dialect>::Builder::default());
                    let updated: Option<(i64, chrono::DateTime<Utc>)> = sqlx::query_as_with(&statement, values)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if updated.is_none() {
                        return Ok(None);
                    }
                    Self::write_terms(&mut tx, id, fields).await?;
                    // Read back: the stored image, which a JSON write keeps, is part of the answer.
                    let beer = Self::beer_in(&mut tx, id).await?;
                    tx.commit().await?;
                    Ok(beer)
                })
                .await
            }

            #[tracing::instrument(name = "store.delete", skip_all, fields(db.operation.name = "delete"))]
            async fn delete(&self, id: i64) -> StoreResult<bool> {
                self.observer.observe("delete", async {
                    let (statement, values) = sql::delete(id).build_sqlx(<$store as Dialect>::Builder::default());
                    let result = sqlx::query_with(&statement, values).execute(self.pool()).await?;
                    let deleted = result.rows_affected() > 0;
                    if deleted {
                        self.remove_orphan_images().await;
                    }
                    Ok(deleted)
                })
                .await
            }

            #[tracing::instrument(name = "store.import", skip_all, fields(db.operation.name = "import"))]
            async fn import(
                &self,
                records: &[ImportRecord],
                progress: &(dyn Fn(usize) + Send + Sync),
            ) -> StoreResult<()> {
                self.observer.observe("import", async {
                    let now = Utc::now().trunc_subsecs(6);
                    let mut tx = self.pool().begin().await?;
                    <$store as Dialect>::before_import(&mut tx).await?;
                    let mut stored_images = std::collections::HashSet::new();
                    let mut done = 0;
                    if records.len() > BULK_WRITE {
                        <$store as Dialect>::start_bulk_write(&mut tx).await?;
                    }
                    for batch in records.chunks(IMPORT_BATCH) {
                        Self::write_batch(&mut tx, batch, now, &mut stored_images).await?;
                        done += batch.len();
                        progress(done);
                    }
                    <$store as Dialect>::after_import(&mut tx).await?;
                    tx.commit().await?;
                    if !stored_images.is_empty() {
                        self.remove_orphan_images().await;
                    }
                    Ok(())
                })
                .await
            }

            #[tracing::instrument(name = "store.import_stream", skip_all, fields(db.operation.name = "import_stream"))]
            async fn import_stream(
                &self,
                messages: &mut tokio::sync::mpsc::Receiver<ImportMessage>,
                progress: &(dyn Fn(usize) + Send + Sync),
            ) -> StoreResult<bool> {
                self.observer.observe("import_stream", async {
                    let now = Utc::now().trunc_subsecs(6);
                    let mut tx = self.pool().begin().await?;
                    <$store as Dialect>::before_import(&mut tx).await?;
                    let mut stored_images = std::collections::HashSet::new();
                    let mut done = 0;
                    while let Some(message) = messages.recv().await {
                        match message {
                            ImportMessage::Batch(records) => {
                                if done <= BULK_WRITE && done + records.len() > BULK_WRITE {
                                    <$store as Dialect>::start_bulk_write(&mut tx).await?;
                                }
                                Self::write_batch(&mut tx, &records, now, &mut stored_images).await?;
                                done += records.len();
                                progress(done);
                            }
                            ImportMessage::Commit => {
                                <$store as Dialect>::after_import(&mut tx).await?;
                                tx.commit().await?;
                                if !stored_images.is_empty() {
                                    self.remove_orphan_images().await;
                                }
                                return Ok(true);
                            }
                        }
                    }
                    // Dropping the transaction rolls back everything this import wrote.
                    Ok(false)
                })
                .await
            }

            #[tracing::instrument(name = "store.set_image", skip_all, fields(db.operation.name = "set_image"))]
            async fn set_image(&self, beer_id: i64, image: &NewImage) -> StoreResult<Option<Beer>> {
                self.observer.observe("set_image", async {
                    let now = Utc::now().trunc_subsecs(6);
                    let mut tx = self.pool().begin().await?;
                    Self::store_image(&mut tx, image, now).await?;
                    let sha256 = image.meta.image.sha256.as_str();
                    let (statement, values) = sql::set_beer_image(beer_id, Some(sha256), now).build_sqlx(<$store as Dialect>::Builder::default());
                    let updated: Option<(i64,)> = sqlx::query_as_with(&statement, values)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if updated.is_none() {
                        // Dropping the transaction rolls the image back too.
                        return Ok(None);
                    }
                    let beer = Self::beer_in(&mut tx, beer_id).await?;
                    tx.commit().await?;
                    self.remove_orphan_images().await;
                    Ok(beer)
                })
                .await
            }

            #[tracing::instrument(name = "store.remove_image", skip_all, fields(db.operation.name = "remove_image"))]
            async fn remove_image(&self, beer_id: i64) -> StoreResult<ImageRemoval> {
                self.observer.observe("remove_image", async {
                    let now = Utc::now().trunc_subsecs(6);
                    let mut tx = self.pool().begin().await?;
                    let Some(mut beer) = Self::beer_in(&mut tx, beer_id).await? else {
                        return Ok(ImageRemoval::NoSuchBeer);
                    };
                    if beer.image.is_none() && beer.fields.image_url.is_none() {
                        return Ok(ImageRemoval::NoImage);
                    }
                    beer.fields.image_url = None;
                    let (statement, values) = sql::update(beer_id, &beer.fields, now).build_sqlx(<$store as Dialect>::Builder::default());
                    sqlx::query_with(&statement, values).execute(&mut *tx).await?;
                    let (statement, values) = sql::set_beer_image(beer_id, None, now).build_sqlx(<$store as Dialect>::Builder::default());
                    sqlx::query_with(&statement, values).execute(&mut *tx).await?;
                    tx.commit().await?;
                    if beer.image.is_some() {
                        self.remove_orphan_images().await;
                    }
                    Ok(ImageRemoval::Removed)
                })
                .await
            }
        }

        #[async_trait]
        impl ChangeSource for $store {
            async fn catalog_version(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(sql::CATALOG_VERSION)
                    .fetch_one(self.pool())
                    .await?)
            }

            #[tracing::instrument(name = "store.load_index", skip_all, fields(db.operation.name = "load_index"))]
            async fn load_index(&self) -> StoreResult<CatalogIndex> {
                self.observer.observe("load_index", async {
                    let mut builder = IndexBuilder::new(0);
                    let version = <$store as Dialect>::load_index_rows(self, &mut builder).await?;
                    Ok(builder.finish_at(version))
                })
                .await
            }

            #[tracing::instrument(name = "store.load_image_names", skip_all, fields(db.operation.name = "load_image_names"))]
            async fn load_image_names(&self) -> StoreResult<ImageNames> {
                self.observer.observe("load_image_names", async {
                    let mut tx = self.pool().begin().await?;
                    <$store as Dialect>::snapshot(&mut tx).await?;
                    let version = sqlx::query_scalar(sql::CATALOG_VERSION).fetch_one(&mut *tx).await?;
                    let sha256 = sqlx::query_scalar(sql::IMAGE_NAMES).fetch_all(&mut *tx).await?;
                    Ok(ImageNames { version, sha256 })
                })
                .await
            }

            #[tracing::instrument(name = "store.load_index_changes", skip_all, fields(db.operation.name = "load_index_changes"))]
            async fn load_index_changes(&self, since: i64, limit: usize) -> StoreResult<Option<IndexChanges>> {
                self.observer.observe("load_index_changes", async {
                    let mut tx = self.pool().begin().await?;
                    <$store as Dialect>::snapshot(&mut tx).await?;
                    let (version, changes_from): (i64, i64) = sqlx::query_as(sql::CATALOG_CHANGES_FROM)
                        .fetch_one(&mut *tx)
                        .await?;
                    if since < changes_from || version < since {
                        return Ok(None);
                    }
                    let mut ids: Vec<i64> = Vec::new();
                    if version > since {
                        // One more than allowed tells "too many" from "exactly the limit".
                        let most = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
                        ids = sqlx::query_scalar(sql::CHANGED_IDS)
                            .bind(since)
                            .bind(version)
                            .bind(most)
                            .fetch_all(&mut *tx)
                            .await?;
                        if ids.len() > limit {
                            return Ok(None);
                        }
                    }
                    let mut builder = IndexBuilder::new(version);
                    for chunk in ids.chunks(CHANGED_PER_STATEMENT) {
                        use futures_util::TryStreamExt;
                        let query = sql::index_rows_of_ids(<$store as Dialect>::INDEX_ROWS_UNORDERED, chunk);
                        // A list of ids is not worth a prepared statement.
                        let mut rows = sqlx::query(&query).persistent(false).fetch(&mut *tx);
                        while let Some(row) = rows.try_next().await? {
                            builder.push_beer(&index_row!(&row, row.try_get(11)?, row.try_get(12)?, row.try_get(13)?));
                        }
                    }
                    let current = builder.finish_at(version);
                    tx.commit().await?;
                    Ok(Some(IndexChanges { version, ids, current }))
                })
                .await
            }

            async fn version_reader(&self) -> StoreResult<Box<dyn VersionReader>> {
                <$store as Dialect>::version_reader(self).await
            }

            async fn version_listener(&self) -> StoreResult<Option<Box<dyn VersionListener>>> {
                <$store as Dialect>::version_listener(self).await
            }
        }

        impl $store {
            /// Writes import records inside `tx`: those with an id and no image in bulk (the ids not in the
            /// catalog yet through the backend's fast path, the others as multi-row upserts), the others one by
            /// one, as they need the id the database assigns or an image stored first.
            async fn write_batch(
                tx: &mut sqlx::Transaction<'_, <$store as Dialect>::Database>,
                records: &[ImportRecord],
                now: chrono::DateTime<Utc>,
                stored_images: &mut std::collections::HashSet<String>,
            ) -> StoreResult<()> {
                let builder = <$store as Dialect>::Builder::default;
                let bulk: Vec<(i64, &BeerFields)> = records
                    .iter()
                    .filter(|r| r.image.is_none())
                    .filter_map(|r| r.id.map(|id| (id, &r.fields)))
                    .collect();
                if !bulk.is_empty() {
                    let ids: Vec<i64> = bulk.iter().map(|(id, _)| *id).collect();
                    let existing: std::collections::HashSet<i64> =
                        <$store as Dialect>::existing_ids(tx, &ids).await?.into_iter().collect();
                    let (present, fresh): (Vec<_>, Vec<_>) =
                        bulk.into_iter().partition(|(id, _)| existing.contains(id));
                    <$store as Dialect>::insert_new(tx, &fresh, now).await?;
                    for upserts in present.chunks(IMPORT_BATCH) {
                        let (statement, values) = sql::insert_many(upserts, now).build_sqlx(builder());
                        sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                        let ids: Vec<i64> = upserts.iter().map(|(id, _)| *id).collect();
                        let (statement, values) = sql::delete_terms_many(&ids).build_sqlx(builder());
                        sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                        for insert in sql::insert_terms_many(upserts, TERMS_PER_STATEMENT) {
                            let (statement, values) = insert.build_sqlx(builder());
                            sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                        }
                    }
                }
                let mut numbering = false;
                for record in records.iter().filter(|r| r.image.is_some() || r.id.is_none()) {
                    if record.id.is_none() && !numbering {
                        // The ids the database assigns from here must pass the ones this import wrote explicitly,
                        // which PostgreSQL's identity sequence has not seen (a collision would be an upsert).
                        <$store as Dialect>::after_import(tx).await?;
                        numbering = true;
                    }
                    let (statement, values) = sql::insert(record.id, &record.fields, now).build_sqlx(builder());
                    let (id, _created_at): (i64, chrono::DateTime<Utc>) =
                        sqlx::query_as_with(&statement, values).fetch_one(&mut **tx).await?;
                    Self::write_terms(tx, id, &record.fields).await?;
                    if let Some(image) = &record.image {
                        let sha256 = image.meta.image.sha256.as_str();
                        // Each distinct image is sent to the database once, however many beers use it.
                        if stored_images.insert(sha256.to_owned()) {
                            Self::store_image(tx, image, now).await?;
                        }
                        let (statement, values) = sql::set_beer_image(id, Some(sha256), now).build_sqlx(builder());
                        sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                    }
                }
                Ok(())
            }

            /// A beer as read inside a transaction (with its image's key).
            async fn beer_in(
                tx: &mut sqlx::Transaction<'_, <$store as Dialect>::Database>,
                id: i64,
            ) -> StoreResult<Option<Beer>> {
                let (statement, values) = sql::by_id(id).build_sqlx(<$store as Dialect>::Builder::default());
                let row: Option<BeerRow> = sqlx::query_as_with(&statement, values)
                    .fetch_optional(&mut **tx)
                    .await?;
                Ok(row.map(Beer::from))
            }

            async fn store_image(
                tx: &mut sqlx::Transaction<'_, <$store as Dialect>::Database>,
                image: &NewImage,
                now: chrono::DateTime<Utc>,
            ) -> StoreResult<()> {
                let (statement, values) = sql::insert_image(image, now).build_sqlx(<$store as Dialect>::Builder::default());
                sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                Ok(())
            }

            /// Deletes the images no beer refers to any more. Runs after the change that orphaned them has
            /// committed, and only tidies: when a concurrent write has just pointed a beer at one of them, the
            /// foreign key stops the delete, the image rightly stays, and a later sweep takes the rest. So a
            /// failure here is logged, never returned to a client whose own write succeeded.
            async fn remove_orphan_images(&self) {
                let (statement, values) = sql::remove_orphan_images().build_sqlx(<$store as Dialect>::Builder::default());
                match sqlx::query_with(&statement, values).execute(self.pool()).await {
                    Ok(result) if result.rows_affected() > 0 => {
                        tracing::debug!(removed = result.rows_affected(), "removed images no beer uses")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "could not remove unused images; a later write retries"),
                }
            }

            /// Replaces the searchable hop, malt and food rows of a beer.
            async fn write_terms(
                tx: &mut sqlx::Transaction<'_, <$store as Dialect>::Database>,
                id: i64,
                fields: &BeerFields,
            ) -> StoreResult<()> {
                let (statement, values) = sql::delete_terms(id).build_sqlx(<$store as Dialect>::Builder::default());
                sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                if let Some(insert) = sql::insert_terms(id, fields) {
                    let (statement, values) = insert.build_sqlx(<$store as Dialect>::Builder::default());
                    sqlx::query_with(&statement, values).execute(&mut **tx).await?;
                }
                Ok(())
            }
        }
    };
}

impl_database!(SqliteStore);
impl_database!(PostgresStore);
