-- pH beside the other measurements, for the `ph_gt`/`ph_lt` filters and sorting (expand-only: older releases
-- neither read nor write it, and a beer they write gets its pH here on its next write by a newer release).
ALTER TABLE beers ADD COLUMN ph DOUBLE PRECISION;
UPDATE beers SET ph = (document ->> 'ph')::double precision;
-- Sorting by name compares bytes, as SQLite does, instead of the database's locale (which would order names with
-- spaces and punctuation differently), so both backends page through `sort=name` identically.
ALTER TABLE beers ALTER COLUMN name_search TYPE TEXT COLLATE "C";
