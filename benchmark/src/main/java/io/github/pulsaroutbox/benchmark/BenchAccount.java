package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.Outbox;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/**
 * The benchmark's aggregate: {@link Open} (one event of about the configured payload size), and {@link Deposit} for the
 * hot-aggregate run (the {@code n}th event of one account).
 */
@Outbox
public class BenchAccount {

    /** Opens an account. */
    public record Open(String accountId, String note) {
    }

    /** The event every command applies. */
    public record Opened(String accountId, String note) {
    }

    /** Deposits on an existing account: its {@code n}th deposit. */
    public record Deposit(@TargetAggregateIdentifier String accountId, long n, String note) {
    }

    /** The event of a deposit. */
    public record Deposited(String accountId, long n, String note) {
    }

    @AggregateIdentifier
    private String accountId;

    protected BenchAccount() {
    }

    @CommandHandler
    public BenchAccount(Open command) {
        apply(new Opened(command.accountId(), command.note()));
    }

    @CommandHandler
    void handle(Deposit command) {
        apply(new Deposited(command.accountId(), command.n(), command.note()));
    }

    @EventSourcingHandler
    void on(Opened event) {
        this.accountId = event.accountId();
    }
}
