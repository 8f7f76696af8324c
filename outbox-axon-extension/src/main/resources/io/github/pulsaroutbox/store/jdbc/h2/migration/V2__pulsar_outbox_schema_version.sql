-- Schema version 2 of the Pulsar outbox for H2: records the schema version. Placeholders as in V1. (H2 has no partial
-- indexes: the relay's probes keep using the indexes of version 1.)

-- the schema version, checked by the extension at startup (one row)
CREATE TABLE IF NOT EXISTS ${table}_version (
    version INT NOT NULL
);
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (2);
