package io.github.pulsaroutbox.pulsar;

/**
 * The Pulsar message properties the relay sets on every message, named after CloudEvents attributes (as in its
 * Kafka binding, prefix {@code ce_}; extension attributes are lower-case). The message key is the aggregate
 * identifier, the value the payload's JSON, the event time the event's timestamp.
 */
public final class OutboxMessageProperties {

    /** CloudEvents spec version, {@value #SPEC_VERSION_VALUE}. */
    public static final String SPEC_VERSION = "ce_specversion";
    public static final String SPEC_VERSION_VALUE = "1.0";
    /** The event identifier: consumers deduplicate on it. */
    public static final String ID = "ce_id";
    /** The event's source (configurable; the application name by default in Spring Boot). */
    public static final String SOURCE = "ce_source";
    /**
     * The event type's logical name: {@code @Outbox.EventType} on the payload class, a configured name
     * ({@code pulsar-outbox.event-types.<class>}), else the class's simple name. Never the package.
     */
    public static final String TYPE = "ce_type";
    /** The event timestamp, ISO-8601 (RFC 3339) in UTC. */
    public static final String TIME = "ce_time";
    /** The aggregate identifier (also the message key). */
    public static final String SUBJECT = "ce_subject";
    /** Always {@value #DATA_CONTENT_TYPE_VALUE}. */
    public static final String DATA_CONTENT_TYPE = "ce_datacontenttype";
    public static final String DATA_CONTENT_TYPE_VALUE = "application/json";
    /** The payload schema version (the payload's {@code @Revision}, {@code 0} without one) it was published at. */
    public static final String SCHEMA_VERSION = "ce_schemaversion";
    /** The aggregate type. */
    public static final String AGGREGATE_TYPE = "ce_aggregatetype";
    /** The aggregate identifier. */
    public static final String AGGREGATE_ID = "ce_aggregateid";
    /** The event's sequence number within its aggregate. */
    public static final String AGGREGATE_SEQUENCE = "ce_aggregatesequence";

    /** Axon's correlation id (metadata {@code correlationId}): the first message of the conversation. */
    public static final String CORRELATION_ID = "ce_correlationid";
    /** The identifier of the message that caused this event (Axon's metadata {@code traceId}). */
    public static final String CAUSATION_ID = "ce_causationid";

    /**
     * The W3C trace context of the unit of work that captured the event (CloudEvents' distributed tracing
     * extension), so a consumer's span continues the producer's trace. Only set when the event had one.
     */
    public static final String TRACE_PARENT = "traceparent";

    private OutboxMessageProperties() {
    }
}
