-- A counter bumped by every statement that changes the catalog, so a process holding a derived copy (the in-process
-- read model) can tell with one primary-key read whether its copy is still the catalog. Statement-level: a bulk
-- import bumps it once per statement, not once per row. Writers serialise on this one row until they commit, which
-- a catalog written rarely can afford.
CREATE TABLE catalog_version (
    id      BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    version BIGINT  NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (TRUE, 0);

CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1;
    RETURN NULL;
END
$$;

-- beer_terms changes only together with its beer (same transaction), so watching beers is enough.
CREATE TRIGGER beers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON beers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();
