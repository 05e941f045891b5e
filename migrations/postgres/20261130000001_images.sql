-- Label images, stored in the catalog itself so backups, replicas and every instance have them. Content-addressed:
-- the key is the SHA-256 of the bytes, so one image used by many beers (the Punk dataset's keg.png serves 79) is
-- stored once, and its URL never changes meaning (which lets it be cached as immutable). The service removes an
-- image when no beer refers to it any more. Expand-only: an older release ignores both the table and the column;
-- adding a nullable column with a foreign key rewrites nothing.
CREATE TABLE images (
    sha256       TEXT        PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type TEXT        NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    width        INTEGER     NOT NULL CHECK (width > 0),
    height       INTEGER     NOT NULL CHECK (height > 0),
    byte_length  BIGINT      NOT NULL CHECK (byte_length = octet_length(content)),
    content      BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
-- Out of line and uncompressed: PNG, JPEG and WebP are compressed already, so TOAST's compression would only cost.
ALTER TABLE images ALTER COLUMN content SET STORAGE EXTERNAL;

-- NULL: the beer has no stored image (its document's image_url, possibly null, is served as written).
ALTER TABLE beers ADD COLUMN image_sha256 TEXT REFERENCES images (sha256);
CREATE INDEX beers_image_sha256_idx ON beers (image_sha256);
