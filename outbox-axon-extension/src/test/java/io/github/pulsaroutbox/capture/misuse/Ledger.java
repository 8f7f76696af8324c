package io.github.pulsaroutbox.capture.misuse;

import io.github.pulsaroutbox.Outbox;
import org.axonframework.modelling.command.AggregateIdentifier;

/** An {@code @Outbox} aggregate configured state-stored (a repository that is not event sourcing). */
@Outbox(topic = "ledgers")
public class Ledger {

    @AggregateIdentifier
    private String ledgerId;

    protected Ledger() {
    }
}
