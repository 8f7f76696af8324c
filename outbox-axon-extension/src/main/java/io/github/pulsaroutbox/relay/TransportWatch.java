package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;

import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The relay's view of the broker for {@link RelayHealth}: written by the relay's threads, read by health checks.
 * Failures start an episode that the next acknowledgement ends. A producer opening with no answer yet is an attempt
 * to reach the broker too: it is listed from its start until the producer opens (so that health can turn before the
 * client's own time-out fails it).
 */
final class TransportWatch {

    private final Clock clock;

    private volatile Instant lastAcknowledged;
    private volatile Instant failingSince;
    private volatile FailureKind lastFailureKind;
    private volatile String lastFailure;
    private final Map<String, String> unavailable = new ConcurrentHashMap<>();
    private final Map<String, Instant> openingSince = new ConcurrentHashMap<>();
    private final Map<FailureKind, LongAdder> parked = new ConcurrentHashMap<>();

    TransportWatch() {
        this(Clock.systemUTC());
    }

    TransportWatch(Clock clock) {
        this.clock = clock;
    }

    /** A producer for the destination is being opened (again); the first attempt since it was last open counts. */
    void opening(String destination) {
        openingSince.putIfAbsent(destination, clock.instant());
    }

    /**
     * Only these destinations are still being opened (under way, or failed in a way retrying may fix): the others'
     * openings ended without a producer (refused, their segment closed) and no longer wait for the broker.
     */
    void stillOpening(java.util.Set<String> destinations) {
        openingSince.keySet().retainAll(destinations);
    }

    void acknowledged(Instant at) {
        lastAcknowledged = at;
        if (failingSince != null) {
            failingSince = null;
            lastFailureKind = null;
            lastFailure = null;
        }
    }

    void failed(FailureKind kind, String error, Instant at) {
        if (failingSince == null) {
            failingSince = at;
        }
        lastFailureKind = kind;
        lastFailure = error;
    }

    void unavailable(String destination, String reason) {
        unavailable.put(destination, reason);
    }

    void available(String destination) {
        unavailable.remove(destination);
        openingSince.remove(destination);
    }

    void parked(FailureKind kind) {
        parked.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    RelayHealth snapshot() {
        Map<FailureKind, Long> parkedByKind = new EnumMap<>(FailureKind.class);
        parked.forEach((kind, count) -> parkedByKind.put(kind, count.sum()));
        return new RelayHealth(lastAcknowledged, failingSince, lastFailureKind, lastFailure,
                               Map.copyOf(new TreeMap<>(unavailable)), Map.copyOf(parkedByKind),
                               Map.copyOf(new TreeMap<>(openingSince)));
    }
}
