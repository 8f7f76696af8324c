package io.github.pulsaroutbox.receiving;

import io.github.pulsaroutbox.NodeDatabase;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.pulsar.PulsarOutboxPublisher;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.jdbc.core.JdbcTemplate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A receiving service (its own JVM: {@link ReceiverNode}) killed with SIGKILL again and again while events arrive,
 * some of them twice on the topic, through either source: a tracking processor resumes from the token it stored and
 * a subscription from what it acknowledged, both redeliver what was applied but not yet recorded as read, and the
 * inbox skips those; in the end the projection's totals equal the
 * producer's, one inbox record per event, and no event was applied out of its aggregate's order. Run with the inbox,
 * the projection and the tokens on PostgreSQL and on MariaDB.
 */
class ReceiverCrashIntegrationTest {

    private static final int ACCOUNTS = 40;
    private static final int DEPOSITS = 50;
    private static final int KILLS = 6;

    private final String run = UUID.randomUUID().toString().substring(0, 8);
    private final String topic = "persistent://public/default/receiver-crash-" + run;
    private final String processor = "receiver-crash-" + run;
    private final String totals = "receiver_totals_" + run;
    private final String inboxTable = "receiver_inbox_" + run;
    private final List<Path> logs = new ArrayList<>();
    private final AtomicReference<Process> node = new AtomicReference<>();
    private String mode;
    private NodeDatabase database;
    private JdbcTemplate jdbc;

    @AfterAll
    static void closePools() {
        NodeDatabase.closePools();
    }

    /** The receiver's tables on {@code database} (its pool creates Axon's token table). */
    private void setUp(NodeDatabase database) {
        this.database = database;
        jdbc = new JdbcTemplate(database.pool());
        jdbc.execute("CREATE TABLE " + totals + " (account VARCHAR(64) PRIMARY KEY, total BIGINT NOT NULL, "
                             + "last_sequence BIGINT NOT NULL)");
        jdbc.execute("CREATE TABLE " + totals + "_violations (account VARCHAR(64), sequence BIGINT, "
                             + "last_applied BIGINT)");
        JdbcInbox.builder().connectionProvider(new SpringDataSourceConnectionProvider(database.pool()))
                 .table(inboxTable).build().createSchema();
    }

    @AfterEach
    void tearDown() throws Exception {
        Process running = node.get();
        if (running != null) {
            running.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        jdbc.execute("DROP TABLE IF EXISTS " + totals);
        jdbc.execute("DROP TABLE IF EXISTS " + totals + "_violations");
        jdbc.execute("DROP TABLE IF EXISTS " + inboxTable);
        jdbc.update("DELETE FROM TokenEntry WHERE processorName = ?", processor);
    }

    @ParameterizedTest(name = "{0} source on {1}")
    @CsvSource({"streamable, POSTGRESQL", "subscribable, POSTGRESQL", "streamable, MARIADB", "subscribable, MARIADB"})
    void aReceiverKilledRepeatedlyUnderLoadAppliesEveryEventOnceInAggregateOrder(String mode, NodeDatabase database)
            throws Exception {
        this.mode = mode;
        setUp(database);
        Map<String, Long> expected = new HashMap<>();
        int events = ACCOUNTS * DEPOSITS;
        int copies = 0;
        startNode(0);
        try (PulsarClient client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
             PulsarOutboxPublisher publisher = PulsarOutboxPublisher.builder().pulsarClient(client).build()) {
            int kills = 0;
            for (int sequence = 0; sequence < DEPOSITS; sequence++) {
                List<OutboxEntry> rows = new ArrayList<>();
                for (int account = 0; account < ACCOUNTS; account++) {
                    long amount = 1 + account * 1000L + sequence;
                    expected.merge("a" + account, amount, Long::sum);
                    OutboxEntry row = Deposits.deposit("a" + account, sequence, amount);
                    rows.add(row);
                    if ((sequence * ACCOUNTS + account) % 9 == 0) {
                        rows.add(row); // an at-least-once relay's copy
                        copies++;
                    }
                }
                Deposits.publish(publisher, topic, rows);
                if (sequence % (DEPOSITS / KILLS) == DEPOSITS / KILLS - 1 && kills < KILLS) {
                    // the receiver has applied something since it started: kill it in the middle of its work
                    long before = applied();
                    await().atMost(Duration.ofSeconds(60)).until(() -> applied() > before);
                    node.get().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    kills++;
                    startNode(kills);
                }
            }
            assertThat(kills).isEqualTo(KILLS);
        }

        await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> assertThat(totals()).isEqualTo(expected));
        assertThat(jdbc.queryForList("SELECT account, sequence, last_applied FROM " + totals + "_violations"))
                .as("events applied out of aggregate order").isEmpty();
        assertThat(applied()).as("one inbox record per event (" + copies + " copies on the topic)")
                             .isEqualTo(events);
    }

    private long applied() {
        Long count = jdbc.queryForObject("SELECT COUNT(*) FROM " + inboxTable, Long.class);
        return count == null ? 0 : count;
    }

    private Map<String, Long> totals() {
        Map<String, Long> totals = new HashMap<>();
        jdbc.query("SELECT account, total FROM " + this.totals,
                   rs -> { totals.put(rs.getString(1), rs.getLong(2)); });
        return totals;
    }

    private void startNode(int generation) throws IOException {
        Path log = Files.createTempFile("receiver-node-" + generation + "-", ".log");
        logs.add(log);
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                       "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                                       "-cp", System.getProperty("java.class.path"),
                                       ReceiverNode.class.getName(), database.url(), database.user(),
                                       SharedPulsarBroker.serviceUrl(),
                                       topic, processor, "node-" + generation, totals, inboxTable, mode);
        node.set(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start());
    }
}
