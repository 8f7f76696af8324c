package io.github.pulsaroutbox.benchmark;

import org.apache.pulsar.client.api.PulsarClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code recovery} scenario, recovery after a broker outage: a backlog of {@code --rows} rows written while the
 * broker is stopped (the relay running, retrying), drained once it is back — timed from the broker's restart — against
 * the same drain without an outage, in the same round. Adds its rows to the benchmark's results table.
 */
final class RecoveryScenario {

    private final Options options;
    private final List<String> table;
    /** The broker the benchmark started and may stop, or null when it runs against {@code --service-url}. */
    private final RelayThroughput.Broker broker;

    RecoveryScenario(Options options, List<String> table, RelayThroughput.Broker broker) {
        this.options = options;
        this.table = table;
        this.broker = broker;
    }

    void run(PulsarClient client, int rounds) {
        int rows = options.integer("rows", 100_000);
        if (broker == null) {
            Benchmark.log("recovery: skipped, the benchmark cannot stop a broker it did not start (--service-url)");
            return;
        }
        Benchmark.log("recovery warm-up: not counted");
        RelayThroughput.drain(options, client, Math.min(rows, 10_000), db -> { });
        List<Double> normal = new ArrayList<>();
        List<Double> afterOutage = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            double plainSeconds;
            double outageSeconds;
            if (round % 2 == 1) { // alternate which goes first
                plainSeconds = rows / RelayThroughput.drain(options, client, rows, db -> { });
                outageSeconds = rows / RelayThroughput.drainAfterOutage(options, client, rows, broker);
            } else {
                outageSeconds = rows / RelayThroughput.drainAfterOutage(options, client, rows, broker);
                plainSeconds = rows / RelayThroughput.drain(options, client, rows, db -> { });
            }
            Benchmark.log(String.format(Locale.ROOT, "recovery round %d: no outage %.1f s, after an outage %.1f s",
                                        round, plainSeconds, outageSeconds));
            normal.add(plainSeconds);
            afterOutage.add(outageSeconds);
            ratios.add(outageSeconds / plainSeconds);
        }
        table.add("| recovery: drain of " + rows + " rows, no outage | " + Stats.of(normal).format("%.1f")
                          + " s | |");
        table.add("| recovery: drain of " + rows + " rows written during a broker outage, from the broker's restart | "
                          + Stats.of(afterOutage).format("%.1f") + " s | |");
        table.add("| recovery: after an outage / no outage (time) | " + Stats.of(ratios).format("%.2f") + "× | |");
    }
}
