-- Schema version 5 of the Pulsar outbox for PostgreSQL: the partition a row's broker sequence id was sent to. The
-- relay stores it with the id before the send, and a resolution compares the id with what the broker stored in that
-- partition: after partitions were added to a topic, a key can route to another partition than when the row was sent.
-- A nullable column without a default: PostgreSQL adds it without rewriting the table. Placeholders as in V1.
ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS broker_partition INTEGER;
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (5);
