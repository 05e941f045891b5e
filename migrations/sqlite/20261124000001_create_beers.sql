-- The beer document is stored whole (JSON text) so every Punk API field round-trips exactly; the columns beside it
-- are derived from it on write, only for filtering and ordering. Search columns are lower-cased by the service (not
-- by SQL LOWER, which is ASCII-only in SQLite) so both backends match text the same way.
CREATE TABLE beers (
    -- AUTOINCREMENT: a deleted beer's id is never handed to a new beer.
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT    NOT NULL,
    name_search        TEXT    NOT NULL,
    style_search       TEXT,
    yeast_search       TEXT,
    abv                REAL    NOT NULL,
    ibu                REAL,
    ebc                REAL,
    first_brewed_month INTEGER,
    document           TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);

CREATE INDEX beers_abv_idx ON beers (abv);
CREATE INDEX beers_first_brewed_month_idx ON beers (first_brewed_month);

-- Hop and malt names and food pairings, one row each, for the "any ingredient matches" filters.
CREATE TABLE beer_terms (
    beer_id INTEGER NOT NULL REFERENCES beers (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL CHECK (kind IN ('hop', 'malt', 'food')),
    term    TEXT    NOT NULL
);

CREATE INDEX beer_terms_beer_id_idx ON beer_terms (beer_id, kind);
