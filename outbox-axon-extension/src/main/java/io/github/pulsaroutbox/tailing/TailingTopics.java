package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.relay.TopicResolver;

import java.util.List;
import java.util.Map;

/**
 * The aggregate types the tailing processor publishes and the topic of each, resolved once when the module starts.
 * <p>
 * Guarantees: before {@link #resolve} nothing is captured and no type has a topic; a type without a topic fails its
 * events ({@link #topicOf}) instead of publishing them anywhere. Safe from any thread (the processor's threads read).
 */
final class TailingTopics {

    private volatile CapturedAggregates captured = CapturedAggregates.none();
    private volatile Map<String, String> topics = Map.of();

    /** Captures the {@code @Outbox} aggregates among {@code aggregateClasses} and resolves their topics. */
    void resolve(List<Class<?>> aggregateClasses, TopicResolver resolver) {
        CapturedAggregates found = CapturedAggregates.of(aggregateClasses);
        topics = found.resolveTopics(resolver);
        captured = found;
    }

    /** The aggregate types being published (none before {@link #resolve}). */
    CapturedAggregates captured() {
        return captured;
    }

    /** The topic of each aggregate type being published. */
    Map<String, String> topics() {
        return topics;
    }

    /**
     * The topic of {@code aggregateType}.
     *
     * @throws IllegalStateException when it has none
     */
    String topicOf(String aggregateType) {
        String topic = topics.get(aggregateType);
        if (topic == null) {
            throw new IllegalStateException("No topic for aggregate type '" + aggregateType + "'");
        }
        return topic;
    }
}
