package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.OutboxStatus;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;

import static io.github.pulsaroutbox.store.jdbc.JdbcRows.MAX_ERROR_LENGTH;
import static io.github.pulsaroutbox.store.jdbc.JdbcRows.truncate;

/**
 * Capture's write: the outbox rows of a unit of work, inserted in its transaction (one JDBC batch); a row for an
 * aggregate sequence already pending is refused as Axon's event store refuses a concurrent append.
 */
final class JdbcCapture {

    private final JdbcAccess db;
    private final String table;
    private final int segmentCount;

    JdbcCapture(JdbcAccess db, int segmentCount) {
        this.db = db;
        this.table = db.table();
        this.segmentCount = segmentCount;
    }

    void append(List<OutboxEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        db.withConnection(connection -> {
            TimeColumns times = db.times(connection);
            if (CurrentUnitOfWork.isStarted() && connection.getAutoCommit()) {
                throw new IllegalStateException(
                        "Outbox rows must be written in the event store's database transaction, but this connection "
                                + "is in auto-commit mode: they would commit on their own, whatever happens to the "
                                + "events. Run the unit of work in a transaction (configure Axon with a "
                                + "TransactionManager, also on deadline managers and asynchronous command buses), or "
                                + "use the tailing dispatch mode");
            }
            try (PreparedStatement insert = connection.prepareStatement(db.sql(connection).get("insert"))) {
                for (OutboxEntry entry : entries) {
                    boolean parked = entry.status() == OutboxStatus.FAILED;
                    insert.setString(1, entry.id());
                    insert.setObject(2, times.bind(entry.timestamp()));
                    insert.setString(3, entry.eventType());
                    insert.setString(4, entry.aggregateType());
                    insert.setString(5, entry.aggregateId());
                    insert.setLong(6, entry.aggregateSequence());
                    insert.setString(7, entry.payload());
                    insert.setString(8, entry.metadata());
                    insert.setString(9, entry.version());
                    insert.setString(10, entry.traceParent());
                    insert.setString(11, parked ? OutboxStatus.FAILED.name() : OutboxStatus.PENDING.name());
                    insert.setString(12, entry.failureKind() == null ? null : entry.failureKind().name());
                    insert.setString(13, truncate(entry.lastError(), MAX_ERROR_LENGTH));
                    insert.setObject(14, parked ? times.bind(entry.timestamp()) : null);
                    insert.setInt(15, entry.segment() >= 0 ? entry.segment() : OutboxSegments.of(entry.aggregateId(), segmentCount));
                    insert.setString(16, entry.topic());
                    insert.addBatch();
                }
                try {
                    insert.executeBatch();
                } catch (SQLException e) {
                    if (isDuplicateKey(e)) {
                        throw concurrentAppend(entries, e);
                    }
                    throw e;
                }
            }
            return null;
        });
    }

    /**
     * A row for one of these events' aggregate sequences is already in the table: another unit of work appended the
     * same sequence of the aggregate (or the same event) first. As Axon's event store does for its own key: a
     * {@code ConcurrencyException}, or an {@code AggregateStreamCreationException} for an aggregate's first event, so
     * that application code handling those (a retry, an HTTP 409) handles this too.
     */
    private RuntimeException concurrentAppend(List<OutboxEntry> entries, SQLException cause) {
        OutboxEntry first = entries.get(0);
        java.util.Set<String> aggregates = new java.util.TreeSet<>();
        entries.forEach(entry -> aggregates.add(entry.aggregateType() + " " + entry.aggregateId()));
        boolean oneAggregate = aggregates.size() == 1;
        String message = "An event for aggregate [" + first.aggregateId() + "] at sequence ["
                + first.aggregateSequence() + "] was already inserted (outbox table '" + table + "' holds a row of "
                + (oneAggregate ? "aggregate " + aggregates.iterator().next() + " for one of the sequences "
                + entries.stream().map(entry -> String.valueOf(entry.aggregateSequence())).distinct().toList()
                                : "one of the aggregates " + aggregates)
                + ", or of one of these events: another unit of work appended it first)";
        // Axon's event store answers a duplicate first event with AggregateStreamCreationException
        boolean creation = oneAggregate && first.aggregateSequence() == 0;
        RuntimeException concurrent = creation
                ? new org.axonframework.modelling.command.AggregateStreamCreationException(message)
                : new org.axonframework.modelling.command.ConcurrencyException(message);
        concurrent.initCause(cause);
        return concurrent;
    }

    /** A unique key violation: SQL state class 23 with the standard code (PostgreSQL, H2) or MySQL's error 1062. */
    static boolean isDuplicateKey(SQLException failure) {
        for (SQLException e = failure; e != null; e = e.getNextException()) {
            if ("23505".equals(e.getSQLState()) || e.getErrorCode() == 1062
                    || (e.getCause() instanceof SQLException cause && isDuplicateKey(cause))) {
                return true;
            }
            if (e.getNextException() == e) {
                break;
            }
        }
        return false;
    }
}
