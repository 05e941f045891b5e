-- The read model's change log (docs/architecture.md, "Read model"): which beer each catalog version changed, so an
-- instance whose in-process index is at version V can re-read only the beers changed in (V, W] instead of the whole
-- catalog. Written by the triggers on `beers`, whoever writes (an instance, an `import` process, the sqlite3 shell).
--
-- SQLite moves the version once per changed row, so each version logs one beer (two when an UPDATE changes the
-- id). The log holds every change after `changes_from`, which trails the version by at most 10,000 versions (older
-- entries are deleted as new ones come); a reader older than that rebuilds fully.
--
-- Bulk writes: while `bulk_write` is 1 the triggers do nothing at all (no version bump, no log entry per row). Only
-- a writer that bumps the version itself and moves `changes_from` to it sets it, and resets it before committing
-- (the import does, `Dialect::start_bulk_write` in src/storage/backends.rs); as SQLite has one writer at a time
-- and the flag is never committed as 1, every other writer's rows are logged as usual.
CREATE TABLE catalog_changes (
    version INTEGER NOT NULL,
    beer_id INTEGER NOT NULL,
    PRIMARY KEY (version, beer_id)
) WITHOUT ROWID;

ALTER TABLE catalog_version ADD COLUMN changes_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE catalog_version ADD COLUMN bulk_write INTEGER NOT NULL DEFAULT 0;
-- Nothing before this migration is logged.
UPDATE catalog_version SET changes_from = version;

DROP TRIGGER beers_inserted;
DROP TRIGGER beers_updated;
DROP TRIGGER beers_deleted;

CREATE TRIGGER beers_inserted AFTER INSERT ON beers
WHEN (SELECT bulk_write FROM catalog_version WHERE id = 1) = 0
BEGIN
    UPDATE catalog_version SET version = version + 1, changes_from = max(changes_from, version + 1 - 10000)
        WHERE id = 1;
    INSERT INTO catalog_changes (version, beer_id) SELECT version, NEW.id FROM catalog_version WHERE id = 1;
    DELETE FROM catalog_changes WHERE version <= (SELECT changes_from FROM catalog_version WHERE id = 1);
END;

CREATE TRIGGER beers_updated AFTER UPDATE ON beers
WHEN (SELECT bulk_write FROM catalog_version WHERE id = 1) = 0
BEGIN
    UPDATE catalog_version SET version = version + 1, changes_from = max(changes_from, version + 1 - 10000)
        WHERE id = 1;
    INSERT INTO catalog_changes (version, beer_id) SELECT version, NEW.id FROM catalog_version WHERE id = 1;
    INSERT INTO catalog_changes (version, beer_id)
        SELECT version, OLD.id FROM catalog_version WHERE id = 1 AND OLD.id <> NEW.id;
    DELETE FROM catalog_changes WHERE version <= (SELECT changes_from FROM catalog_version WHERE id = 1);
END;

CREATE TRIGGER beers_deleted AFTER DELETE ON beers
WHEN (SELECT bulk_write FROM catalog_version WHERE id = 1) = 0
BEGIN
    UPDATE catalog_version SET version = version + 1, changes_from = max(changes_from, version + 1 - 10000)
        WHERE id = 1;
    INSERT INTO catalog_changes (version, beer_id) SELECT version, OLD.id FROM catalog_version WHERE id = 1;
    DELETE FROM catalog_changes WHERE version <= (SELECT changes_from FROM catalog_version WHERE id = 1);
END;
