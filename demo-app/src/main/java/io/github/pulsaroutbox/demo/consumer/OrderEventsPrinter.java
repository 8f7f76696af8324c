package io.github.pulsaroutbox.demo.consumer;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Stands in for "another service": a Pulsar consumer (Key_Shared, so order per key is kept even with several
 * consumers) that prints every order event arriving from the outbox.
 */
@Component
public class OrderEventsPrinter implements SmartLifecycle {

    private static final Logger logger = LoggerFactory.getLogger("pulsar-consumer");

    private final PulsarClient pulsarClient;
    private final String topic;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private volatile Consumer<byte[]> consumer;

    public OrderEventsPrinter(PulsarClient pulsarClient, @Value("${pulsar-outbox.topics.Order}") String topic) {
        this.pulsarClient = pulsarClient;
        this.topic = topic;
    }

    /** An event as the consumer saw it. */
    public record Received(String key, long sequence, String type, String schemaVersion, String payload) {
    }

    /** Everything received so far, in arrival order. */
    public List<Received> received() {
        return List.copyOf(received);
    }

    /**
     * Waits until {@code count} events of the given keys arrived, or the timeout passed.
     *
     * @return the number of events of those keys received
     */
    public long awaitReceived(Collection<String> keys, long count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (received) {
            long seen;
            while ((seen = received.stream().filter(r -> keys.contains(r.key())).count()) < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                received.wait(Math.max(1, left / 1_000_000));
            }
            return seen;
        }
    }

    @Override
    public void start() {
        try {
            consumer = pulsarClient.newConsumer(Schema.BYTES)
                                   .topic(topic)
                                   .subscriptionName("demo-printer")
                                   .subscriptionType(SubscriptionType.Key_Shared)
                                   .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                   .messageListener(this::onMessage)
                                   .subscribe();
        } catch (PulsarClientException e) {
            throw new IllegalStateException("Could not subscribe to " + topic, e);
        }
    }

    private void onMessage(Consumer<byte[]> consumer, Message<byte[]> message) {
        String type = message.getProperty("ce_type");
        Received event = new Received(message.getKey(),
                                      Long.parseLong(message.getProperty("ce_aggregatesequence")),
                                      type.substring(type.lastIndexOf('$') + 1),
                                      message.getProperty("ce_schemaversion"),
                                      new String(message.getValue(), StandardCharsets.UTF_8));
        synchronized (received) {
            received.add(event);
            received.notifyAll();
        }
        logger.info("received {} #{} {} (v{}) {}", event.key(), event.sequence(), event.type(),
                    event.schemaVersion(), event.payload());
        consumer.acknowledgeAsync(message);
    }

    @Override
    public void stop() {
        Consumer<byte[]> current = consumer;
        consumer = null;
        if (current != null) {
            current.closeAsync();
        }
    }

    @Override
    public boolean isRunning() {
        return consumer != null;
    }
}
