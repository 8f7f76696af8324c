package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.NodeDatabase;
import com.zaxxer.hikari.HikariDataSource;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventsourcing.eventstore.jdbc.EventSchema;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * The tailing mode with two application instances, each its own JVM, on one event store (Axon's JDBC engine; a
 * subclass per database) and a broker with
 * deduplication on: instances are killed with SIGKILL at random moments mid-stream and restarted; the other takes the
 * dead one's segments over when its claims expire. An independent reader then consumes the topic from the earliest
 * message and counts missing events, duplicates and first-delivery order violations per aggregate: all must be zero.
 */
abstract class AbstractTailingReplicasIntegrationTest {

    private static final long CLAIM_TIMEOUT_MS = 3000;
    private static final int AGGREGATES = 50;
    private HikariDataSource dataSource;

    private final Map<String, Process> nodes = new ConcurrentHashMap<>();
    private final List<Path> logs = new ArrayList<>();
    private final Random random = new Random();
    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String eventTable = "tailing_events_" + run;
    private final String processor = "tailing-" + run;
    private final String topic = "persistent://public/default/tailing-replicas-" + run;

    /** The event store's database the instances share. */
    abstract NodeDatabase database();

    @AfterAll
    static void closeDatabases() {
        NodeDatabase.closePools();
    }

    @AfterEach
    void stopNodes() throws Exception {
        for (Process node : nodes.values()) {
            node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        jdbc.execute("DROP TABLE IF EXISTS " + eventTable);
        jdbc.execute("DROP TABLE IF EXISTS " + eventTable + "_snapshots");
        jdbc.update("DELETE FROM TokenEntry WHERE processorName IN (?, ?)", processor, processor + ".instances");
    }

    private SpringTransactionManager transactions;
    private JdbcEventStorageEngine store;

    @BeforeEach
    void eventStoreAndReader() throws Exception {
        dataSource = database().pool();
        transactions = new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        JacksonSerializer serializer = JacksonSerializer.defaultSerializer();
        store = JdbcEventStorageEngine.builder()
                .connectionProvider(new UnitOfWorkAwareConnectionProviderWrapper(
                        new SpringDataSourceConnectionProvider(dataSource)))
                .transactionManager(transactions)
                .schema(EventSchema.builder().eventTable(eventTable).snapshotTable(eventTable + "_snapshots").build())
                .eventSerializer(serializer).snapshotSerializer(serializer).build();
        store.createSchema(database().eventTables());
        try (PulsarClient client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build()) {
            subscribe(client).close(); // the reader's subscription keeps everything from the first message on
        }
    }

    /**
     * The window that matters, hit for certain: an instance halts (as with SIGKILL) right after the broker
     * acknowledged a batch's sends and before the batch's token was stored. The next instance re-sends the batch from
     * the stored token; the broker drops the copies because they carry the same sequence ids.
     */
    @Test
    void aCrashBetweenTheAcknowledgementsAndTheTokenUpdateReSendsAndTheBrokerDropsTheCopies() throws Exception {
        int events = 1000;
        append(0, events);
        Process crashing = startNode("a", 300);
        assertThat(crashing.waitFor(120, TimeUnit.SECONDS)).as("halted after 300 acknowledgements").isTrue();
        assertThat(crashing.exitValue()).isEqualTo(137);
        nodes.remove("a");
        startNode("b");
        assertDeliveredOnceInOrder("crash in the window", events, 1);
    }

    /**
     * Two instances share the segments (4 each, through their presence in the token store) while events flow; when
     * one is killed, the other takes all 8 over once the dead one's claims expired.
     */
    @Test
    void twoInstancesShareTheSegmentsAndTheSurvivorTakesThemAllOver() throws Exception {
        int events = 1000;
        startNode("a");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(owners()).isEqualTo(Map.of("a", 8L)));
        AtomicInteger produced = new AtomicInteger();
        Thread producer = new Thread(() -> {
            for (int from = 0; from < events; from += 10) {
                produced.addAndGet(append(from, from + 10));
                try {
                    Thread.sleep(25);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }, "tailing-test-producer");
        producer.start();
        startNode("b");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(owners())
                .isEqualTo(Map.of("a", 4L, "b", 4L)));
        nodes.remove("a").destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(owners()).isEqualTo(Map.of("b", 8L)));
        producer.join();
        assertThat(produced.get()).isEqualTo(events);
        assertDeliveredOnceInOrder("share and take over", events, 1);
    }

