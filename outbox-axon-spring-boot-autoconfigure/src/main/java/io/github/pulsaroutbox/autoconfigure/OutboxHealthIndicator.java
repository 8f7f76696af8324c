package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.metrics.OutboxStatistics;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.relay.RelayHealth;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Health of the outbox: {@link #DEGRADED} with the reasons when this node should run the relay and it is not running,
 * when sends have failed without any acknowledgement for longer than {@code max-failing-for} (a broker outage, with
 * the last error), when topics' producers cannot be opened or their opening has had no answer for longer than
 * {@code max-failing-for} (an unreachable broker, before the client's own time-out), when the oldest pending row waits longer than
 * {@code max-pending-age}, or when {@code max-parked} rows or more are parked; {@code UP} otherwise.
 * <p>
 * {@code DEGRADED} is not in the default status order, so the application's overall health (and its liveness and
 * readiness) ignores it: the outbox keeps capturing while the relay cannot publish, and taking the application out of
 * service would not help. The {@code outbox} health group ({@link OutboxHealthGroupDefaults}) orders it first and maps
 * it to HTTP 503, for monitoring and alerts.
 */
class OutboxHealthIndicator extends AbstractHealthIndicator {

    /** The outbox needs attention; the application itself is fine. */
    static final Status DEGRADED = new Status("DEGRADED", "the outbox needs attention; capture goes on");

    private final OutboxStatistics statistics;
    private final OutboxRelay relay;
    private final boolean relayEnabled;
    private final OutboxProperties.Health limits;
    private final Clock clock;

    OutboxHealthIndicator(OutboxStatistics statistics, OutboxRelay relay, boolean relayEnabled,
                          OutboxProperties.Health limits, Clock clock) {
        super("Outbox health check failed");
        this.statistics = statistics;
        this.relay = relay;
        this.relayEnabled = relayEnabled;
        this.limits = limits;
        this.clock = clock;
    }

    /**
     * The {@code broker} details of a health (no {@code null} values): {@code lastAcknowledged}; while failing
     * {@code failingSince}, {@code lastFailureKind}, {@code lastFailure}; what waits for the broker since when, under
     * {@code waitingName}.
     */
    static Map<String, Object> brokerDetails(RelayHealth transport, String waitingName) {
        Map<String, Object> broker = new LinkedHashMap<>();
        broker.put("lastAcknowledged", transport.lastAcknowledged() == null ? "never since the start"
                                                                            : transport.lastAcknowledged().toString());
        if (transport.failingSince() != null) {
            broker.put("failingSince", transport.failingSince().toString());
            if (transport.lastFailureKind() != null) {
                broker.put("lastFailureKind", transport.lastFailureKind().name());
            }
            if (transport.lastFailure() != null) {
                broker.put("lastFailure", transport.lastFailure());
            }
        }
        if (!transport.openingSince().isEmpty()) {
            Map<String, String> waiting = new LinkedHashMap<>();
            transport.openingSince().forEach((what, since) -> waiting.put(what, since.toString()));
            broker.put(waitingName, waiting);
        }
        return broker;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        OutboxStatistics.Snapshot snapshot = statistics.current();
        RelayHealth transport = relay.health();
        Instant now = clock.instant();
        Duration age = snapshot.oldestPendingAge();
        Duration failingFor = transport.failingFor(now);
        List<String> reasons = new ArrayList<>();
        if (relayEnabled && !relay.isRunning()) {
            reasons.add("the relay is not running (see the logs of its thread)");
        }
        if (relayEnabled && failingFor.compareTo(limits.maxFailingFor()) > 0) {
            reasons.add("no row acknowledged for " + failingFor.withNanos(0) + " while sends fail ("
                                + transport.lastFailureKind() + ": " + transport.lastFailure() + ")");
        }
        Duration openingFor = transport.openingFor(now);
        if (relayEnabled && !transport.unavailableDestinations().isEmpty()) {
            reasons.add("producers cannot be opened for " + transport.unavailableDestinations().keySet());
        } else if (relayEnabled && openingFor.compareTo(limits.maxFailingFor()) > 0) {
            reasons.add("no producer opened for " + openingFor.withNanos(0) + " (the broker does not answer) for "
                                + transport.openingSince().keySet());
        }
        if (age.compareTo(limits.maxPendingAge()) > 0) {
            reasons.add("the oldest pending row waits longer than " + limits.maxPendingAge() + " (" + age.withNanos(0)
                                + ")");
        }
        if (snapshot.parked() >= limits.maxParked()) {
            reasons.add(snapshot.parked() + " row(s) parked (at least " + limits.maxParked() + "); parked by this "
                                + "node since its start, by kind: " + transport.parkedSinceStart());
        }
        builder.status(reasons.isEmpty() ? Status.UP : DEGRADED);
        if (!reasons.isEmpty()) {
            builder.withDetail("reasons", reasons);
        }
        Map<String, Object> broker = brokerDetails(transport, "openingProducersSince");
        if (!transport.unavailableDestinations().isEmpty()) {
            broker.put("unavailableTopics", transport.unavailableDestinations());
        }
        builder.withDetail("pending", snapshot.pending())
               .withDetail("parked", snapshot.parked())
               .withDetail("oldestPendingAge", age.toString())
               .withDetail("backlogReadAt", snapshot.takenAt().toString())
               .withDetail("maxPendingAge", limits.maxPendingAge().toString())
               .withDetail("relayEnabled", relayEnabled)
               .withDetail("relayRunning", relay.isRunning())
               .withDetail("broker", broker);
    }
}
