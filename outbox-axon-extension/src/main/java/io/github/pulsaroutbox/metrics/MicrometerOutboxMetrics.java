package io.github.pulsaroutbox.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * {@link OutboxMetrics} on Micrometer. Meters (all prefixed {@code pulsar-outbox}):
 * <ul>
 *     <li>{@code pulsar.outbox.rows} (gauge, tag {@code status} = pending | parked): the backlog;</li>
 *     <li>{@code pulsar.outbox.oldest.pending.age} (gauge, seconds): how long the oldest pending row has waited;</li>
 *     <li>{@code pulsar.outbox.published} (counter, tag {@code aggregate.type}): rows acknowledged by the broker;
 *     its rate is the publish rate;</li>
 *     <li>{@code pulsar.outbox.publish.latency} (timer with histogram, tag {@code aggregate.type}): event timestamp
 *     (in the committing unit of work) to broker acknowledgement;</li>
 *     <li>{@code pulsar.outbox.failures} (counter, tags {@code kind}, {@code outcome}): failed attempts;</li>
 *     <li>{@code pulsar.outbox.retries} (counter): failed attempts scheduled for a retry;</li>
 *     <li>{@code pulsar.outbox.parked} (counter, tag {@code kind}): rows parked;</li>
 *     <li>{@code pulsar.outbox.retention.rows} (counter, tag {@code action} = deleted | archived);</li>
 *     <li>{@code pulsar.outbox.operator.actions} (counter, tag {@code action}): rows changed by operators;</li>
 *     <li>{@code pulsar.outbox.not.recorded} (counter): rows the broker acknowledged that the store did not record
 *     SENT (not sent again, parked as {@code NOT_RECORDED}).</li>
 * </ul>
 */
public final class MicrometerOutboxMetrics implements OutboxMetrics {

    private final MeterRegistry registry;

    /**
     * @param registry   where meters are registered
     * @param statistics the backlog behind the gauges (read at most once per its refresh interval)
     */
    public MicrometerOutboxMetrics(MeterRegistry registry, OutboxStatistics statistics) {
        this.registry = Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(statistics, "statistics");
        Gauge.builder("pulsar.outbox.rows", statistics, s -> s.current().pending())
             .tag("status", "pending").description("Outbox rows waiting to be published").register(registry);
        Gauge.builder("pulsar.outbox.rows", statistics, s -> s.current().parked())
             .tag("status", "parked").description("Outbox rows parked for investigation").register(registry);
        Gauge.builder("pulsar.outbox.oldest.pending.age", statistics,
                      s -> s.current().oldestPendingAge().toMillis() / 1000.0)
             .baseUnit("seconds").description("Age of the oldest pending outbox row").register(registry);
    }

    @Override
    public void published(OutboxEntry entry, Instant acknowledgedAt) {
        Counter.builder("pulsar.outbox.published").tag("aggregate.type", entry.aggregateType())
               .description("Outbox rows acknowledged by the broker").register(registry).increment();
        Duration latency = Duration.between(entry.timestamp(), acknowledgedAt);
        Timer.builder("pulsar.outbox.publish.latency").tag("aggregate.type", entry.aggregateType())
             .description("Event timestamp to broker acknowledgement").publishPercentileHistogram()
             .register(registry).record(Math.max(0, latency.toNanos()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void notRecorded(int rows) {
        Counter.builder("pulsar.outbox.not.recorded")
               .description("Rows acknowledged by the broker that the store did not record SENT (not sent again)")
               .register(registry).increment(rows);
    }

    @Override
    public void failed(FailureKind kind, Outcome outcome) {
        Counter.builder("pulsar.outbox.failures").tag("kind", tag(kind.name())).tag("outcome", tag(outcome.name()))
               .description("Failed publish attempts").register(registry).increment();
        if (outcome == Outcome.RETRY) {
            Counter.builder("pulsar.outbox.retries").description("Failed attempts scheduled for a retry")
                   .register(registry).increment();
        } else if (outcome == Outcome.PARK) {
            Counter.builder("pulsar.outbox.parked").tag("kind", tag(kind.name()))
                   .description("Outbox rows parked").register(registry).increment();
        }
    }

    @Override
    public void purged(int rows, boolean archived) {
        Counter.builder("pulsar.outbox.retention.rows").tag("action", archived ? "archived" : "deleted")
               .description("Sent rows removed by retention").register(registry).increment(rows);
    }

    @Override
    public void operatorAction(String action, int rows) {
        Counter.builder("pulsar.outbox.operator.actions").tag("action", action)
               .description("Rows changed by operator actions").register(registry).increment(rows);
    }

    private static String tag(String name) {
        return name.toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
