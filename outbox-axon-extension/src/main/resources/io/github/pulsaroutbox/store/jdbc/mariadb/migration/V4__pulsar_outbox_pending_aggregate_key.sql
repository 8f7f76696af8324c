-- Schema version 4 of the Pulsar outbox for MariaDB: no change here (PostgreSQL's key over pending rows needs a
-- partial index; MariaDB keeps the unique key over every row of version 1). Placeholders as in V1.
DELETE FROM ${table}_version;
INSERT INTO ${table}_version (version) VALUES (4);
