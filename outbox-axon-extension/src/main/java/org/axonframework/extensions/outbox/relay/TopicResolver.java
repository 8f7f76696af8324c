package org.axonframework.extensions.outbox.relay;

import java.util.Optional;

/**
 * Decides the destination (topic) of an aggregate type's events. The relay asks it at publish time, so a changed
 * mapping also applies to rows still pending.
 */
@FunctionalInterface
public interface TopicResolver {

    /**
     * @param aggregateType  the aggregate type of the events
     * @param annotatedTopic the topic named by the aggregate's {@code @Outbox(topic)}, if any
     * @return the destination, or empty when none is configured (the row then stays pending)
     */
    Optional<String> resolve(String aggregateType, Optional<String> annotatedTopic);
}
