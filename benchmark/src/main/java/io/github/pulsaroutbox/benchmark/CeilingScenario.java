package io.github.pulsaroutbox.benchmark;

import org.apache.pulsar.client.api.PulsarClient;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code ceiling} scenario, what the relay's own work allows: the relay draining to a publisher that acknowledges
 * at once (no broker), with and without segment claims, against the raw producer and the relay with the broker in the
 * same round. No relay that does the same reads and writes of the outbox on this machine can go faster than the first
 * figures. Adds its rows, the relay against the combined limit, and the share of the machine's cores busy during the
 * two drains with claims ({@link CoreUsage}), to the benchmark's results table.
 */
final class CeilingScenario {

    private final Options options;
    private final List<String> table;

    CeilingScenario(Options options, List<String> table) {
        this.options = options;
        this.table = table;
    }

    void run(PulsarClient client, int rounds) throws Exception {
        int rows = options.integer("rows", 100_000);
        Benchmark.log("ceiling warm-up: not counted");
        for (int warmUp = 0; warmUp < 3; warmUp++) { // the broker's JIT: raw rates rise over the first 300,000 sends
            RawProducer.send(options, client, rows, RawProducer.Variant.BATCHED);
        }
        RelayThroughput.drain(options, client, Math.min(rows, 10_000), db -> { }, true, 1, true);
        RelayThroughput.drain(options, client, Math.min(rows, 10_000), db -> { }, false, 1, true);
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        Map<String, List<Double>> busy = new LinkedHashMap<>();
        for (int round = 1; round <= rounds; round++) {
            Map<String, Double> thisRound = new LinkedHashMap<>();
            CoreUsage toBroker = new CoreUsage();
            CoreUsage noBroker = new CoreUsage();
            thisRound.put(RawProducer.Variant.BATCHED.label,
                          RawProducer.send(options, client, rows, RawProducer.Variant.BATCHED));
            thisRound.put("relay to the broker (claims + sequence ids)",
                          RelayThroughput.drain(options, client, rows, db -> { }, true, 1, false,
                                                db -> toBroker.measure()));
            thisRound.put("relay, no broker, no claims",
                          RelayThroughput.drain(options, client, rows, db -> { }, false, 1, true));
            thisRound.put("relay, no broker, claims + sequence ids",
                          RelayThroughput.drain(options, client, rows, db -> { }, true, 1, true,
                                                db -> noBroker.measure()));
            Benchmark.log(String.format(Locale.ROOT, "ceiling round %d: %scores busy: %.0f %% to the broker, %.0f %% "
                                                + "without", round, Benchmark.format(thisRound),
                                        100 * toBroker.busyShare(), 100 * noBroker.busyShare()));
            addShare(busy, CORES_TO_BROKER, toBroker);
            addShare(busy, CORES_NO_BROKER, noBroker);
            thisRound.forEach((label, rate) -> rates.computeIfAbsent(label, x -> new ArrayList<>()).add(rate));
            double raw = thisRound.get(RawProducer.Variant.BATCHED.label);
            double noClaims = thisRound.get("relay, no broker, no claims");
            double claims = thisRound.get("relay, no broker, claims + sequence ids");
            ratios.computeIfAbsent("relay, no broker, no claims / " + RawProducer.Variant.BATCHED.label,
                                   x -> new ArrayList<>()).add(noClaims / raw);
            ratios.computeIfAbsent("relay, no broker, claims + sequence ids / " + RawProducer.Variant.BATCHED.label,
                                   x -> new ArrayList<>()).add(claims / raw);
            ratios.computeIfAbsent("relay, no broker: claims + sequence ids / no claims",
                                   x -> new ArrayList<>()).add(claims / noClaims);
            // the rate if the relay's database work and the broker's work ran one after the other on these cores
            double combined = 1 / (1 / claims + 1 / raw);
            ratios.computeIfAbsent(COMBINED_LIMIT, x -> new ArrayList<>())
                  .add(thisRound.get("relay to the broker (claims + sequence ids)") / combined);
        }
        rates.forEach((label, values) -> table.add("| ceiling: " + label + " (" + rows + " rows) | "
                                                          + Stats.of(values).format("%,.0f") + " msg/s | |"));
        ratios.forEach((label, values) -> table.add("| ceiling: " + label + " | " + Stats.of(values).format("%.2f")
                                                           + "× | " + (label.equals(COMBINED_LIMIT) ? "≥ 0.8×" : "")
                                                           + " |"));
        busy.forEach((label, values) -> table.add("| ceiling: " + label + " | "
                                                         + Stats.of(values).format("%.0f") + " % | "
                                                         + (label.equals(CORES_TO_BROKER) ? "no core idle" : "")
                                                         + " |"));
    }

    /** Adds the interval's busy share in percent, unless it could not be read (not Linux). */
    private static void addShare(Map<String, List<Double>> busy, String label, CoreUsage usage) {
        if (!Double.isNaN(usage.busyShare())) {
            busy.computeIfAbsent(label, x -> new ArrayList<>()).add(100 * usage.busyShare());
        }
    }

    private static final String CORES_TO_BROKER = "cores busy while the relay drains to the broker (every process: "
            + "relay, broker, database)";
    private static final String CORES_NO_BROKER = "cores busy while the relay drains without a broker (claims + "
            + "sequence ids)";

    private static final String COMBINED_LIMIT = "relay to the broker / the combined limit 1 / (1 / no broker, claims "
            + "+ sequence ids + 1 / raw, key-based batching)";
}
