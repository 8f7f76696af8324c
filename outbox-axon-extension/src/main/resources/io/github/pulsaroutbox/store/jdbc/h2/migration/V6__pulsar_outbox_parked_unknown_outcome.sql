-- Schema version 6 of the Pulsar outbox for H2: no change to the tables. Version 6 adds a partial index to the
-- PostgreSQL schema (the parked rows whose send may have reached the broker; H2 has no partial indexes); H2 records
-- the same version so that one release has one schema version on every database. Placeholders as in V1.
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (6);
