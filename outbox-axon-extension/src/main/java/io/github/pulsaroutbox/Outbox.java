package io.github.pulsaroutbox;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Opts an aggregate's events into the outbox: every event the aggregate applies is written to the outbox table in
 * the same unit of work and database transaction as the event-store append, and is later relayed to the broker,
 * keyed by the aggregate identifier.
 * <p>
 * Events of aggregates without this annotation, events that are not published by an aggregate, and events whose
 * payload class is annotated {@link Exclude @Outbox.Exclude} are never captured.
 *
 * <pre>{@code
 * @Aggregate
 * @Outbox(topic = "persistent://shop/public/orders")
 * public class Order { ... }
 * }</pre>
 * The topic is optional: a mapping of the aggregate type in the configuration ({@code pulsar-outbox.topics.<type>})
 * takes precedence over it, and a default topic pattern applies when neither names one. An annotated aggregate whose
 * topic cannot be resolved fails the application's start.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Outbox {

    /**
     * The Pulsar topic the aggregate's events are published to: a full name
     * ({@code persistent://tenant/namespace/topic}), {@code tenant/namespace/topic}, or a short name in
     * {@code public/default}. Empty means "resolve from configuration".
     */
    String topic() default "";

    /**
     * Keeps an event type of an {@code @Outbox} aggregate inside the service: events whose payload class (or a
     * superclass) carries it are stored in the event store as usual but never written to the outbox, so they are never
     * published. Consumers then see gaps in {@code ce_aggregatesequence} where such events were; the order of the
     * published ones is kept.
     *
     * <pre>{@code
     * @Outbox.Exclude
     * public record CreditCheckRequested(String orderId) { }
     * }</pre>
     */
    @Documented
    @Inherited
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @interface Exclude {
    }

    /**
     * The logical name consumers see for an event type (the message property {@code ce_type}), on the event's payload
     * class: stable when the class is renamed or moved. Without it the name is the class's simple name (for a nested
     * class the innermost name: {@code BankEvents.MoneyDeposited} is {@code MoneyDeposited}); a mapping in the
     * configuration ({@code pulsar-outbox.event-types.<class name>}) takes precedence.
     *
     * <pre>{@code
     * @Outbox.EventType("bank.money-deposited")
     * public record MoneyDeposited(String accountId, long cents) { }
     * }</pre>
     */
    @Documented
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @interface EventType {

        /** The logical name: letters, digits, '.', '_', ':' and '-'. */
        String value();
    }
}
