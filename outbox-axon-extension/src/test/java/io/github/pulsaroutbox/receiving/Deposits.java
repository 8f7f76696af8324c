package io.github.pulsaroutbox.receiving;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import org.axonframework.serialization.json.JacksonSerializer;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The receiving tests' events: deposits to accounts, published as the outbox's relay publishes them. */
final class Deposits {

    /** The receiving service's class for the producer's {@code Deposited} events. */
    public record Deposited(String account, long amount) {
    }

    private Deposits() {
    }

    /** A converter that reads {@code Deposited} messages. */
    static OutboxMessageConverter converter() {
        return OutboxMessageConverter.builder().serializer(JacksonSerializer.defaultSerializer())
                                     .types(Deposited.class).build();
    }

    /** The outbox row of a deposit of {@code amount} to {@code account}, its event {@code sequence}. */
    static OutboxEntry deposit(String account, long sequence, long amount) {
        return OutboxEntry.pending(account + "-" + sequence, Instant.now(), Deposited.class.getName(), "Account",
                                   account, sequence,
                                   "{\"account\":\"" + account + "\",\"amount\":" + amount + "}", "{}", "0", null);
    }

    /**
     * Publishes the rows in list order (per key, the broker stores them in that order) and waits for every
     * acknowledgement. The first send opens the producer and is awaited alone: sends chained on a producer's creation
     * may go in any order.
     */
    static void publish(PulsarOutboxPublisher publisher, String topic, List<OutboxEntry> rows) {
        publisher.publish(rows.get(0), topic).join();
        CompletableFuture.allOf(rows.subList(1, rows.size()).stream()
                                    .map(row -> publisher.publish(row, topic))
                                    .toArray(CompletableFuture[]::new)).join();
    }
}
