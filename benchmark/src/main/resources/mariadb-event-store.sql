-- Axon's JdbcEventStorageEngine tables (default EventSchema names) for MariaDB
CREATE TABLE IF NOT EXISTS DomainEventEntry (
    globalIndex         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    aggregateIdentifier VARCHAR(255) NOT NULL,
    sequenceNumber      BIGINT       NOT NULL,
    type                VARCHAR(255),
    eventIdentifier     VARCHAR(255) NOT NULL UNIQUE,
    metaData            LONGBLOB,
    payload             LONGBLOB     NOT NULL,
    payloadRevision     VARCHAR(255),
    payloadType         VARCHAR(255) NOT NULL,
    timeStamp           VARCHAR(255) NOT NULL,
    UNIQUE (aggregateIdentifier, sequenceNumber)
) ENGINE = InnoDB;
CREATE TABLE IF NOT EXISTS SnapshotEventEntry (
    aggregateIdentifier VARCHAR(255) NOT NULL,
    sequenceNumber      BIGINT       NOT NULL,
    type                VARCHAR(255) NOT NULL,
    eventIdentifier     VARCHAR(255) NOT NULL UNIQUE,
    metaData            LONGBLOB,
    payload             LONGBLOB     NOT NULL,
    payloadRevision     VARCHAR(255),
    payloadType         VARCHAR(255) NOT NULL,
    timeStamp           VARCHAR(255) NOT NULL,
    PRIMARY KEY (aggregateIdentifier, sequenceNumber)
) ENGINE = InnoDB;
