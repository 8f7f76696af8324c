-- Schema version 1 of the Pulsar outbox for MariaDB 10.6+ (InnoDB, utf8mb4): the outbox table, retention's archive
-- and the relay nodes. Flyway/Liquibase compatible; placeholders: ${table} the outbox table (pulsar-outbox.table,
-- optionally database-qualified), ${name} its unqualified name (prefixes index names), ${archive} = ${table}_archive,
-- ${nodes} = ${table}_node. Every statement is idempotent (IF NOT EXISTS). Timestamps are DATETIME(6) in UTC (the
-- store binds them as UTC offsets). MySQL 8 lacks IF NOT EXISTS for indexes and columns: docs/databases.md.
CREATE TABLE IF NOT EXISTS ${table} (
    id                 VARCHAR(255)  NOT NULL,
    position           BIGINT        NOT NULL AUTO_INCREMENT,
    timestamp          DATETIME(6)   NOT NULL,
    event_type         VARCHAR(512)  NOT NULL,
    aggregate_type     VARCHAR(255)  NOT NULL,
    aggregate_id       VARCHAR(255)  NOT NULL,
    aggregate_sequence BIGINT        NOT NULL,
    payload            LONGTEXT      NOT NULL,
    metadata           LONGTEXT,
    version            VARCHAR(64)   NOT NULL,
    status             VARCHAR(16)   NOT NULL,
    attempts           INT DEFAULT 0 NOT NULL,
    next_attempt_at    DATETIME(6),
    failure_kind       VARCHAR(32),
    last_error         VARCHAR(4000),
    parked_at          DATETIME(6),
    sent_at            DATETIME(6),
    trace_parent       VARCHAR(128),
    action             VARCHAR(16),
    action_by          VARCHAR(255),
    action_at          DATETIME(6),
    action_reason      VARCHAR(1000),
    segment            INT DEFAULT 0 NOT NULL,
    broker_sequence    BIGINT,
    topic              VARCHAR(1024),
    CONSTRAINT ${name}_pk PRIMARY KEY (id),
    CONSTRAINT ${name}_position_uk UNIQUE (position),
    CONSTRAINT ${name}_aggregate_uk UNIQUE (aggregate_type, aggregate_id, aggregate_sequence)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
-- MariaDB has no partial indexes: each of the relay's reads is a range of a composite index that leads with the
-- status (and the aggregate), so it reads only the rows of the status it asks for however many SENT rows the table
-- holds. The relay's scans: pending rows in position order; the operator's listing: parked rows; retention: SENT rows
CREATE INDEX IF NOT EXISTS ${name}_status_position_ix ON ${table} (status, position);
-- "which pending rows of this aggregate have a lower sequence?" and "is a row of this aggregate with a lower sequence
-- parked?": one range seek each, answered from the index (none for an aggregate's head row)
CREATE INDEX IF NOT EXISTS ${name}_aggregate_sequence_ix ON ${table} (aggregate_type, aggregate_id, status, aggregate_sequence, position);
-- "is a row of this aggregate with a lower sequence backing off (due later)?": the aggregate's rows due later (none
-- unless a retry is pending)
CREATE INDEX IF NOT EXISTS ${name}_aggregate_status_ix ON ${table} (aggregate_type, aggregate_id, status, next_attempt_at);
-- when the earliest retry is due, and the backlog age: pending rows by retry time and by timestamp
CREATE INDEX IF NOT EXISTS ${name}_status_retry_ix ON ${table} (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS ${name}_status_age_ix ON ${table} (status, timestamp);
-- retention's archive (pulsar-outbox.retention.mode=archive): the outbox's columns, named one by one (retention
-- copies them by name); rows move in bounded batches
CREATE TABLE IF NOT EXISTS ${archive} (
    id                 VARCHAR(255)  NOT NULL,
    position           BIGINT        NOT NULL,
    timestamp          DATETIME(6)   NOT NULL,
    event_type         VARCHAR(512)  NOT NULL,
    aggregate_type     VARCHAR(255)  NOT NULL,
    aggregate_id       VARCHAR(255)  NOT NULL,
    aggregate_sequence BIGINT        NOT NULL,
    payload            LONGTEXT      NOT NULL,
    metadata           LONGTEXT,
    version            VARCHAR(64)   NOT NULL,
    status             VARCHAR(16)   NOT NULL,
    attempts           INT DEFAULT 0 NOT NULL,
    next_attempt_at    DATETIME(6),
    failure_kind       VARCHAR(32),
    last_error         VARCHAR(4000),
    parked_at          DATETIME(6),
    sent_at            DATETIME(6),
    trace_parent       VARCHAR(128),
    action             VARCHAR(16),
    action_by          VARCHAR(255),
    action_at          DATETIME(6),
    action_reason      VARCHAR(1000),
    segment            INT DEFAULT 0 NOT NULL,
    broker_sequence    BIGINT,
    topic              VARCHAR(1024)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
-- relay nodes: each running relay's heartbeat and the segments it owns (ownership itself is claimed in Axon's
-- TokenStore); the live nodes decide each node's fair share of segments
CREATE TABLE IF NOT EXISTS ${nodes} (
    node_id      VARCHAR(255) NOT NULL,
    heartbeat_at DATETIME(6)  NOT NULL,
    segments     VARCHAR(1000),
    CONSTRAINT ${name}_node_pk PRIMARY KEY (node_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
