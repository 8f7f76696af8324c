package io.github.pulsaroutbox.metrics;

import org.axonframework.common.transaction.TransactionManager;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.OutboxMaintenance;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The outbox's backlog (pending and parked rows, age of the oldest pending row), read from the table at most once
 * per {@code refresh} however often gauges and health checks ask: three indexed queries per refresh.
 */
public final class OutboxStatistics {

    private final OutboxMaintenance maintenance;
    private final TransactionManager transactionManager;
    private final Duration refresh;
    private final Clock clock;
    private volatile Snapshot snapshot;

    public OutboxStatistics(OutboxMaintenance maintenance, TransactionManager transactionManager, Duration refresh,
                            Clock clock) {
        this.maintenance = Objects.requireNonNull(maintenance, "maintenance");
        this.transactionManager = Objects.requireNonNull(transactionManager, "transactionManager");
        this.refresh = Objects.requireNonNull(refresh, "refresh");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * The backlog at {@code takenAt}.
     *
     * @param pending          pending rows
     * @param parked           parked (FAILED) rows
     * @param oldestPending    timestamp of the oldest pending row, or {@code null}
     * @param takenAt          when it was read
     */
    public record Snapshot(long pending, long parked, Instant oldestPending, Instant takenAt) {

        /** The age of the oldest pending row at {@code takenAt}; zero when none is pending. */
        public Duration oldestPendingAge() {
            return oldestPending == null ? Duration.ZERO : Duration.between(oldestPending, takenAt);
        }
    }

    /** The current snapshot, read anew when the last one is older than the refresh interval. */
    public Snapshot current() {
        Snapshot current = snapshot;
        if (current == null || Duration.between(current.takenAt(), clock.instant()).compareTo(refresh) >= 0) {
            current = refresh();
        }
        return current;
    }

    /**
     * Reads the backlog now and makes it the current snapshot, so that whoever asks next (gauges, health) reports
     * the same figures as the caller (the operator endpoint) until the next refresh.
     */
    public Snapshot refresh() {
        Snapshot current = transactionManager.fetchInTransaction(() -> new Snapshot(
                maintenance.count(OutboxStatus.PENDING),
                maintenance.count(OutboxStatus.FAILED),
                maintenance.oldestPending().orElse(null),
                clock.instant()));
        snapshot = current;
        return current;
    }
}
