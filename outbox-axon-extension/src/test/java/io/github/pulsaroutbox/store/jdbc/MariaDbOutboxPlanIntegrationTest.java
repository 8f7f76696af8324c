package io.github.pulsaroutbox.store.jdbc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.pulsaroutbox.TestMariaDb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not timing tests: the plans that keep the relay's and the operator's reads bounded by what they return, at the
 * backlog sizes the outbox meets in production, on the real MariaDB server ({@code OUTBOX_TEST_MARIADB_URL}). One
 * table of 1,000,000 SENT and 100,000 PENDING rows over 1,000 aggregates is built once; the blocked backlogs (every
 * aggregate's head backing off, or parked, with 99,000 rows behind them) are set up inside a transaction that is
 * rolled back. Each test runs the statement under {@code ANALYZE FORMAT=JSON} (MariaDB executes it and reports, per
 * table read, the index and the rows it actually read), prints it, and asserts the index and the rows read: the rows of
 * the status asked for, never the history of SENT rows.
 */
class MariaDbOutboxPlanIntegrationTest {

    private static final DataSource DATA_SOURCE = TestMariaDb.dataSource();
    private static final String TABLE = "plan_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static OutboxSql sql;

    /** One table read of a plan: its alias, access type, index and the rows it read (per loop, and loops). */
    record Read(String table, String access, String key, double rows, double loops) {
        double total() {
            return rows * Math.max(1, loops);
        }
    }

    @BeforeAll
    static void fillTheTable() throws SQLException {
        JdbcOutboxStore.builder().connectionProvider(DATA_SOURCE::getConnection).table(TABLE).build().createSchema();
        sql = OutboxSql.load(OutboxDatabase.MARIADB, TABLE);
        try (Connection c = DATA_SOURCE.getConnection(); Statement s = c.createStatement()) {
            // aggregate o<k> holds sequences 0..999 SENT and 1000..1099 PENDING; positions follow sequences
            s.execute("INSERT INTO " + TABLE + " (id, timestamp, event_type, aggregate_type, aggregate_id, "
                              + "aggregate_sequence, payload, version, status, segment, sent_at) SELECT CONCAT('e', seq), "
                              + "UTC_TIMESTAMP(6) - INTERVAL 1 DAY + INTERVAL seq * 1000 MICROSECOND, 'E', 'Order', "
                              + "CONCAT('o', seq % 1000), seq DIV 1000, CONCAT('{\"n\":', seq, '}'), '0', "
                              + "CASE WHEN seq < 1000000 THEN 'SENT' ELSE 'PENDING' END, seq % 16, "
                              + "CASE WHEN seq < 1000000 THEN UTC_TIMESTAMP(6) END FROM seq_0_to_1099999");
            // ten aggregates' last rows are parked (they hold nothing back): the operator's listing has rows to show
            s.execute("UPDATE " + TABLE + " SET status = 'FAILED', parked_at = UTC_TIMESTAMP(6), "
                              + "failure_kind = 'REFUSED' WHERE aggregate_sequence = 1099 AND aggregate_id IN "
                              + "('o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'o9', 'o10')");
            s.execute("ANALYZE TABLE " + TABLE);
        }
    }

    @AfterAll
    static void dropTheTable() throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection(); Statement s = c.createStatement()) {
            for (String suffix : new String[]{"", "_archive", "_node", "_version"}) {
                s.execute("DROP TABLE IF EXISTS " + TABLE + suffix);
            }
        }
    }

    @Test
    void relayScanAndContinuationReadOnlyPendingRowsWhateverTheSentRowsBehindThem() throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection()) {
            List<Read> scan = analyze(c, "relay scan (500 rows), 1,000,000 SENT + 100,000 PENDING",
                                      fetchPending(c, 500));
            assertThat(read(scan, "o").key()).isEqualTo(TABLE + "_status_position_ix");
            assertThat(read(scan, "o").total()).as("pending rows read, not the history").isLessThan(5_000);
            assertThat(scan).allSatisfy(r -> assertThat(r.access()).isNotEqualTo("ALL"));

            List<Read> after = analyze(c, "relay continuation (500 rows)", fetchPendingAfter(c, 500));
            assertThat(read(after, "o").key()).isEqualTo(TABLE + "_status_position_ix");
            assertThat(read(after, "o").total()).isLessThan(5_000);
        }
    }

    /* At every start and takeover, each claimed segment's rows that carry a broker sequence id are read. */
    @Test
    void sequencedRowsOfASegmentAreReadFromThePendingAndParkedRowsOnly() throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection()) {
            String sequenced = sql.get("fetchSequenced");
            PreparedStatement analyze = c.prepareStatement("ANALYZE FORMAT=JSON " + sequenced);
            for (int i = 1; i <= OutboxSql.parameterCount(sequenced); i++) {
                analyze.setInt(i, 3);
            }
            List<Read> plan = analyze(c, "sequenced rows of a segment", analyze);
            assertThat(plan).allSatisfy(r -> assertThat(r.access()).isNotEqualTo("ALL"));
            // the pending and parked rows (100,000), not the table's 1,100,000
            assertThat(plan.stream().mapToDouble(Read::total).sum()).isLessThan(150_000);
        }
    }

    @Test
    void parkedListingAndStatisticsReadTheirRowsOnly() throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection()) {
            PreparedStatement list = c.prepareStatement("ANALYZE FORMAT=JSON " + sql.get("findParked"));
            list.setString(1, null);
            list.setString(2, null);
            list.setString(3, null);
            list.setString(4, null);
            list.setInt(5, 0);
            list.setInt(6, 100);
            List<Read> listing = analyze(c, "parked listing (first 100)", list);
            assertThat(read(listing, TABLE).key()).isEqualTo(TABLE + "_status_position_ix");
            assertThat(read(listing, TABLE).total()).isLessThan(100);

            List<Read> age = analyze(c, "backlog age (oldestPending)",
                                     c.prepareStatement("ANALYZE FORMAT=JSON " + sql.get("oldestPending")));
            assertThat(read(age, "o").access()).isNotEqualTo("ALL");
            assertThat(read(age, "o").total()).as("pending rows, not the history").isLessThan(150_000);

            PreparedStatement parked = c.prepareStatement("ANALYZE FORMAT=JSON " + sql.get("countParked"));
            parked.setString(1, null);
            parked.setString(2, null);
            parked.setString(3, null);
            parked.setString(4, null);
            List<Read> count = analyze(c, "parked count", parked);
            assertThat(read(count, TABLE).total()).isLessThan(100);
        }
    }

    /*
     * A broker outage: every aggregate's head backs off and 99,000 rows wait behind them. The scan cannot skip them
     * (none is due or sendable) but probes each with one seek into the aggregate's rows due later.
     */
    @Test
    void scanOverABacklogBlockedBehindBackingOffHeadsProbesEachRowWithOneSmallSeek() throws SQLException {
        onBlockedBacklog("SET attempts = 1, next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL 1 HOUR, "
                                 + "failure_kind = 'UNAVAILABLE'", c -> {
            List<Read> plan = analyze(c, "relay scan, 100,000 rows blocked behind 1,000 backing-off heads",
                                      fetchPending(c, 500));
            assertThat(read(plan, "w").key()).isEqualTo(TABLE + "_aggregate_status_ix");
            // about one row per probe (the aggregate's backing-off head), not the aggregate's rows
            assertThat(read(plan, "w").rows()).isLessThan(3);
            assertThat(plan).allSatisfy(r -> assertThat(r.access()).isNotEqualTo("ALL"));
        });
    }

    @Test
    void scanOverABacklogBlockedBehindParkedHeadsProbesEachRowWithOneSmallSeek() throws SQLException {
        onBlockedBacklog("SET status = 'FAILED', parked_at = UTC_TIMESTAMP(6), failure_kind = 'REFUSED'", c -> {
            List<Read> plan = analyze(c, "relay scan, 99,000 rows blocked behind 1,000 parked heads",
                                      fetchPending(c, 500));
            assertThat(read(plan, "f").key()).isEqualTo(TABLE + "_aggregate_sequence_ix");
            assertThat(read(plan, "f").rows()).isLessThan(3);
            assertThat(plan).allSatisfy(r -> assertThat(r.access()).isNotEqualTo("ALL"));
        });
    }

    private interface OnConnection {
        void run(Connection c) throws SQLException;
    }

    /** Every aggregate's pending head updated with {@code set}, in a transaction rolled back after {@code test}. */
    private static void onBlockedBacklog(String set, OnConnection test) throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("UPDATE " + TABLE + " " + set + " WHERE status = 'PENDING' AND aggregate_sequence = 1000");
                test.run(c);
            } finally {
                c.rollback();
            }
        }
    }

    private static PreparedStatement fetchPending(Connection c, int limit) throws SQLException {
        PreparedStatement analyze = c.prepareStatement("ANALYZE FORMAT=JSON " + sql.get("fetchPending"));
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        analyze.setObject(1, now);
        for (int i = 0; i < OutboxSql.SEGMENT_SET_SIZE; i++) {
            analyze.setInt(2 + i, i % 16);
        }
        analyze.setObject(2 + OutboxSql.SEGMENT_SET_SIZE, now);
        analyze.setLong(3 + OutboxSql.SEGMENT_SET_SIZE, Long.MIN_VALUE); // a complete scan, from the lowest position
        analyze.setInt(4 + OutboxSql.SEGMENT_SET_SIZE, limit);
        return analyze;
    }

    private static PreparedStatement fetchPendingAfter(Connection c, int limit) throws SQLException {
        PreparedStatement analyze = c.prepareStatement("ANALYZE FORMAT=JSON " + sql.get("fetchPendingAfter"));
        analyze.setLong(1, 1_050_000);
        analyze.setObject(2, OffsetDateTime.now(ZoneOffset.UTC));
        for (int i = 0; i < OutboxSql.SEGMENT_SET_SIZE; i++) {
            analyze.setInt(3 + i, i % 16);
        }
        analyze.setInt(3 + OutboxSql.SEGMENT_SET_SIZE, limit);
        return analyze;
    }

    /** Runs the statement under ANALYZE, prints the plan and returns every table read in it. */
    private static List<Read> analyze(Connection c, String what, PreparedStatement analyze) throws SQLException {
        String plan;
        try (analyze; ResultSet rs = analyze.executeQuery()) {
            assertThat(rs.next()).isTrue();
            plan = rs.getString(1);
        }
        System.out.println("PLAN " + what + ":\n" + plan);
        List<Read> reads = new ArrayList<>();
        try {
            collect(JSON.readTree(plan), reads);
        } catch (java.io.IOException e) {
            throw new AssertionError("Not a JSON plan: " + plan, e);
        }
        return reads;
    }

    private static void collect(JsonNode node, List<Read> reads) {
        if (node.isObject()) {
            JsonNode table = node.get("table");
            if (table != null && table.has("table_name")) {
                reads.add(new Read(table.path("table_name").asText(), table.path("access_type").asText(),
                                   table.path("key").asText(null), table.path("r_rows").asDouble(0),
                                   table.path("r_loops").asDouble(1)));
            }
            node.fields().forEachRemaining(field -> collect(field.getValue(), reads));
        } else if (node.isArray()) {
            node.forEach(element -> collect(element, reads));
        }
    }

    private static Read read(List<Read> reads, String table) {
        return reads.stream().filter(r -> r.table().equals(table)).findFirst()
                    .orElseThrow(() -> new AssertionError("no read of " + table + " in " + reads));
    }
}
