package io.github.pulsaroutbox.retention;

import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.OutboxMaintenance;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** An {@link OutboxMaintenance} that forwards every call, for tests that observe some of them. */
class DelegatingMaintenance implements OutboxMaintenance {

    private final OutboxMaintenance delegate;

    DelegatingMaintenance(OutboxMaintenance delegate) {
        this.delegate = delegate;
    }

    @Override
    public Optional<OutboxRow> find(String id) {
        return delegate.find(id);
    }

    @Override
    public List<OutboxRow> findParked(String aggregateType, String aggregateId, int offset, int limit) {
        return delegate.findParked(aggregateType, aggregateId, offset, limit);
    }

    @Override
    public long countParked(String aggregateType, String aggregateId) {
        return delegate.countParked(aggregateType, aggregateId);
    }

    @Override
    public long countPending(String aggregateType, String aggregateId) {
        return delegate.countPending(aggregateType, aggregateId);
    }

    @Override
    public int retryParked(String id, Action action) {
        return delegate.retryParked(id, action);
    }

    @Override
    public int retryParkedOfAggregate(String aggregateType, String aggregateId, Action action) {
        return delegate.retryParkedOfAggregate(aggregateType, aggregateId, action);
    }

    @Override
    public int retryAllParked(Action action) {
        return delegate.retryAllParked(action);
    }

    @Override
    public int discardParked(String id, Action action) {
        return delegate.discardParked(id, action);
    }

    @Override
    public long count(OutboxStatus status) {
        return delegate.count(status);
    }

    @Override
    public Optional<Instant> oldestPending() {
        return delegate.oldestPending();
    }

    @Override
    public int purgeSent(Instant cutoff, int batchSize, boolean archive) {
        return delegate.purgeSent(cutoff, batchSize, archive);
    }
}
