-- Schema version 2 of the Pulsar outbox for PostgreSQL: records the schema version, and serves the relay's "is this
-- aggregate held back?" probes and the backlog age from indexes of the few rows they concern. Placeholders as in V1.
-- On a large existing table, create the three indexes beforehand with CREATE INDEX CONCURRENTLY (same names): IF NOT
-- EXISTS then skips them here, and writers are not held up while they are built.

-- "is a row of this aggregate with a lower sequence backing off (due later)?": a seek into the rows that wait for a
-- retry, a handful even during a broker outage, instead of into every row of the aggregate (with 100,000 rows blocked
-- behind backing-off heads the relay's scan took 9 s per pass through the index it replaces, see docs/databases.md)
CREATE INDEX IF NOT EXISTS ${name}_backing_off_ix ON ${table} (aggregate_type, aggregate_id, aggregate_sequence)
    WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL;
DROP INDEX IF EXISTS ${name}_aggregate_status_ix;
-- "is a row of this aggregate with a lower sequence parked?": a seek into the parked rows (written only when a row is
-- parked or leaves the parked state), whatever the number of parked aggregates
CREATE INDEX IF NOT EXISTS ${name}_parked_aggregate_ix ON ${table} (aggregate_type, aggregate_id, aggregate_sequence)
    WHERE status = 'FAILED';
-- the backlog age (statistics, health): the pending rows in timestamp order, read up to the first one that is not
-- held back behind a parked row (one entry unless rows are parked)
CREATE INDEX IF NOT EXISTS ${name}_pending_age_ix ON ${table} (timestamp) WHERE status = 'PENDING';
-- the schema version, checked by the extension at startup (one row)
CREATE TABLE IF NOT EXISTS ${table}_version (
    version INT NOT NULL
);
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (2);
