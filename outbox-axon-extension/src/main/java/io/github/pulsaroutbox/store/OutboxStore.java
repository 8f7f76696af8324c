package io.github.pulsaroutbox.store;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import io.github.pulsaroutbox.OutboxSegments;

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
     * How many segments the rows are split into ({@link OutboxSegments}); the segment is stored on each row at
     * {@link #append(List)}. Default: {@link OutboxSegments#DEFAULT_COUNT}.
     */
    default int segmentCount() {
        return OutboxSegments.DEFAULT_COUNT;
    }

    /**
     * As {@link #fetchPending(int, Instant)}, only rows in the given segments (those a relay node owns). The default
     * filters {@link #fetchPending(int, Instant)}; stores should select by the stored segment instead.
     */
    default List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments) {
        return inSegments(fetchPending(limit, now), segments);
    }

    /**
     * As {@link #fetchPending(int, Instant, Set)}, only rows above {@code abovePosition}: the relay skips a prefix of
     * rows its last complete scan found all held back. A row is returned only if no pending row of its aggregate with
     * a lower sequence lies at or below {@code abovePosition} (that row would have to go first; the aggregate waits
     * for the next complete scan). The default scans from the lowest position (always correct, only slower).
     */
    default List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments, long abovePosition) {
        return fetchPending(limit, now, segments);
    }

    /** As {@link #fetchPendingAfter(long, int, Instant)}, only rows in the given segments. */
    default List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now, Set<Integer> segments) {
        return inSegments(fetchPendingAfter(afterPosition, limit, now), segments);
    }

    /**
     * When the earliest retry of a pending row in the given segments is due (rows backing off after a failed send),
     * empty when no row waits for one. A relay whose full scans find every due row held back sleeps until then. The
     * default knows none (the relay then scans at its longest held-back interval).
     */
    default Optional<Instant> nextRetryAt(Set<Integer> segments) {
        return Optional.empty();
    }

    private List<OutboxEntry> inSegments(List<OutboxEntry> entries, Set<Integer> segments) {
        int count = segmentCount();
        return segments.size() >= count ? entries : entries.stream()
                .filter(entry -> segments.contains(OutboxSegments.of(entry.aggregateId(), count))).toList();
    }

    /**
     * Persists broker sequence ids assigned to pending rows (before they are sent), in the caller's transaction.
     * Returns the ids of rows it did not update (no longer pending): they must not be sent.
     */
    default Set<String> assignSequences(Map<String, Long> sequences) {
        return assignSequences(sequences, Map.of());
    }

    /**
     * As {@link #assignSequences(Map)}, also storing the partition each row is sent to ({@code partitions}, by row id;
     * rows without an entry get none): a resolution compares a row's id with what the broker stored in that partition.
     */
    default Set<String> assignSequences(Map<String, Long> sequences, Map<String, Integer> partitions) {
        throw new UnsupportedOperationException("This outbox store does not persist broker sequence ids");
    }

    /**
     * The rows of a segment that carry a broker sequence id, pending or parked (sent, or about to be sent, by an
     * earlier owner of the segment or an attempt whose outcome is unknown), in sequence id order, whether due or not.
     * A parked row carries an id only if it was parked for a failure that {@link
     * io.github.pulsaroutbox.FailureKind#mayHaveBeenStored() may have reached the broker} (its kind is recorded with
     * it; {@link #recordFailures} clears the id of every other parked row), so a store may read the parked rows of
     * those kinds only.
     */
    default List<OutboxEntry> fetchSequenced(int segment) {
        throw new UnsupportedOperationException("This outbox store does not persist broker sequence ids");
    }

    /**
     * As {@link #fetchSequenced(int)}, each row with the partition it was sent to ({@link Sequenced#NO_PARTITION}
     * when none was stored: rows given their id by a version before schema 5). The default knows no partitions.
     */
    default List<Sequenced> fetchSequencedWithPartitions(int segment) {
        return fetchSequenced(segment).stream().map(entry -> new Sequenced(entry, Sequenced.NO_PARTITION)).toList();
    }

    /**
     * As {@link #fetchSequencedWithPartitions(int)} for several segments at once (a start or a takeover resolves
     * many): per segment, its rows in sequence id order; a segment without such rows maps to an empty list. A store
     * on a database reads them in one statement (one pass over the pending rows instead of one per segment); the
     * default reads segment by segment.
     */
    default Map<Integer, List<Sequenced>> fetchSequencedWithPartitions(Set<Integer> segments) {
        Map<Integer, List<Sequenced>> rows = new TreeMap<>();
        for (Integer segment : segments) {
            rows.put(segment, fetchSequencedWithPartitions(segment.intValue()));
        }
        return rows;
    }

    /**
     * A row carrying a broker sequence id, and the partition of its topic it was sent to.
     *
     * @param entry     the row
     * @param partition the partition ({@code 0} for a topic without partitions), or {@link #NO_PARTITION}
     */
    record Sequenced(OutboxEntry entry, int partition) {
        /** The partition of a row whose partition was not stored. */
        public static final int NO_PARTITION = -1;
    }

    /**
     * Records rows the broker has stored (pending or parked, found by the relay's resolution) SENT, each only if it
     * still carries the given sequence id.
     */
    default void markStored(Map<String, Long> sequences, Instant sentAt) {
        throw new UnsupportedOperationException("This outbox store does not persist broker sequence ids");
    }

    /** Removes the broker sequence id of the given rows (the broker does not have them), each only if unchanged. */
    default void clearSequences(Map<String, Long> sequences) {
        throw new UnsupportedOperationException("This outbox store does not persist broker sequence ids");
    }

    /**
     * Bounds, for the rest of the caller's transaction, how long its statements wait for a row lock and how long the
     * session may sit idle inside it; see {@link OutboxNodes#limitWaits}. The relay calls it first in each
     * transaction that writes rows when several nodes share the outbox, and {@link #restoreWaits} last. By default it
     * does nothing.
     */
    default void limitWaits(java.time.Duration lockWait, java.time.Duration idle) {
    }

    /**
     * Gives the connection of the caller's transaction back what {@link #limitWaits} changed, where those settings
     * outlive the transaction; see {@link OutboxNodes#restoreWaits}. By default it does nothing.
     */
    default void restoreWaits() {
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

    /**
     * Checks, when the outbox starts, that the store can be used by this version: for a database, that its tables
     * exist with every column and index the statements use. Fails with an
     * {@link io.github.pulsaroutbox.OutboxStartupException} naming how to create or update them. By default nothing
     * is checked.
     */
    default void verifySchema() {
    }
}
