package io.github.pulsaroutbox.capture;

import io.github.pulsaroutbox.Outbox;
import io.github.pulsaroutbox.OutboxEntry;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.Serializer;

import java.util.regex.Pattern;

/**
 * Turns an aggregate's event into the entry the transport publishes: one conversion for both dispatch modes, so a
 * message looks the same whether it came through the outbox table or by tailing the event store. The payload and the
 * metadata are serialized to JSON text by the given serializer; the version is the payload's revision
 * ({@link OutboxEntry#NO_REVISION} without one).
 */
public final class EventEntries {

    /** The longest revision stored as a version. */
    static final int MAX_VERSION_LENGTH = 64;
    private static final Pattern TRACE_PARENT = Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

    private EventEntries() {
    }

    /**
     * The pending entry of {@code event}.
     *
     * @param traceParent the W3C {@code traceparent} to send with it, or {@code null} (an invalid one is dropped)
     * @throws RuntimeException when the payload or the metadata cannot be serialized, or the revision is longer than
     *                          64 characters
     */
    public static OutboxEntry of(DomainEventMessage<?> event, Serializer serializer, String traceParent) {
        String metadata = serializer.serialize(event.getMetaData(), String.class).getData();
        SerializedObject<String> payload = serializer.serialize(event.getPayload(), String.class);
        String revision = payload.getType().getRevision();
        if (revision != null && revision.length() > MAX_VERSION_LENGTH) {
            throw new IllegalArgumentException("the revision '" + revision + "' is longer than "
                                                       + MAX_VERSION_LENGTH + " characters");
        }
        return OutboxEntry.pending(event.getIdentifier(), event.getTimestamp(), payload.getType().getName(),
                                   event.getType(), event.getAggregateIdentifier(), event.getSequenceNumber(),
                                   payload.getData(), metadata,
                                   revision == null ? OutboxEntry.NO_REVISION : revision,
                                   validTraceParent(traceParent));
    }

    /** Whether the event's class opts out of publication ({@link Outbox.Exclude}). */
    public static boolean isExcluded(DomainEventMessage<?> event) {
        return event.getPayloadType().isAnnotationPresent(Outbox.Exclude.class);
    }

    /** A W3C traceparent ({@code version-traceid-spanid-flags}), or {@code null} for anything else. */
    static String validTraceParent(String traceParent) {
        return traceParent != null && TRACE_PARENT.matcher(traceParent).matches() ? traceParent : null;
    }
}
