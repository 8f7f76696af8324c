package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.common.AxonConfigurationException;

import java.util.ArrayList;
import java.util.List;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * What both sources' builders take: the client, the topics and the converter.
 *
 * @param <B> the concrete builder, returned by each setter
 */
public abstract class SourceBuilder<B extends SourceBuilder<B>> {

    PulsarClient client;
    final List<String> topics = new ArrayList<>();
    OutboxMessageConverter converter;

    SourceBuilder() {
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** The application's Pulsar client. Required. */
    public B pulsarClient(PulsarClient client) {
        assertNonNull(client, "client may not be null");
        this.client = client;
        return self();
    }

    /** A topic to read (the outbox's topic of an aggregate type). At least one. */
    public B topic(String topic) {
        assertThat(topic, t -> t != null && !t.isBlank(), "topic may not be blank");
        this.topics.add(topic);
        return self();
    }

    /** Turns messages into events. Required. */
    public B converter(OutboxMessageConverter converter) {
        assertNonNull(converter, "converter may not be null");
        this.converter = converter;
        return self();
    }

    void validate() {
        assertNonNull(client, "The PulsarClient is a hard requirement and should be provided");
        assertNonNull(converter, "The OutboxMessageConverter is a hard requirement and should be provided");
        if (topics.isEmpty()) {
            throw new AxonConfigurationException("At least one topic is required");
        }
    }
}
