-- Schema version 5 of the Pulsar outbox for MariaDB: the partition a row's broker sequence id was sent to (stored
-- with the id before the send; a resolution compares the id with what the broker stored in that partition).
-- Placeholders as in V1.
ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS broker_partition INTEGER;
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (5);
