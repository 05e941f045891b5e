-- The catalog's change signal, for the response caches of every running instance (docs/architecture.md, "Response
-- cache"): one row whose version moves on every change to `beers`, whoever makes it (the server, an `import`
-- process, the sqlite3 shell). SQLite has row-level triggers only; bumping one row per changed beer is cheap.
-- beer_terms is always written with its beer, so watching `beers` is enough.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);

INSERT INTO catalog_version (id, version) VALUES (1, 0);

CREATE TRIGGER beers_inserted AFTER INSERT ON beers
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER beers_updated AFTER UPDATE ON beers
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER beers_deleted AFTER DELETE ON beers
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
