package io.github.pulsaroutbox.benchmark.peers;

import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Where a peer library's handler sends: one Pulsar producer (the client's defaults, batching on), a synchronous send
 * per record as these libraries' handlers do, keyed by the aggregate id. Counts what the broker acknowledged per row,
 * and the first deliveries that came out of per-key order, so that each figure is reported with what it kept.
 */
final class PeerSink implements AutoCloseable {

    private final Producer<byte[]> producer;
    private final int aggregates;
    private final AtomicIntegerArray deliveries;
    private final AtomicLongArray lastSequence;
    private final AtomicInteger acknowledged = new AtomicInteger();
    private final AtomicInteger outOfOrder = new AtomicInteger();

    PeerSink(PulsarClient client, String topic, int rows, int aggregates) throws PulsarClientException {
        this.producer = client.newProducer(Schema.BYTES).topic(topic).blockIfQueueFull(true)
                              .sendTimeout(0, TimeUnit.SECONDS).create();
        this.aggregates = aggregates;
        this.deliveries = new AtomicIntegerArray(rows);
        this.lastSequence = new AtomicLongArray(aggregates);
        for (int key = 0; key < aggregates; key++) {
            lastSequence.set(key, -1);
        }
    }

    /** Sends one record and waits for the broker's acknowledgement; throws if the send fails (the peer retries). */
    void send(PeerEvent event) throws PulsarClientException {
        producer.newMessage().key(event.accountId()).value(event.json().getBytes(StandardCharsets.UTF_8)).send();
        if (deliveries.getAndIncrement(event.row()) == 0) {
            int key = event.row() % aggregates;
            long sequence = event.row() / aggregates;
            long before = lastSequence.getAndAccumulate(key, sequence, Math::max);
            if (sequence != before + 1) {
                outOfOrder.incrementAndGet();
            }
            acknowledged.incrementAndGet();
        }
    }

    /** Rows acknowledged at least once. */
    int acknowledged() {
        return acknowledged.get();
    }

    int outOfOrder() {
        return outOfOrder.get();
    }

    /** Rows never acknowledged and rows acknowledged more than once. */
    int[] missingAndDuplicates() {
        int missing = 0;
        int duplicates = 0;
        for (int row = 0; row < deliveries.length(); row++) {
            int count = deliveries.get(row);
            if (count == 0) {
                missing++;
            } else if (count > 1) {
                duplicates++;
            }
        }
        return new int[] {missing, duplicates};
    }

    @Override
    public void close() throws PulsarClientException {
        producer.close();
    }
}
