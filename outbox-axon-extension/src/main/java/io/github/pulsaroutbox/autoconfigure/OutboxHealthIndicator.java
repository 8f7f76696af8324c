package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.metrics.OutboxStatistics;
import io.github.pulsaroutbox.relay.OutboxRelay;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

import java.time.Duration;

/**
 * Health of the outbox: DOWN when this node should run the relay and it is not running; OUT_OF_SERVICE when the
 * oldest pending row has waited longer than {@code pulsar-outbox.health.max-pending-age}; UP otherwise. Details:
 * pending and parked rows, the oldest pending row's age, whether the relay runs.
 */
class OutboxHealthIndicator extends AbstractHealthIndicator {

    private final OutboxStatistics statistics;
    private final OutboxRelay relay;
    private final boolean relayEnabled;
    private final Duration maxPendingAge;

    OutboxHealthIndicator(OutboxStatistics statistics, OutboxRelay relay, boolean relayEnabled,
                          Duration maxPendingAge) {
        super("Outbox health check failed");
        this.statistics = statistics;
        this.relay = relay;
        this.relayEnabled = relayEnabled;
        this.maxPendingAge = maxPendingAge;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        OutboxStatistics.Snapshot snapshot = statistics.current();
        Duration age = snapshot.oldestPendingAge();
        if (relayEnabled && !relay.isRunning()) {
            builder.down().withDetail("reason", "the relay is not running");
        } else if (age.compareTo(maxPendingAge) > 0) {
            builder.outOfService().withDetail("reason", "the oldest pending row waits longer than " + maxPendingAge);
        } else {
            builder.up();
        }
        builder.withDetail("pending", snapshot.pending())
               .withDetail("parked", snapshot.parked())
               .withDetail("oldestPendingAge", age.toString())
               .withDetail("maxPendingAge", maxPendingAge.toString())
               .withDetail("relayEnabled", relayEnabled)
               .withDetail("relayRunning", relay.isRunning());
    }
}
