package io.github.pulsaroutbox.upcasting.current;

import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import io.github.pulsaroutbox.Outbox;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

@Aggregate
@Outbox
public class Customer {

    public record Register(String customerId, String firstName, String lastName, String email) {
    }

    @AggregateIdentifier
    private String customerId;

    protected Customer() {
    }

    @CommandHandler
    public Customer(Register command) {
        apply(new CustomerRegistered(command.customerId(), command.firstName(), command.lastName(), command.email(),
                                     true));
    }

    @EventSourcingHandler
    void on(CustomerRegistered event) {
        this.customerId = event.customerId();
    }
}
