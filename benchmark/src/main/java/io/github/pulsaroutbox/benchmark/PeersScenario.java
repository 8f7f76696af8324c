package io.github.pulsaroutbox.benchmark;

import org.apache.pulsar.client.api.PulsarClient;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code peers} scenario: other outbox libraries draining the same rows (count, keys, JSON size) to the same
 * broker from the same kind of database, beside this relay (claims and sequence ids on), alternating per round. Each
 * library runs in a JVM of its own ({@code benchmark-peers}: namastack outbox is built on Spring Boot 4), is checked
 * for missing, duplicate and out-of-order deliveries, and is reported with the guarantee it keeps. Adds its rows to
 * the benchmark's results table.
 */
final class PeersScenario {

    /** The peers, and whether each keeps per-key order (the yardstick of the goal). */
    private static final Map<String, Boolean> PEERS = Map.of("gruelbox", false, "namastack", true);
    private static final String RELAY = "this relay (claims + sequence ids)";

    private final Options options;
    private final List<String> table;
    private final List<Chart.Bar> bars;
    private final String serviceUrl;

    /** @param bars where the chart's bars go: each side's median (min–max) */
    PeersScenario(Options options, List<String> table, List<Chart.Bar> bars, String serviceUrl) {
        this.options = options;
        this.table = table;
        this.bars = bars;
        this.serviceUrl = serviceUrl;
    }

    /** One finished round of a peer, as its JVM reported it. */
    record PeerRound(double rate, int missing, int duplicates, int outOfOrder, String guarantee) {
        static PeerRound parse(String line) {
            Map<String, String> fields = new LinkedHashMap<>();
            for (String field : line.substring("PEER_RESULT ".length()).split(" ")) {
                fields.put(field.substring(0, field.indexOf('=')), field.substring(field.indexOf('=') + 1));
            }
            return new PeerRound(Double.parseDouble(fields.get("rate")), Integer.parseInt(fields.get("missing")),
                                 Integer.parseInt(fields.get("duplicates")),
                                 Integer.parseInt(fields.get("outOfOrder")),
                                 fields.get("guarantee").replace('_', ' '));
        }
    }

    void run(PulsarClient client, int rounds) throws Exception {
        if (options.mariaDb()) {
            Benchmark.log("peers: skipped on MariaDB (the peers run on H2 and PostgreSQL)");
            return;
        }
        Path jar = Path.of(options.get("peers-jar", "benchmark-peers/target/benchmark-peers.jar"));
        if (!Files.isRegularFile(jar)) {
            String missing = "peers: " + jar.toAbsolutePath() + " is missing; build it with ./mvnw -q -DskipTests "
                    + "-pl benchmark,benchmark-peers -am package, or give --peers-jar=PATH";
            if (options.has("scenarios")) {
                throw new IllegalStateException(missing); // asked for by name
            }
            Benchmark.log(missing + ": skipped");
            return;
        }
        int rows = options.integer("rows", 100_000);
        List<String> order = new ArrayList<>(List.of(RELAY, "gruelbox", "namastack"));
        Benchmark.log("peers warm-up: not counted");
        RelayThroughput.drain(options, client, Math.min(rows, 10_000), db -> { });
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, String> guarantees = new LinkedHashMap<>();
        guarantees.put(RELAY, Boolean.parseBoolean(options.get("relay-claims", "true"))
                              ? "ordered per key, effectively once" : "ordered per key, at least once");
        List<Double> leads = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            Map<String, Double> thisRound = new LinkedHashMap<>();
            for (String side : order) {
                if (side.equals(RELAY)) {
                    thisRound.put(side, RelayThroughput.drain(options, client, rows, db -> { }));
                } else {
                    PeerRound result = peer(jar, side, rows);
                    thisRound.put(side, result.rate());
                    guarantees.put(side, result.guarantee());
                    if (result.missing() > 0 || (PEERS.get(side) && result.outOfOrder() > 0)) {
                        throw new IllegalStateException("peers: " + side + " broke its own guarantee: " + result);
                    }
                }
            }
            java.util.Collections.reverse(order); // alternate which side goes first
            Benchmark.log("peers round " + round + ": " + Benchmark.format(thisRound));
            thisRound.forEach((k, v) -> rates.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
            double fastestOrdered = PEERS.entrySet().stream().filter(Map.Entry::getValue)
                                         .mapToDouble(peer -> thisRound.get(peer.getKey())).max().orElseThrow();
            leads.add(thisRound.get(RELAY) / fastestOrdered);
        }
        rates.forEach((side, values) -> {
            Stats stats = Stats.of(values);
            table.add("| peers: " + label(side) + " (" + guarantees.get(side) + "; " + rows + " rows) | "
                              + stats.format("%,.0f") + " msg/s | |");
            bars.add(new Chart.Bar(side.equals(RELAY) ? "this relay" : side, stats.median(), stats.min(),
                                   stats.max()));
        });
        table.add("| peers: this relay / the fastest peer that keeps per-key order | " + Stats.of(leads).format("%.2f")
                          + "× | ≥ 5× |");
    }

    private String label(String side) {
        int workers = options.integer("peer-workers", 16);
        return switch (side) {
            case "gruelbox" -> "gruelbox transaction-outbox 4.2.268, " + workers + " workers";
            case "namastack" -> "namastack outbox 1.6.0, " + workers + " workers, 1,000 keys per 25 ms poll";
            default -> side;
        };
    }

    private PeerRound peer(Path jar, String peer, int rows) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g", "-jar",
                jar.toString(), "--peer=" + peer, "--db=" + options.db(), "--rows=" + rows,
                "--aggregates=" + options.integer("aggregates", 1000),
                "--payload-bytes=" + options.integer("payload-bytes", 500),
                "--workers=" + options.integer("peer-workers", 16), "--service-url=" + serviceUrl));
        if (options.postgres()) {
            command.add("--jdbc-url=" + options.get("jdbc-url", "jdbc:postgresql://127.0.0.1:5432/test"));
        }
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        PeerRound result = null;
        try {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                                                                               StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.startsWith("PEER_RESULT ")) {
                        result = PeerRound.parse(line);
                    }
                }
            }
            if (!process.waitFor(1, TimeUnit.MINUTES) || process.exitValue() != 0 || result == null) {
                throw new IllegalStateException("peers: " + peer + " ended without a result (exit code "
                                                        + (process.isAlive() ? "none" : process.exitValue()) + ")");
            }
        } finally {
            process.destroyForcibly(); // never left running: the peer's JVM ends with its round
        }
        Benchmark.log(String.format(Locale.ROOT, "peers: %s %.0f msg/s, %d missing, %d duplicates, %d out of order",
                                    peer, result.rate(), result.missing(), result.duplicates(),
                                    result.outOfOrder()));
        return result;
    }
}
