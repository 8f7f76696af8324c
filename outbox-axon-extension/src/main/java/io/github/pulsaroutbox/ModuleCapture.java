package io.github.pulsaroutbox;

import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.capture.OutboxCaptureInterceptor;
import io.github.pulsaroutbox.capture.TraceParentProvider;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.relay.TopicResolver;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.Registration;
import org.axonframework.config.AggregateConfiguration;
import org.axonframework.config.Configuration;
import org.axonframework.serialization.Serializer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The capture side of an {@link OutboxConfigurerModule}: which aggregate types are captured and the topic each was
 * resolved to at start (stored on its rows), and the capture interceptor's registration on the event store (made once,
 * never removed: a unit of work still running at shutdown must not commit events without their outbox rows).
 */
final class ModuleCapture {

    /** The captured aggregates and their topics, resolved and checked, not yet in use. */
    record Resolved(CapturedAggregates aggregates, Map<String, String> topics) {
    }

    private final List<Class<?>> explicitAggregates;
    private final TopicResolver topicResolver;
    private volatile CapturedAggregates captured = CapturedAggregates.none();
    /** Per captured aggregate type, its topic as resolved at start: stored on each row at capture. */
    private volatile Map<String, String> topics = Map.of();
    private volatile Registration registration;

    ModuleCapture(List<Class<?>> explicitAggregates, TopicResolver topicResolver) {
        this.explicitAggregates = List.copyOf(explicitAggregates);
        this.topicResolver = topicResolver;
    }

    /**
     * The {@link Outbox} aggregates of the configuration (and those given explicitly) with their topics; checks that
     * the event store and every aggregate can capture atomically and that each aggregate has a topic.
     */
    Resolved resolve(Configuration config) {
        AtomicCaptureCheck.verify(config.eventStore());
        List<Class<?>> aggregateClasses = new ArrayList<>(explicitAggregates);
        for (AggregateConfiguration<?> aggregate : config.findModules(AggregateConfiguration.class)) {
            AtomicCaptureCheck.verify(aggregate);
            aggregateClasses.add(aggregate.aggregateType());
        }
        CapturedAggregates aggregates = CapturedAggregates.of(aggregateClasses);
        return new Resolved(aggregates, aggregates.resolveTopics(topicResolver));
    }

    /** Captures the resolved aggregates from now on, registering the interceptor on the event store once. */
    @SuppressWarnings("java:S107") // what the interceptor is made of
    void activate(Resolved resolved, Configuration config, OutboxStore store, Serializer serializer, Runnable wakeUp,
                  TraceParentProvider traceParentProvider, OutboxMetrics metrics) {
        captured = resolved.aggregates();
        topics = resolved.topics();
        OutboxCaptureInterceptor interceptor = new OutboxCaptureInterceptor(
                this::captured, store, serializer, wakeUp, traceParentProvider, metrics, this::topicAtCapture);
        if (serializer == config.eventSerializer()) { // what it cannot serialize, the event store cannot store
            interceptor = interceptor.failingOnUnserializableEvents();
        }
        if (registration == null) {
            registration = config.eventStore().registerDispatchInterceptor(interceptor);
        }
    }

    /** The aggregate types being captured (none before start). */
    CapturedAggregates captured() {
        return captured;
    }

    /**
     * The topic of a captured aggregate type, stored on its rows: the one resolved (and checked) at start, so a later
     * change of the mapping applies to events captured after the next start only.
     */
    private Optional<String> topicAtCapture(String aggregateType) {
        return Optional.ofNullable(topics.get(aggregateType));
    }
}
