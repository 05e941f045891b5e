-- A counter bumped by every change to the catalog, so a process holding a derived copy (the in-process read model)
-- can tell with one primary-key read whether its copy is still the catalog. SQLite triggers are per row only.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);

-- beer_terms changes only together with its beer (same transaction), so watching beers is enough.
CREATE TRIGGER beers_inserted AFTER INSERT ON beers BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER beers_updated AFTER UPDATE ON beers BEGIN UPDATE catalog_version SET version = version + 1; END;
CREATE TRIGGER beers_deleted AFTER DELETE ON beers BEGIN UPDATE catalog_version SET version = version + 1; END;
