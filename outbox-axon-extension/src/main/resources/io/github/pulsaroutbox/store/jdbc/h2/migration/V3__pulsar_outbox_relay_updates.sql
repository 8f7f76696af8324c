-- Schema version 3 of the Pulsar outbox for H2: no change to the tables. Version 3 changes the PostgreSQL schema only
-- (page fill factor and a partial index, which H2 does not have); H2 records the same version so that one release has
-- one schema version on every database. Placeholders as in V1.
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (3);
