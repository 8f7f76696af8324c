package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.Outbox;
import org.axonframework.modelling.command.AggregateIdentifier;

/** The aggregate type ("Account") whose events the tailing replica tests append straight to the event store. */
@Outbox
public class Account {

    @AggregateIdentifier
    private String id;

    /** An account's event: its number in the test's stream. */
    public record Changed(int n) {
    }
}
