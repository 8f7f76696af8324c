package io.github.pulsaroutbox.upcasting.legacy;

import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import io.github.pulsaroutbox.Outbox;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.spring.stereotype.Aggregate;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** The Customer aggregate of the previous deploy (same aggregate type name). */
@Aggregate(type = "Customer")
@Outbox
public class LegacyCustomer {

    public record Register(String customerId, String name, String mail) {
    }

    @AggregateIdentifier
    private String customerId;

    protected LegacyCustomer() {
    }

    @CommandHandler
    public LegacyCustomer(Register command) {
        apply(new CustomerRegisteredV1(command.customerId(), command.name(), command.mail()));
    }

    @EventSourcingHandler
    void on(CustomerRegisteredV1 event) {
        this.customerId = event.customerId();
    }
}
