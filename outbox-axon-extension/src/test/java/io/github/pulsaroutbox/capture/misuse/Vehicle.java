package io.github.pulsaroutbox.capture.misuse;

import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** The root of a polymorphic aggregate, without {@code @Outbox}. */
public class Vehicle {

    public record Register(String vehicleId) {
    }

    public record Registered(String vehicleId) {
    }

    @AggregateIdentifier
    protected String vehicleId;

    protected Vehicle() {
    }

    @CommandHandler
    public Vehicle(Register command) {
        apply(new Registered(command.vehicleId()));
    }

    @EventSourcingHandler
    void on(Registered event) {
        this.vehicleId = event.vehicleId();
    }
}
