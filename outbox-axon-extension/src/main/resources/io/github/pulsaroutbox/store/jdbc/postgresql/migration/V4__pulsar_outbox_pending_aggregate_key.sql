-- Schema version 4 of the Pulsar outbox for PostgreSQL: one row per aggregate sequence is enforced among the rows
-- waiting to be sent, by the partial index of pending rows (now unique), instead of by a unique key over every row.
-- The relay's SENT update (not heap-only: the row leaves the partial pending indexes) wrote that key for every row;
-- the partial index it never writes. Rows already sent or parked no longer take part: a second row for their sequence
-- is refused by the primary key when it is the same event, and by the event store's own unique key, written in the same
-- transaction, when it is another. Measured on 100,000 rows of ~500 bytes, 500 rows per transaction: the SENT updates
-- took 1.7 s with the key and 1.1 s without. Placeholders as in V1. See docs/databases.md.
-- On a large existing table, create the index beforehand with CREATE UNIQUE INDEX CONCURRENTLY (same name).
CREATE UNIQUE INDEX IF NOT EXISTS ${name}_pending_aggregate_uk ON ${table} (aggregate_type, aggregate_id, aggregate_sequence)
    INCLUDE (position) WHERE status = 'PENDING';
DROP INDEX IF EXISTS ${name}_pending_aggregate_ix;
ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${name}_aggregate_uk;
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (4);
