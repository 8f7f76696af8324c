package io.github.pulsaroutbox.test;

import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.client.api.Schema;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * What reached an outbox topic, for a test's assertions: every message from the topic's earliest one, in the order
 * the broker stored them (per key, the order consumers see), read without a subscription (a reader leaves no state on
 * the broker). Copies are kept: an assertion that an aggregate's events arrived exactly once and in order sees them.
 * <pre>{@code
 * List<OutboxTopic.Event> events = OutboxTopic.of(pulsarClient, "persistent://public/default/orders")
 *                                             .awaitEventsOf(orderId, 3, Duration.ofSeconds(60));
 * assertThat(events).extracting(OutboxTopic.Event::type).containsExactly("OrderPlaced", "LineAdded", "LineAdded");
 * }</pre>
 */
public final class OutboxTopic {

    /**
     * A message as the outbox sent it.
     *
     * @param id         {@code ce_id}, the event's identifier
     * @param type       {@code ce_type}, the logical event type name
     * @param aggregate  the message key, the aggregate identifier
     * @param sequence   {@code ce_aggregatesequence}, the event's sequence in its aggregate ({@code -1} if absent)
     * @param payload    the payload, JSON text
     * @param properties every message property
     */
    public record Event(String id, String type, String aggregate, long sequence, String payload,
                        Map<String, String> properties) {
    }

    private final PulsarClient client;
    private final String topic;

    private OutboxTopic(PulsarClient client, String topic) {
        this.client = Objects.requireNonNull(client, "client");
        this.topic = Objects.requireNonNull(topic, "topic");
    }

    /** The topic, read with this client. */
    public static OutboxTopic of(PulsarClient client, String topic) {
        return new OutboxTopic(client, topic);
    }

    /**
     * The events of one aggregate on the topic, in the order stored, once at least {@code count} arrived.
     *
     * @throws AssertionError when fewer than {@code count} arrived within {@code timeout}, naming those that did
     */
    public List<Event> awaitEventsOf(String aggregateId, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Event> events = new ArrayList<>();
        try (Reader<byte[]> reader = client.newReader(Schema.BYTES).topic(topic).startMessageId(MessageId.earliest)
                                           .create()) {
            while (events.size() < count) {
                long left = deadline - System.nanoTime();
                Message<byte[]> message = left <= 0 ? null : reader.readNext((int) Math.max(1,
                        TimeUnit.NANOSECONDS.toMillis(left)), TimeUnit.MILLISECONDS);
                if (message == null) {
                    throw new AssertionError("Expected " + count + " event(s) of " + aggregateId + " on " + topic
                                                     + " within " + timeout + ", got " + events.size() + ": "
                                                     + events);
                }
                if (aggregateId.equals(message.getKey())) {
                    events.add(event(message));
                }
            }
            return events;
        } catch (java.io.IOException e) { // PulsarClientException, also from closing the reader
            throw new IllegalStateException("Reading " + topic + " failed: " + e.getMessage(), e);
        }
    }

    private static Event event(Message<byte[]> message) {
        String sequence = message.getProperty("ce_aggregatesequence");
        return new Event(message.getProperty("ce_id"), message.getProperty("ce_type"), message.getKey(),
                         sequence == null ? -1 : Long.parseLong(sequence),
                         new String(message.getValue(), StandardCharsets.UTF_8), Map.copyOf(message.getProperties()));
    }
}
