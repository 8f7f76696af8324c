package io.github.pulsaroutbox.capture.misuse;

import io.github.pulsaroutbox.Outbox;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** A polymorphic aggregate with {@code @Outbox} on its root (inherited by its subtypes). */
@Outbox(topic = "vehicles")
public class AnnotatedVehicle {

    public record Add(String vehicleId) {
    }

    public record Added(String vehicleId) {
    }

    @AggregateIdentifier
    protected String vehicleId;

    protected AnnotatedVehicle() {
    }

    @CommandHandler
    public AnnotatedVehicle(Add command) {
        apply(new Added(command.vehicleId()));
    }

    @EventSourcingHandler
    void on(Added event) {
        this.vehicleId = event.vehicleId();
    }

    /** A subtype. */
    public static class Truck extends AnnotatedVehicle {
        protected Truck() {
        }
    }
}
