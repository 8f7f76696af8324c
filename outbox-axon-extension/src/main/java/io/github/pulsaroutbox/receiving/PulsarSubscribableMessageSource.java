package io.github.pulsaroutbox.receiving;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionType;
import org.axonframework.common.Registration;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.SubscribableMessageSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.axonframework.common.BuilderUtils.assertNonNull;
import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * Pulsar topics as an Axon {@link SubscribableMessageSource}, for subscribing event processors: a consumer with a
 * {@code Key_Shared} subscription hands each message, as the event the outbox published
 * ({@link OutboxMessageConverter}), to the subscribed processors, and acknowledges it only after they returned, that
 * is after a subscribing processor's unit of work committed.
 * <p>
 * Guarantees: per aggregate (the message key), events reach the processors in the order they were published, also
 * across the service's replicas (each key is delivered to one consumer of the subscription at a time); a message is
 * acknowledged only after every processor handled it, so a crash or a failure delivers it again (at least once: pair
 * it with an {@code InboxInterceptor} to apply each event once). A failure (the processor throws, the payload cannot
 * be read) is retried in place with back-off, and the consumer takes no later message meanwhile, so order is kept
 * through failures. Messages that are not events of this library follow the {@link ForeignMessages} policy.
 * Processors see the failures of their handlers only with a propagating error handler (Axon's default for event
 * handlers logs and continues).
 */
public final class PulsarSubscribableMessageSource implements SubscribableMessageSource<EventMessage<?>> {

    private static final Logger logger = LoggerFactory.getLogger(PulsarSubscribableMessageSource.class);

    private final PulsarClient client;
    private final List<String> topics;
    private final String subscription;
    private final OutboxMessageConverter converter;
    private final ForeignMessages foreignMessages;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final List<java.util.function.Consumer<List<? extends EventMessage<?>>>> processors =
            new CopyOnWriteArrayList<>();
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private volatile Consumer<byte[]> consumer;
    private volatile Thread worker;
    private volatile boolean running;

