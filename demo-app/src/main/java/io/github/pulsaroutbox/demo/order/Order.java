package io.github.pulsaroutbox.demo.order;

import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import io.github.pulsaroutbox.Outbox;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * An event-sourced order. {@link Outbox} opts its events into the outbox; the topic is mapped in
 * {@code application.yml} ({@code pulsar-outbox.topics.Order}).
 */
@Aggregate
@Outbox
public class Order {

    enum Status { OPEN, CONFIRMED, CANCELLED }

    @AggregateIdentifier
    private String orderId;
    private int lines;
    private Status status;

    protected Order() {
    }

    @CommandHandler
    public Order(OrderCommands.PlaceOrder command) {
        apply(new OrderEvents.OrderPlaced(command.orderId(), command.customer()));
    }

    @CommandHandler
    public void handle(OrderCommands.AddLine command) {
        requireOpen();
        if (command.quantity() <= 0) {
            throw new IllegalArgumentException("quantity must be positive");
        }
        apply(new OrderEvents.LineAdded(orderId, lines + 1, command.product(), command.quantity()));
    }

    @CommandHandler
    public void handle(OrderCommands.ConfirmOrder command) {
        requireOpen();
        if (lines == 0) {
            throw new IllegalStateException("an order without lines cannot be confirmed");
        }
        apply(new OrderEvents.OrderConfirmed(orderId, lines));
    }

    @CommandHandler
    public void handle(OrderCommands.CancelOrder command) {
        requireOpen();
        apply(new OrderEvents.OrderCancelled(orderId, command.reason()));
    }

    private void requireOpen() {
        if (status != Status.OPEN) {
            throw new IllegalStateException("order " + orderId + " is " + status);
        }
    }

    @EventSourcingHandler
    void on(OrderEvents.OrderPlaced event) {
        this.orderId = event.orderId();
        this.status = Status.OPEN;
    }

    @EventSourcingHandler
    void on(OrderEvents.LineAdded event) {
        this.lines = event.lineNumber();
    }

    @EventSourcingHandler
    void on(OrderEvents.OrderConfirmed event) {
        this.status = Status.CONFIRMED;
    }

    @EventSourcingHandler
    void on(OrderEvents.OrderCancelled event) {
        this.status = Status.CANCELLED;
    }
}
