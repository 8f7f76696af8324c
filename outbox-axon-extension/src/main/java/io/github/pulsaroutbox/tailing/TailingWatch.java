package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.relay.RelayHealth;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tailing publisher's view of the broker, for health checks: written by the processor's threads, read by health
 * indicators. A batch waiting for the broker (a producer session opening, acknowledgements) is listed per segment from
 * the first attempt until one succeeds, so that an unreachable broker shows before the batch's ack time-out; failures
 * start an episode that the next acknowledged batch ends.
 */
final class TailingWatch {

    private final Clock clock;
    private final Map<String, Instant> waitingSince = new ConcurrentHashMap<>();
    private volatile Instant lastAcknowledged;
    private volatile Instant failingSince;
    private volatile FailureKind lastFailureKind;
    private volatile String lastFailure;

    TailingWatch(Clock clock) {
        this.clock = clock;
    }

    /** A batch of the segment sends (or opens its session); the first attempt since the last success counts. */
    void waiting(int segment) {
        waitingSince.putIfAbsent(name(segment), clock.instant());
    }

    /** Every send of a batch of the segment was acknowledged. */
    void acknowledged(int segment) {
        waitingSince.remove(name(segment));
        lastAcknowledged = clock.instant();
        failingSince = null;
        lastFailureKind = null;
        lastFailure = null;
    }

    /** A batch of the segment failed; it is retried from the last token, still waiting since its first attempt. */
    void failed(FailureKind kind, String error) {
        if (failingSince == null) {
            failingSince = clock.instant();
        }
        lastFailureKind = kind;
        lastFailure = error;
    }

    /** The segment was released: whoever claims it next waits for it. */
    void released(int segment) {
        waitingSince.remove(name(segment));
    }

    /** A snapshot; {@link RelayHealth#openingSince()} lists the segments waiting for the broker. */
    RelayHealth snapshot() {
        return new RelayHealth(lastAcknowledged, failingSince, lastFailureKind, lastFailure, Map.of(), Map.of(),
                               Map.copyOf(new TreeMap<>(waitingSince)));
    }

    private static String name(int segment) {
        return segment < 0 ? "all segments" : "segment " + segment; // a negative one: batches without sequence ids
    }
}
