package io.github.pulsaroutbox.benchmark;

import org.apache.pulsar.client.api.PulsarClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code growth} scenario: the relay's drain and capture's commands/s with history in the outbox table (SENT rows,
 * some of them parked with {@code --parked-history}; rows blocked behind parked heads) against an empty table, and the
 * drain while retention removes the SENT rows against the same table without retention, which side first alternating
 * per round. Adds its rows to the benchmark's results table.
 */
final class GrowthScenario {

    private final Options options;
    private final List<String> table;
    /** Rows of history (SENT, {@link #parkedRows} of them parked) and their aggregates' count and payload size. */
    private final int sentRows;
    private final int parkedRows;
    private final int aggregates;
    private final int payload;

    GrowthScenario(Options options, List<String> table) {
        this.options = options;
        this.table = table;
        this.sentRows = options.integer("sent-rows", 1_000_000);
        this.parkedRows = options.integer("parked-history", 0);
        this.aggregates = options.integer("aggregates", 1000);
        this.payload = options.integer("payload-bytes", 500);
    }

    /** Fills a round's table with the history. */
    private void history(BenchDatabase db) {
        db.prefillHistory("s-", sentRows, parkedRows, aggregates, payload);
    }

    /** The history as the results table names it. */
    private String historyLabel() {
        return parkedRows <= 0 ? sentRows + " SENT rows"
                : sentRows + " rows of history (" + parkedRows + " of them parked, the others SENT)";
    }

    void run(PulsarClient client, int rounds) throws Exception {
        int rows = options.integer("rows", 100_000);
        int blockedRows = options.integer("blocked-rows", 100_000);
        List<Double> withSent = new ArrayList<>();
        List<Double> withBlocked = new ArrayList<>();
        List<Double> withRetention = new ArrayList<>();
        List<Double> retained = new ArrayList<>();
        Benchmark.log("growth warm-up: not counted");
        RelayThroughput.drain(options, client, rows, db -> { }); // a whole drain: the first one runs slower
        for (int round = 1; round <= rounds; round++) {
            // the empty table's drain first in odd rounds, last in even ones: neither side always runs first
            double empty = round % 2 == 1 ? RelayThroughput.drain(options, client, rows, db -> { }) : 0;
            double[] retention = round % 2 == 0 ? retentionDrain(client, rows) : null;
            double sent = RelayThroughput.drain(options, client, rows, this::history);
            if (retention == null) {
                retention = retentionDrain(client, rows);
            }
            double blocked = blockedRows == 0 ? Double.NaN : RelayThroughput.drain(options, client, rows, db -> {
                db.prefill("b-", blockedRows, aggregates, payload);
                db.parkHeads("b-");
            });
            if (round % 2 == 0) {
                empty = RelayThroughput.drain(options, client, rows, db -> { });
            }
            Benchmark.log(String.format(Locale.ROOT, "growth round %d: empty %.0f, %d sent %.0f, %d sent while "
                                                     + "retention removed %.0f of them %.0f, %d blocked %.0f msg/s",
                                        round, empty, sentRows, sent, sentRows, retention[1], retention[0],
                                        blockedRows, blocked));
            withSent.add(sent / empty);
            withRetention.add(retention[0] / sent);
            retained.add(retention[1]);
            if (blockedRows > 0) {
                withBlocked.add(blocked / empty);
            }
        }
        table.add("| relay with " + historyLabel() + " in the table / empty table | "
                          + Stats.of(withSent).format("%.2f") + "× | ≥ 0.9× |");
        table.add("| relay while retention removes the " + (parkedRows <= 0 ? sentRows + " SENT rows"
                : "SENT rows of " + historyLabel()) + " (rows removed during the drain: "
                          + Stats.of(retained).format("%,.0f") + ") / the same table without retention | "
                          + Stats.of(withRetention).format("%.2f") + "× | ≥ 0.9× |");
        captureGrowth(client, rounds);
        if (blockedRows > 0) {
            table.add("| relay with " + blockedRows + " blocked rows (behind parked heads) / empty table | "
                              + Stats.of(withBlocked).format("%.2f") + "× | ≥ 0.9× |");
        }
    }

    /**
     * The drain with the history in the table while retention removes its SENT rows from the lowest position up:
     * {msg/s, rows retention removed during the drain}.
     */
    private double[] retentionDrain(PulsarClient client, int rows) {
        RetentionAlongside[] retention = new RetentionAlongside[1];
        double rate = RelayThroughput.drainAlongside(options, client, rows, this::history,
                                                     db -> retention[0] = RetentionAlongside.start(db, options));
        return new double[] {rate, retention[0].removed()};
    }

    /** Capture's commands/s with the history in the outbox table / with an empty one, alternating. */
    private void captureGrowth(PulsarClient client, int rounds) throws Exception {
        List<Double> ratios = new ArrayList<>();
        Benchmark.log("growth warm-up (capture): not counted");
        CommandScenarios.commandsPerSecond(options, client, CommandScenarios.Outbox.CAPTURE_ONLY);
        for (int round = 1; round <= rounds; round++) {
            double empty = round % 2 == 1 ? CommandScenarios.commandsPerSecond(
                    options, client, CommandScenarios.Outbox.CAPTURE_ONLY) : 0;
            double sent = CommandScenarios.commandsPerSecond(options, client, CommandScenarios.Outbox.CAPTURE_ONLY,
                                                             this::history);
            if (round % 2 == 0) {
                empty = CommandScenarios.commandsPerSecond(options, client, CommandScenarios.Outbox.CAPTURE_ONLY);
            }
            Benchmark.log(String.format(Locale.ROOT, "growth round %d: capture, empty %.0f, %d sent %.0f commands/s",
                              round, empty, sentRows, sent));
            ratios.add(sent / empty);
        }
        table.add("| capture with " + historyLabel() + " in the table / empty table | "
                          + Stats.of(ratios).format("%.2f") + "× | ≥ 0.9× |");
    }
}
