package io.github.pulsaroutbox.testapp;

import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** An aggregate WITHOUT {@code @Outbox}: its events must never reach the outbox. */
@Aggregate
public class Counter {

    @AggregateIdentifier
    private String counterId;
    private int value;

    protected Counter() {
    }

    @CommandHandler
    public Counter(ShopCommands.CreateCounter command) {
        apply(new ShopEvents.CounterCreated(command.counterId()));
    }

    @CommandHandler
    public void handle(ShopCommands.Increment command) {
        apply(new ShopEvents.Incremented(counterId, value + 1));
    }

    @EventSourcingHandler
    void on(ShopEvents.CounterCreated event) {
        this.counterId = event.counterId();
    }

    @EventSourcingHandler
    void on(ShopEvents.Incremented event) {
        this.value = event.value();
    }
}
