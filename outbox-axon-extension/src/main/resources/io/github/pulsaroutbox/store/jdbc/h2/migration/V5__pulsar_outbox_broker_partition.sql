-- Schema version 5 of the Pulsar outbox for H2: the partition a row's broker sequence id was sent to (see the
-- PostgreSQL file). Placeholders as in V1.
ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS broker_partition INTEGER;
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (5);
