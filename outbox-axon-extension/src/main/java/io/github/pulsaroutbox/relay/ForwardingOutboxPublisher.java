package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * An {@link OutboxPublisher} that forwards every call to another one: extend it to observe or change some calls (count
 * acknowledgements, add faults in a test) and inherit the rest. {@link #forStream(String)} wraps the delegate's stream
 * publisher with {@link #wrap(OutboxPublisher)}, so that a wrapper also sees the sends of a tailing processor's
 * stream.
 */
public abstract class ForwardingOutboxPublisher implements OutboxPublisher {

    private final OutboxPublisher delegate;

    protected ForwardingOutboxPublisher(OutboxPublisher delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The publisher calls are forwarded to. */
    protected OutboxPublisher delegate() {
        return delegate;
    }

    /** This wrapper around another publisher (the delegate's stream publisher, see {@link #forStream(String)}). */
    protected abstract OutboxPublisher wrap(OutboxPublisher publisher);

    @Override
    public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
        return delegate.publish(entry, destination);
    }

    @Override
    public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
        return delegate.publish(entry, destination, segment, sequenceId);
    }

    @Override
    public CompletableFuture<Void> prepare(String destination) {
        return delegate.prepare(destination);
    }

    @Override
    public boolean supportsSequenceIds() {
        return delegate.supportsSequenceIds();
    }

    @Override
    public CompletableFuture<Session> openSession(String destination, int segment) {
        return delegate.openSession(destination, segment);
    }

    @Override
    public OutboxPublisher forStream(String stream) {
        OutboxPublisher streamPublisher = delegate.forStream(stream);
        return streamPublisher == delegate ? this : wrap(streamPublisher);
    }

    @Override
    public void closeSegment(int segment) {
        delegate.closeSegment(segment);
    }

    @Override
    public boolean neverSent(Throwable failure) {
        return delegate.neverSent(failure);
    }

    @Override
    public FailureKind classify(Throwable failure) {
        return delegate.classify(failure);
    }

    @Override
    public boolean failsLaterSendsAfterAFailure() {
        return delegate.failsLaterSendsAfterAFailure();
    }

    @Override
    public Optional<Duration> sendTimeout() {
        return delegate.sendTimeout();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
