-- Label images, stored in the catalog itself so backups, replicas and every instance have them. Content-addressed:
-- the key is the SHA-256 of the bytes, so one image used by many beers (the Punk dataset's keg.png serves 79) is
-- stored once, and its URL never changes meaning (which lets it be cached as immutable). The service removes an
-- image when no beer refers to it any more. Expand-only: an older release ignores both the table and the column.
CREATE TABLE images (
    sha256       TEXT    PRIMARY KEY CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    content_type TEXT    NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    width        INTEGER NOT NULL CHECK (width > 0),
    height       INTEGER NOT NULL CHECK (height > 0),
    byte_length  INTEGER NOT NULL CHECK (byte_length = length(content)),
    content      BLOB    NOT NULL,
    created_at   TEXT    NOT NULL
);

-- NULL: the beer has no stored image (its document's image_url, possibly null, is served as written).
ALTER TABLE beers ADD COLUMN image_sha256 TEXT REFERENCES images (sha256);
CREATE INDEX beers_image_sha256_idx ON beers (image_sha256);
