package io.github.pulsaroutbox;

import java.time.Instant;
import java.util.Objects;

/**
 * One row of the outbox: an aggregate event, serialized, waiting to be (or already) relayed to the broker.
 *
 * @param id                the event's unique identifier (Axon's message identifier); the row's primary key
 * @param position          the row's insertion position, assigned by the database ({@code -1} before insert);
 *                          only used for ordering and housekeeping, never as a broker sequence id
 * @param timestamp         the event's timestamp
 * @param eventType         the payload type name as written by the serializer (the class name by default)
 * @param aggregateType     the aggregate type, as in the event store
 * @param aggregateId       the aggregate identifier; the message key
 * @param aggregateSequence the event's sequence number within its aggregate, from 0 (as Axon numbers them; the relay
 *                          relies on no row of an aggregate preceding its sequence 0)
 * @param payload           the payload as JSON text
 * @param metadata          the event's Axon metadata as a JSON object
 * @param version           the payload schema version (the {@code @Revision}), {@value #NO_REVISION} when the
 *                          payload class declares none
 * @param traceParent       the W3C {@code traceparent} of the unit of work that wrote it, or {@code null}
 * @param status            the row's status
 * @param attempts          how many publish attempts have failed
 * @param failureKind       the kind of the last failure, or {@code null}
 * @param lastError         the last error, or {@code null}
 * @param brokerSequence    the broker sequence id the relay assigned to the row before sending it (persisted, so a
 *                          re-send after a crash reuses it and the broker's deduplication drops the copy), or
 *                          {@value #NO_SEQUENCE}
 * @param topic             the destination resolved when the event was captured (a later change of the topic mapping
 *                          applies to later events only, so an aggregate's events never split across topics), or
 *                          {@code null} for rows captured before topics were stored: the relay resolves those
 * @param segment           the segment the row was stored in (computed once, when it is inserted, from its aggregate
 *                          id and the store's segment count; every node uses the stored number, never recomputes it),
 *                          or {@value #NO_SEGMENT} for an entry not yet stored
 */
public record OutboxEntry(String id,
                          long position,
                          Instant timestamp,
                          String eventType,
                          String aggregateType,
                          String aggregateId,
                          long aggregateSequence,
                          String payload,
                          String metadata,
                          String version,
                          String traceParent,
                          OutboxStatus status,
                          int attempts,
                          FailureKind failureKind,
                          String lastError,
                          long brokerSequence,
                          String topic,
                          int segment) {

    /** The version recorded for a payload whose class has no {@code @Revision}. */
    public static final String NO_REVISION = "0";
    /** The broker sequence id of a row that has none (not sent, or its last attempt was refused). */
    public static final long NO_SEQUENCE = -1;
    /** The segment of an entry that is not stored yet. */
    public static final int NO_SEGMENT = -1;

    public OutboxEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(eventType, "eventType");
        Objects.requireNonNull(aggregateType, "aggregateType");
        Objects.requireNonNull(aggregateId, "aggregateId");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(status, "status");
    }

    /**
     * A new, not yet stored, pending entry.
     *
     * @throws IllegalArgumentException if {@code aggregateSequence} is negative
     */
    public static OutboxEntry pending(String id, Instant timestamp, String eventType, String aggregateType,
                                      String aggregateId, long aggregateSequence, String payload, String metadata,
                                      String version, String traceParent) {
        if (aggregateSequence < 0) {
            throw new IllegalArgumentException("Event " + id + " of aggregate " + aggregateType + " '" + aggregateId
                                                       + "' has the sequence number " + aggregateSequence
                                                       + "; an aggregate's events are numbered from 0");
        }
        return new OutboxEntry(id, -1, timestamp, eventType, aggregateType, aggregateId, aggregateSequence, payload,
                               metadata, version, traceParent, OutboxStatus.PENDING, 0, null, null, NO_SEQUENCE, null,
                               NO_SEGMENT);
    }

    /** This entry, parked at capture (e.g. an unserializable payload) with the given failure. */
    public OutboxEntry parked(FailureKind kind, String error) {
        return new OutboxEntry(id, position, timestamp, eventType, aggregateType, aggregateId, aggregateSequence,
                               payload, metadata, version, traceParent, OutboxStatus.FAILED, attempts, kind, error,
                               brokerSequence, topic, segment);
    }

    /** This entry as another event type, payload and version (the result of upcasting it). */
    public OutboxEntry upcastTo(String newEventType, String newPayload, String newVersion) {
        return new OutboxEntry(id, position, timestamp, newEventType, aggregateType, aggregateId, aggregateSequence,
                               newPayload, metadata, newVersion, traceParent, status, attempts, failureKind,
                               lastError, brokerSequence, topic, segment);
    }

    /** This entry with the given broker sequence id. */
    public OutboxEntry withBrokerSequence(long sequence) {
        return new OutboxEntry(id, position, timestamp, eventType, aggregateType, aggregateId, aggregateSequence,
                               payload, metadata, version, traceParent, status, attempts, failureKind, lastError,
                               sequence, topic, segment);
    }

    /** This entry bound for the given destination (resolved at capture). */
    public OutboxEntry withTopic(String destination) {
        return new OutboxEntry(id, position, timestamp, eventType, aggregateType, aggregateId, aggregateSequence,
                               payload, metadata, version, traceParent, status, attempts, failureKind, lastError,
                               brokerSequence, destination, segment);
    }

    /** The key under which the order of this entry's aggregate is kept: type and identifier. */
    public String aggregateKey() {
        return aggregateType + '\u0000' + aggregateId;
    }
}
