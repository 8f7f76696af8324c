package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import io.github.pulsaroutbox.receiving.PulsarSubscribableMessageSource;
import io.github.pulsaroutbox.receiving.inbox.InboxInterceptor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.Map;

/**
 * The receiving side's meters: per subscribable source ({@code source} tag: its bean name)
 * {@code pulsar.outbox.receiving.handled} (events handed to the processors and acknowledged),
 * {@code pulsar.outbox.receiving.skipped} (messages that are no event of this service, acknowledged and skipped) and
 * {@code pulsar.outbox.receiving.connected} (1 while its consumer is connected); per inbox processor
 * ({@code processor} tag) {@code pulsar.outbox.inbox.duplicates} (copies the inbox skipped); per receiving
 * processing group ({@code group} tag) {@code pulsar.outbox.receiving.dead-letters} (events parked in its dead-letter
 * queue, 0 without one).
 */
final class ReceivingMetrics implements MeterBinder {

    private final Map<String, PulsarSubscribableMessageSource> sources;
    private final InboxInterceptors interceptors;
    private final ReceivingDeadLetters deadLetters;

    ReceivingMetrics(Map<String, PulsarSubscribableMessageSource> sources, InboxInterceptors interceptors,
                     ReceivingDeadLetters deadLetters) {
        this.sources = sources;
        this.interceptors = interceptors;
        this.deadLetters = deadLetters;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        sources.forEach((name, source) -> {
            FunctionCounter.builder("pulsar.outbox.receiving.handled", source,
                                    PulsarSubscribableMessageSource::handled)
                           .description("Events the source handed to its processors and acknowledged")
                           .tag("source", name).register(registry);
            FunctionCounter.builder("pulsar.outbox.receiving.skipped", source,
                                    PulsarSubscribableMessageSource::skipped)
                           .description("Messages that are no event of this service, acknowledged and skipped")
                           .tag("source", name).register(registry);
            Gauge.builder("pulsar.outbox.receiving.connected", source, s -> s.connected() ? 1 : 0)
                 .description("1 while the source's consumer is connected to the broker")
                 .tag("source", name).register(registry);
        });
        if (interceptors != null) {
            interceptors.byProcessor().forEach(
                    (processor, interceptor) -> FunctionCounter.builder("pulsar.outbox.inbox.duplicates", interceptor,
                                                                        InboxInterceptor::duplicates)
                                                               .description("Copies of handled events the inbox "
                                                                                    + "skipped")
                                                               .tag("processor", processor).register(registry));
        }
        for (String group : deadLetters.groups()) {
            Gauge.builder("pulsar.outbox.receiving.dead-letters", deadLetters,
                          d -> d.of(group).map(ProcessingGroupDeadLetters::size).orElse(0L))
                 .description("Events parked in the processing group's dead-letter queue")
                 .tag("group", group).register(registry);
        }
    }
}
