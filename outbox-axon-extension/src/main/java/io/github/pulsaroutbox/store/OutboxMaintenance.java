package io.github.pulsaroutbox.store;

import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxStatus;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Operator actions, statistics and retention on the outbox table. Each call is one short statement (or, for
 * retention, one bounded batch) in the caller's transaction.
 */
public interface OutboxMaintenance {

    /** The row with this event id, with all its bookkeeping. */
    Optional<OutboxRow> find(String id);

    /** Parked rows in insertion order, optionally of one aggregate type and/or id; {@code offset}/{@code limit} page. */
    List<OutboxRow> findParked(String aggregateType, String aggregateId, int offset, int limit);

    /** The number of parked rows matching the same filter as {@link #findParked}. */
    long countParked(String aggregateType, String aggregateId);

    /** How many pending rows of this aggregate exist (behind a parked row they all wait). */
    long countPending(String aggregateType, String aggregateId);

    /** Parked → pending, attempts reset; records who, when, why. @return rows changed (0 when not parked) */
    int retryParked(String id, Action action);

    /** All parked rows of one aggregate → pending. @return rows changed */
    int retryParkedOfAggregate(String aggregateType, String aggregateId, Action action);

    /** All parked rows → pending. @return rows changed */
    int retryAllParked(Action action);

    /** Parked → discarded; records who, when, why. @return rows changed (0 when not parked) */
    int discardParked(String id, Action action);

    /** The number of rows with this status. */
    long count(OutboxStatus status);

    /**
     * The timestamp of the oldest pending row that is not held back behind a parked row of its aggregate (those wait
     * for an operator and show as parked), if any.
     */
    Optional<Instant> oldestPending();

    /**
     * Deletes (or, with {@code archive}, moves to the archive table) at most about {@code batchSize} SENT rows sent
     * before {@code cutoff}, the oldest positions first. Parked, discarded and pending rows are never touched.
     *
     * @return the number of rows removed from the outbox table
     */
    int purgeSent(Instant cutoff, int batchSize, boolean archive);

    /**
     * Who did what to a row, when and why.
     *
     * @param actor  the operator (user name, or a system name such as {@code actuator})
     * @param at     when
     * @param reason why (free text; may be {@code null} for retries)
     */
    record Action(String actor, Instant at, String reason) {
    }
}
