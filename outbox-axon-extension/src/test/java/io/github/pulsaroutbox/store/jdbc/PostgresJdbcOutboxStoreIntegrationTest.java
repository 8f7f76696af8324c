package io.github.pulsaroutbox.store.jdbc;

import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.UUID;
import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store's contract on PostgreSQL: {@code OUTBOX_TEST_POSTGRES_URL} (default
 * {@code jdbc:postgresql://127.0.0.1:5432/test}, user {@code postgres}, the server {@code .ci/run} ensures is up).
 */
class PostgresJdbcOutboxStoreIntegrationTest extends AbstractJdbcOutboxStoreIntegrationTest {

    private static final PGSimpleDataSource DATA_SOURCE = new PGSimpleDataSource();

    static {
        String url = System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test");
        DATA_SOURCE.setURL(url);
        DATA_SOURCE.setUser(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_USER", "postgres"));
        DATA_SOURCE.setPassword(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_PASSWORD", ""));
    }

    @Override
    DataSource dataSource() {
        return DATA_SOURCE;
    }

    /*
     * Not a timing test: the plan that keeps the relay's scan bounded by what it returns. With 200,000 SENT rows
     * in front of 20,000 PENDING ones, PostgreSQL reads the partial index of pending rows instead of walking the
     * SENT rows through (status, position) or the primary key.
     */
    @Test
    void relayScanReadsOnlyPendingRowsThroughThePartialIndex() throws Exception {
        String table = "plan_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(DATA_SOURCE::getConnection).table(table)
                                               .build();
        store.createSchema();
        try (Connection c = DATA_SOURCE.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO " + table + " (id, timestamp, event_type, aggregate_type, aggregate_id, "
                              + "aggregate_sequence, payload, version, status, segment) SELECT 'e' || n, now(), 'E', "
                              + "'Order', 'o' || (n % 1000), n / 1000, '{}', '0', CASE WHEN n <= 200000 THEN 'SENT' "
                              + "ELSE 'PENDING' END, n % 16 FROM generate_series(1, 220000) n");
            s.execute("ANALYZE " + table);
            String fetch = OutboxSql.load(OutboxDatabase.POSTGRESQL, table).get("fetchPending");
            try (PreparedStatement explain = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + fetch)) {
                OffsetDateTime now = OffsetDateTime.now();
                explain.setObject(1, now);
                for (int i = 0; i < OutboxSql.SEGMENT_SET_SIZE; i++) {
                    explain.setInt(2 + i, i % 16);
                }
                explain.setObject(2 + OutboxSql.SEGMENT_SET_SIZE, now);
                explain.setInt(3 + OutboxSql.SEGMENT_SET_SIZE, 500);
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = explain.executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                System.out.println("PLAN relay scan, 200,000 SENT + 20,000 PENDING rows:\n" + plan);
                assertThat(plan.toString()).contains(table + "_pending_ix")
                                           .doesNotContain("Seq Scan on " + table);
            }
        } finally {
            try (Connection c = DATA_SOURCE.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + table);
                s.execute("DROP TABLE " + table + "_archive");
                s.execute("DROP TABLE " + table + "_node");
            }
        }
    }
}
