package io.github.pulsaroutbox.capture;

import io.github.pulsaroutbox.Outbox;
import org.axonframework.modelling.command.inspection.AnnotatedAggregateMetaModelFactory;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The aggregate types whose events are captured into the outbox: those annotated with {@link Outbox}, by the type
 * name Axon records on their events ({@code @AggregateRoot(type)} / {@code @Aggregate(type)}, the simple class name
 * by default). Immutable.
 */
public final class CapturedAggregates {

    private static final CapturedAggregates NONE = new CapturedAggregates(Map.of());

    private final Map<String, String> annotatedTopicByType;

    private CapturedAggregates(Map<String, String> annotatedTopicByType) {
        this.annotatedTopicByType = Collections.unmodifiableMap(annotatedTopicByType);
    }

    /** No aggregate is captured. */
    public static CapturedAggregates none() {
        return NONE;
    }

    /**
     * The {@link Outbox}-annotated classes among {@code aggregateClasses}; the others are ignored.
     *
     * @throws IllegalStateException when two annotated classes share an aggregate type name
     */
    public static CapturedAggregates of(Collection<Class<?>> aggregateClasses) {
        Map<String, String> topics = new LinkedHashMap<>();
        Map<String, Class<?>> owners = new LinkedHashMap<>();
        for (Class<?> aggregateClass : aggregateClasses) {
            Outbox outbox = aggregateClass.getAnnotation(Outbox.class);
            if (outbox == null) {
                continue;
            }
            String type = AnnotatedAggregateMetaModelFactory.inspectAggregate(aggregateClass).type();
            Class<?> previous = owners.putIfAbsent(type, aggregateClass);
            if (previous != null && !previous.equals(aggregateClass)) {
                throw new IllegalStateException("Aggregates " + previous.getName() + " and " + aggregateClass.getName()
                                                        + " share the aggregate type '" + type + "'");
            }
            topics.put(type, outbox.topic().isBlank() ? null : outbox.topic().trim());
        }
        return new CapturedAggregates(topics);
    }

    /** Whether events of this aggregate type are captured. */
    public boolean isCaptured(String aggregateType) {
        return annotatedTopicByType.containsKey(aggregateType);
    }

    /** The topic named by the aggregate's {@link Outbox#topic()}, if any. */
    public Optional<String> annotatedTopic(String aggregateType) {
        return Optional.ofNullable(annotatedTopicByType.get(aggregateType));
    }

    /**
     * The topic of every captured aggregate type, resolved once (at start): a mapping, else the annotation's topic,
     * else the default pattern, as {@code resolver} decides.
     *
     * @throws io.github.pulsaroutbox.OutboxStartupException naming the aggregate type and the fixes when one has no
     *                                                       topic
     * @throws org.axonframework.common.AxonConfigurationException when the resolver rejects a topic name
     */
    public Map<String, String> resolveTopics(io.github.pulsaroutbox.relay.TopicResolver resolver) {
        Map<String, String> topics = new java.util.HashMap<>();
        for (String type : types()) {
            Optional<String> topic;
            try {
                topic = resolver.resolve(type, annotatedTopic(type));
            } catch (IllegalArgumentException e) {
                throw new org.axonframework.common.AxonConfigurationException("Outbox: " + e.getMessage(), e);
            }
            if (topic.isEmpty()) {
                throw new io.github.pulsaroutbox.OutboxStartupException(
                        "aggregate type '" + type + "' is annotated with @Outbox but has no topic.",
                        "Name one in @Outbox(topic), map it (pulsar-outbox.topics." + type + " in Spring Boot) or "
                                + "configure a default topic pattern (pulsar-outbox.default-topic)");
            }
            topics.put(type, topic.get());
        }
        return Map.copyOf(topics);
    }

    /** The captured aggregate type names. */
    public Set<String> types() {
        return annotatedTopicByType.keySet();
    }

    @Override
    public String toString() {
        return "CapturedAggregates" + annotatedTopicByType.keySet();
    }
}
