-- Schema version 6 of the Pulsar outbox for PostgreSQL: the parked rows whose send may have reached the broker (failed
-- with a kind that keeps the row's broker sequence id: TRANSIENT, TIMEOUT, UNAVAILABLE, NOT_RECORDED), by segment.
-- At every start and takeover the relay reads the claimed segments' rows that carry a sequence id; the parked ones
-- are among the parked rows of these kinds (whose id a resolution may have cleared since), not among the rows refused
-- outright, which are parked without an id. The index names no column the sequence id update changes, so that update
-- stays heap-only. Placeholders as in V1.
-- On a large existing table, create the index beforehand with CREATE INDEX CONCURRENTLY (same name): IF NOT EXISTS
-- then skips it here, and writers are not held up while it is built.
CREATE INDEX IF NOT EXISTS ${name}_parked_unknown_ix ON ${table} (segment)
    WHERE status = 'FAILED' AND failure_kind IN ('TRANSIENT', 'TIMEOUT', 'UNAVAILABLE', 'NOT_RECORDED');
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (6);
