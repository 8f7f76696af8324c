package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.AxonConfigurationException;

import java.time.Duration;

/**
 * The checks of an {@link OutboxRelay.Builder}'s settings against each other (each setting alone is checked by its
 * setter): they guarantee that a relay is never built with segment claims that split the outbox differently from its
 * store, nor with an ack timeout that gives up on sends the transport is still retrying, nor with more sends in
 * flight than a producer queues without blocking the relay thread.
 */
final class RelayChecks {

    private RelayChecks() {
    }

    /**
     * @param claims     the segment claims, {@code null} without
     * @param ackTimeout the relay's ack timeout
     * @param maxInFlight the relay's sends awaiting acknowledgement at most
     * @throws AxonConfigurationException when the settings do not fit together
     */
    static void consistent(OutboxStore store, OutboxPublisher publisher, SegmentClaims claims, Duration ackTimeout,
                           int maxInFlight) {
        if (claims != null && claims.segmentCount() != store.segmentCount()) {
            throw new AxonConfigurationException("The segment claims count " + claims.segmentCount()
                                                         + " segments but the outbox store " + store.segmentCount()
                                                         + ": both must use the same pulsar-outbox.segments");
        }
        int maxPending = publisher.maxPendingSends(); // 0 or less: no such limit (as Pulsar's 0)
        if (maxPending > 0 && maxInFlight > maxPending) {
            throw new AxonConfigurationException(
                    "The relay's maxInFlight (" + maxInFlight + ") must not exceed the publisher's maxPendingMessages ("
                            + maxPending + "): sends past a full producer queue are refused (retried later) "
                            + "instead of reaching the broker. Lower maxInFlight or raise maxPendingMessages");
        }
        publisher.sendTimeout().ifPresent(sendTimeout -> {
            if (ackTimeout.compareTo(sendTimeout) <= 0) {
                throw new AxonConfigurationException(
                        "The relay's ackTimeout (" + ackTimeout + ") must be longer than the publisher's send "
                                + "timeout (" + sendTimeout + "): otherwise the relay gives up on sends the "
                                + "transport is still retrying, and sends them again");
            }
        });
    }
}
