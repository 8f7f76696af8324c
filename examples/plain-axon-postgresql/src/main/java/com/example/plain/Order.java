package com.example.plain;

import io.github.pulsaroutbox.Outbox;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** An order: its events are published to the topic mapped to {@code Order}. */
@Outbox
public class Order {

    public record PlaceOrder(@TargetAggregateIdentifier String orderId, String customer) {
    }

    public record AddLine(@TargetAggregateIdentifier String orderId, String product) {
    }

    public record OrderPlaced(String orderId, String customer) {
    }

    public record LineAdded(String orderId, String product) {
    }

    @AggregateIdentifier
    private String orderId;

    protected Order() {
    }

    @CommandHandler
    public Order(PlaceOrder command) {
        apply(new OrderPlaced(command.orderId(), command.customer()));
    }

    @CommandHandler
    public void handle(AddLine command) {
        apply(new LineAdded(command.orderId(), command.product()));
    }

    @EventSourcingHandler
    void on(OrderPlaced event) {
        orderId = event.orderId();
    }
}
