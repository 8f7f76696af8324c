-- The inbox of the receiving side on MariaDB 10.6+ (and MySQL 8 without IF NOT EXISTS on the index): one row per
-- event handled, per processing group. Placeholders: ${table} the inbox table (optionally database-qualified), ${name}
-- its unqualified name. Flyway/Liquibase compatible.
CREATE TABLE IF NOT EXISTS ${table} (
    processing_group VARCHAR(255) NOT NULL,
    message_id       VARCHAR(255) NOT NULL,
    handled_at       DATETIME(6)  NOT NULL,
    CONSTRAINT ${name}_pk PRIMARY KEY (processing_group, message_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
-- retention: the oldest rows first
CREATE INDEX IF NOT EXISTS ${name}_handled_ix ON ${table} (handled_at);
