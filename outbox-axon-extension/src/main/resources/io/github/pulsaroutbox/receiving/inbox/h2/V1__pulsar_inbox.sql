-- The inbox of the receiving side on H2 2.x: one row per event handled, per processing group. Placeholders: ${table}
-- the inbox table (optionally schema-qualified), ${name} its unqualified name. Flyway/Liquibase compatible.
CREATE TABLE IF NOT EXISTS ${table} (
    processing_group VARCHAR(255)             NOT NULL,
    message_id       VARCHAR(255)             NOT NULL,
    handled_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT ${name}_pk PRIMARY KEY (processing_group, message_id)
);
-- retention: the oldest rows first
CREATE INDEX IF NOT EXISTS ${name}_handled_ix ON ${table} (handled_at);
