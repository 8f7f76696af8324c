-- Schema version 2 of the Pulsar outbox for MariaDB: records the schema version (the indexes PostgreSQL and H2 got in
-- this version are in version 1 here). Placeholders as in V1.
CREATE TABLE IF NOT EXISTS ${table}_version (
    version INT NOT NULL
) ENGINE = InnoDB;
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (2);
