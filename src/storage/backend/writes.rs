//! The writing role of the storage interface, written once for every backend: [`CatalogWrites`] for any
//! [`Store`] over a [`Dialect`], and the steps its writes share.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{Pool, Transaction};

use super::{BULK_WRITE, Dialect, IMPORT_BATCH, Store, TERMS_PER_STATEMENT};
use crate::domain::{Beer, BeerFields, NewImage, Rendition};
use crate::storage::sql::{self, BeerRow};
use crate::storage::{CatalogWrites, ImageRemoval, ImportMessage, ImportRecord, StoreResult};

#[async_trait]
impl<D: Dialect> CatalogWrites for Store<D> {
    #[tracing::instrument(name = "store.create", skip_all, fields(db.operation.name = "create"))]
    async fn create(&self, fields: &BeerFields) -> StoreResult<Beer> {
        self.observer
            .observe("create", async {
                let now = Utc::now().trunc_subsecs(6);
                let (id, created_at) = if D::WRITES_BEER_IN_ONE_STATEMENT {
                    let create = D::build(&sql::create_with_terms(fields, now));
                    D::fetch_one(&mut *self.pool.acquire().await?, create).await?
                } else {
                    let mut tx = self.pool.begin().await?;
                    let written: (i64, DateTime<Utc>) =
                        D::fetch_one(&mut tx, D::build(&sql::insert(None, fields, now))).await?;
                    write_terms::<D>(&mut tx, written.0, fields).await?;
                    tx.commit().await?;
                    written
                };
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
        self.observer
            .observe("update", async {
                let now = Utc::now().trunc_subsecs(6);
                if D::WRITES_BEER_IN_ONE_STATEMENT {
                    // Every write to `beers` takes the catalog version's row lock (its statement trigger) until
                    // commit, so writers serialise on it: in one autocommitted statement it is held for that
                    // statement alone (measured before: holding it for one statement instead of four took writes
                    // from about 200/s to over 600/s beside a read load).
                    let update = D::build(&sql::update_with_terms(id, fields, now));
                    let row: Option<BeerRow> = D::fetch_optional(&mut *self.pool.acquire().await?, update).await?;
                    return Ok(row.map(Beer::from));
                }
                let mut tx = self.pool.begin().await?;
                let updated: Option<(i64, DateTime<Utc>)> =
                    D::fetch_optional(&mut tx, D::build(&sql::update(id, fields, now))).await?;
                if updated.is_none() {
                    return Ok(None);
                }
                write_terms::<D>(&mut tx, id, fields).await?;
                // Read back: the stored image, which a JSON write keeps, is part of the answer.
                let beer = beer_in::<D>(&mut tx, id).await?;
                tx.commit().await?;
                Ok(beer)
            })
            .await
    }

    #[tracing::instrument(name = "store.delete", skip_all, fields(db.operation.name = "delete"))]
    async fn delete(&self, id: i64) -> StoreResult<bool> {
        self.observer
            .observe("delete", async {
                let deleted: Option<(Option<String>,)> =
                    D::fetch_optional(&mut *self.pool.acquire().await?, D::build(&sql::delete(id))).await?;
                // A beer without a stored image leaves no image unused: no sweep, one round trip in all.
                if let Some((Some(_image),)) = &deleted {
                    remove_orphan_images(&self.pool).await;
                }
                Ok(deleted.is_some())
            })
            .await
    }

    #[tracing::instrument(name = "store.import", skip_all, fields(db.operation.name = "import"))]
    async fn import(&self, records: &[ImportRecord], progress: &(dyn Fn(usize) + Send + Sync)) -> StoreResult<()> {
        self.observer
            .observe("import", async {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool.begin().await?;
                D::before_import(&mut tx).await?;
                let mut stored_images = HashSet::new();
                let mut done = 0;
                if records.len() > BULK_WRITE {
                    D::start_bulk_write(&mut tx).await?;
                }
                for batch in records.chunks(IMPORT_BATCH) {
                    write_batch::<D>(&mut tx, batch, now, &mut stored_images).await?;
                    done += batch.len();
                    progress(done);
                }
                D::after_import(&mut tx).await?;
                tx.commit().await?;
                if !stored_images.is_empty() {
                    remove_orphan_images(&self.pool).await;
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
        self.observer
            .observe("import_stream", async {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool.begin().await?;
                D::before_import(&mut tx).await?;
                let mut stored_images = HashSet::new();
                let mut done = 0;
                while let Some(message) = messages.recv().await {
                    match message {
                        ImportMessage::Batch(records) => {
                            if done <= BULK_WRITE && done + records.len() > BULK_WRITE {
                                D::start_bulk_write(&mut tx).await?;
                            }
                            write_batch::<D>(&mut tx, &records, now, &mut stored_images).await?;
                            done += records.len();
                            progress(done);
                        }
                        ImportMessage::Commit => {
                            D::after_import(&mut tx).await?;
                            tx.commit().await?;
                            if !stored_images.is_empty() {
                                remove_orphan_images(&self.pool).await;
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
        self.observer
            .observe("set_image", async {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool.begin().await?;
                store_image::<D>(&mut tx, image, now).await?;
                let sha256 = image.meta.image.sha256.as_str();
                let set = D::build(&sql::set_beer_image(beer_id, Some(sha256), now));
                let updated: Option<(i64,)> = D::fetch_optional(&mut tx, set).await?;
                if updated.is_none() {
                    // Dropping the transaction rolls the image back too.
                    return Ok(None);
                }
                let beer = beer_in::<D>(&mut tx, beer_id).await?;
                tx.commit().await?;
                remove_orphan_images(&self.pool).await;
                Ok(beer)
            })
            .await
    }

    #[tracing::instrument(name = "store.store_renditions", skip_all, fields(db.operation.name = "store_renditions"))]
    async fn store_renditions(&self, image_sha256: &str, renditions: &[Rendition]) -> StoreResult<()> {
        self.observer
            .observe("store_renditions", async {
                let Some(insert) = sql::insert_renditions(image_sha256, renditions) else {
                    return Ok(());
                };
                let mut tx = self.pool.begin().await?;
                match D::execute(&mut tx, D::build(&insert)).await {
                    Ok(_) => Ok(tx.commit().await?),
                    // The image was removed meanwhile: its renditions are not wanted any more.
                    Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => Ok(()),
                    Err(error) => Err(error.into()),
                }
            })
            .await
    }

    #[tracing::instrument(name = "store.remove_image", skip_all, fields(db.operation.name = "remove_image"))]
    async fn remove_image(&self, beer_id: i64) -> StoreResult<ImageRemoval> {
        self.observer
            .observe("remove_image", async {
                let now = Utc::now().trunc_subsecs(6);
                let mut tx = self.pool.begin().await?;
                let Some(mut beer) = beer_in::<D>(&mut tx, beer_id).await? else {
                    return Ok(ImageRemoval::NoSuchBeer);
                };
                if beer.image.is_none() && beer.fields.image_url.is_none() {
                    return Ok(ImageRemoval::NoImage);
                }
                beer.fields.image_url = None;
                D::execute(&mut tx, D::build(&sql::update(beer_id, &beer.fields, now))).await?;
                D::execute(&mut tx, D::build(&sql::set_beer_image(beer_id, None, now))).await?;
                tx.commit().await?;
                if beer.image.is_some() {
                    remove_orphan_images(&self.pool).await;
                }
                Ok(ImageRemoval::Removed)
            })
            .await
    }
}

/// Deletes the images no beer refers to any more. Runs after the change that orphaned them has committed, and only
/// tidies: when a concurrent write has just pointed a beer at one of them, the foreign key stops the delete, the
/// image rightly stays, and a later sweep takes the rest. So a failure here is logged, never returned to a client
/// whose own write succeeded.
async fn remove_orphan_images<D: Dialect>(pool: &Pool<D>) {
    let result = match pool.acquire().await {
        Ok(mut connection) => D::execute(&mut connection, D::build(&sql::remove_orphan_images())).await,
        Err(error) => Err(error),
    };
    match result.map(|result| D::rows_affected(&result)) {
        Ok(0) => {}
        Ok(removed) => tracing::debug!(removed, "removed images no beer uses"),
        Err(error) => tracing::warn!(%error, "could not remove unused images; a later write retries"),
    }
}

/// Writes import records inside `tx`: those with an id and no image in bulk (the ids not in the catalog yet
/// through the backend's fast path, the others as multi-row upserts), the others one by one, as they need the id
/// the database assigns or an image stored first.
async fn write_batch<D: Dialect>(
    tx: &mut Transaction<'_, D>,
    records: &[ImportRecord],
    now: DateTime<Utc>,
    stored_images: &mut HashSet<String>,
) -> StoreResult<()> {
    let bulk: Vec<(i64, &BeerFields)> = records
        .iter()
        .filter(|r| r.image.is_none())
        .filter_map(|r| r.id.map(|id| (id, &r.fields)))
        .collect();
    if !bulk.is_empty() {
        let ids: Vec<i64> = bulk.iter().map(|(id, _)| *id).collect();
        let existing: HashSet<i64> = D::existing_ids(tx, &ids).await?.into_iter().collect();
        let (present, fresh): (Vec<_>, Vec<_>) = bulk.into_iter().partition(|(id, _)| existing.contains(id));
        D::insert_new(tx, &fresh, now).await?;
        for upserts in present.chunks(IMPORT_BATCH) {
            D::execute(tx, D::build(&sql::insert_many(upserts, now))).await?;
            let ids: Vec<i64> = upserts.iter().map(|(id, _)| *id).collect();
            D::execute(tx, D::build(&sql::delete_terms_many(&ids))).await?;
            for insert in sql::insert_terms_many(upserts, TERMS_PER_STATEMENT) {
                D::execute(tx, D::build(&insert)).await?;
            }
        }
    }
    let mut numbering = false;
    for record in records.iter().filter(|r| r.image.is_some() || r.id.is_none()) {
        if record.id.is_none() && !numbering {
            // The ids the database assigns from here must pass the ones this import wrote explicitly, which
            // PostgreSQL's identity sequence has not seen (a collision would be an upsert).
            D::after_import(tx).await?;
            numbering = true;
        }
        let insert = D::build(&sql::insert(record.id, &record.fields, now));
        let (id, _created_at): (i64, DateTime<Utc>) = D::fetch_one(tx, insert).await?;
        write_terms::<D>(tx, id, &record.fields).await?;
        if let Some(image) = &record.image {
            let sha256 = image.meta.image.sha256.as_str();
            // Each distinct image is sent to the database once, however many beers use it.
            if stored_images.insert(sha256.to_owned()) {
                store_image::<D>(tx, image, now).await?;
            }
            D::execute(tx, D::build(&sql::set_beer_image(id, Some(sha256), now))).await?;
        }
    }
    Ok(())
}

/// A beer as read inside a transaction (with its image's key).
async fn beer_in<D: Dialect>(tx: &mut Transaction<'_, D>, id: i64) -> StoreResult<Option<Beer>> {
    let row: Option<BeerRow> = D::fetch_optional(tx, D::build(&sql::by_id(id))).await?;
    Ok(row.map(Beer::from))
}

async fn store_image<D: Dialect>(tx: &mut Transaction<'_, D>, image: &NewImage, now: DateTime<Utc>) -> StoreResult<()> {
    D::execute(tx, D::build(&sql::insert_image(image, now))).await?;
    if let Some(insert) = sql::insert_renditions(&image.meta.image.sha256, &image.renditions) {
        D::execute(tx, D::build(&insert)).await?;
    }
    Ok(())
}

/// Replaces the searchable hop, malt and food rows of a beer.
async fn write_terms<D: Dialect>(tx: &mut Transaction<'_, D>, id: i64, fields: &BeerFields) -> StoreResult<()> {
    D::execute(tx, D::build(&sql::delete_terms(id))).await?;
    if let Some(insert) = sql::insert_terms(id, fields) {
        D::execute(tx, D::build(&insert)).await?;
    }
    Ok(())
}
