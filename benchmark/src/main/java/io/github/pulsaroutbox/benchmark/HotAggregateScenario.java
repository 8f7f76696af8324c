package io.github.pulsaroutbox.benchmark;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.commandhandling.gateway.CommandGateway;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code hot} scenario: one aggregate receiving commands as fast as they commit (four senders; the aggregate is
 * cached, as a service with a hot aggregate would configure it), with capture and the relay in the same JVM. Reports
 * the aggregate's commands/s, the events/s a consumer receives for it (from the first commit to the last receipt), and
 * each event's commit-to-consumer time; checks that the consumer got every event once, in the aggregate's order. The relay keeps one
 * unacknowledged send per aggregate, so delivery is bounded by the broker's round trip, not by the relay's batches.
 */
final class HotAggregateScenario {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Options options;
    private final List<String> table;

    HotAggregateScenario(Options options, List<String> table) {
        this.options = options;
        this.table = table;
    }

    /** One round's figures. */
    private record Round(double commandsPerSecond, double deliveredPerSecond, long[] sortedLagNanos) {
    }

    void run(PulsarClient client, int rounds) throws Exception {
        int commands = Math.max(100, options.integer("hot-commands", 5000));
        Benchmark.log("hot aggregate warm-up: not counted");
        once(client, Math.min(commands, 1000));
        List<Double> commandRates = new ArrayList<>();
        List<Double> deliveryRates = new ArrayList<>();
        List<Double> p50 = new ArrayList<>();
        List<Double> p99 = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            Round r = once(client, commands);
            Benchmark.log(String.format(java.util.Locale.ROOT, "hot aggregate round %d: %.0f commands/s, %.0f "
                                                + "events/s delivered", round, r.commandsPerSecond(),
                                        r.deliveredPerSecond()));
            commandRates.add(r.commandsPerSecond());
            deliveryRates.add(r.deliveredPerSecond());
            p50.add(Stats.percentile(r.sortedLagNanos(), 50) / 1e6);
            p99.add(Stats.percentile(r.sortedLagNanos(), 99) / 1e6);
        }
        table.add("| hot aggregate: commands/s on one aggregate (" + commands + " commands, 4 senders, cached) | "
                          + Stats.of(commandRates).format("%,.0f") + " | reported |");
        table.add("| hot aggregate: events/s a consumer receives for it (first commit → last receipt) | "
                          + Stats.of(deliveryRates).format("%,.0f") + " | reported |");
        table.add("| hot aggregate: commit → consumer p50 / p99 | " + Stats.of(p50).format("%.1f") + " / "
                          + Stats.of(p99).format("%.1f") + " ms | reported |");
    }

    private Round once(PulsarClient client, int commands) throws Exception {
        String account = "hot-" + UUID.randomUUID();
        String topic = "persistent://public/default/bench-hot-" + UUID.randomUUID();
        String note = Payloads.json("x", 0, options.integer("payload-bytes", 500) - 80);
        Map<Long, Long> committed = new ConcurrentHashMap<>(commands * 2);
        Map<Long, Long> received = new ConcurrentHashMap<>(commands * 2);
        AtomicLong lastSequence = new AtomicLong(-1);
        AtomicLong outOfOrder = new AtomicLong();
        AtomicLong duplicates = new AtomicLong();
        try (Consumer<byte[]> consumer = client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("hot")
                                               .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                               .messageListener((c, message) -> {
                                                   long now = System.nanoTime();
                                                   long n = depositNumber(message.getData());
                                                   long sequence = Long.parseLong(message.getProperty(
                                                           OutboxMessageProperties.AGGREGATE_SEQUENCE));
                                                   if (n >= 0 && received.putIfAbsent(n, now) != null) {
                                                       duplicates.incrementAndGet();
                                                   } else if (sequence <= lastSequence.getAndSet(sequence)) {
                                                       outOfOrder.incrementAndGet();
                                                   }
                                                   c.acknowledgeAsync(message);
                                               })
                                               .subscribe();
             BenchDatabase db = BenchDatabase.fresh(options);
             AxonApp app = new AxonApp(db, client, topic, true, (key, nanos) -> {
                 int hash = key.lastIndexOf('#');
                 if (hash > 0) {
                     committed.put(Long.parseLong(key.substring(hash + 1)), nanos);
                 }
             }, true)) {
            CommandGateway gateway = app.gateway();
            gateway.sendAndWait(new BenchAccount.Open(account, note));
            AtomicLong next = new AtomicLong();
            ExecutorService senders = Executors.newFixedThreadPool(4);
            long start = System.nanoTime();
            for (int thread = 0; thread < 4; thread++) {
                senders.execute(() -> {
                    for (long n = next.getAndIncrement(); n < commands; n = next.getAndIncrement()) {
                        gateway.sendAndWait(new BenchAccount.Deposit(account, n, note));
                    }
                });
            }
            senders.shutdown();
            if (!senders.awaitTermination(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("The hot aggregate's commands did not finish in 10 minutes");
            }
            double commandSeconds = (System.nanoTime() - start) / 1e9;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (received.size() < commands && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (received.size() < commands || duplicates.get() > 0 || outOfOrder.get() > 0) {
                throw new IllegalStateException("Hot aggregate: " + received.size() + " of " + commands
                                                        + " events arrived, " + duplicates.get() + " twice, "
                                                        + outOfOrder.get() + " out of the aggregate's order");
            }
            long firstCommit = committed.values().stream().mapToLong(Long::longValue).min().orElseThrow();
            long lastReceipt = received.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            long[] lags = new long[commands];
            for (long n = 0; n < commands; n++) {
                lags[(int) n] = Math.max(0, received.get(n) - committed.get(n));
            }
            java.util.Arrays.sort(lags);
            return new Round(commands / commandSeconds, commands / ((lastReceipt - firstCommit) / 1e9), lags);
        }
    }

    /** The deposit number in an event's JSON payload, or -1 for the account's opening. */
    private static long depositNumber(byte[] payload) {
        try {
            com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(payload).get("n");
            return n == null ? -1 : n.asLong();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
