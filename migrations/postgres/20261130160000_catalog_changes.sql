-- The read model's change log (docs/architecture.md, "Read model"): which beers each catalog version changed, so an
-- instance whose in-process index is at version V can re-read only the beers changed in (V, W] instead of the whole
-- catalog. Written by the triggers on `beers`, whoever writes (an instance, an `import` process, psql).
--
-- The version still moves once per statement, but now BEFORE it (not after), so the statement's rows can be logged
-- under its version: the UPDATE takes the version row's lock until commit, so a transaction's versions are
-- consecutive and become visible together, and a reader at version V sees, in one snapshot at W, every entry of
-- (V, W]. The log holds every change after `changes_from`; a reader older than that rebuilds fully.
--
-- Bulk writes are not logged row by row: a transaction that sets `beer_catalog.changes_logged` to 'off' (the
-- import does), or that has logged 1,000 rows, moves `changes_from` to its own version instead, which makes every
-- reader rebuild. The row trigger's WHEN then skips the function call per row, which COPY would otherwise pay per
-- beer. Entries at or before `changes_from` are deleted every 100 versions, and `changes_from` trails the version
-- by at most 1,000 versions.
CREATE TABLE catalog_changes (
    version BIGINT NOT NULL,
    beer_id BIGINT NOT NULL,
    PRIMARY KEY (version, beer_id)
);

ALTER TABLE catalog_version ADD COLUMN changes_from BIGINT NOT NULL DEFAULT 0;
-- Nothing before this migration is logged.
UPDATE catalog_version SET changes_from = version;

CREATE FUNCTION catalog_statement_started() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bumped BIGINT;
    pruned_to BIGINT;
BEGIN
    IF TG_OP = 'TRUNCATE' OR current_setting('beer_catalog.changes_logged', true) = 'off' THEN
        UPDATE catalog_version SET version = version + 1, changes_from = version + 1
            RETURNING version, changes_from INTO bumped, pruned_to;
    ELSE
        UPDATE catalog_version
            SET version = version + 1,
                changes_from = CASE WHEN (version + 1) % 100 = 0 THEN GREATEST(changes_from, version + 1 - 1000)
                                    ELSE changes_from END
            RETURNING version, changes_from INTO bumped, pruned_to;
    END IF;
    IF bumped % 100 = 0 THEN
        DELETE FROM catalog_changes WHERE version <= pruned_to;
    END IF;
    PERFORM set_config('beer_catalog.change_version', bumped::text, true);
    -- Delivered when the writing transaction commits, never for a rolled-back one.
    PERFORM pg_notify('catalog_changed', '');
    RETURN NULL;
END;
$$;

CREATE FUNCTION log_catalog_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    logged TEXT := current_setting('beer_catalog.changes_logged', true);
    statement_version BIGINT := current_setting('beer_catalog.change_version')::bigint;
    count INTEGER;
BEGIN
    -- Rows queued before the transaction turned logging off still arrive here.
    IF logged = 'off' THEN
        RETURN NULL;
    END IF;
    count := COALESCE(NULLIF(logged, ''), '0')::integer;
    IF count >= 1000 THEN
        -- A bulk change: every reader that predates it rebuilds, and nothing more of it is logged.
        UPDATE catalog_version SET changes_from = GREATEST(changes_from, statement_version);
        PERFORM set_config('beer_catalog.changes_logged', 'off', true);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.id <> NEW.id) THEN
        INSERT INTO catalog_changes (version, beer_id) VALUES (statement_version, OLD.id) ON CONFLICT DO NOTHING;
        count := count + 1;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO catalog_changes (version, beer_id) VALUES (statement_version, NEW.id) ON CONFLICT DO NOTHING;
        count := count + 1;
    END IF;
    PERFORM set_config('beer_catalog.changes_logged', count::text, true);
    RETURN NULL;
END;
$$;

DROP TRIGGER beers_changed ON beers;
DROP FUNCTION bump_catalog_version();

CREATE TRIGGER beers_changing
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON beers
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_statement_started();

CREATE TRIGGER beers_changed_rows
    AFTER INSERT OR UPDATE OR DELETE ON beers
    FOR EACH ROW WHEN (current_setting('beer_catalog.changes_logged', true) IS DISTINCT FROM 'off')
    EXECUTE FUNCTION log_catalog_change();
