package io.github.pulsaroutbox.capture.deadline;

import io.github.pulsaroutbox.Outbox;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.deadline.DeadlineManager;
import org.axonframework.deadline.annotation.DeadlineHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

import java.time.Duration;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

/** An {@code @Outbox} aggregate whose deadline handler applies an event (plain Axon: not a Spring bean). */
@Outbox(topic = "reminders")
public class Reminder {

    public record Create(String reminderId) {
    }

    public record Schedule(@TargetAggregateIdentifier String reminderId) {
    }

    public record Created(String reminderId) {
    }

    public record Fired(String reminderId) {
    }

    @AggregateIdentifier
    private String reminderId;

    protected Reminder() {
    }

    @CommandHandler
    public Reminder(Create command) {
        apply(new Created(command.reminderId()));
    }

    /** The test's deadline manager (plain Axon resolves no DeadlineManager handler parameter). */
    static volatile DeadlineManager deadlineManager;

    @CommandHandler
    public void handle(Schedule command) {
        deadlineManager.schedule(Duration.ofMillis(50), "remind");
    }

    @DeadlineHandler(deadlineName = "remind")
    void remind() {
        apply(new Fired(reminderId));
    }

    @EventSourcingHandler
    void on(Created event) {
        this.reminderId = event.reminderId();
    }
}
