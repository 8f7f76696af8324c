package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.OutboxEntry;

import java.util.Map;

/**
 * Changes the properties of each message the outbox publishes, after the outbox set its own (see
 * {@link OutboxMessageProperties}): for example to send further metadata entries. Called on the relay's thread for
 * every message: keep it fast and free of I/O. In Spring Boot, a bean of this type is applied.
 */
@FunctionalInterface
public interface MessagePropertiesCustomizer {

    /**
     * @param entry      the row being published (its payload at the version it is sent at)
     * @param properties the message's properties, to change in place
     */
    void customize(OutboxEntry entry, Map<String, String> properties);
}
