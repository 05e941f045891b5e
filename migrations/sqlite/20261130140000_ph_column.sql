-- pH beside the other measurements, for the `ph_gt`/`ph_lt` filters and sorting (expand-only: older releases
-- neither read nor write it, and a beer they write gets its pH here on its next write by a newer release).
ALTER TABLE beers ADD COLUMN ph REAL;
UPDATE beers SET ph = json_extract(document, '$.ph');
