-- Schema version 3 of the Pulsar outbox for MariaDB: no change here (PostgreSQL's storage settings of this version
-- have no MariaDB counterpart); the version keeps the numbering of the other databases. Placeholders as in V1.
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (3);
