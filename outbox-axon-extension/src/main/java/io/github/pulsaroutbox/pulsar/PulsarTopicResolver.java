package io.github.pulsaroutbox.pulsar;

import org.axonframework.common.AxonConfigurationException;
import io.github.pulsaroutbox.relay.TopicResolver;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Resolves an aggregate type to a Pulsar topic, in this order: an explicit mapping (configuration), the topic named
 * by the aggregate's {@code @Outbox(topic)}, then the default topic pattern (where {@value #AGGREGATE_TYPE} stands
 * for the aggregate type). Names are validated and normalized to full topic names when configured; a malformed
 * annotated topic fails at resolution with an {@link IllegalArgumentException} naming it.
 */
public final class PulsarTopicResolver implements TopicResolver {

    /** The placeholder for the aggregate type in a default topic pattern. */
    public static final String AGGREGATE_TYPE = "{aggregateType}";

    private final Map<String, String> mappings;
    private final String defaultTopicPattern;

    private PulsarTopicResolver(Builder builder) {
        this.mappings = Map.copyOf(builder.mappings);
        this.defaultTopicPattern = builder.defaultTopicPattern;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Optional<String> resolve(String aggregateType, Optional<String> annotatedTopic) {
        String mapped = mappings.get(aggregateType);
        if (mapped != null) {
            return Optional.of(mapped);
        }
        if (annotatedTopic.isPresent()) {
            try {
                return Optional.of(PulsarTopics.normalize(annotatedTopic.get()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("@Outbox(topic) of aggregate type '" + aggregateType + "': "
                                                           + e.getMessage(), e);
            }
        }
        if (defaultTopicPattern != null) {
            return Optional.of(PulsarTopics.normalize(defaultTopicPattern.replace(AGGREGATE_TYPE, aggregateType)));
        }
        return Optional.empty();
    }

    /** Builds a {@link PulsarTopicResolver}; by default there are no mappings and no default pattern. */
    public static final class Builder {
        private final Map<String, String> mappings = new LinkedHashMap<>();
        private String defaultTopicPattern;

        private Builder() {
        }

        /**
         * Maps an aggregate type to a topic.
         *
         * @throws AxonConfigurationException when the topic name is malformed
         */
        public Builder map(String aggregateType, String topic) {
            if (aggregateType == null || aggregateType.isBlank()) {
                throw new AxonConfigurationException("An aggregate type to map to a topic may not be blank");
            }
            try {
                mappings.put(aggregateType, PulsarTopics.normalize(topic));
            } catch (IllegalArgumentException e) {
                throw new AxonConfigurationException("Topic for aggregate type '" + aggregateType + "': "
                                                             + e.getMessage(), e);
            }
            return this;
        }

        /**
         * The topic for aggregate types that are neither mapped nor annotated with a topic, e.g.
         * {@code persistent://public/default/{aggregateType}}.
         *
         * @throws AxonConfigurationException when the pattern does not yield valid topic names
         */
        public Builder defaultTopicPattern(String pattern) {
            if (pattern == null || pattern.isBlank()) {
                this.defaultTopicPattern = null;
                return this;
            }
            try {
                PulsarTopics.normalize(pattern.replace(AGGREGATE_TYPE, "Aggregate"));
            } catch (IllegalArgumentException e) {
                throw new AxonConfigurationException("Default topic pattern: " + e.getMessage(), e);
            }
            this.defaultTopicPattern = pattern.trim();
            return this;
        }

        public PulsarTopicResolver build() {
            return new PulsarTopicResolver(this);
        }
    }
}
