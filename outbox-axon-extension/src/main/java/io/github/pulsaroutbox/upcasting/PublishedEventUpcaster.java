package io.github.pulsaroutbox.upcasting;

import org.axonframework.serialization.upcasting.Upcaster;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;

import java.util.Objects;
import java.util.stream.Stream;

/**
 * An upcaster for the published contract only: it runs on outbox rows (after the application's event-store
 * upcasters), never on the event store. Register one as a bean (Spring Boot) or through {@code OutboxConfigurerModule.Builder#upcasting(Consumer)}. Because it is
 * not an Axon {@code EventUpcaster}, Axon does not pick it up for the event store. Wrap an ordinary Axon upcaster with
 * {@link #of(Upcaster)}.
 */
@FunctionalInterface
public interface PublishedEventUpcaster extends Upcaster<IntermediateEventRepresentation> {

    /** Runs {@code upcaster} on outbox rows only. */
    static PublishedEventUpcaster of(Upcaster<IntermediateEventRepresentation> upcaster) {
        Objects.requireNonNull(upcaster, "upcaster");
        return upcaster::upcast;
    }

    @Override
    Stream<IntermediateEventRepresentation> upcast(Stream<IntermediateEventRepresentation> intermediateRepresentations);
}
