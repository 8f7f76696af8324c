package io.github.pulsaroutbox.benchmark.peers;

import org.apache.pulsar.client.api.PulsarClient;

import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * One round of another outbox library for the benchmark's {@code peers} scenario (run by it, in a JVM of its own):
 * {@code --rows} rows over {@code --aggregates} keys, payloads of {@code --payload-bytes}, stored through the library's
 * API in a fresh database, then drained to a new topic of {@code --service-url}, timed from the start of the dispatch
 * until every row is acknowledged by the broker and recorded done in the library's table, after a warm-up drain of up
 * to 10,000 rows in the same JVM (as the relay has one). Prints one line,
 * {@code PEER_RESULT rate=… missing=… duplicates=… outOfOrder=… guarantee=…}.
 */
public final class Peers {

    private Peers() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("Expected --name=value, not '" + arg + "'");
            }
            options.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        int rows = Integer.parseInt(options.getOrDefault("rows", "100000"));
        try (PulsarClient client = PulsarClient.builder().serviceUrl(options.get("service-url")).build()) {
            drain(options, client, Math.min(rows, 10_000)); // warm-up (JIT, pools), as the relay's: not reported
            System.out.println(drain(options, client, rows));
        }
        System.exit(0);
    }

    /** One drain of {@code rows} rows in a fresh database to a new topic; its result line. */
    private static String drain(Map<String, String> options, PulsarClient client, int rows) throws Exception {
        String peer = options.getOrDefault("peer", "");
        int aggregates = Integer.parseInt(options.getOrDefault("aggregates", "1000"));
        int payloadBytes = Integer.parseInt(options.getOrDefault("payload-bytes", "500"));
        int workers = Integer.parseInt(options.getOrDefault("workers", "16"));
        String topic = "persistent://public/default/bench-peer-" + peer + "-" + UUID.randomUUID();
        try (PeerDatabase database = new PeerDatabase(options.getOrDefault("db", "h2"),
                                                      options.getOrDefault("jdbc-url",
                                                                           "jdbc:postgresql://127.0.0.1:5432/test"));
             PeerSink sink = new PeerSink(client, topic, rows, aggregates);
             Peer library = switch (peer) {
                 case "gruelbox" -> new GruelboxPeer(database, sink, workers, 4096);
                 case "namastack" -> new NamastackPeer(database, sink, workers, 1000);
                 default -> throw new IllegalArgumentException("--peer must be gruelbox or namastack, not " + peer);
             }) {
            library.seed(rows, aggregates, payloadBytes);
            database.prepare(library.table());
            long start = System.nanoTime();
            long deadline = start + Duration.ofMinutes(20).toNanos();
            library.start();
            while (sink.acknowledged() < rows || library.incomplete() > 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(peer + " did not drain " + rows + " rows: " + sink.acknowledged()
                                                            + " acknowledged");
                }
                Thread.sleep(sink.acknowledged() < rows ? 20 : 2);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            int[] missingAndDuplicates = sink.missingAndDuplicates();
            return String.format(Locale.ROOT, "PEER_RESULT rate=%.1f missing=%d duplicates=%d outOfOrder=%d "
                                         + "guarantee=%s", rows / seconds, missingAndDuplicates[0],
                                 missingAndDuplicates[1], sink.outOfOrder(),
                                 library.guarantee().replace(' ', '_'));
        }
    }
}
