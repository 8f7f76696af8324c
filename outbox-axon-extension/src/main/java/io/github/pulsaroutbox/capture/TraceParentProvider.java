package io.github.pulsaroutbox.capture;

import org.axonframework.eventhandling.EventMessage;

/**
 * Finds the W3C {@code traceparent} of the unit of work that publishes an event, so that it is stored on the outbox
 * row and sent with the message: a consumer's span then continues the producer's trace.
 */
@FunctionalInterface
public interface TraceParentProvider {

    /** The metadata key Axon's OpenTelemetry integration (and W3C propagation) uses. */
    String METADATA_KEY = "traceparent";

    /** @return the {@code traceparent} for this event, or {@code null} when there is no trace */
    String traceParent(EventMessage<?> event);

    /** Reads {@value #METADATA_KEY} from the event's metadata. */
    static TraceParentProvider fromMetadata() {
        return event -> {
            Object value = event.getMetaData().get(METADATA_KEY);
            return value == null ? null : value.toString();
        };
    }

    /** This provider, or {@code other} where this one finds nothing. */
    default TraceParentProvider orElse(TraceParentProvider other) {
        return event -> {
            String found = traceParent(event);
            return found != null ? found : other.traceParent(event);
        };
    }
}
