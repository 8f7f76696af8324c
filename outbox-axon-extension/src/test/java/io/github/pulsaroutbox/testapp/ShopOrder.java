package io.github.pulsaroutbox.testapp;

import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import io.github.pulsaroutbox.Outbox;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** An event-sourced aggregate whose events go to the outbox (topic from configuration). */
@Aggregate
@Outbox
public class ShopOrder {

    @AggregateIdentifier
    private String orderId;
    private int lines;

    protected ShopOrder() {
    }

    @CommandHandler
    public ShopOrder(ShopCommands.CreateOrder command) {
        apply(new ShopEvents.OrderCreated(command.orderId(), command.customer()));
    }

    @CommandHandler
    public void handle(ShopCommands.AddLine command) {
        apply(new ShopEvents.LineAdded(command.orderId(), lines + 1, command.product(), command.quantity()));
    }

    @CommandHandler
    public void handle(ShopCommands.AddLineThenFail command) {
        apply(new ShopEvents.LineAdded(command.orderId(), lines + 1, "doomed", 1));
        throw new IllegalStateException("failing after apply(), on purpose");
    }

    @EventSourcingHandler
    void on(ShopEvents.OrderCreated event) {
        this.orderId = event.orderId();
    }

    @EventSourcingHandler
    void on(ShopEvents.LineAdded event) {
        this.lines = event.lineNumber();
    }
}
