package io.github.pulsaroutbox.metrics;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;

import java.time.Instant;

/**
 * What the outbox reports as it works. Implementations must be cheap and never throw; {@link #NOOP} ignores all.
 * {@link MicrometerOutboxMetrics} publishes them to Micrometer.
 */
public interface OutboxMetrics {

    /** Reports nothing. */
    OutboxMetrics NOOP = new OutboxMetrics() {
    };

    /** A row was acknowledged by the broker at {@code acknowledgedAt}. */
    default void published(OutboxEntry entry, Instant acknowledgedAt) {
    }

    /** A publish attempt (or, for {@link FailureKind#UNREADABLE_PAYLOAD}, a capture) failed with this outcome. */
    default void failed(FailureKind kind, Outcome outcome) {
    }

    /**
     * Rows the broker acknowledged that the store did not record SENT ({@link FailureKind#NOT_RECORDED}): they are
     * not sent again and are parked.
     */
    default void notRecorded(int rows) {
    }

    /** Retention removed rows from the outbox table (moved to the archive when {@code archived}). */
    default void purged(int rows, boolean archived) {
    }

    /** An operator action ({@code retry}, {@code discard}) changed {@code rows} rows. */
    default void operatorAction(String action, int rows) {
    }
}
