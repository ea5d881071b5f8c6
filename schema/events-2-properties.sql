-- Schema version 2: what a resource was when it was cataloged (name, tags, creation time,
-- a few properties of its type), as a JSON object on the `cataloged` event; NULL elsewhere
-- and in every event written before version 2.

ALTER TABLE events ADD COLUMN properties TEXT;
