//! Stored images: storing one, pointing a beer at it, reading its metadata or bytes, removing orphans.

use chrono::{DateTime, Utc};
use sea_query::{Expr, InsertStatement, OnConflict, Query, SelectStatement, UpdateStatement};

use super::{Beers, ImageRenditions, Images};
use crate::domain::{ImageKind, ImageMeta, ImageRef, NewImage, Rendition};

/// Stores an image once per content. On a conflict the row is touched rather than skipped: the write locks it
/// (PostgreSQL), so a concurrent [`remove_orphan_images`] cannot delete it before this transaction's beer refers
/// to it.
pub fn insert_image(image: &NewImage, now: DateTime<Utc>) -> InsertStatement {
    let meta = &image.meta;
    Query::insert()
        .into_table(Images::Table)
        .columns([
            Images::Sha256,
            Images::ContentType,
            Images::Width,
            Images::Height,
            Images::ByteLength,
            Images::Content,
            Images::CreatedAt,
        ])
        .values_panic([
            meta.image.sha256.clone().into(),
            meta.image.kind.content_type().into(),
            i32::try_from(meta.width).unwrap_or(i32::MAX).into(),
            i32::try_from(meta.height).unwrap_or(i32::MAX).into(),
            i64::try_from(meta.byte_length).unwrap_or(i64::MAX).into(),
            image.bytes.clone().into(),
            now.into(),
        ])
        .on_conflict(
            OnConflict::column(Images::Sha256)
                .update_column(Images::ByteLength)
                .to_owned(),
        )
        .to_owned()
}

/// Stores an image's renditions, keeping any already stored (the same image makes the same renditions); `None`
/// when there are none.
pub fn insert_renditions(image_sha256: &str, renditions: &[Rendition]) -> Option<InsertStatement> {
    if renditions.is_empty() {
        return None;
    }
    let mut insert = Query::insert();
    insert.into_table(ImageRenditions::Table).columns([
        ImageRenditions::ImageSha256,
        ImageRenditions::Width,
        ImageRenditions::PixelWidth,
        ImageRenditions::PixelHeight,
        ImageRenditions::Sha256,
        ImageRenditions::ByteLength,
        ImageRenditions::Content,
    ]);
    let int = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    for rendition in renditions {
        insert.values_panic([
            image_sha256.into(),
            int(rendition.nominal_width).into(),
            int(rendition.width).into(),
            int(rendition.height).into(),
            crate::domain::image::sha256_hex(&rendition.bytes).into(),
            i64::try_from(rendition.bytes.len()).unwrap_or(i64::MAX).into(),
            rendition.bytes.clone().into(),
        ]);
    }
    insert.on_conflict(
        OnConflict::columns([ImageRenditions::ImageSha256, ImageRenditions::Width])
            .do_nothing()
            .to_owned(),
    );
    Some(insert)
}

/// A stored rendition: its content hash (the validator) and bytes.
#[derive(sqlx::FromRow)]
pub struct RenditionRow {
    pub sha256: String,
    pub content: Vec<u8>,
}

/// The rendition of an image at a nominal width.
pub fn rendition_by_width(image_sha256: &str, width: u32) -> SelectStatement {
    Query::select()
        .columns([ImageRenditions::Sha256, ImageRenditions::Content])
        .from(ImageRenditions::Table)
        .and_where(Expr::col(ImageRenditions::ImageSha256).eq(image_sha256))
        .and_where(Expr::col(ImageRenditions::Width).eq(i32::try_from(width).unwrap_or(i32::MAX)))
        .to_owned()
}

/// Points a beer at a stored image (or at none), returning its id when the beer exists.
pub fn set_beer_image(id: i64, sha256: Option<&str>, now: DateTime<Utc>) -> UpdateStatement {
    Query::update()
        .table(Beers::Table)
        .values([
            (Beers::ImageSha256, sha256.map(str::to_owned).into()),
            (Beers::UpdatedAt, now.into()),
        ])
        .and_where(Expr::col(Beers::Id).eq(id))
        .returning(Query::returning().column(Beers::Id))
        .to_owned()
}

/// An image without its bytes.
#[derive(sqlx::FromRow)]
pub struct ImageMetaRow {
    pub sha256: String,
    pub content_type: String,
    // INTEGER: i32 on PostgreSQL, and SQLite decodes its integers as i32 too.
    pub width: i32,
    pub height: i32,
    pub byte_length: i64,
}

impl ImageMetaRow {
    pub fn into_meta(self) -> Option<ImageMeta> {
        Some(ImageMeta {
            image: ImageRef {
                sha256: self.sha256,
                kind: ImageKind::from_content_type(&self.content_type)?,
            },
            width: u32::try_from(self.width).ok()?,
            height: u32::try_from(self.height).ok()?,
            byte_length: u64::try_from(self.byte_length).ok()?,
        })
    }
}

/// An image with its bytes (`image_by_sha256` with `content`).
#[derive(sqlx::FromRow)]
pub struct StoredImageRow {
    #[sqlx(flatten)]
    pub meta: ImageMetaRow,
    pub content: Vec<u8>,
}

const IMAGE_META_COLUMNS: [Images; 5] = [
    Images::Sha256,
    Images::ContentType,
    Images::Width,
    Images::Height,
    Images::ByteLength,
];

/// An image's metadata, or with `content` also its bytes.
pub fn image_by_sha256(sha256: &str, content: bool) -> SelectStatement {
    let mut select = Query::select();
    select
        .columns(IMAGE_META_COLUMNS)
        .from(Images::Table)
        .and_where(Expr::col(Images::Sha256).eq(sha256));
    if content {
        select.column(Images::Content);
    }
    select
}

/// Whether the catalog holds any image.
pub fn any_image() -> SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(Images::Table)
        .limit(1)
        .to_owned()
}

/// Removes every image no beer refers to (after a beer's image was replaced or removed, or the beer deleted).
pub fn remove_orphan_images() -> sea_query::DeleteStatement {
    Query::delete()
        .from_table(Images::Table)
        .and_where(
            Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(Beers::Table)
                    .and_where(Expr::col((Beers::Table, Beers::ImageSha256)).equals((Images::Table, Images::Sha256)))
                    .to_owned(),
            )
            .not(),
        )
        .to_owned()
}