    private PulsarSubscribableMessageSource(Builder builder) {
        builder.validate();
        this.client = builder.client;
        this.topics = List.copyOf(builder.topics);
        this.subscription = builder.subscription;
        this.converter = builder.converter;
        this.foreignMessages = builder.foreignMessages;
        this.initialBackoff = builder.initialBackoff;
        this.maxBackoff = builder.maxBackoff;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Subscribes a processor; the first subscription starts the consumer, cancelling the last one stops it.
     *
     * @throws IllegalStateException when the consumer cannot be created (the broker unreachable, say)
     */
    @Override
    public synchronized Registration subscribe(
            java.util.function.Consumer<List<? extends EventMessage<?>>> messageProcessor) {
        processors.add(messageProcessor);
        if (!running) {
            start();
        }
        return () -> {
            boolean removed = processors.remove(messageProcessor);
            if (processors.isEmpty()) {
                stop();
            }
            return removed;
        };
    }

    /** Events handed to the processors and acknowledged. */
    public long handled() {
        return handled.get();
    }

    /** Messages acknowledged without being handed on ({@link ForeignMessages#SKIP}). */
    public long skipped() {
        return skipped.get();
    }

    /** Whether a processor subscribed, so that the source consumes (its consumer created and not stopped). */
    public boolean consuming() {
        return running;
    }

    /** Whether the source consumes and its consumer is connected to the broker now. */
    public boolean connected() {
        Consumer<byte[]> open = consumer;
        return running && open != null && open.isConnected();
    }

    /** The subscription this source consumes under. */
    public String subscription() {
        return subscription;
    }

    private synchronized void start() {
        try {
            consumer = client.newConsumer(Schema.BYTES)
                             .topics(topics)
                             .subscriptionName(subscription)
                             .subscriptionType(SubscriptionType.Key_Shared)
                             .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                             .subscribe();
        } catch (PulsarClientException e) {
            throw new IllegalStateException("Cannot subscribe " + subscription + " to " + topics, e);
        }
        running = true;
        Thread thread = new Thread(this::consume, "pulsar-source-" + subscription);
        thread.setDaemon(true);
        worker = thread;
        thread.start();
    }

    /** Stops taking messages (the one in hand is finished or left unacknowledged) and closes the consumer. */
    public synchronized void stop() {
        running = false;
        Thread thread = worker;
        if (thread != null) { // not interrupted: a unit of work in hand (JDBC, H2's files) must not see an interrupt
            try {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            worker = null;
        }
        Consumer<byte[]> open = consumer;
        if (open != null) {
            try {
                open.close();
            } catch (PulsarClientException e) {
                logger.warn("Closing the consumer of {} failed", subscription, e);
            }
            consumer = null;
        }
    }

    private void consume() {
        while (running) {
            Message<byte[]> message;
            try {
                message = consumer.receive(200, TimeUnit.MILLISECONDS);
            } catch (PulsarClientException e) {
                if (running) {
                    logger.warn("Receiving from {} failed; trying again", topics, e);
                    pause(initialBackoff);
                }
                continue;
            }
            if (message != null) {
                deliver(message);
            }
        }
    }

    /** Hands the message on until that succeeds (backing off), then acknowledges it. */
    private void deliver(Message<byte[]> message) {
        Duration backoff = initialBackoff;
        for (int attempt = 1; running; attempt++) {
            try {
                if (handle(message)) {
                    consumer.acknowledge(message);
                    return;
                }
            } catch (Exception e) {
                logger.warn("Handling message {} of {} (ce_id {}) failed (attempt {}); trying again in {} ms",
                            message.getMessageId(), message.getTopicName(), message.getProperty("ce_id"), attempt,
                            backoff.toMillis(), e);
            }
            pause(backoff);
            backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
        }
    }

    /** Whether the message may be acknowledged: handed to every processor, or skipped by the policy. */
    private boolean handle(Message<byte[]> message) {
        Optional<DomainEventMessage<?>> event = converter.convert(message);
        if (event.isEmpty()) {
            logger.warn("Message {} of {} is not an event this service reads (ce_type {}): {}", message.getMessageId(),
                        message.getTopicName(), message.getProperty("ce_type"),
                        foreignMessages == ForeignMessages.SKIP ? "skipped" : "held until a mapping is deployed");
            if (foreignMessages == ForeignMessages.SKIP) {
                skipped.incrementAndGet();
                return true;
            }
            return false;
        }
        List<EventMessage<?>> batch = new ArrayList<>(1);
        batch.add(event.get());
        for (java.util.function.Consumer<List<? extends EventMessage<?>>> processor : processors) {
            processor.accept(batch);
        }
        handled.incrementAndGet();
        return true;
    }

    /** Sleeps {@code duration}, in slices of at most 100 ms so that {@link #stop()} is never kept waiting longer. */
    private void pause(Duration duration) {
        long until = System.nanoTime() + duration.toNanos();
        try {
            for (long left = duration.toNanos(); running && left > 0; left = until - System.nanoTime()) {
                Thread.sleep(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /**
     * Builds a {@link PulsarSubscribableMessageSource}. Required: the client, at least one topic, the subscription
     * name (one per receiving service: its replicas share it) and the converter.
     */
    public static final class Builder extends SourceBuilder<Builder> {
        private String subscription;
        private ForeignMessages foreignMessages = ForeignMessages.SKIP;
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(10);

        private Builder() {
        }

        /** The subscription, shared by the receiving service's replicas ({@code Key_Shared}). Required. */
        public Builder subscription(String subscription) {
            assertThat(subscription, s -> s != null && !s.isBlank(), "subscription may not be blank");
            this.subscription = subscription;
            return this;
        }

        /** What to do with messages that are not events this service reads (default {@link ForeignMessages#SKIP}). */
        public Builder foreignMessages(ForeignMessages foreignMessages) {
            assertNonNull(foreignMessages, "foreignMessages may not be null");
            this.foreignMessages = foreignMessages;
            return this;
        }

        /** The back-off between attempts at a failing message: from {@code initial}, doubling, up to {@code max}. */
        public Builder backoff(Duration initial, Duration max) {
            assertThat(initial, d -> d != null && !d.isNegative() && !d.isZero(), "initial back-off must be positive");
            assertThat(max, d -> d != null && d.compareTo(initial) >= 0, "max back-off must be at least the initial");
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        public PulsarSubscribableMessageSource build() {
            return new PulsarSubscribableMessageSource(this);
        }

        @Override
        void validate() {
            super.validate();
            assertNonNull(subscription, "The subscription is a hard requirement and should be provided");
        }
    }
}
