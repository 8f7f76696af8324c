-- Schema version 4 of the Pulsar outbox for H2: no change to the tables. Version 4 changes the PostgreSQL schema only
-- (its unique key over every row becomes a unique partial index of pending rows; H2 has no partial indexes, and its
-- SENT update does not write the key, whose columns it leaves alone); H2 records the same version so that one release
-- has one schema version on every database. Placeholders as in V1.
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (4);
