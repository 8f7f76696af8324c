package io.github.pulsaroutbox.pulsar;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pulsaroutbox.OutboxEntry;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.TypedMessageBuilder;
import org.apache.pulsar.client.api.schema.SchemaDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Turns an outbox row into a Pulsar message and sends it: key = aggregate id, value = payload JSON (UTF-8), event time
 * = event timestamp, the properties of {@link OutboxMessageProperties} (and the configured metadata entries, then the
 * customizer's changes), optionally with the JSON schema of the event's class; each send observed as
 * {@link PublishObservations}. Holds no producers: the caller passes the one to send with.
 */
final class OutboxMessages {

    private static final Logger logger = LoggerFactory.getLogger(OutboxMessages.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final Function<String, String> eventTypeNames;
    private final Map<String, String> metadataProperties;
    private final MessagePropertiesCustomizer propertiesCustomizer;
    private final boolean registerSchemas;
    private final Function<String, Class<?>> eventClasses;
    private final PublishObservations observations;
    private final Map<String, Optional<Schema<byte[]>>> schemas = new ConcurrentHashMap<>();

    OutboxMessages(String source, Function<String, String> eventTypeNames, Map<String, String> metadataProperties,
                   MessagePropertiesCustomizer propertiesCustomizer, boolean registerSchemas,
                   Function<String, Class<?>> eventClasses, PublishObservations observations) {
        this.source = source;
        this.eventTypeNames = eventTypeNames;
        this.metadataProperties = Map.copyOf(metadataProperties);
        this.propertiesCustomizer = propertiesCustomizer;
        this.registerSchemas = registerSchemas;
        this.eventClasses = eventClasses;
        this.observations = observations;
    }

    /** Sends the row through {@code producer}; completes when the broker acknowledged it. */
    CompletableFuture<MessageId> send(Producer<byte[]> producer, OutboxEntry entry, String topic) {
        return send(message(producer, entry), entry, topic);
    }

    /** Sends the row through {@code producer} with the given broker sequence id. */
    CompletableFuture<MessageId> send(Producer<byte[]> producer, OutboxEntry entry, String topic, long sequenceId) {
        return send(message(producer, entry).sequenceId(sequenceId), entry, topic);
    }

    private TypedMessageBuilder<byte[]> message(Producer<byte[]> producer, OutboxEntry entry) {
        Optional<Schema<byte[]>> schema = registerSchemas ? schemaOf(entry.eventType()) : Optional.empty();
        TypedMessageBuilder<byte[]> message = schema.isPresent() ? producer.newMessage(schema.get())
                                                                 : producer.newMessage();
        return message.key(entry.aggregateId())
                      .value(entry.payload().getBytes(StandardCharsets.UTF_8))
                      .eventTime(entry.timestamp().toEpochMilli());
    }

    /** Sends with the entry's properties, observed (and its trace context added) as {@link PublishObservations}. */
    private CompletableFuture<MessageId> send(TypedMessageBuilder<byte[]> message, OutboxEntry entry, String topic) {
        return observations.observe(entry, topic, properties(entry),
                                    properties -> message.properties(properties).sendAsync());
    }

    /**
     * The JSON schema of an event type's class (its current version: rows are upcast before they are sent), wrapped
     * so that the JSON bytes are validated against it and sent with its schema version. Empty when the class is not
     * on the classpath: such a message goes out without a schema.
     */
    private Optional<Schema<byte[]>> schemaOf(String eventType) {
        return schemas.computeIfAbsent(eventType, type -> {
            Class<?> eventClass;
            try {
                eventClass = eventClasses.apply(type);
            } catch (RuntimeException | LinkageError e) {
                logger.warn("No class for event type {}: its messages are sent without a schema", type);
                return Optional.empty();
            }
            return Optional.of(Schema.AUTO_PRODUCE_BYTES(Schema.JSON(SchemaDefinition.builder()
                                                                                     .withPojo(eventClass)
                                                                                     .withAlwaysAllowNull(true)
                                                                                     .build())));
        });
    }

    /**
     * {@code ce_time}: RFC 3339 in UTC with exactly six fractional digits (microseconds), whatever the dispatch mode:
     * {@code 2026-01-01T10:00:00.123456Z}. A timestamp known to the millisecond only (an event read back from Axon's
     * JPA or JDBC event store) ends in {@code 000}.
     */
    static String time(java.time.Instant timestamp) {
        java.time.LocalDateTime utc = java.time.LocalDateTime.ofEpochSecond(timestamp.getEpochSecond(), 0,
                                                                            java.time.ZoneOffset.UTC);
        if (utc.getYear() < 0 || utc.getYear() > 9999) { // a sign or a fifth digit: the formatter's rules
            return CE_TIME.format(timestamp.truncatedTo(java.time.temporal.ChronoUnit.MICROS));
        }
        // what CE_TIME prints, written directly: this runs for every message sent, the formatter costs far more
        char[] text = "0000-00-00T00:00:00.000000Z".toCharArray();
        digits(text, 0, 4, utc.getYear());
        digits(text, 5, 2, utc.getMonthValue());
        digits(text, 8, 2, utc.getDayOfMonth());
        digits(text, 11, 2, utc.getHour());
        digits(text, 14, 2, utc.getMinute());
        digits(text, 17, 2, utc.getSecond());
        digits(text, 20, 6, timestamp.getNano() / 1000);
        return new String(text);
    }

    /** Writes {@code value} as {@code width} decimal digits (zero-padded) at {@code at}. */
    private static void digits(char[] text, int at, int width, int value) {
        for (int i = at + width - 1; i >= at; i--) {
            text[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }

    private static final java.time.format.DateTimeFormatter CE_TIME =
            java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
                                             .withZone(java.time.ZoneOffset.UTC);

    /** The message properties of a row. */
    Map<String, String> properties(OutboxEntry entry) {
        Map<String, String> properties = new HashMap<>(16);
        properties.put(OutboxMessageProperties.SPEC_VERSION, OutboxMessageProperties.SPEC_VERSION_VALUE);
        properties.put(OutboxMessageProperties.ID, entry.id());
        properties.put(OutboxMessageProperties.SOURCE, source);
        properties.put(OutboxMessageProperties.TYPE, eventTypeNames.apply(entry.eventType()));
        properties.put(OutboxMessageProperties.TIME, time(entry.timestamp()));
        properties.put(OutboxMessageProperties.SUBJECT, entry.aggregateId());
        properties.put(OutboxMessageProperties.DATA_CONTENT_TYPE, OutboxMessageProperties.DATA_CONTENT_TYPE_VALUE);
        properties.put(OutboxMessageProperties.SCHEMA_VERSION, entry.version());
        properties.put(OutboxMessageProperties.AGGREGATE_TYPE, entry.aggregateType());
        properties.put(OutboxMessageProperties.AGGREGATE_ID, entry.aggregateId());
        properties.put(OutboxMessageProperties.AGGREGATE_SEQUENCE, Long.toString(entry.aggregateSequence()));
        if (entry.traceParent() != null) {
            properties.put(OutboxMessageProperties.TRACE_PARENT, entry.traceParent());
        }
        if (!metadataProperties.isEmpty() && entry.metadata() != null && entry.metadata().length() > 2) {
            metadataOf(entry).forEach((key, value) -> {
                String property = metadataProperties.get(key);
                if (property != null && value != null) {
                    properties.put(property, value.isValueNode() ? value.asText() : value.toString());
                }
            });
        }
        propertiesCustomizer.customize(entry, properties);
        return properties;
    }

    /** The row's Axon metadata (a JSON object), as a map; empty when it cannot be read. */
    private static Map<String, JsonNode> metadataOf(OutboxEntry entry) {
        try {
            JsonNode tree = JSON.readTree(entry.metadata());
            Map<String, JsonNode> fields = new HashMap<>();
            if (tree != null && tree.isObject()) {
                tree.fields().forEachRemaining(field -> fields.put(field.getKey(), field.getValue()));
            }
            return fields;
        } catch (JsonProcessingException e) {
            logger.debug("Metadata of row {} is not a JSON object: no metadata properties", entry.id());
            return Map.of();
        }
    }
}
