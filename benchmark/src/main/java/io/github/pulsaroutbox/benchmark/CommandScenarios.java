package io.github.pulsaroutbox.benchmark;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
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
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** The scenarios that run commands through Axon: capture overhead and commit-to-consumer latency. */
final class CommandScenarios {

    private static final int THREADS = 4;

    private CommandScenarios() {
    }

    /** What runs beside the commands. */
    enum Outbox {
        OFF, CAPTURE_ONLY, CAPTURE_AND_RELAY
    }

    /** Commands per second through the command gateway, without the outbox, with capture only, or with both. */
    static double commandsPerSecond(Options options, PulsarClient client, Outbox outbox) throws Exception {
        return commandsPerSecond(options, client, outbox, db -> { });
    }

    /** As {@link #commandsPerSecond(Options, PulsarClient, Outbox)}, on a database {@code setUp} filled first. */
    static double commandsPerSecond(Options options, PulsarClient client, Outbox outbox,
                                    java.util.function.Consumer<BenchDatabase> setUp) throws Exception {
        int commands = options.integer("capture-commands", 20000);
        String note = Payloads.json("x", 0, options.integer("payload-bytes", 500) - 60);
        String topic = outbox == Outbox.OFF ? null : "persistent://public/default/bench-capture-" + UUID.randomUUID();
        try (BenchDatabase db = prepared(options, setUp);
             AxonApp app = new AxonApp(db, client, topic, outbox == Outbox.CAPTURE_AND_RELAY, null)) {
            CommandGateway gateway = app.gateway();
            for (int i = 0; i < 500; i++) { // warm-up: class loading, JIT, connection pool
                gateway.sendAndWait(new BenchAccount.Open("warm-" + UUID.randomUUID(), note));
            }
            ExecutorService threads = Executors.newFixedThreadPool(THREADS);
            try {
                long start = System.nanoTime();
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    done.add(threads.submit(() -> {
                        for (int i = 0; i < commands / THREADS; i++) {
                            gateway.sendAndWait(new BenchAccount.Open(UUID.randomUUID().toString(), note));
                        }
                    }));
                }
                for (Future<?> future : done) {
                    future.get();
                }
                return (commands / THREADS * THREADS) / ((System.nanoTime() - start) / 1e9);
            } finally {
                threads.shutdownNow();
            }
        }
    }

    private static BenchDatabase prepared(Options options, java.util.function.Consumer<BenchDatabase> setUp) {
        BenchDatabase db = BenchDatabase.fresh(options);
        setUp.accept(db);
        db.checkpoint();
        return db;
    }

    /** The outcome of the latency run. */
    record Latency(long[] sortedNanos, double achievedRate, int events) {
    }

    /**
     * Commands at a steady rate; for each event, the time from its unit of work's commit to its receipt by a
     * consumer of the topic (same JVM, same clock). A warm-up phase at the same rate ({@code --latency-warm-up-seconds},
     * default 10) comes first and is not counted: the relay's start (claims, producers) and the JIT; the measured phase
     * starts once every warm-up event arrived.
     */
    static Latency latency(Options options, PulsarClient client) throws Exception {
        int rate = Math.max(1, options.integer("latency-rate", 1000));
        int seconds = Math.max(1, options.integer("latency-seconds", 60));
        int warmUp = Math.max(0, options.integer("latency-warm-up-seconds", 10));
        String note = Payloads.json("x", 0, options.integer("payload-bytes", 500) - 60);
        String topic = "persistent://public/default/bench-latency-" + UUID.randomUUID();
        Map<String, Long> committed = new ConcurrentHashMap<>(rate * (seconds + warmUp) * 2);
        Map<String, Long> received = new ConcurrentHashMap<>(rate * (seconds + warmUp) * 2);
        try (Consumer<byte[]> consumer = client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("latency")
                                               .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                               .messageListener((c, message) -> {
                                                   received.putIfAbsent(message.getKey(), System.nanoTime());
                                                   c.acknowledgeAsync(message);
                                               })
                                               .subscribe();
             BenchDatabase db = BenchDatabase.fresh(options);
             AxonApp app = new AxonApp(db, client, topic, true, committed::put)) {
            CommandGateway gateway = app.gateway();
            awaitAll(steady(gateway, note, "w-", rate, warmUp), received);
            long start = System.nanoTime();
            List<String> ids = steady(gateway, note, "l-", rate, seconds);
            double achieved = ids.size() / ((System.nanoTime() - start) / 1e9);
            awaitAll(ids, received);
            long[] latencies = new long[ids.size()];
            for (int i = 0; i < ids.size(); i++) {
                String id = ids.get(i);
                latencies[i] = Math.max(0, received.get(id) - committed.get(id));
            }
            logSlowSeconds(latencies, rate);
            java.util.Arrays.sort(latencies);
            return new Latency(latencies, achieved, ids.size());
        } catch (PulsarClientException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Opens {@code rate × seconds} accounts at a steady rate (16 senders), each once committed; their ids. */
    private static List<String> steady(CommandGateway gateway, String note, String prefix, int rate, int seconds)
            throws InterruptedException {
        int total = rate * seconds;
        ExecutorService senders = Executors.newFixedThreadPool(16);
        List<String> ids = new ArrayList<>(total);
        long start = System.nanoTime();
        try {
            for (int i = 0; i < total; i++) {
                long due = start + (long) (i * (1e9 / rate));
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                String id = prefix + i + "-" + UUID.randomUUID();
                ids.add(id);
                senders.execute(() -> gateway.sendAndWait(new BenchAccount.Open(id, note)));
            }
            senders.shutdown();
            senders.awaitTermination(5, TimeUnit.MINUTES);
        } finally {
            senders.shutdownNow();
        }
        return ids;
    }

    private static void awaitAll(List<String> ids, Map<String, Long> received) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!received.keySet().containsAll(ids)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Only " + ids.stream().filter(received::containsKey).count() + " of "
                                                        + ids.size() + " events arrived");
            }
            Thread.sleep(20);
        }
    }

    /** Logs each second of the run (by command) whose slowest event took over 50 ms: where the tail comes from. */
    private static void logSlowSeconds(long[] latencies, int rate) {
        for (int first = 0; first < latencies.length; first += rate) {
            long[] second = java.util.Arrays.copyOfRange(latencies, first, Math.min(latencies.length, first + rate));
            java.util.Arrays.sort(second);
            if (second[second.length - 1] > TimeUnit.MILLISECONDS.toNanos(50)) {
                Benchmark.log(String.format(java.util.Locale.ROOT, "latency: second %d: p50 %.1f ms, max %.1f ms",
                                            first / rate, Stats.percentile(second, 50) / 1e6,
                                            second[second.length - 1] / 1e6));
            }
        }
    }
}
