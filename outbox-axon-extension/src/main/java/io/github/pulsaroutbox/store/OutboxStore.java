package io.github.pulsaroutbox.store;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Storage of outbox rows for capture and relay. Every method works in the caller's transaction (the unit of work's
 * for {@link #append(List)}, the relay's otherwise) and never commits on its own. Operator actions, statistics and
 * retention are in {@link OutboxMaintenance}.
 */
public interface OutboxStore {

    /**
     * Inserts entries, in the given order, with their status ({@link OutboxStatus#PENDING}, or
     * {@link OutboxStatus#FAILED} for an entry parked at capture); fails (and so fails the caller's transaction) on
     * any error. Within an Axon unit of work (capture) it refuses to write outside a database transaction (e.g. on a
     * connection in auto-commit mode), where the rows would commit whatever happens to the events.
     */
    void append(List<OutboxEntry> entries);

    /**
     * Up to {@code limit} pending rows that are due at {@code now}, in insertion order, leaving out every row behind
     * an earlier row of its aggregate that is parked or waiting for a retry. Rows committed late (with a lower
     * position than rows already seen) are returned as soon as they are visible: selection is by status, never by
     * "highest position seen".
     */
    List<OutboxEntry> fetchPending(int limit, Instant now);

    /**
     * Up to {@code limit} due pending rows with a position above {@code afterPosition}, in position order: a cheap,
     * index-range read of what arrived since the caller last looked. Unlike {@link #fetchPending(int, Instant)} it
     * does not leave out rows behind a parked or backing-off row of their aggregate, nor find rows that committed
     * late below {@code afterPosition}: the relay uses it only to extend aggregates whose earlier rows it already
     * handles. The default filters {@link #fetchPending(int, Instant)}; stores should override it.
     */
    default List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now) {
        return fetchPending(limit, now).stream().filter(entry -> entry.position() > afterPosition).toList();
    }

    /**
     * Marks the given rows {@link OutboxStatus#SENT} (only rows still pending), in as few statements as it can.
     * Checks what it changed: returns the ids it did <em>not</em> record SENT (no longer pending, or gone), empty
     * when all were.
     */
    Set<String> markSent(Collection<String> ids, Instant sentAt);

    /** Records failed publish attempts and what the failure policy decided for each, in one batch per outcome. */
    void recordFailures(Collection<Failure> failures);

    /**
     * A failed publish attempt of one row and the decision taken.
     *
     * @param id            the row's event id
     * @param kind          the kind of failure
     * @param error         a description of the failure
     * @param outcome       what to do with the row
     * @param nextAttemptAt for {@link Outcome#RETRY}: when to try again
     * @param at            when it failed
     */
    record Failure(String id, FailureKind kind, String error, Outcome outcome, Instant nextAttemptAt, Instant at) {
    }

    /** What happens to a row after a failed attempt. */
    enum Outcome {
        /** Stays pending until {@code nextAttemptAt}; later rows of its aggregate wait. */
        RETRY,
        /** Parked: status FAILED; later rows of its aggregate wait until an operator retries or discards it. */
        PARK,
        /** Given up on: status DISCARDED; later rows of its aggregate flow on. */
        DISCARD
    }
}
