package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.OutboxStore;

import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A fake store for unit tests of the relay: rows in insertion order, the same status transitions and the same
 * "blocked behind an earlier row of the aggregate" rule as the JDBC store.
 */
class InMemoryOutboxStore implements OutboxStore {

    private final Map<String, OutboxEntry> rows = new LinkedHashMap<>();
    private final Map<String, Instant> nextAttemptAt = new HashMap<>();
    private long position;

    @Override
    public synchronized void append(List<OutboxEntry> entries) {
        for (OutboxEntry e : entries) {
            rows.put(e.id(), new OutboxEntry(e.id(), ++position, e.timestamp(), e.eventType(), e.aggregateType(),
                                             e.aggregateId(), e.aggregateSequence(), e.payload(), e.metadata(),
                                             e.version(), e.traceParent(), e.status(), 0, e.failureKind(),
                                             e.lastError(), OutboxEntry.NO_SEQUENCE, e.topic(), e.segment()));
        }
    }

    /**
     * Inserts one entry at a given position, as a database does for a row whose transaction commits after rows with
     * higher positions were already visible.
     */
    synchronized void appendAt(long position, OutboxEntry e) {
        rows.put(e.id(), new OutboxEntry(e.id(), position, e.timestamp(), e.eventType(), e.aggregateType(),
                                         e.aggregateId(), e.aggregateSequence(), e.payload(), e.metadata(),
                                         e.version(), e.traceParent(), e.status(), 0, e.failureKind(),
                                         e.lastError(), OutboxEntry.NO_SEQUENCE, e.topic(), e.segment()));
        this.position = Math.max(this.position, position);
    }

    @Override
    public synchronized List<OutboxEntry> fetchPending(int limit, Instant now) {
        return rows.values().stream()
                   .filter(e -> e.status() == OutboxStatus.PENDING && !inBackoff(e, now) && !blocked(e, now))
                   .sorted(Comparator.comparingLong(OutboxEntry::position))
                   .limit(limit).toList();
    }

    @Override
    public synchronized List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments,
                                                       long abovePosition) {
        if (abovePosition == Long.MIN_VALUE) {
            return fetchPending(limit, now, segments); // a complete scan, as subclasses of this fake may change it
        }
        return rows.values().stream()
                   .filter(e -> e.status() == OutboxStatus.PENDING && e.position() > abovePosition
                           && !inBackoff(e, now) && !blocked(e, now)
                           && rows.values().stream().noneMatch(b -> b.status() == OutboxStatus.PENDING
                                   && b.aggregateKey().equals(e.aggregateKey())
                                   && b.aggregateSequence() < e.aggregateSequence()
                                   && b.position() <= abovePosition))
                   .sorted(Comparator.comparingLong(OutboxEntry::position))
                   .limit(limit).toList();
    }

    @Override
    public synchronized List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now) {
        return rows.values().stream()
                   .filter(e -> e.status() == OutboxStatus.PENDING && e.position() > afterPosition
                           && !inBackoff(e, now))
                   .sorted(Comparator.comparingLong(OutboxEntry::position))
                   .limit(limit).toList();
    }

    private boolean inBackoff(OutboxEntry e, Instant now) {
        Instant next = nextAttemptAt.get(e.id());
        return next != null && next.isAfter(now);
    }

    private boolean blocked(OutboxEntry e, Instant now) {
        return rows.values().stream().anyMatch(b -> b.aggregateKey().equals(e.aggregateKey())
                && b.aggregateSequence() < e.aggregateSequence()
                && (b.status() == OutboxStatus.FAILED || (b.status() == OutboxStatus.PENDING && inBackoff(b, now))));
    }

    @Override
    public synchronized Set<String> markSent(Collection<String> ids, Instant sentAt) {
        Set<String> notRecorded = new LinkedHashSet<>();
        for (String id : ids) {
            OutboxEntry e = rows.get(id);
            if (e == null || e.status() != OutboxStatus.PENDING) {
                notRecorded.add(id);
            } else {
                rows.put(id, with(e, OutboxStatus.SENT, e.attempts(), e));
            }
        }
        return notRecorded;
    }

    @Override
    public synchronized void recordFailures(Collection<Failure> failures) {
        for (Failure f : failures) {
            OutboxEntry e = rows.get(f.id());
            if (e == null || e.status() != OutboxStatus.PENDING) {
                continue;
            }
            OutboxStatus status = switch (f.outcome()) {
                case RETRY -> OutboxStatus.PENDING;
                case PARK -> OutboxStatus.FAILED;
                case DISCARD -> OutboxStatus.DISCARDED;
            };
            if (f.outcome() == Outcome.RETRY) {
                nextAttemptAt.put(f.id(), f.nextAttemptAt());
            }
            rows.put(f.id(), with(e, status, e.attempts() + 1, e.parked(f.kind(), f.error())));
        }
    }

    @Override
    public synchronized Optional<Instant> nextRetryAt(Set<Integer> segments) {
        return rows.values().stream().filter(e -> e.status() == OutboxStatus.PENDING)
                   .map(e -> nextAttemptAt.get(e.id())).filter(java.util.Objects::nonNull).min(Comparator.naturalOrder());
    }

    synchronized Optional<OutboxEntry> find(String id) {
        return Optional.ofNullable(rows.get(id));
    }

    synchronized long count(OutboxStatus status) {
        return rows.values().stream().filter(e -> e.status() == status).count();
    }

    /** An operator's retry of a parked row. */
    synchronized void unpark(String id) {
        OutboxEntry e = rows.get(id);
        rows.put(id, new OutboxEntry(e.id(), e.position(), e.timestamp(), e.eventType(), e.aggregateType(),
                                     e.aggregateId(), e.aggregateSequence(), e.payload(), e.metadata(), e.version(),
                                     e.traceParent(), OutboxStatus.PENDING, 0, null, null, OutboxEntry.NO_SEQUENCE,
                                     e.topic(), e.segment()));
    }

    /** Makes a backing-off row due now, as an earlier retry time would. */
    synchronized void dueNow(String id) {
        nextAttemptAt.put(id, Instant.now());
    }

    synchronized Instant nextAttemptAt(String id) {
        return nextAttemptAt.get(id);
    }

    private static OutboxEntry with(OutboxEntry e, OutboxStatus status, int attempts, OutboxEntry failure) {
        return new OutboxEntry(e.id(), e.position(), e.timestamp(), e.eventType(), e.aggregateType(),
                               e.aggregateId(), e.aggregateSequence(), e.payload(), e.metadata(), e.version(),
                               e.traceParent(), status, attempts, failure.failureKind(), failure.lastError(),
                               e.brokerSequence(), e.topic(), e.segment());
    }
}
