package org.axonframework.extensions.outbox.store;

import org.axonframework.extensions.outbox.OutboxEntry;
import org.axonframework.extensions.outbox.OutboxStatus;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Storage of outbox rows. Every method works in the caller's transaction (the unit of work's for
 * {@link #append(List)}, the relay's otherwise) and never commits on its own.
 */
public interface OutboxStore {

    /** Inserts pending entries, in the given order; fails (and so fails the caller's transaction) on any error. */
    void append(List<OutboxEntry> entries);

    /**
     * Up to {@code limit} {@link OutboxStatus#PENDING} rows, in insertion order. Rows committed late (with a lower
     * position than rows already seen) are returned as soon as they are visible: selection is by status, never by
     * "highest position seen".
     */
    List<OutboxEntry> fetchPending(int limit);

    /** Marks the given rows {@link OutboxStatus#SENT} (only rows still pending), in one batch. */
    void markSent(Collection<String> ids, Instant sentAt);

    /** Records a failed publish attempt: increments the attempt count and keeps the error. */
    void recordFailedAttempts(Collection<FailedAttempt> failures);

    /** The row with this event id. */
    Optional<OutboxEntry> find(String id);

    /** The number of rows with this status. */
    long count(OutboxStatus status);

    /**
     * A failed publish attempt of one row.
     *
     * @param id    the row's event id
     * @param error a description of the failure
     */
    record FailedAttempt(String id, String error) {
    }
}
