package io.github.pulsaroutbox.benchmark;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The broker's own share of the latency scenario's figure: a raw producer (no batching, as the relay's producers with
 * claims) sending messages of the same size and keys at the same rate (one property, not the relay's eleven), each timed from just before its send to its receipt by a
 * consumer set up as the latency scenario's (same client, a message listener). No relay, no database: the floor of
 * the commit-to-consumer latency on this machine.
 */
final class RawLatency {

    private RawLatency() {
    }

    /** Sorted send-to-receipt nanoseconds of {@code --latency-seconds} at {@code --latency-rate}, after a warm-up. */
    static long[] measure(Options options, PulsarClient client) throws PulsarClientException, InterruptedException {
        int rate = Math.max(1, options.integer("latency-rate", 1000));
        int seconds = Math.max(1, options.integer("latency-seconds", 60));
        int warmUp = Math.max(0, options.integer("latency-warm-up-seconds", 10));
        int aggregates = options.integer("aggregates", 1000);
        byte[] payload = Payloads.json("x", 0, options.integer("payload-bytes", 500)).getBytes(StandardCharsets.UTF_8);
        String topic = "persistent://public/default/bench-raw-latency-" + UUID.randomUUID();
        int total = rate * (warmUp + seconds);
        Map<Integer, Long> sent = new ConcurrentHashMap<>(total * 2);
        Map<Integer, Long> received = new ConcurrentHashMap<>(total * 2);
        try (Consumer<byte[]> consumer = client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("latency")
                                               .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                               .messageListener((c, message) -> {
                                                   received.putIfAbsent(Integer.parseInt(message.getProperty("n")),
                                                                        System.nanoTime());
                                                   c.acknowledgeAsync(message);
                                               })
                                               .subscribe();
             Producer<byte[]> producer = client.newProducer(Schema.BYTES).topic(topic).enableBatching(false)
                                               .blockIfQueueFull(true).create()) {
            long start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                long wait = start + (long) (i * (1e9 / rate)) - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                sent.put(i, System.nanoTime());
                producer.newMessage().key("a-" + (i % aggregates)).property("n", Integer.toString(i)).value(payload)
                        .sendAsync();
            }
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (received.size() < total && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (received.size() < total) {
                throw new IllegalStateException("Only " + received.size() + " of " + total + " messages arrived");
            }
            long[] latencies = new long[rate * seconds];
            for (int i = 0; i < latencies.length; i++) {
                int n = rate * warmUp + i;
                latencies[i] = received.get(n) - sent.get(n);
            }
            Arrays.sort(latencies);
            return latencies;
        }
    }
}
