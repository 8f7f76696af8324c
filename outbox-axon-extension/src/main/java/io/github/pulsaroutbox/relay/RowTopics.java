package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The topic a row goes to: the one stored on the row at capture, else the one configured now for its aggregate type
 * ({@link TopicResolver}, given the type's annotated topic). Topics found are cached until {@link #clear()}; a type
 * without a topic is asked again each time (an operator may configure it).
 */
final class RowTopics {

    private final TopicResolver resolver;
    private final Supplier<CapturedAggregates> capturedAggregates;
    private final Map<String, Optional<String>> cache = new ConcurrentHashMap<>();

    RowTopics(TopicResolver resolver, Supplier<CapturedAggregates> capturedAggregates) {
        this.resolver = resolver;
        this.capturedAggregates = capturedAggregates;
    }

    /** The row's topic; empty when none is configured. Throws what the resolver throws. */
    Optional<String> of(OutboxEntry entry) {
        return entry.topic() != null ? Optional.of(entry.topic()) : forType(entry.aggregateType());
    }

    /**
     * The row's topic if it is known without asking the resolver (stored on the row, or found before); empty
     * otherwise. Never throws: for checks that must not call the application's resolver once more per row.
     */
    Optional<String> known(OutboxEntry entry) {
        if (entry.topic() != null) {
            return Optional.of(entry.topic());
        }
        Optional<String> cached = cache.get(entry.aggregateType());
        return cached == null ? Optional.empty() : cached;
    }

    /** Forgets the cached topics (the relay restarts: the configuration may have changed). */
    void clear() {
        cache.clear();
    }

    private Optional<String> forType(String aggregateType) {
        Optional<String> cached = cache.get(aggregateType);
        if (cached != null) {
            return cached;
        }
        Optional<String> topic = resolver.resolve(aggregateType,
                                                  capturedAggregates.get().annotatedTopic(aggregateType));
        if (topic.isPresent()) {
            cache.put(aggregateType, topic); // only found topics are cached: a missing one is asked again
        }
        return topic;
    }
}
