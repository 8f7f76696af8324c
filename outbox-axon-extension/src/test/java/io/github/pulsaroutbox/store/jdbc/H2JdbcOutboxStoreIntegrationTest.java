package io.github.pulsaroutbox.store.jdbc;

import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.UUID;

import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The store's contract on H2 (in memory). */
class H2JdbcOutboxStoreIntegrationTest extends AbstractJdbcOutboxStoreIntegrationTest {

    private static final JdbcDataSource DATA_SOURCE = new JdbcDataSource();

    static {
        DATA_SOURCE.setURL("jdbc:h2:mem:outbox-store-it;DB_CLOSE_DELAY=-1");
    }

    @Override
    DataSource dataSource() {
        return DATA_SOURCE;
    }

    @Test
    void fileDatabaseThatMayLoseConfirmedCommitsIsWarnedAbout(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (Connection memory = DATA_SOURCE.getConnection()) {
            assertThat(JdbcAccess.h2DurabilityWarning(memory)).isEmpty();
        }
        String file = "jdbc:h2:file:" + dir.resolve("outbox").toAbsolutePath();
        try (Connection delayed = java.sql.DriverManager.getConnection(file, "sa", "")) {
            assertThat(JdbcAccess.h2DurabilityWarning(delayed)).hasValueSatisfying(
                    warning -> assertThat(warning).contains("WRITE_DELAY=0").contains("DB_CLOSE_ON_EXIT=FALSE"));
        }
        try (Connection durable = java.sql.DriverManager.getConnection(
                file + "2;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE", "sa", "")) {
            assertThat(JdbcAccess.h2DurabilityWarning(durable)).isEmpty();
        }
    }

    /*
     * Not a timing test: the plan that keeps the relay's query cheap on a large backlog. Without the index hints H2
     * probes "earlier rows of the aggregate" through the unique index and reads every earlier row of every status (measured: 0.4-1 s
     * per 500 rows at 20,000 pending rows, against 8-20 ms with this plan).
     */
    @Test
    void relayQueryReadsTheStatusIndexInOrderAndSeeksOnlyBlockingRows() throws Exception {
        String table = "plan_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String plan = plan(table, "fetchPending", explain -> {
            OffsetDateTime now = OffsetDateTime.now();
            explain.setObject(1, now);
            explain.setObject(2, now);
            explain.setInt(3, 500);
        });
        assertThat(plan).contains("INDEX SORTED").contains(table.toUpperCase() + "_STATUS_POSITION_IX");
        // the parked probe, lower_max and lower_min: each a range seek over the aggregate's rows of one status below
        // the row's sequence (none for an aggregate's head row)
        String[] seeks = plan.split(table.toUpperCase() + "_AGGREGATE_SEQUENCE_IX: ", -1);
        assertThat(seeks).hasSize(4);
        for (int i = 1; i < seeks.length; i++) {
            assertThat(seeks[i].substring(0, seeks[i].indexOf("*/")))
                    .contains("AGGREGATE_SEQUENCE < O.AGGREGATE_SEQUENCE");
        }
        // the backing-off probe: a seek to the aggregate's pending rows due later (none unless one retries)
        String[] retries = plan.split(table.toUpperCase() + "_AGGREGATE_STATUS_IX: ", -1);
        assertThat(retries).hasSize(2);
        assertThat(retries[1].substring(0, retries[1].indexOf("*/"))).contains("NEXT_ATTEMPT_AT >");
    }

    /*
     * Each retention batch finds its upper bound by reading the SENT part of the (status, position) index in order and
     * stopping after the batch size: never reading (and sorting) every SENT row, which made a batch cost 600 ms at
     * 1,000,000 SENT rows.
     */
    @Test
    void retentionReadsItsBatchInIndexOrderNotEverySentRow() throws Exception {
        String table = "plan_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String plan = plan(table, "retentionUpperBound", explain -> {
            explain.setObject(1, OffsetDateTime.now());
            explain.setInt(2, 1000);
        });
        assertThat(plan).contains(table.toUpperCase() + "_STATUS_POSITION_IX: STATUS = 'SENT'")
                        .contains("INDEX SORTED");
    }

    /*
     * At every start and takeover each claimed segment's rows carrying a broker sequence id are read: a seek into the
     * (status, position) index for the pending and the parked rows, never a scan of the SENT history.
     */
    @Test
    void sequencedRowsAreReadThroughTheStatusIndexNotTheHistory() throws Exception {
        String table = "plan_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String plan = plan(table, "fetchSequenced", explain -> {
            for (int i = 1; i <= explain.getParameterMetaData().getParameterCount(); i++) {
                explain.setInt(i, 3);
            }
        });
        assertThat(plan).contains(table.toUpperCase() + "_STATUS_POSITION_IX: STATUS IN('PENDING', 'FAILED')");
    }

    /** Binds an {@code EXPLAIN}'s parameters. */
    private interface Parameters {
        void bind(PreparedStatement explain) throws java.sql.SQLException;
    }

    /** H2's plan (upper case) for the store's statement {@code name} on a fresh, empty {@code table}. */
    private static String plan(String table, String name, Parameters parameters) throws Exception {
        JdbcOutboxStore.builder().connectionProvider(DATA_SOURCE::getConnection).table(table).build().createSchema();
        String statement = OutboxSql.load(OutboxDatabase.H2, table).get(name);
        try (Connection c = DATA_SOURCE.getConnection();
             PreparedStatement explain = c.prepareStatement("EXPLAIN " + statement)) {
            parameters.bind(explain);
            try (ResultSet rs = explain.executeQuery()) {
                rs.next();
                return rs.getString(1).toUpperCase();
            }
        } finally {
            try (Connection c = DATA_SOURCE.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + table);
                s.execute("DROP TABLE " + table + "_archive");
            }
        }
    }
}
