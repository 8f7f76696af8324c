-- Schema version 6 of the Pulsar outbox for MariaDB: no change here (PostgreSQL's index of the parked rows whose send
-- may have reached the broker is a partial index, which MariaDB lacks). Placeholders as in V1.
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (6);
