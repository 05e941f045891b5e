-- The term rows' foreign key goes (issue 22), as on PostgreSQL (see that migration): every writer writes a beer's
-- terms with the beer, and the cascade on delete becomes a trigger. SQLite cannot drop a constraint, so the table is
-- rebuilt under the same name, columns and index (the release before this one reads and writes it as it did).
CREATE TABLE beer_terms_rebuilt (
    beer_id INTEGER NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('hop', 'malt', 'food')),
    term    TEXT    NOT NULL
);

INSERT INTO beer_terms_rebuilt (beer_id, kind, term) SELECT beer_id, kind, term FROM beer_terms ORDER BY rowid;
DROP TABLE beer_terms;
ALTER TABLE beer_terms_rebuilt RENAME TO beer_terms;
CREATE INDEX beer_terms_beer_id_idx ON beer_terms (beer_id, kind);

CREATE TRIGGER beers_deleted_terms AFTER DELETE ON beers
BEGIN
    DELETE FROM beer_terms WHERE beer_id = OLD.id;
END;
