package io.github.pulsaroutbox.replicas;

import com.zaxxer.hikari.HikariDataSource;
import io.github.pulsaroutbox.NodeDatabase;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import io.github.pulsaroutbox.testbroker.PulsarBroker;
import io.github.pulsaroutbox.testbroker.PulsarBrokerLauncher;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Several relay nodes, each its own JVM, on one outbox database (a subclass per database) and a broker with
 * deduplication on: killed with
 * SIGKILL at random moments, paused with SIGSTOP past their claims, joining and leaving, with the broker stopped and
 * started once, frozen inside a row-locking transaction (the database's bounded waits), cut off from their database.
 * An independent reader then consumes the topic from the earliest message and counts missing events,
 * duplicates and first-delivery order violations per aggregate: all must be zero.
 * <p>
 * {@code -Doutbox.replicas.events=N} and {@code -Doutbox.replicas.kills=N} make a longer soak run.
 */
abstract class AbstractRelayReplicasIntegrationTest {

    static final long CLAIM_TIMEOUT_MS = 3000;
    private static final int AGGREGATES = 50;

    @TempDir
    static Path brokerData;
    private static PulsarBroker broker;
    private static final int[] PORTS = new int[4];
    HikariDataSource dataSource;

    final Map<String, Process> nodes = new ConcurrentHashMap<>();
    final List<Path> logs = new ArrayList<>();
    private final Random random = new Random();
    private String table;
    private String processor;
    private String topic;
    private JdbcOutboxStore store;
    private TransactionTemplate transactions;

    /** The outbox database the nodes share. */
    abstract NodeDatabase database();

    @BeforeAll
    static void startBroker() throws IOException {
        for (int i = 0; i < PORTS.length; i++) {
            PORTS[i] = freePort();
        }
        broker = launcher().start();
    }

    @BeforeEach
    void connect() {
        dataSource = database().pool();
    }

    private static PulsarBrokerLauncher launcher() {
        return PulsarBrokerLauncher.create().deduplication(true).dataDirectory(brokerData).ports(PORTS[0], PORTS[1], PORTS[2], PORTS[3]);
    }

    @AfterAll
    static void stopBrokerAndDatabase() {
        if (broker != null) {
            broker.close();
        }
        NodeDatabase.closePools();
    }

    @AfterEach
    void stopNodes() throws Exception {
        for (Process node : nodes.values()) {
            signal("CONT", node.pid());
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (table != null) { // this run's tables and tokens; the broker's data goes with its temporary directory
            JdbcTemplate jdbc = new JdbcTemplate(dataSource);
            jdbc.execute("DROP TABLE IF EXISTS " + table + "_node");
            jdbc.execute("DROP TABLE IF EXISTS " + table + "_archive");
            jdbc.execute("DROP TABLE IF EXISTS " + table + "_version");
            jdbc.execute("DROP TABLE IF EXISTS " + table);
            jdbc.update("DELETE FROM TokenEntry WHERE processorName = ?", processor);
        }
    }

    private void setUp(String name) throws Exception {
        String run = name + "_" + UUID.randomUUID().toString().substring(0, 8);
        table = "replicas_" + run;
        processor = "replicas-" + run;
        topic = "persistent://public/default/replicas-" + run;
        store = JdbcOutboxStore.builder().connectionProvider(new SpringDataSourceConnectionProvider(dataSource))
                               .table(table).build();
        store.createSchema();
        transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        // the reader's durable subscription exists before the first message: the broker keeps what it has not
        // delivered to it (a topic without subscriptions keeps nothing past a ledger roll-over, e.g. a restart)
        try (PulsarClient client = PulsarClient.builder().serviceUrl(broker.serviceUrl()).build()) {
            subscribe(client).close();
        }
    }

    private Consumer<byte[]> subscribe(PulsarClient client) throws Exception {
        return client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("audit")
                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
    }

    @Test
    void killedPausedAndRestartedNodesAndABrokerRestartLoseNothingDuplicateNothingAndKeepOrder() throws Exception {
        setUp("chaos");
        int events = Integer.getInteger("outbox.replicas.events", 2000);
        int kills = Integer.getInteger("outbox.replicas.kills", 10);
        startNode("a0");
        startNode("b0");
        AtomicInteger produced = new AtomicInteger();
        Thread producer = producer(events, Duration.ofSeconds(45), produced);
        producer.start();

        int killed = 0;
        int paused = 0;
        int brokerRestarts = 0;
        int generation = 1;
        while (killed < kills) {
            Thread.sleep(1500 + random.nextInt(2500));
            String victim = randomNode();
            nodes.remove(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            killed++;
            startNode(victim.charAt(0) + String.valueOf(generation++));
            if (killed == kills / 2 && Boolean.parseBoolean(System.getProperty("outbox.replicas.broker-restart",
                                                                                   "true"))) {
                broker.close(); // stop under load; relays retry until it is back
                Thread.sleep(2000);
                broker = launcher().start();
                brokerRestarts++;
            }
            if (killed == kills / 2 + 2) { // a node paused past its claims, then resumed: it must stop, then rejoin
                String sleeper = randomNode();
                long pid = nodes.get(sleeper).pid();
                signal("STOP", pid);
                Thread.sleep(CLAIM_TIMEOUT_MS * 2);
                signal("CONT", pid);
                paused++;
            }
        }
        producer.join();
        assertThat(produced.get()).isEqualTo(events);

        System.out.printf("Replica chaos faults: %d events over %d aggregates; %d SIGKILLs, %d SIGSTOP/SIGCONT, %d "
                                  + "broker restart(s)%n", events, AGGREGATES, killed, paused, brokerRestarts);
        assertDeliveredOnceInOrder("chaos", events);
        assertThat(killed).isGreaterThanOrEqualTo(10);
    }

    @Test
    void aJoiningNodeTakesItsShareAndALeavingNodeHandsItsSegmentsOver() throws Exception {
        setUp("rebalance");
        int events = 1000;
        startNode("a");
        startNode("b");
        AtomicInteger produced = new AtomicInteger();
        Thread producer = producer(events, Duration.ofSeconds(25), produced);
        producer.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> produced.get() > events / 4);
        startNode("c");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> { // fair shares: at most ceil(16 / 3) each
            Map<String, Set<Integer>> owned = ownedBy();
            assertThat(owned).containsOnlyKeys("a", "b", "c")
                             .allSatisfy((node, segments) -> assertThat(segments).isNotEmpty().hasSizeLessThanOrEqualTo(6));
            assertThat(owned.values().stream().mapToInt(Set::size).sum()).isEqualTo(16);
        });
        Process leaving = nodes.remove("b");
        leaving.destroy(); // SIGTERM: finishes its sends, records them and releases its claims
        assertThat(leaving.waitFor(60, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(ownedBy()).containsOnlyKeys("a", "c")
                .allSatisfy((node, segments) -> assertThat(segments).hasSize(8)));
        producer.join();

        assertDeliveredOnceInOrder("rebalance", events);
    }

    @Test
    void aNodePausedPastItsClaimsLosesThemToAnotherAndRejoinsWithoutDuplicatesOrGaps() throws Exception {
        setUp("fencing");
        int events = 800;
        startNode("a");
        startNode("b");
        AtomicInteger produced = new AtomicInteger();
        Thread producer = producer(events, Duration.ofSeconds(30), produced);
        producer.start();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(ownedBy()).containsOnlyKeys("a", "b")
                .allSatisfy((node, segments) -> assertThat(segments).hasSize(8)));
        long pid = nodes.get("a").pid();
        signal("STOP", pid); // a GC pause, a frozen VM: a keeps its sockets and its producers' names
        try {
            // b takes all segments over once a's claims expired (and the broker let go of a's producer names)
            await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> assertThat(ownedBy())
                    .containsOnlyKeys("b").allSatisfy((node, segments) -> assertThat(segments).hasSize(16)));
        } finally {
            signal("CONT", pid);
        }
        // a wakes up, finds every claim lost (it stopped sending before they expired), and rejoins with its share
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(Files.readString(logs.get(0)))
                .containsPattern("Outbox relay node a owns segments \\[\\] of 16 .*lost \\[[0-9, ]+\\]"));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(ownedBy()).containsOnlyKeys("a", "b")
                .allSatisfy((node, segments) -> assertThat(segments).hasSize(8)));
        producer.join();

        assertDeliveredOnceInOrder("fencing", events);
    }

    /**
     * A node frozen (SIGSTOP) inside a transaction that holds row locks of its segments' rows: the database ends its
     * session after half the claim timeout (the locks go with it), and the other node's statements wait for locks at
     * most a quarter of the claim timeout, so it keeps its own claims, takes the frozen node's segments over once their
     * claims expire, and delivers every event once, in order.
     */
    @Test
    void aNodeFrozenInsideARowLockingTransactionHoldsUpNobody() throws Exception {
        int events = 600;
        Path control = twoNodesSharingTheSegments("frozen");
        Set<Integer> ownedByB = ownedBy().get("b");
        Files.writeString(control.resolve("armed"), "armed");
        AtomicInteger produced = new AtomicInteger();
        Thread producer = producer(events, Duration.ofSeconds(20), produced);
        producer.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(control.resolve("inside-transaction")));
        signal("STOP", nodes.get("a").pid()); // frozen while its recording holds row locks
        try {
            await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> assertThat(ownedBy())
                    .containsOnlyKeys("b").allSatisfy((node, segments) -> assertThat(segments).hasSize(16)));
            producer.join();
            awaitAllSent(events);
            String logOfB = Files.readString(logs.get(1));
            assertThat(logOfB).as("b never lost a claim of its own").doesNotContainPattern("lost \\[[0-9]")
                              .doesNotContain("lapsed");
            assertThat(ownedBy().get("b")).containsAll(ownedByB);
            assertDeliveredOnceInOrder("frozen", events);
        } finally {
            nodes.remove("a").destroyForcibly().waitFor(10, TimeUnit.SECONDS); // never resumed
        }
    }

    /**
     * A node that loses its database but not the broker: no claim round succeeds, so once its claims lapse locally it
     * closes their producers, and the other node, which takes the segments over when the claims expire, gets the
     * producer names, resolves the segments and delivers every event once, in order.
     */
    @Test
    void aNodeThatLosesItsDatabaseButNotTheBrokerHandsItsSegmentsOver() throws Exception {
        int events = 600;
        Path control = twoNodesSharingTheSegments("nodb");
        AtomicInteger produced = new AtomicInteger();
        Thread producer = producer(events, Duration.ofSeconds(20), produced);
        producer.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> produced.get() >= events / 4);
        Files.writeString(control.resolve("database-down"), "down");
        await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> assertThat(ownedBy())
                .containsOnlyKeys("b").allSatisfy((node, segments) -> assertThat(segments).hasSize(16)));
        producer.join();
        awaitAllSent(events);
        assertThat(Files.readString(logs.get(0))).as("a closed the producers of the segments it could not keep")
                                                 .contains("lapsed");
        assertDeliveredOnceInOrder("nodb", events);
    }

    /**
     * Starts node a, controlled through the returned directory (see {@link RelayNode}), and node b, and waits until
     * they own 8 segments each.
     */
    Path twoNodesSharingTheSegments(String run) throws Exception {
        setUp(run);
        Path control = Files.createTempDirectory("relay-node-control");
        startNode("a", control.toString());
        startNode("b");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(ownedBy()).containsOnlyKeys("a", "b")
                .allSatisfy((node, segments) -> assertThat(segments).hasSize(8)));
        return control;
    }

    /** Live nodes and the segments each reported owning in its last heartbeat. */
    Map<String, Set<Integer>> ownedBy() {
        Map<String, Set<Integer>> owned = new HashMap<>();
        store.liveNodes(Instant.now().minusMillis(CLAIM_TIMEOUT_MS)).forEach(node -> {
            Set<Integer> segments = new HashSet<>();
            if (node.segments() != null && !node.segments().isBlank()) {
                for (String segment : node.segments().split(",")) {
                    segments.add(Integer.parseInt(segment));
                }
            }
            owned.put(node.nodeId(), segments);
        });
        return owned;
    }

    Thread producer(int events, Duration over, AtomicInteger produced) {
        int perTransaction = 10;
        long pauseMs = over.toMillis() / (events / perTransaction);
        return new Thread(() -> {
            for (int from = 0; from < events; from += perTransaction) {
                List<OutboxEntry> batch = new ArrayList<>();
                for (int i = from; i < Math.min(events, from + perTransaction); i++) {
                    String aggregate = "account-" + (i % AGGREGATES);
                    long sequence = i / AGGREGATES;
                    batch.add(OutboxEntry.pending(UUID.randomUUID().toString(), Instant.now(), "AccountEvent",
                                                  "Account", aggregate, sequence,
                                                  "{\"n\":" + i + "}", "{}", "0", null));
                }
                appendRetryingDeadlocks(batch);
                produced.addAndGet(batch.size());
                try {
                    Thread.sleep(pauseMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }, "replica-test-producer");
    }

    /**
     * Appends in one transaction, retried when the database chose it as a deadlock victim (SQLState 40001: MariaDB's
     * InnoDB can, between a capture's inserts and the relay's writes), as an application retries such a command; the
     * victim's transaction was rolled back whole, so nothing of it was written.
     */
    private void appendRetryingDeadlocks(List<OutboxEntry> batch) {
        for (int attempt = 1; ; attempt++) {
            try {
                transactions.executeWithoutResult(status -> store.append(batch));
                return;
            } catch (RuntimeException e) {
                if (attempt >= 10 || !deadlockVictim(e)) {
                    throw e;
                }
            }
        }
    }

    private static boolean deadlockVictim(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.sql.SQLException sql && "40001".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits until every row is recorded SENT, then reads the topic from the earliest message and asserts that every
     * event arrived once, in aggregate order; prints the counts.
     */
    void assertDeliveredOnceInOrder(String run, int events) throws Exception {
        awaitAllSent(events);
        Audit audit = audit(events);
        System.out.printf("Replica %s: %d events; reader: %d received, %d missing, %d duplicates, %d order "
                                  + "violations%n", run, events, audit.received, audit.missing, audit.duplicates,
                          audit.orderViolations);
        assertThat(audit.missing).as("missing").isZero();
        assertThat(audit.duplicates).as("duplicates").isZero();
        assertThat(audit.orderViolations).as("order violations").isZero();
    }

    void awaitAllSent(int events) {
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> assertThat(
                jdbc.queryForObject("SELECT COUNT(*) FROM " + table + " WHERE status = ?", Long.class,
                                    OutboxStatus.SENT.name())).isEqualTo(events));
    }

    private Audit audit(int events) throws Exception {
        Audit audit = new Audit();
        Map<String, Long> lastSequence = new HashMap<>();
        Set<String> ids = new HashSet<>();
        try (PulsarClient client = PulsarClient.builder().serviceUrl(broker.serviceUrl()).build();
             Consumer<byte[]> consumer = subscribe(client)) {
            Message<byte[]> message;
            while ((message = consumer.receive(audit.received >= events ? 3 : 30, TimeUnit.SECONDS)) != null) {
                audit.received++;
                if (!ids.add(message.getProperty(OutboxMessageProperties.ID))) {
                    audit.duplicates++;
                    continue;
                }
                long sequence = Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE));
                Long previous = lastSequence.put(message.getKey(), sequence);
                if (previous == null ? sequence != 0 : sequence != previous + 1) {
                    audit.orderViolations++;
                }
                consumer.acknowledge(message);
            }
        }
        audit.missing = events - ids.size();
        if (audit.missing > 0) {
            JdbcTemplate jdbc = new JdbcTemplate(dataSource);
            List<Map<String, Object>> rows = jdbc.queryForList("SELECT id, aggregate_id, aggregate_sequence, segment, "
                    + "broker_sequence, sent_at FROM " + table + " ORDER BY position");
            Map<Object, Integer> bySegment = new java.util.TreeMap<>();
            int shown = 0;
            for (Map<String, Object> row : rows) {
                if (!ids.contains((String) row.get("id"))) {
                    bySegment.merge(row.get("segment"), 1, Integer::sum);
                    if (shown++ < 15) {
                        System.out.println("MISSING " + row);
                    }
                }
            }
            System.out.println("MISSING by segment " + bySegment);
        }
        return audit;
    }

    private static final class Audit {
        private int received;
        private int missing;
        private int duplicates;
        private int orderViolations;
    }

    private String randomNode() {
        List<String> names = new ArrayList<>(nodes.keySet());
        return names.get(random.nextInt(names.size()));
    }

    private void startNode(String nodeId, String... extra) throws IOException {
        Path log = Files.createTempFile("relay-node-" + nodeId + "-", ".log");
        logs.add(log);
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                RelayNode.class.getName(), database().url(), database().user(), broker.serviceUrl(), nodeId, table,
                processor, topic, Long.toString(CLAIM_TIMEOUT_MS)));
        command.addAll(List.of(extra));
        nodes.put(nodeId, new ProcessBuilder(command).redirectErrorStream(true)
                                                    .redirectOutput(log.toFile()).start());
    }

    static void signal(String signal, long pid) throws Exception {
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
