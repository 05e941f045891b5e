-- The term rows' foreign key goes (issue 22): checking it was most of an import's time. Measured (docs/architecture.md,
-- "Term rows without a foreign key"): COPY of 1.3M term rows (100,000 beers) took 11.3 s with the key and 3.4 s
-- without it, each row's check being a probe of `beers`' primary key and a row lock on the beer. Every writer already
-- writes a beer's terms in the transaction that writes the beer (the service, the `import` command), so the key
-- guarded nothing they could get wrong; what it did besides, removing a deleted beer's terms, is done here by a
-- trigger (one DELETE per statement, however many beers it deleted).
--
-- Expand-only: the table, its columns and its index stay as they were, so the release before this one reads and
-- writes exactly as it did (its deletes rely on the cascade, which the trigger keeps doing for it).
ALTER TABLE beer_terms DROP CONSTRAINT beer_terms_beer_id_fkey;

CREATE FUNCTION delete_terms_of_deleted_beers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM beer_terms;
    ELSE
        DELETE FROM beer_terms WHERE beer_id IN (SELECT id FROM deleted_beers);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER beers_deleted_terms
    AFTER DELETE ON beers REFERENCING OLD TABLE AS deleted_beers
    FOR EACH STATEMENT EXECUTE FUNCTION delete_terms_of_deleted_beers();

-- The key made `TRUNCATE beers` fail unless it named beer_terms too; without it, the terms go with the beers.
CREATE TRIGGER beers_truncated_terms
    AFTER TRUNCATE ON beers
    FOR EACH STATEMENT EXECUTE FUNCTION delete_terms_of_deleted_beers();
