package io.github.pulsaroutbox.relay;

import java.util.Optional;

/**
 * Decides the destination (topic) of an aggregate type's events. The relay asks it at publish time and remembers the
 * topics found; when none is found (or it throws) the row is parked as
 * {@link io.github.pulsaroutbox.FailureKind#NO_ROUTE} and the resolver is asked again for later rows.
 */
@FunctionalInterface
public interface TopicResolver {

    /**
     * @param aggregateType  the aggregate type of the events
     * @param annotatedTopic the topic named by the aggregate's {@code @Outbox(topic)}, if any
     * @return the destination, or empty when none is configured (the row is then parked)
     */
    Optional<String> resolve(String aggregateType, Optional<String> annotatedTopic);
}
