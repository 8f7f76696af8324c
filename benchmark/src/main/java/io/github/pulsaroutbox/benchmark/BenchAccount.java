package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.Outbox;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** The benchmark's aggregate: one command, one event of about the configured payload size. */
@Outbox
public class BenchAccount {

    /** Opens an account. */
    public record Open(String accountId, String note) {
    }

    /** The event every command applies. */
    public record Opened(String accountId, String note) {
    }

    @AggregateIdentifier
    private String accountId;

    protected BenchAccount() {
    }

    @CommandHandler
    public BenchAccount(Open command) {
        apply(new Opened(command.accountId(), command.note()));
    }

    @EventSourcingHandler
    void on(Opened event) {
        this.accountId = event.accountId();
    }
}
