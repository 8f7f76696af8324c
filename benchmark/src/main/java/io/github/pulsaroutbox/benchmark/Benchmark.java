package io.github.pulsaroutbox.benchmark;

import io.github.pulsaroutbox.testbroker.PulsarBroker;
import io.github.pulsaroutbox.testbroker.PulsarBrokerLauncher;
import org.apache.pulsar.client.api.PulsarClient;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Measures the outbox against the physical limit of the same broker, side by side in one run: relay throughput
 * against a raw producer (three ways), capture overhead, commit-to-consumer latency and throughput with a large
 * table, and other outbox libraries. Every comparison is the median (min–max) of alternating rounds. Prints a Markdown
 * table and writes it with its charts to {@code --out}. See docs/benchmarks.md and {@link Options#USAGE}.
 */
public final class Benchmark {

    private final Options options;
    private final List<String> table = new ArrayList<>();
    private final List<Chart.Bar> throughputBars = new ArrayList<>();
    private final List<Chart.Bar> latencyBars = new ArrayList<>();
    private final List<Chart.Bar> peersBars = new ArrayList<>();

    private Benchmark(Options options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        Set<String> scenarios = options.scenarios();
        options.db(); // validates --db before the broker starts
        String serviceUrl = options.get("service-url", null);
        OwnBroker broker = null;
        if (serviceUrl == null) {
            log("starting a Pulsar broker (its own JVM)");
            broker = new OwnBroker(Boolean.parseBoolean(options.get("broker-deduplication", "true")));
            serviceUrl = broker.running.serviceUrl();
        }
        try (PulsarClient client = PulsarClient.builder().serviceUrl(serviceUrl).build()) {
            Benchmark benchmark = new Benchmark(options);
            benchmark.broker = broker;
            benchmark.serviceUrl = serviceUrl;
            benchmark.run(client, scenarios);
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
    }

    /** The broker this benchmark started: fixed ports and a data directory of its own, so it can be restarted. */
    private static final class OwnBroker implements RelayThroughput.Broker, AutoCloseable {
        private final Path data;
        private final PulsarBrokerLauncher launcher;
        private PulsarBroker running;

        private OwnBroker(boolean deduplication) throws java.io.IOException {
            data = Files.createTempDirectory("benchmark-broker");
            launcher = PulsarBrokerLauncher.create().quickStart(false).deduplication(deduplication)
                                           .dataDirectory(data)
                                           .ports(PulsarBrokerLauncher.freePort(), PulsarBrokerLauncher.freePort(),
                                                  PulsarBrokerLauncher.freePort(), PulsarBrokerLauncher.freePort());
            running = launcher.start(); // the broker's JVM as in production
        }

        @Override
        public void stop() {
            running.close();
            running = null;
        }

        @Override
        public void start() {
            running = launcher.start();
        }

        @Override
        public void close() throws java.io.IOException {
            if (running != null) {
                running.close();
            }
            try (java.util.stream.Stream<Path> files = Files.walk(data)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    /** The broker this benchmark started, or {@code null} with {@code --service-url}. */
    private OwnBroker broker;
    /** The broker's address, for the peers' JVMs. */
    private String serviceUrl;

    private void run(PulsarClient client, Set<String> scenarios) throws Exception {
        int rounds = Math.max(1, options.integer("rounds", 3));
        table.add("| measurement | result: median (min–max) of " + rounds + " rounds | goal |");
        table.add("| --- | --- | --- |");
        if (scenarios.contains("relay")) {
            relay(client, rounds);
        }
        if (scenarios.contains("capture")) {
            capture(client, rounds);
        }
        if (scenarios.contains("latency")) {
            latency(client);
        }
        if (scenarios.contains("growth")) {
            new GrowthScenario(options, table).run(client, rounds);
        }
        if (scenarios.contains("replicas")) {
            new ReplicasScenario(options, table).run(client, rounds);
        }
        if (scenarios.contains("tailing")) {
            tailing(client, rounds);
        }
        if (scenarios.contains("ceiling")) {
            new CeilingScenario(options, table).run(client, rounds);
        }
        if (scenarios.contains("recovery")) {
            new RecoveryScenario(options, table, broker).run(client, rounds);
        }
        if (scenarios.contains("hot")) {
            new HotAggregateScenario(options, table).run(client, rounds);
        }
        if (scenarios.contains("receive")) {
            new ReceiveScenario(options, table).run(client, rounds);
        }
        if (scenarios.contains("peers")) {
            new PeersScenario(options, table, peersBars, serviceUrl).run(client, rounds);
        }
        memory();
        report();
    }

    private void relay(PulsarClient client, int rounds) throws Exception {
        int rows = options.integer("rows", 100_000);
        log("warm-up (JIT, producers, connection pools): not counted");
        for (RawProducer.Variant variant : RawProducer.Variant.values()) {
            RawProducer.send(options, client, Math.min(rows, 10_000), variant);
        }
        RelayThroughput.drain(options, client, Math.min(rows, 10_000), db -> { });
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            Map<String, Double> thisRound = new LinkedHashMap<>();
            // alternate which side goes first, so drift on a shared machine hits both
            if (round % 2 == 0) {
                thisRound.put("relay", RelayThroughput.drain(options, client, rows, db -> { }));
            }
            for (RawProducer.Variant variant : RawProducer.Variant.values()) {
                thisRound.put(variant.label, RawProducer.send(options, client, rows, variant));
            }
            if (round % 2 == 1) {
                thisRound.put("relay", RelayThroughput.drain(options, client, rows, db -> { }));
            }
            log("relay round " + round + ": " + format(thisRound));
            thisRound.forEach((k, v) -> rates.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
            for (RawProducer.Variant variant : RawProducer.Variant.values()) {
                ratios.computeIfAbsent(variant.label, x -> new ArrayList<>())
                      .add(thisRound.get("relay") / thisRound.get(variant.label));
            }
        }
        rates.forEach((label, values) -> {
            Stats s = Stats.of(values);
            table.add("| throughput, " + label + " (" + rows + " × " + options.integer("payload-bytes", 500)
                              + " B, " + options.integer("aggregates", 1000) + " keys) | "
                              + s.format("%,.0f") + " msg/s | |");
            throughputBars.add(new Chart.Bar(label, s.median(), s.min(), s.max()));
        });
        ratios.forEach((label, values) -> table.add("| relay / " + label + " | " + Stats.of(values).format("%.2f")
                                                            + "× | " + (label.equals(RawProducer.Variant.BATCHED.label)
                ? "(see ceiling)" : "") + " |"));
    }

    /** The tailing dispatch mode: drain of a pre-filled event store, against a raw batched producer. */
    private void tailing(PulsarClient client, int rounds) throws Exception {
        int events = options.integer("rows", 100_000);
        log("tailing warm-up: not counted");
        TailingThroughput.drain(options, client, Math.min(events, 10_000));
        List<Double> rates = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            double raw = RawProducer.send(options, client, events, RawProducer.Variant.BATCHED);
            double tailing = TailingThroughput.drain(options, client, events);
            log(String.format(Locale.ROOT, "tailing round %d: tailing %.0f, raw %.0f msg/s", round, tailing, raw));
            rates.add(tailing);
            ratios.add(tailing / raw);
        }
        table.add("| tailing mode: drain of " + events + " stored events (sequence ids on) | "
                          + Stats.of(rates).format("%,.0f") + " msg/s | |");
        table.add("| tailing / " + RawProducer.Variant.BATCHED.label + " | " + Stats.of(ratios).format("%.2f")
                          + "× | |");
    }

    private void capture(PulsarClient client, int rounds) throws Exception {
        Map<CommandScenarios.Outbox, List<Double>> rates = new LinkedHashMap<>();
        List<Double> captureRatio = new ArrayList<>();
        List<Double> bothRatio = new ArrayList<>();
        List<CommandScenarios.Outbox> order = new ArrayList<>(List.of(CommandScenarios.Outbox.values()));
        log("capture warm-up round: not counted");
        for (CommandScenarios.Outbox outbox : order) {
            CommandScenarios.commandsPerSecond(options, client, outbox);
        }
        for (int round = 1; round <= rounds; round++) {
            Map<CommandScenarios.Outbox, Double> thisRound = new LinkedHashMap<>();
            for (CommandScenarios.Outbox outbox : order) {
                thisRound.put(outbox, CommandScenarios.commandsPerSecond(options, client, outbox));
            }
            java.util.Collections.reverse(order); // alternate which variant goes first
            log("capture round " + round + ": " + thisRound + " commands/s");
            thisRound.forEach((k, v) -> rates.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
            captureRatio.add(thisRound.get(CommandScenarios.Outbox.CAPTURE_ONLY)
                                     / thisRound.get(CommandScenarios.Outbox.OFF));
            bothRatio.add(thisRound.get(CommandScenarios.Outbox.CAPTURE_AND_RELAY)
                                  / thisRound.get(CommandScenarios.Outbox.OFF));
        }
        table.add("| commands/s without the outbox (4 threads, 1 event each) | "
                          + Stats.of(rates.get(CommandScenarios.Outbox.OFF)).format("%,.0f") + " | |");
        table.add("| commands/s with capture only (relay off on this node) | "
                          + Stats.of(rates.get(CommandScenarios.Outbox.CAPTURE_ONLY)).format("%,.0f") + " | |");
        table.add("| commands/s with capture and the relay in the same JVM | "
                          + Stats.of(rates.get(CommandScenarios.Outbox.CAPTURE_AND_RELAY)).format("%,.0f") + " | |");
        table.add("| capture overhead: capture only / without | " + Stats.of(captureRatio).format("%.2f")
                          + "× | ≥ 0.75× |");
        table.add("| capture and relay / without | " + Stats.of(bothRatio).format("%.2f") + "× | |");
    }

    private void latency(PulsarClient client) throws Exception {
        CommandScenarios.Latency latency = CommandScenarios.latency(options, client);
        long[] sorted = latency.sortedNanos();
        double p50 = Stats.percentile(sorted, 50) / 1e6;
        double p95 = Stats.percentile(sorted, 95) / 1e6;
        double p99 = Stats.percentile(sorted, 99) / 1e6;
        double max = sorted[sorted.length - 1] / 1e6;
        table.add(String.format(Locale.ROOT, "| commit → consumer latency at %.0f events/s (%d events): p50 / p95 / "
                                        + "p99 / max | %.1f / %.1f / %.1f / %.1f ms | p50 ≤ 5 ms, p99 ≤ 25 ms |",
                                latency.achievedRate(), latency.events(), p50, p95, p99, max));
        long[] raw = RawLatency.measure(options, client);
        table.add(String.format(Locale.ROOT, "| raw producer → consumer latency at the same rate (no relay, no "
                                        + "database): p50 / p95 / p99 / max | %.1f / %.1f / %.1f / %.1f ms | |",
                                Stats.percentile(raw, 50) / 1e6, Stats.percentile(raw, 95) / 1e6,
                                Stats.percentile(raw, 99) / 1e6, raw[raw.length - 1] / 1e6));
        latencyBars.add(new Chart.Bar("p50", p50, p50, p50));
        latencyBars.add(new Chart.Bar("p95", p95, p95, p95));
        latencyBars.add(new Chart.Bar("p99", p99, p99, p99));
    }

    private void memory() {
        long heapPeak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                heapPeak += pool.getPeakUsage().getUsed();
            }
        }
        String rss = "n/a";
        try {
            rss = Files.readAllLines(Path.of("/proc/self/status")).stream()
                       .filter(line -> line.startsWith("VmHWM:"))
                       .map(line -> line.substring(6).trim())
                       .findFirst().orElse("n/a");
        } catch (Exception e) {
            // not Linux: no RSS figure
        }
        table.add(String.format(Locale.ROOT, "| memory of the benchmark JVM (relay, producers%s; -Xmx as given): "
                                        + "peak heap / peak RSS | %.0f MiB / %s | |",
                                options.db().equals("h2") ? ", the H2 database itself" : "", heapPeak / 1048576.0,
                                rss));
    }

    private void report() throws Exception {
        Path out = Path.of(options.get("out", "docs/benchmarks"));
        Files.createDirectories(out);
        String db = options.db();
        StringBuilder text = new StringBuilder();
        text.append("Benchmark ").append(LocalDate.now()).append(", database ").append(db).append(", ")
            .append(Runtime.getRuntime().availableProcessors()).append(" cores, Java ")
            .append(System.getProperty("java.version")).append(", options ").append(options.describe())
            .append("\n\n");
        table.forEach(line -> text.append(line).append('\n'));
        System.out.println();
        System.out.println(text);
        Files.writeString(out.resolve("results-" + db + ".md"), text);
        if (!throughputBars.isEmpty()) {
            Chart.write(out.resolve("relay-throughput-" + db + ".png"),
                        "Relay vs raw Pulsar producer, same broker, same run (" + db + ")", "msg/s",
                        throughputBars);
        }
        if (!peersBars.isEmpty()) {
            Chart.write(out.resolve("peers-" + db + ".png"),
                        "This relay vs other outbox libraries, same rows, same broker (" + db + ")", "msg/s",
                        peersBars);
        }
        if (!latencyBars.isEmpty()) {
            Chart.write(out.resolve("latency-" + db + ".png"), "Commit → consumer latency (" + db + ")", "ms",
                        latencyBars);
        }
        log("results written to " + out.toAbsolutePath());
    }

    static String format(Map<String, Double> rates) {
        StringBuilder text = new StringBuilder();
        rates.forEach((k, v) -> text.append(String.format(Locale.ROOT, "%s %.0f msg/s; ", k, v)));
        return text.toString();
    }

    static void log(String message) {
        System.out.println("[benchmark] " + message);
    }
}
