package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.PulsarSubscribableMessageSource;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Health of the receiving side ({@code /actuator/health/pulsarOutboxReceiving}): {@code DEGRADED} with the reasons when
 * a subscribable source that a processor subscribed to has no connected consumer (the broker is unreachable: nothing is
 * received meanwhile); {@code UP} otherwise. Details per subscribable source: its subscription, whether it consumes,
 * whether it is connected, events handled and messages skipped; per inbox processor the duplicates skipped; per
 * receiving group with a dead-letter queue the aggregates parked in it (parked events are the handlers' to fix: they
 * leave the status as it is). Streamable sources hold no connection between streams: their progress is their
 * processor's (Axon's processor status).
 */
class ReceivingHealthIndicator extends AbstractHealthIndicator {

    /** The same status code as the outbox's: one mapping to HTTP serves both. */
    static final Status DEGRADED = new Status("DEGRADED", "the receiving side needs attention");

    private final Map<String, PulsarSubscribableMessageSource> sources;
    private final InboxInterceptors interceptors;
    private final ReceivingDeadLetters deadLetters;

    ReceivingHealthIndicator(Map<String, PulsarSubscribableMessageSource> sources, InboxInterceptors interceptors,
                             ReceivingDeadLetters deadLetters) {
        super("Receiving health check failed");
        this.sources = sources;
        this.interceptors = interceptors;
        this.deadLetters = deadLetters;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        List<String> reasons = new ArrayList<>();
        Map<String, Object> details = new LinkedHashMap<>();
        sources.forEach((name, source) -> {
            boolean connected = source.connected();
            if (source.consuming() && !connected) {
                reasons.add("the consumer of source '" + name + "' (subscription " + source.subscription()
                                    + ") is not connected to the broker");
            }
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("subscription", source.subscription());
            detail.put("consuming", source.consuming());
            detail.put("connected", connected);
            detail.put("handled", source.handled());
            detail.put("skipped", source.skipped());
            details.put(name, detail);
        });
        builder.status(reasons.isEmpty() ? Status.UP : DEGRADED);
        if (!reasons.isEmpty()) {
            builder.withDetail("reasons", reasons);
        }
        builder.withDetail("sources", details);
        if (interceptors != null) {
            Map<String, Long> duplicates = new LinkedHashMap<>();
            interceptors.byProcessor().forEach((processor, interceptor) -> duplicates.put(processor,
                                                                                         interceptor.duplicates()));
            builder.withDetail("inboxDuplicates", duplicates);
        }
        Map<String, Long> parked = new LinkedHashMap<>();
        for (String group : deadLetters.groups()) {
            deadLetters.of(group).ifPresent(letters -> parked.put(group, letters.sequences()));
        }
        if (!parked.isEmpty()) {
            builder.withDetail("deadLetteredSequences", parked);
        }
    }
}