    /** The processor's segments per owning instance (node id). */
    private Map<String, Long> owners() {
        Map<String, Long> owners = new HashMap<>();
        new JdbcTemplate(dataSource).query("SELECT owner, COUNT(*) FROM TokenEntry WHERE processorName = ? "
                                                   + "AND owner IS NOT NULL GROUP BY owner",
                                           row -> {
                                               owners.put(row.getString(1), row.getLong(2));
                                           }, processor);
        return owners;
    }

    @Test
    void killedInstancesLoseNothingDuplicateNothingAndKeepOrder() throws Exception {
        int events = Integer.getInteger("outbox.tailing.events", 2000);
        int kills = Integer.getInteger("outbox.tailing.kills", 6);
        startNode("a0");
        startNode("b0");
        AtomicInteger produced = new AtomicInteger();
        Thread producer = new Thread(() -> {
            int perTransaction = 10;
            for (int from = 0; from < events; from += perTransaction) {
                produced.addAndGet(append(from, Math.min(events, from + perTransaction)));
                try {
                    Thread.sleep(Duration.ofSeconds(40).toMillis() / (events / perTransaction));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }, "tailing-test-producer");
        producer.start();

        int killed = 0;
        int generation = 1;
        while (killed < kills) {
            Thread.sleep(3000 + random.nextInt(3000));
            List<String> names = new ArrayList<>(nodes.keySet());
            String victim = names.get(random.nextInt(names.size()));
            nodes.remove(victim).destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            killed++;
            startNode(victim.charAt(0) + String.valueOf(generation++));
        }
        producer.join();
        assertThat(produced.get()).isEqualTo(events);
        assertDeliveredOnceInOrder("random SIGKILLs", events, killed);
        assertThat(killed).isGreaterThanOrEqualTo(kills);
    }

    /** Appends events {@code from} (inclusive) to {@code to} (exclusive) in one transaction; returns how many. */
    private int append(int from, int to) {
        List<EventMessage<?>> batch = new ArrayList<>();
        for (int i = from; i < to; i++) {
            batch.add(new GenericDomainEventMessage<>("Account", "account-" + (i % AGGREGATES), i / AGGREGATES,
                                                      new Account.Changed(i)));
        }
        transactions.executeInTransaction(() -> store.appendEvents(batch));
        return batch.size();
    }

    /** Reads the topic from the earliest message: every event once, in aggregate order; prints the counts. */
    private void assertDeliveredOnceInOrder(String run, int events, int killed) throws Exception {
        int received = 0;
        int duplicates = 0;
        int orderViolations = 0;
        Set<String> ids = new HashSet<>();
        Map<String, Long> lastSequence = new HashMap<>();
        try (PulsarClient client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
             Consumer<byte[]> consumer = subscribe(client)) {
            Message<byte[]> message;
            // every event published; then a quiet period in which any late copy would show up
            while ((message = consumer.receive(ids.size() >= events ? 5 : 120, TimeUnit.SECONDS)) != null) {
                received++;
                if (!ids.add(message.getProperty(OutboxMessageProperties.ID))) {
                    duplicates++;
                    continue;
                }
                long sequence = Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE));
                Long previous = lastSequence.put(message.getKey(), sequence);
                if (previous == null ? sequence != 0 : sequence != previous + 1) {
                    orderViolations++;
                }
                consumer.acknowledge(message);
            }
        }
        int missing = events - ids.size();
        System.out.printf("Tailing replicas, %s: %d events over %d aggregates, %d crash(es); reader: %d received, %d "
                                  + "missing, %d duplicates, %d order violations%n", run, events, AGGREGATES, killed,
                          received, missing, duplicates, orderViolations);
        if (missing > 0 || duplicates > 0) {
            for (Path log : logs) {
                System.out.println("--- " + log + "\n" + tail(log));
            }
        }
        assertThat(missing).as("missing").isZero();
        assertThat(duplicates).as("duplicates").isZero();
        assertThat(orderViolations).as("order violations").isZero();
    }

    private Consumer<byte[]> subscribe(PulsarClient client) throws Exception {
        return client.newConsumer(Schema.BYTES).topic(topic).subscriptionName("audit")
                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
    }

    private Process startNode(String nodeId) throws IOException {
        return startNode(nodeId, Integer.MAX_VALUE);
    }

    private Process startNode(String nodeId, int haltAfter) throws IOException {
        Path log = Files.createTempFile("tailing-node-" + nodeId + "-", ".log");
        logs.add(log);
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                       "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                                       "-cp", System.getProperty("java.class.path"),
                                       TailingNode.class.getName(), database().url(), database().user(), SharedPulsarBroker.serviceUrl(), nodeId,
                                       eventTable, processor, topic, Long.toString(CLAIM_TIMEOUT_MS),
                                       Integer.toString(haltAfter));
        Process node = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        nodes.put(nodeId, node);
        return node;
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
