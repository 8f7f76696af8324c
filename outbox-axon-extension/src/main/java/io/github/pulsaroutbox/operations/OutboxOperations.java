package io.github.pulsaroutbox.operations;

import org.axonframework.common.transaction.TransactionManager;
import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.store.OutboxMaintenance.Action;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The operator's view of the outbox and the explicit actions on parked rows. Every action is recorded on the row
 * (who, when, why). Retrying a parked row puts it back at the head of its aggregate: the rows queued behind it follow
 * in order, and the relay is woken at once. Exposed over HTTP by the {@code outbox} Actuator endpoint.
 */
public final class OutboxOperations {

    private static final int MAX_PAGE_SIZE = 500;

    private final OutboxMaintenance maintenance;
    private final TransactionManager transactionManager;
    private final Runnable wakeRelay;
    private final OutboxMetrics metrics;
    private final Clock clock;

    /**
     * @param maintenance        the outbox table
     * @param transactionManager the transaction of each action
     * @param wakeRelay          asks the relay for a pass (after a retry)
     * @param metrics            told about actions
     * @param clock              the time of actions
     */
    public OutboxOperations(OutboxMaintenance maintenance, TransactionManager transactionManager, Runnable wakeRelay,
                            OutboxMetrics metrics, Clock clock) {
        this.maintenance = Objects.requireNonNull(maintenance, "maintenance");
        this.transactionManager = Objects.requireNonNull(transactionManager, "transactionManager");
        this.wakeRelay = Objects.requireNonNull(wakeRelay, "wakeRelay");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * A parked row and how many rows of its aggregate wait behind it.
     *
     * @param row           the parked row
     * @param waitingBehind pending rows of the same aggregate (they are released, in order, when it is retried or
     *                      discarded)
     */
    public record ParkedRow(OutboxRow row, long waitingBehind) {
    }

    /**
     * A page of parked rows.
     *
     * @param rows  the rows of this page, oldest first
     * @param page  the page number (0-based)
     * @param size  the page size
     * @param total parked rows matching the filter
     */
    public record ParkedPage(List<ParkedRow> rows, int page, int size, long total) {
    }

    /**
     * Counts by status and the age of the oldest pending row.
     *
     * @param counts           rows by status
     * @param oldestPendingAge how long the oldest pending row has waited, or {@code null} when none is pending
     */
    public record Summary(Map<OutboxStatus, Long> counts, Duration oldestPendingAge) {
    }

    /** Parked rows, oldest first; {@code aggregateType}/{@code aggregateId} filter when not {@code null}. */
    public ParkedPage parked(String aggregateType, String aggregateId, int page, int size) {
        if (page < 0 || size < 1 || size > MAX_PAGE_SIZE) {
            throw new IllegalArgumentException("page must be >= 0 and size between 1 and " + MAX_PAGE_SIZE);
        }
        return transactionManager.fetchInTransaction(() -> {
            List<ParkedRow> rows = maintenance.findParked(blankToNull(aggregateType), blankToNull(aggregateId),
                                                          page * size, size)
                                              .stream()
                                              .map(this::withWaiting)
                                              .toList();
            return new ParkedPage(rows, page, size,
                                  maintenance.countParked(blankToNull(aggregateType), blankToNull(aggregateId)));
        });
    }

    /** One row with its error and bookkeeping; for a parked row also how many rows wait behind it. */
    public Optional<ParkedRow> row(String id) {
        return transactionManager.fetchInTransaction(() -> maintenance.find(id).map(this::withWaiting));
    }

    /** Retries one parked row. @return whether a parked row with this id was found */
    public boolean retry(String id, String actor, String reason) {
        return done("retry", transactionManager.fetchInTransaction(
                () -> maintenance.retryParked(id, action(actor, reason)))) > 0;
    }

    /** Retries the parked rows of one aggregate. @return the number of rows retried */
    public int retryAggregate(String aggregateType, String aggregateId, String actor, String reason) {
        return done("retry", transactionManager.fetchInTransaction(
                () -> maintenance.retryParkedOfAggregate(aggregateType, aggregateId, action(actor, reason))));
    }

    /** Retries every parked row. @return the number of rows retried */
    public int retryAll(String actor, String reason) {
        return done("retry", transactionManager.fetchInTransaction(
                () -> maintenance.retryAllParked(action(actor, reason))));
    }

    /**
     * Discards a parked row: it is never sent, and the rows queued behind it flow on.
     *
     * @param reason why (required: it is the record of a decision to lose an event for consumers)
     * @return whether a parked row with this id was found
     */
    public boolean discard(String id, String actor, String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("A reason is required to discard a row");
        }
        return done("discard", transactionManager.fetchInTransaction(
                () -> maintenance.discardParked(id, action(actor, reason)))) > 0;
    }

    /** Rows by status and the oldest pending row's age. */
    public Summary summary() {
        return transactionManager.fetchInTransaction(() -> {
            Map<OutboxStatus, Long> counts = new EnumMap<>(OutboxStatus.class);
            for (OutboxStatus status : OutboxStatus.values()) {
                counts.put(status, maintenance.count(status));
            }
            Duration age = maintenance.oldestPending().map(t -> Duration.between(t, clock.instant()))
                                      .orElse(null);
            return new Summary(counts, age);
        });
    }

    private ParkedRow withWaiting(OutboxRow row) {
        long waiting = row.entry().status() == OutboxStatus.FAILED
                ? maintenance.countPending(row.entry().aggregateType(), row.entry().aggregateId()) : 0;
        return new ParkedRow(row, waiting);
    }

    private int done(String action, int rows) {
        metrics.operatorAction(action, rows);
        if (rows > 0) {
            wakeRelay.run();
        }
        return rows;
    }

    private Action action(String actor, String reason) {
        return new Action(actor == null || actor.isBlank() ? "unknown" : actor, clock.instant(), reason);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
