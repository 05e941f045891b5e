-- Smaller copies of each stored label (64, 128 and 256 pixels wide, WebP), made once when the image is stored (or,
-- for images stored before this table existed, the first time one is asked for) so a page downloads about what it
-- draws. Keyed by the original's SHA-256 and the nominal width: the URL `/images/<sha256>/<width>.webp` is as
-- immutable as the original's. Removed with the original (ON DELETE CASCADE; foreign keys are on for every
-- connection). Expand-only: an older release ignores the table.
CREATE TABLE image_renditions (
    image_sha256 TEXT    NOT NULL REFERENCES images (sha256) ON DELETE CASCADE,
    width        INTEGER NOT NULL CHECK (width > 0),
    pixel_width  INTEGER NOT NULL CHECK (pixel_width > 0 AND pixel_width <= width),
    pixel_height INTEGER NOT NULL CHECK (pixel_height > 0),
    sha256       TEXT    NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    byte_length  INTEGER NOT NULL CHECK (byte_length = length(content)),
    content      BLOB    NOT NULL,
    PRIMARY KEY (image_sha256, width)
);
