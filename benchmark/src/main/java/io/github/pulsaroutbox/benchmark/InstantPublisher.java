package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.relay.OutboxPublisher;

import java.util.concurrent.CompletableFuture;

/**
 * A publisher without a broker: every send is acknowledged at once, and every segment session starts with nothing
 * stored. Draining through it measures what the relay's own work allows (its reads and writes of the outbox, its
 * threads), that is the ceiling of the relay with any broker on the same machine.
 */
final class InstantPublisher implements OutboxPublisher {

    @Override
    public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public boolean supportsSequenceIds() {
        return true;
    }

    @Override
    public CompletableFuture<Session> openSession(String destination, int segment) {
        return CompletableFuture.completedFuture(Session.NOTHING_STORED);
    }
}
