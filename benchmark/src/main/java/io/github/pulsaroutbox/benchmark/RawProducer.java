package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import org.apache.pulsar.client.api.BatcherBuilder;
import org.apache.pulsar.client.api.HashingScheme;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.TypedMessageBuilder;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The physical reference: a plain Pulsar producer sending the same messages (keys, JSON, size) as fast as the broker
 * takes them, asynchronously, with the relay's producer settings. Messages are built before the clock starts.
 */
final class RawProducer {

    /** How the raw side is configured. */
    enum Variant {
        BATCHED("raw, key-based batching"),
        UNBATCHED("raw, no batching"),
        BATCHED_WITH_PROPERTIES("raw, key-based batching + the relay's properties");

        final String label;

        Variant(String label) {
            this.label = label;
        }
    }

    private RawProducer() {
    }

    static double send(Options options, PulsarClient client, int rows, Variant variant) throws PulsarClientException {
        int aggregates = options.integer("aggregates", 1000);
        int payloadBytes = options.integer("payload-bytes", 500);
        List<String> keys = new ArrayList<>(rows);
        List<byte[]> values = new ArrayList<>(rows);
        List<Map<String, String>> properties = new ArrayList<>(rows);
        for (int row = 0; row < rows; row++) {
            String key = Payloads.aggregateId("a-", row, aggregates);
            keys.add(key);
            values.add(Payloads.json(key, row, payloadBytes).getBytes(StandardCharsets.UTF_8));
            properties.add(variant == Variant.BATCHED_WITH_PROPERTIES ? relayLikeProperties(key, row, aggregates)
                                                                      : Map.of());
        }
        try (Producer<byte[]> producer = client.newProducer(Schema.BYTES)
                                               .topic("persistent://public/default/bench-raw-" + UUID.randomUUID())
                                               .hashingScheme(HashingScheme.Murmur3_32Hash)
                                               .enableBatching(variant != Variant.UNBATCHED)
                                               .batcherBuilder(BatcherBuilder.KEY_BASED)
                                               .batchingMaxPublishDelay(1, TimeUnit.MILLISECONDS)
                                               .blockIfQueueFull(true)
                                               .maxPendingMessages(1000)
                                               .sendTimeout(30, TimeUnit.SECONDS)
                                               .create()) {
            long eventTime = System.currentTimeMillis();
            long start = System.nanoTime();
            List<CompletableFuture<MessageId>> sends = new ArrayList<>(rows);
            for (int row = 0; row < rows; row++) {
                TypedMessageBuilder<byte[]> message = producer.newMessage().key(keys.get(row)).value(values.get(row))
                                                              .eventTime(eventTime);
                if (!properties.get(row).isEmpty()) {
                    message.properties(properties.get(row));
                }
                sends.add(message.sendAsync());
            }
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
            return rows / ((System.nanoTime() - start) / 1e9);
        }
    }

    /** The same property names and value sizes as the relay's messages. */
    static Map<String, String> relayLikeProperties(String key, int row, int aggregates) {
        Map<String, String> properties = new HashMap<>(16);
        properties.put(OutboxMessageProperties.SPEC_VERSION, OutboxMessageProperties.SPEC_VERSION_VALUE);
        properties.put(OutboxMessageProperties.ID, UUID.randomUUID().toString());
        properties.put(OutboxMessageProperties.SOURCE, "pulsar-outbox");
        properties.put(OutboxMessageProperties.TYPE, Payloads.EVENT_TYPE);
        properties.put(OutboxMessageProperties.TIME, Instant.now().toString());
        properties.put(OutboxMessageProperties.SUBJECT, key);
        properties.put(OutboxMessageProperties.DATA_CONTENT_TYPE, OutboxMessageProperties.DATA_CONTENT_TYPE_VALUE);
        properties.put(OutboxMessageProperties.SCHEMA_VERSION, "0");
        properties.put(OutboxMessageProperties.AGGREGATE_TYPE, Payloads.AGGREGATE_TYPE);
        properties.put(OutboxMessageProperties.AGGREGATE_ID, key);
        properties.put(OutboxMessageProperties.AGGREGATE_SEQUENCE, Long.toString(Payloads.sequence(row, aggregates)));
        return properties;
    }
}
