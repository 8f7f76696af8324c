package io.github.pulsaroutbox.retention;

import org.axonframework.common.jdbc.ConnectionWrapperFactory;
import org.axonframework.common.transaction.NoTransactionManager;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.OutboxStore.Failure;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retention on 100,000 old SENT rows, on H2 and PostgreSQL: every one is removed (deleted or archived) in batches of
 * at most the batch size, nothing else is touched, and the relay's query keeps answering quickly meanwhile (its
 * latency during retention is measured and printed).
 */
class OutboxRetentionIntegrationTest {

    private static final int OLD_SENT = 100_000;
    private static final int BATCH = 1000;

    static Stream<Arguments> databases() {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:retention-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        PGSimpleDataSource postgres = new PGSimpleDataSource();
        postgres.setURL(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_URL",
                                                     "jdbc:postgresql://127.0.0.1:5432/test"));
        postgres.setUser(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_USER", "postgres"));
        postgres.setPassword(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_PASSWORD", ""));
        DataSource mariaDb = io.github.pulsaroutbox.TestMariaDb.dataSource();
        return Stream.of(Arguments.of("H2", h2, false), Arguments.of("H2", h2, true),
                         Arguments.of("PostgreSQL", postgres, false), Arguments.of("PostgreSQL", postgres, true),
                         Arguments.of("MariaDB", mariaDb, false), Arguments.of("MariaDB", mariaDb, true));
    }

    @ParameterizedTest(name = "{0}, archive={2}")
    @MethodSource("databases")
    void removesOldSentRowsInBoundedBatchesWithoutStallingTheRelay(String name, DataSource dataSource,
                                                                    boolean archive) throws Exception {
        String table = "retention_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection)
                                               .table(table).build();
        store.createSchema();
        try {
            fill(store, dataSource, table);
            List<Integer> batchSizes = new CopyOnWriteArrayList<>();
            List<Long> batchMillis = new CopyOnWriteArrayList<>();
            OutboxRetention retention = OutboxRetention.builder()
                                                       .maintenance(new TimedMaintenance(store, batchSizes,
                                                                                         batchMillis))
                                                       .transactionManager(NoTransactionManager.instance())
                                                       .retainSent(Duration.ofDays(7))
                                                       .archive(archive)
                                                       .batchSize(BATCH)
                                                       // back to back: the most retention can load the relay's query
                                                       .dutyCycle(1)
                                                       .build();

            List<Long> relayQueryMicros = new CopyOnWriteArrayList<>();
            AtomicBoolean running = new AtomicBoolean(true);
            Connection relayConnection = dataSource.getConnection(); // like a pooled connection: no connect cost
            JdbcOutboxStore relayStore = JdbcOutboxStore.builder().table(table).connectionProvider(
                    () -> ConnectionWrapperFactory.wrap(relayConnection, new ConnectionWrapperFactory.NoOpCloseHandler()))
                                                        .build();
            Thread relayLike = new Thread(() -> {
                while (running.get()) {
                    long start = System.nanoTime();
                    relayStore.fetchPending(100, Instant.now());
                    relayQueryMicros.add((System.nanoTime() - start) / 1000);
                }
            });
            relayLike.start();
            long start = System.nanoTime();
            long removed = retention.runOnce();
            long totalMillis = (System.nanoTime() - start) / 1_000_000;
            running.set(false);
            relayLike.join();
            relayConnection.close();

            assertThat(removed).isEqualTo(OLD_SENT);
            assertThat(batchSizes).allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(BATCH));
            assertThat(batchSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(OLD_SENT);
            assertThat(store.count(OutboxStatus.SENT)).isEqualTo(500);          // recent ones stay
            assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(100);       // never touched
            assertThat(store.count(OutboxStatus.FAILED)).isEqualTo(10);         // parked rows are never removed
            assertThat(countRows(dataSource, table + "_archive")).isEqualTo(archive ? OLD_SENT : 0);
            assertThat(retention.runOnce()).isZero();

            List<Long> sortedBatches = sorted(batchMillis);
            List<Long> sortedQueries = sorted(relayQueryMicros);
            System.out.printf("RETENTION %s archive=%s: %d rows in %d batches, %d ms total; batch ms p50=%d max=%d; "
                                      + "relay query during retention (%d samples) µs p50=%d p99=%d max=%d%n",
                              name, archive, removed, batchSizes.size(), totalMillis, percentile(sortedBatches, 50),
                              sortedBatches.get(sortedBatches.size() - 1), sortedQueries.size(),
                              percentile(sortedQueries, 50), percentile(sortedQueries, 99),
                              sortedQueries.get(sortedQueries.size() - 1));
            // short transactions: no batch holds the table for long, the relay's query stays fast
            assertThat(sortedBatches.get(sortedBatches.size() - 1)).isLessThan(5_000);
            assertThat(percentile(sortedQueries, 99)).isLessThan(1_000_000);
        } finally {
            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + table);
                s.execute("DROP TABLE " + table + "_archive");
                s.execute("DROP TABLE " + table + "_node");
                s.execute("DROP TABLE IF EXISTS " + table + "_version");
            }
        }
    }

    private static void fill(JdbcOutboxStore store, DataSource dataSource, String table) throws SQLException {
        Instant longAgo = Instant.now().minus(Duration.ofDays(30));
        for (int chunk = 0; chunk < OLD_SENT / 10_000; chunk++) {
            int base = chunk * 10_000;
            store.append(IntStream.range(base, base + 10_000)
                                  .mapToObj(i -> entry("old-" + i, "old-" + (i / 10), i % 10, longAgo)).toList());
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement sent = c.prepareStatement(
                     "UPDATE " + table + " SET status = 'SENT', sent_at = ? WHERE status = 'PENDING'")) {
            sent.setObject(1, longAgo.atOffset(ZoneOffset.UTC));
            assertThat(sent.executeUpdate()).isEqualTo(OLD_SENT);
        }
        store.append(IntStream.range(0, 500).mapToObj(i -> entry("recent-" + i, "recent", i, Instant.now()))
                              .toList());
        store.markSent(IntStream.range(0, 500).mapToObj(i -> "recent-" + i).toList(), Instant.now());
        store.append(IntStream.range(0, 100).mapToObj(i -> entry("pending-" + i, "pending-" + i, 0, longAgo))
                              .toList());
        store.append(IntStream.range(0, 10).mapToObj(i -> entry("parked-" + i, "parked-" + i, 0, longAgo))
                              .toList());
        store.recordFailures(IntStream.range(0, 10).mapToObj(i -> new Failure(
                "parked-" + i, FailureKind.REFUSED, "refused", Outcome.PARK, null, longAgo)).toList());
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            // what autovacuum does soon after such a load in production: fresh planner statistics
            s.execute(c.getMetaData().getDatabaseProductName().equals("PostgreSQL") ? "ANALYZE " + table
                                                                                     : "ANALYZE TABLE " + table);
        }
    }

    private static OutboxEntry entry(String id, String aggregateId, long sequence, Instant timestamp) {
        return OutboxEntry.pending(id, timestamp, "Evt", "Order", aggregateId, sequence,
                                   "{\"text\":\"a payload of some realistic length, say a hundred bytes or so\"}",
                                   "{}", "0", null);
    }

    private static long countRows(DataSource dataSource, String table) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<Long> sorted(List<Long> values) {
        List<Long> copy = new ArrayList<>(values);
        Collections.sort(copy);
        return copy;
    }

    private static long percentile(List<Long> sorted, int percentile) {
        return sorted.get(Math.min(sorted.size() - 1, sorted.size() * percentile / 100));
    }

    /** Records the size and duration of every retention batch. */
    private static final class TimedMaintenance extends DelegatingMaintenance {
        private final List<Integer> sizes;
        private final List<Long> millis;

        TimedMaintenance(JdbcOutboxStore delegate, List<Integer> sizes, List<Long> millis) {
            super(delegate);
            this.sizes = sizes;
            this.millis = millis;
        }

        @Override
        public int purgeSent(Instant cutoff, int batchSize, boolean archive) {
            long start = System.nanoTime();
            int removed = super.purgeSent(cutoff, batchSize, archive);
            millis.add((System.nanoTime() - start) / 1_000_000);
            if (removed > 0) {
                sizes.add(removed);
            }
            return removed;
        }
    }
}
