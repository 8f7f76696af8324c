package io.github.pulsaroutbox.receiving;

import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import org.apache.pulsar.client.api.Message;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventEntry;
import org.axonframework.eventsourcing.EventStreamUtils;
import org.axonframework.messaging.MetaData;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.upcasting.event.EventUpcaster;
import org.axonframework.serialization.upcasting.event.NoOpEventUpcaster;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.axonframework.common.BuilderUtils.assertNonNull;

/**
 * Turns a Pulsar message the outbox published back into the Axon event it was: a {@link DomainEventMessage} with the
 * event's identifier ({@code ce_id}), timestamp ({@code ce_time}, to the millisecond as Axon keeps it), aggregate
 * type, identifier and sequence, the payload of the class its {@code ce_type} is mapped to, brought to the current
 * revision by the receiving service's own upcasters ({@code ce_schemaversion} is the stored revision), and metadata
 * restored from the message's properties ({@code correlationId}, {@code traceId}, {@code traceparent}).
 * <p>
 * Guarantees: a message without the outbox's {@code ce_id} and {@code ce_type} properties (not published by this
 * library) converts to nothing ({@link Optional#empty()}), never to an exception, so that a foreign message cannot
 * stop a consumer; a message of a {@code ce_type} no class is mapped to converts to nothing too. What the source does
 * with those is its {@link ForeignMessages} policy.
 */
public final class OutboxMessageConverter {

    private final Serializer serializer;
    private final EventUpcaster upcasters;
    private final Map<String, String> payloadTypes;

    private OutboxMessageConverter(Builder builder) {
        builder.validate();
        this.serializer = builder.serializer;
        this.upcasters = builder.upcasters;
        this.payloadTypes = Map.copyOf(builder.payloadTypes);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether the message carries the outbox's identity properties ({@code ce_id}, {@code ce_type}). */
    public static boolean isOutboxMessage(Message<?> message) {
        return message.hasProperty(OutboxMessageProperties.ID) && message.hasProperty(OutboxMessageProperties.TYPE);
    }

    /**
     * The event the message carries, or empty when it was not published by the outbox or its {@code ce_type} is not
     * mapped to a class.
     *
     * @throws org.axonframework.serialization.SerializationException when the payload cannot be read as its class
     *                                                              (after upcasting)
     */
    public Optional<DomainEventMessage<?>> convert(Message<byte[]> message) {
        if (!isOutboxMessage(message)) {
            return Optional.empty();
        }
        String payloadType = payloadTypes.get(message.getProperty(OutboxMessageProperties.TYPE));
        if (payloadType == null) {
            return Optional.empty();
        }
        String version = message.getProperty(OutboxMessageProperties.SCHEMA_VERSION);
        String revision = version == null || version.isEmpty() || "0".equals(version) ? null : version;
        String aggregateId = property(message, OutboxMessageProperties.AGGREGATE_ID, message.getKey());
        long sequence = Long.parseLong(property(message, OutboxMessageProperties.AGGREGATE_SEQUENCE, "0"));
        String time = message.getProperty(OutboxMessageProperties.TIME);
        Instant timestamp = time != null ? Instant.parse(time) : Instant.ofEpochMilli(message.getPublishTime());
        byte[] metaData = serializer.serialize(metaData(message), byte[].class).getData();
        GenericDomainEventEntry<byte[]> entry = new GenericDomainEventEntry<>(
                message.getProperty(OutboxMessageProperties.AGGREGATE_TYPE), aggregateId, sequence,
                message.getProperty(OutboxMessageProperties.ID), timestamp, payloadType, revision, message.getValue(),
                metaData);
        List<? extends DomainEventMessage<?>> events =
                EventStreamUtils.upcastAndDeserializeDomainEvents(Stream.of(entry), serializer, upcasters).asStream()
                                .toList();
        return events.isEmpty() ? Optional.empty() : Optional.of(events.get(0));
    }

    private static String property(Message<?> message, String name, String otherwise) {
        String value = message.getProperty(name);
        return value != null ? value : otherwise;
    }

    /** The Axon metadata the outbox sent as properties: correlation, causation and trace context. */
    private static MetaData metaData(Message<?> message) {
        Map<String, String> values = new HashMap<>();
        putIfPresent(values, "correlationId", message.getProperty(OutboxMessageProperties.CORRELATION_ID));
        putIfPresent(values, "traceId", message.getProperty(OutboxMessageProperties.CAUSATION_ID));
        putIfPresent(values, "traceparent", message.getProperty(OutboxMessageProperties.TRACE_PARENT));
        return MetaData.from(values);
    }

    private static void putIfPresent(Map<String, String> values, String key, String value) {
        if (value != null) {
            values.put(key, value);
        }
    }

    /** Builds an {@link OutboxMessageConverter}; the serializer (a {@code JacksonSerializer}) is required. */
    public static final class Builder {
        private Serializer serializer;
        private EventUpcaster upcasters = NoOpEventUpcaster.INSTANCE;
        private final Map<String, String> payloadTypes = new HashMap<>();

        private Builder() {
        }

        /** Reads the JSON payloads (a {@code JacksonSerializer}, as the producer's). Required. */
        public Builder serializer(Serializer serializer) {
            assertNonNull(serializer, "serializer may not be null");
            this.serializer = serializer;
            return this;
        }

        /** The receiving service's upcasters, applied to each payload from its published revision on. */
        public Builder upcasters(EventUpcaster upcasters) {
            assertNonNull(upcasters, "upcasters may not be null");
            this.upcasters = upcasters;
            return this;
        }

        /**
         * The class a {@code ce_type} is read as (the producer's logical name: by default the simple class name, or
         * its {@code @Outbox.EventType}).
         */
        public Builder type(String ceType, Class<?> payloadClass) {
            assertNonNull(ceType, "ceType may not be null");
            assertNonNull(payloadClass, "payloadClass may not be null");
            String previous = payloadTypes.putIfAbsent(ceType, payloadClass.getName());
            if (previous != null && !previous.equals(payloadClass.getName())) {
                throw new AxonConfigurationException("ce_type '" + ceType + "' is mapped to both " + previous
                                                             + " and " + payloadClass.getName());
            }
            return this;
        }

        /** Maps each class under its simple name, the producer's default {@code ce_type}. */
        public Builder types(Class<?>... payloadClasses) {
            for (Class<?> payloadClass : payloadClasses) {
                type(payloadClass.getSimpleName(), payloadClass);
            }
            return this;
        }

        public OutboxMessageConverter build() {
            return new OutboxMessageConverter(this);
        }

        void validate() {
            assertNonNull(serializer, "The Serializer is a hard requirement and should be provided");
        }
    }
}
