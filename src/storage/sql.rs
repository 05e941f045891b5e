//! Every statement the catalog runs, written once with sea-query and rendered per backend by its query builder,
//! so SQLite and PostgreSQL cannot drift apart.

use sea_query::Iden;

mod filter;
mod images;
mod index_rows;
mod one_statement;
mod reads;
#[cfg(test)]
mod tests;
mod writes;

pub use images::{
    ImageMetaRow, RenditionRow, StoredImageRow, any_image, image_by_sha256, insert_image, insert_renditions,
    remove_orphan_images, rendition_by_width, set_beer_image,
};
pub use index_rows::{
    CATALOG_CHANGES_FROM, CATALOG_VERSION, CHANGED_IDS, IMAGE_NAMES, INDEX_BEERS, INDEX_ROWS_POSTGRES,
    INDEX_ROWS_POSTGRES_UNORDERED, INDEX_ROWS_SQLITE, INDEX_ROWS_SQLITE_UNORDERED, INDEX_TERMS, index_rows_of_ids,
};
pub use one_statement::{create_with_terms, update_with_terms};
pub use reads::{
    BeerRow, RenderedRow, by_id, by_ids, count, list, list_rendered, random, rendered_by_id, rendered_by_ids,
};
pub use writes::{
    Written, delete, delete_terms, delete_terms_many, insert, insert_many, insert_terms, insert_terms_many, terms_of,
    update,
};

#[derive(Iden, Copy, Clone)]
pub enum Beers {
    Table,
    Id,
    Name,
    NameSearch,
    StyleSearch,
    YeastSearch,
    Abv,
    Ibu,
    Ebc,
    Ph,
    FirstBrewedMonth,
    Document,
    Rendered,
    CreatedAt,
    UpdatedAt,
    ImageSha256,
}

#[derive(Iden, Copy, Clone)]
pub enum Images {
    Table,
    Sha256,
    ContentType,
    Width,
    Height,
    ByteLength,
    Content,
    CreatedAt,
}

#[derive(Iden, Copy, Clone)]
pub enum ImageRenditions {
    Table,
    ImageSha256,
    Width,
    PixelWidth,
    PixelHeight,
    Sha256,
    ByteLength,
    Content,
}

#[derive(Iden, Copy, Clone)]
pub enum BeerTerms {
    Table,
    BeerId,
    Kind,
    Term,
}
