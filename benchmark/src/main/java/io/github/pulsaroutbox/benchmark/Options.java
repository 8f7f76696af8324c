package io.github.pulsaroutbox.benchmark;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The benchmark's settings, from {@code --name=value} arguments; every one has a default (see {@link #USAGE}). */
final class Options {

    static final String USAGE = """
            Usage: java -jar benchmark/target/benchmark.jar [--name=value ...]
              --db=h2|postgresql|mariadb  database (default h2: in memory; postgresql: --jdbc-url, own schema per round;
                                          mariadb: --jdbc-url, own database per round)
              --jdbc-url=URL              server URL (default jdbc:postgresql://127.0.0.1:5432/test, user postgres;
                                          jdbc:mariadb://127.0.0.1:3306/test, user root)
              --scenarios=LIST            relay,capture,latency,growth,replicas,tailing,ceiling,recovery,hot,receive,peers
                                          (default: all)
              --rows=N                    rows drained per relay round (default 100000)
              --aggregates=N              aggregates the rows are spread over (default 1000)
              --payload-bytes=N           JSON payload size (default 500)
              --rounds=N                  alternating rounds per comparison (default 3)
              --capture-commands=N        commands per capture round (default 20000)
              --latency-rate=N            events per second in the latency run (default 1000)
              --latency-seconds=N         length of the latency run (default 60)
              --latency-warm-up-seconds=N the latency run's warm-up at the same rate, not counted (default 10)
              --hot-commands=N            commands on the one aggregate of a hot-aggregate round (default 5000)
              --sent-rows=N               SENT rows in the table for the cost-growth run (default 1000000)
              --parked-history=N          of the --sent-rows history, rows parked instead of SENT (default 0)
              --blocked-rows=N            rows behind parked heads for the cost-growth run (default 100000)
              --retention-duty-cycle=D    retention's duty cycle in the cost-growth run (default: the job's, 0.2)
              --pool-size=N               connections of each round's pool (default 24)
              --relay-batch-size=N        the relay's batch size (default: the relay's default)
              --relay-max-in-flight=N     the relay's and its producer's limit of unacknowledged sends (default 1000)
              --relay-batching=BOOL       key-based batching of the relay's producer (default: the publisher's, on)
              --relay-claims=BOOL         segment claims + broker sequence ids, as the extension's default (default true)
              --relay-nodes=N             relays sharing the outbox in the relay scenarios (default 1)
              --store-profile=BOOL        print each drain's outbox store calls: count, rows, time (default false)
              --peers-jar=PATH            the other outbox libraries of the peers scenario (default
                                          benchmark-peers/target/benchmark-peers.jar)
              --peer-workers=N            worker threads of each peer library (default 16)
              --broker-deduplication=BOOL deduplication on the broker the benchmark starts (default true)
              --service-url=URL --admin-url=URL   use this broker instead of starting one
              --out=DIR                   where results.md and the charts go (default docs/benchmarks)
            """;

    /** Every scenario, in the order they run; the default is all of them. */
    static final List<String> SCENARIOS = List.of("relay", "capture", "latency", "growth", "replicas", "tailing",
                                                  "ceiling", "recovery", "hot", "receive", "peers");

    private final Map<String, String> values;

    private Options(Map<String, String> values) {
        this.values = values;
    }

    static Options parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        for (String arg : args) {
            if (arg.equals("--help") || arg.equals("-h")) {
                System.out.println(USAGE);
                System.exit(0);
            }
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("Unexpected argument '" + arg + "'\n" + USAGE);
            }
            int eq = arg.indexOf('=');
            values.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        return new Options(values);
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String get(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    int integer(String name, int defaultValue) {
        String value = values.get(name);
        if (value == null) {
            return defaultValue;
        }
        try {
            int parsed = Integer.parseInt(value.replace("_", ""));
            if (parsed < 0) {
                throw new NumberFormatException("negative");
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a non-negative whole number, got '" + value
                                                       + "'");
        }
    }

    Set<String> scenarios() {
        Set<String> scenarios = new LinkedHashSet<>(Arrays.asList(get("scenarios", String.join(",", SCENARIOS))
                                                                          .split(",")));
        for (String scenario : scenarios) {
            if (!SCENARIOS.contains(scenario)) {
                throw new IllegalArgumentException("Unknown scenario '" + scenario + "'\n" + USAGE);
            }
        }
        return scenarios;
    }

    /** The database: {@code h2}, {@code postgresql} or {@code mariadb}. */
    String db() {
        String db = get("db", "h2");
        if (!db.equals("h2") && !db.equals("postgresql") && !db.equals("mariadb")) {
            throw new IllegalArgumentException("--db must be h2, postgresql or mariadb, got '" + db + "'");
        }
        return db;
    }

    boolean postgres() {
        return db().equals("postgresql");
    }

    boolean mariaDb() {
        return db().equals("mariadb");
    }

    String describe() {
        return new java.util.TreeMap<>(values).toString();
    }
}
