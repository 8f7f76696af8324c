package io.github.pulsaroutbox.benchmark;

import org.apache.pulsar.client.api.PulsarClient;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code replicas} scenario; adds its rows to the benchmark's results table. */
final class ReplicasScenario {

    private final Options options;
    private final List<String> table;

    ReplicasScenario(Options options, List<String> table) {
        this.options = options;
        this.table = table;
    }

    /**
     * The cost of running with segment claims and persisted broker sequence ids (the default since issue 9): the
     * relay without claims (one node, at least once), with claims on one node, and two nodes sharing the work.
     */
    void run(PulsarClient client, int rounds) {
        int rows = options.integer("rows", 100_000);
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Double>> ratios = new LinkedHashMap<>();
        Benchmark.log("replicas warm-up: not counted");
        RelayThroughput.drain(options, client, Math.min(rows, 10_000), db -> { }, true, 2);
        for (int round = 1; round <= rounds; round++) {
            Map<String, Double> thisRound = new LinkedHashMap<>();
            thisRound.put("no claims, 1 node", RelayThroughput.drain(options, client, rows, db -> { }, false, 1));
            thisRound.put("claims + sequence ids, 1 node",
                          RelayThroughput.drain(options, client, rows, db -> { }, true, 1));
            thisRound.put("claims + sequence ids, 2 nodes",
                          RelayThroughput.drain(options, client, rows, db -> { }, true, 2));
            Benchmark.log("replicas round " + round + ": " + Benchmark.format(thisRound));
            double base = thisRound.get("no claims, 1 node");
            thisRound.forEach((label, rate) -> {
                rates.computeIfAbsent(label, x -> new ArrayList<>()).add(rate);
                ratios.computeIfAbsent(label, x -> new ArrayList<>()).add(rate / base);
            });
        }
        rates.forEach((label, values) -> table.add("| relay, " + label + " (" + rows + " rows) | "
                                                          + Stats.of(values).format("%,.0f") + " msg/s | |"));
        ratios.forEach((label, values) -> {
            if (!label.startsWith("no claims")) {
                table.add("| relay, " + label + " / no claims | " + Stats.of(values).format("%.2f") + "× | |");
            }
        });
    }
}
