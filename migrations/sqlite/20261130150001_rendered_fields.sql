-- Each beer's fields as the API prints them (compact JSON, fields in the API's order), rendered once when the beer
-- is written, so reads send stored text instead of decoding the document and encoding it again; the id and
-- timestamps are spliced in per answer. NULL for rows written before this column existed: reads fall back to the
-- document's text (the same values, keys in the database's order) until the beer is written again.
ALTER TABLE beers ADD COLUMN rendered TEXT;
