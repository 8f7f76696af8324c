package org.axonframework.extensions.outbox.relay;

import org.axonframework.extensions.outbox.OutboxEntry;
import org.axonframework.extensions.outbox.OutboxStatus;
import org.axonframework.extensions.outbox.store.OutboxStore;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A fake store for unit tests of the relay: rows in insertion order, status transitions as the JDBC store. */
final class InMemoryOutboxStore implements OutboxStore {

    private final Map<String, OutboxEntry> rows = new LinkedHashMap<>();
    private long position;

    @Override
    public synchronized void append(List<OutboxEntry> entries) {
        for (OutboxEntry e : entries) {
            rows.put(e.id(), new OutboxEntry(e.id(), ++position, e.timestamp(), e.eventType(), e.aggregateType(),
                                             e.aggregateId(), e.aggregateSequence(), e.payload(), e.metadata(),
                                             e.version(), OutboxStatus.PENDING, 0, null));
        }
    }

    @Override
    public synchronized List<OutboxEntry> fetchPending(int limit) {
        return rows.values().stream().filter(e -> e.status() == OutboxStatus.PENDING).limit(limit).toList();
    }

    @Override
    public synchronized void markSent(Collection<String> ids, Instant sentAt) {
        ids.forEach(id -> rows.computeIfPresent(id, (k, e) -> e.status() != OutboxStatus.PENDING ? e : with(
                e, OutboxStatus.SENT, e.attempts(), e.lastError())));
    }

    @Override
    public synchronized void recordFailedAttempts(Collection<FailedAttempt> failures) {
        failures.forEach(f -> rows.computeIfPresent(f.id(), (k, e) -> with(e, e.status(), e.attempts() + 1,
                                                                             f.error())));
    }

    @Override
    public synchronized Optional<OutboxEntry> find(String id) {
        return Optional.ofNullable(rows.get(id));
    }

    @Override
    public synchronized long count(OutboxStatus status) {
        return rows.values().stream().filter(e -> e.status() == status).count();
    }

    synchronized List<OutboxEntry> all() {
        return new ArrayList<>(rows.values());
    }

    private static OutboxEntry with(OutboxEntry e, OutboxStatus status, int attempts, String error) {
        return new OutboxEntry(e.id(), e.position(), e.timestamp(), e.eventType(), e.aggregateType(),
                               e.aggregateId(), e.aggregateSequence(), e.payload(), e.metadata(), e.version(), status,
                               attempts, error);
    }
}
