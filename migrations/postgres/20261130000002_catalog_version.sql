-- The catalog's change signal, for the response caches of every running instance (docs/architecture.md, "Response
-- cache"): one row whose version moves on every statement that changes `beers`, whoever runs it (an instance, an
-- `import` process, psql), and a notification on commit so listeners need not wait for their next poll.
CREATE TABLE catalog_version (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    version   BIGINT  NOT NULL
);

INSERT INTO catalog_version (singleton, version) VALUES (TRUE, 0);

CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1;
    -- Delivered when the writing transaction commits, never for a rolled-back one.
    PERFORM pg_notify('catalog_changed', '');
    RETURN NULL;
END;
$$;

-- Per statement, not per row: an import of 325 beers bumps the version once per statement, not per row.
-- beer_terms is always written with its beer, so watching `beers` is enough.
CREATE TRIGGER beers_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON beers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
