package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.relay.RelayHealth;
import io.github.pulsaroutbox.tailing.EventStoreTailingModule;
import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import org.axonframework.eventhandling.EventProcessor;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Health of the outbox in the tailing dispatch mode, under the same name and group as the table mode's
 * ({@code /actuator/health/outbox}): {@link OutboxHealthIndicator#DEGRADED} with the reasons when the tailing processor
 * is not running or is in error, when batches have failed without any acknowledgement for longer than
 * {@code max-failing-for}, when a batch has waited for the broker (a producer session, acknowledgements) longer than
 * {@code max-failing-for} (an unreachable broker shows before the batch's ack time-out), or when {@code max-parked}
 * aggregate sequences or more are dead-lettered; {@code UP} otherwise.
 */
class TailingHealthIndicator extends AbstractHealthIndicator {

    private final EventStoreTailingModule module;
    private final Supplier<Optional<EventProcessor>> processor;
    private final OutboxProperties.Health limits;
    private final Clock clock;

    TailingHealthIndicator(EventStoreTailingModule module, Supplier<Optional<EventProcessor>> processor,
                           OutboxProperties.Health limits, Clock clock) {
        super("Outbox (tailing) health check failed");
        this.module = module;
        this.processor = processor;
        this.limits = limits;
        this.clock = clock;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        Instant now = clock.instant();
        List<String> reasons = new ArrayList<>();
        Optional<EventProcessor> tailing = processor.get();
        boolean running = tailing.map(EventProcessor::isRunning).orElse(false);
        if (!running) {
            reasons.add("the tailing processor '" + module.processorName() + "' is not running");
        } else if (tailing.get().isError()) {
            reasons.add("the tailing processor '" + module.processorName() + "' is in error mode (see its logs)");
        }
        RelayHealth broker = module.health();
        Duration failingFor = broker.failingFor(now);
        if (failingFor.compareTo(limits.maxFailingFor()) > 0) {
            reasons.add("no batch acknowledged for " + failingFor.withNanos(0) + " while sends fail ("
                                + broker.lastFailureKind() + ": " + broker.lastFailure() + ")");
        }
        Duration waitingFor = broker.openingFor(now);
        if (waitingFor.compareTo(limits.maxFailingFor()) > 0) {
            reasons.add("no acknowledgement for " + waitingFor.withNanos(0) + " (the broker does not answer) for "
                                + broker.openingSince().keySet());
        }
        long deadLettered = module.deadLetters().map(ProcessingGroupDeadLetters::sequences).orElse(0L);
        if (deadLettered >= limits.maxParked()) {
            reasons.add(deadLettered + " aggregate sequence(s) dead-lettered (at least " + limits.maxParked() + ")");
        }
        builder.status(reasons.isEmpty() ? Status.UP : OutboxHealthIndicator.DEGRADED);
        if (!reasons.isEmpty()) {
            builder.withDetail("reasons", reasons);
        }
        Map<String, Object> details = OutboxHealthIndicator.brokerDetails(broker, "waitingSince");
        builder.withDetail("mode", "tailing")
               .withDetail("processor", module.processorName())
               .withDetail("processorRunning", running)
               .withDetail("deadLetteredSequences", deadLettered)
               .withDetail("broker", details);
    }
}
