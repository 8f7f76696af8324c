package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not timing tests: the plans that keep the relay's and the operator's reads bounded by what they return, at the
 * backlog sizes the outbox meets in production, on the real PostgreSQL server ({@code OUTBOX_TEST_POSTGRES_URL},
 * default {@code jdbc:postgresql://127.0.0.1:5432/test}). One table of 1,000,000 SENT and 100,000 PENDING rows over
 * 1,000 aggregates is built once; the blocked backlogs (every aggregate's head backing off, or parked, with 99,000
 * rows behind them) are set up inside a transaction that is rolled back. Each test prints the plan of
 * {@code EXPLAIN (ANALYZE, BUFFERS)} with its timing, and asserts the index it reads and the buffers it touches.
 */
class PostgresOutboxPlanIntegrationTest {

    private static final PGSimpleDataSource DATA_SOURCE = TestPostgres.dataSource();
    private static final String TABLE = "plan_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    private static final Pattern BUFFERS = Pattern.compile("Buffers: shared(?: hit=(\\d+))?(?: read=(\\d+))?");
    private static OutboxSql sql;

    @BeforeAll
    static void fillTheTable() throws SQLException {
        store(TABLE).createSchema();
        sql = OutboxSql.load(OutboxDatabase.POSTGRESQL, TABLE);
        try (Connection c = DATA_SOURCE.getConnection(); Statement s = c.createStatement()) {
            // aggregate o<k> holds sequences 0..999 SENT and 1000..1099 PENDING; positions follow sequences
            s.execute("INSERT INTO " + TABLE + " (id, timestamp, event_type, aggregate_type, aggregate_id, "
                              + "aggregate_sequence, payload, version, status, segment, sent_at) SELECT 'e' || n, "
                              + "now() - interval '1 day' + n * interval '1 ms', 'E', 'Order', 'o' || (n % 1000), "
                              + "n / 1000, '{\"n\":' || n || '}', '0', CASE WHEN n < 1000000 THEN 'SENT' ELSE "
                              + "'PENDING' END, n % 16, CASE WHEN n < 1000000 THEN now() END "
                              + "FROM generate_series(0, 1099999) n");
            // ten aggregates' last rows are parked (they hold nothing back): the operator's listing has rows to show
            s.execute("UPDATE " + TABLE + " SET status = 'FAILED', parked_at = now(), failure_kind = 'REFUSED' "
                              + "WHERE aggregate_sequence = 1099 AND aggregate_id IN ('o1', 'o2', 'o3', 'o4', 'o5', "
                              + "'o6', 'o7', 'o8', 'o9', 'o10')");
            s.execute("VACUUM ANALYZE " + TABLE);
        }
    }

    @AfterAll
    static void dropTheTable() throws SQLException {
        drop(TABLE);
    }

    /** A store of the outbox tables named {@code table} on the test server. */
    private static JdbcOutboxStore store(String table) {
        return JdbcOutboxStore.builder().connectionProvider(DATA_SOURCE::getConnection).table(table).build();
    }

    private static void drop(String table) throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection(); Statement s = c.createStatement()) {
            for (String suffix : new String[]{"", "_archive", "_node", "_version"}) {
                s.execute("DROP TABLE IF EXISTS " + table + suffix);
            }
        }
    }

    @Test
    void relayScanAndContinuationReadOnlyPendingRowsWhateverTheSentRowsBehindThem() throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection()) {
            String scan = explain(c, "relay scan (500 rows), 1,000,000 SENT + 100,000 PENDING", fetchPending(c, 500));
            assertThat(scan).contains("Index Scan using " + TABLE + "_pending_ix")
                            .contains(TABLE + "_pending_aggregate_uk") // "pending rows below?": pending rows only
                            .doesNotContain("Seq Scan").doesNotContain("Join Filter");
            assertThat(buffers(scan)).isLessThan(10_000); // ~4 per returned row, not per row of the table

            String after = explain(c, "relay continuation (500 rows)", fetchPendingAfter(c, 500));
            assertThat(after).contains(TABLE + "_pending_ix").doesNotContain("Seq Scan");
            assertThat(buffers(after)).isLessThan(2_000);
        }
    }

    /*
     * At every start and takeover, each claimed segment's rows that carry a broker sequence id (sent by an earlier
     * owner, or of unknown outcome) are read: through the partial indexes of pending and of parked rows, never through
     * the history of SENT rows (a sequential scan of the whole table grew with the history kept).
     */
    @Test
    void sequencedRowsOfASegmentAreReadFromThePendingAndParkedRowsOnly() throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection()) {
            String sequenced = sql.get("fetchSequenced");
            PreparedStatement explain = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + sequenced);
            for (int i = 1; i <= OutboxSql.parameterCount(sequenced); i++) {
                explain.setInt(i, 3);
            }
            String plan = explain(c, "sequenced rows of a segment, 1,000,000 SENT + 100,000 PENDING", explain);
            // any of the partial indexes of pending rows, and of parked rows (the planner's choice among them; with
            // many parked rows, the index of those parked with their id: see the next test)
            assertThat(plan).containsAnyOf(TABLE + "_pending_ix", TABLE + "_pending_age_ix")
                            .containsAnyOf(TABLE + "_parked_ix", TABLE + "_parked_aggregate_ix",
                                           TABLE + "_parked_unknown_ix")
                            .doesNotContain("Seq Scan");
            // the pending rows' entries and pages (about 4,000 buffers here), not the table's (about 130,000 pages)
            assertThat(buffers(plan)).isLessThan(25_000);
        }
    }

    /*
     * Schema version 6: of the parked rows, that read visits only those parked with their sequence id (a failure that
     * may have reached the broker: TRANSIENT, TIMEOUT, UNAVAILABLE, NOT_RECORDED), through their partial index, not
     * every parked row: parked history (rows refused outright, which carry no id) no longer adds to each start and
     * takeover. A table of its own (the other tests count the buffers of this one's indexes): 50,000 rows parked as
     * refused, 1,000 parked of unknown outcome with ids, 1,000 pending.
     */
    @Test
    void sequencedParkedRowsAreReadFromTheParkedRowsOfUnknownOutcomeOnly() throws SQLException {
        String parked = TABLE + "_p";
        store(parked).createSchema();
        try (Connection c = DATA_SOURCE.getConnection(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO " + parked + " (id, timestamp, event_type, aggregate_type, aggregate_id, "
                              + "aggregate_sequence, payload, version, status, segment, parked_at, failure_kind, "
                              + "broker_sequence) SELECT 'e' || n, now(), 'E', 'Order', 'o' || (n % 1000), n / 1000, "
                              + "'{\"n\":' || n || '}', '0', CASE WHEN n < 51000 THEN 'FAILED' ELSE 'PENDING' END, "
                              + "n % 16, CASE WHEN n < 51000 THEN now() END, CASE WHEN n < 50000 THEN 'REFUSED' "
                              + "WHEN n < 51000 THEN 'TRANSIENT' END, CASE WHEN n >= 50000 AND n < 51000 THEN n END "
                              + "FROM generate_series(0, 51999) n");
            s.execute("VACUUM ANALYZE " + parked);
            OutboxSql parkedSql = OutboxSql.load(OutboxDatabase.POSTGRESQL, parked);
            String sequenced = parkedSql.get("fetchSequenced");
            PreparedStatement explain = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + sequenced);
            for (int i = 1; i <= OutboxSql.parameterCount(sequenced); i++) {
                explain.setInt(i, 3);
            }
            String plan = explain(c, "sequenced rows of a segment, 51,000 parked of which 1,000 with ids", explain);
            assertThat(plan).contains(parked + "_parked_unknown_ix").doesNotContain(parked + "_parked_ix")
                            .doesNotContain("Seq Scan");
            // a few buffers per parked row of segment 3 with an id (63 of them), not one per parked row (51,000)
            assertThat(branchBuffers(plan, parked, "f")).isLessThan(500);

            List<OutboxEntry> rows = store(parked).fetchSequenced(3);
            assertThat(rows).hasSize(63).allSatisfy(row -> {
                assertThat(row.status()).isEqualTo(OutboxStatus.FAILED);
                assertThat(row.failureKind()).isEqualTo(io.github.pulsaroutbox.FailureKind.TRANSIENT);
            });
        } finally {
            drop(parked);
        }
    }

    /*
     * The statements that name rows by id (the SENT recording, the sequence id assignment and its check) read them
     * through the primary key whatever the statistics say. A table of its own that was never analyzed (autovacuum off
     * for it, as on a server without autovacuum or before its first run on a new table) with 100,000 pending rows,
     * and the generic plans the driver's prepared statements use after a few executions: with "status = 'PENDING'"
     * these plans read every pending row through a partial pending index and filtered them by id (about 20,000
     * buffers, 264 ms here, growing with the backlog); "(status = 'PENDING') IS TRUE" matches no index predicate.
     */
    @Test
    void statementsNamingRowsByIdReadThemThroughThePrimaryKeyWithoutStatistics() throws SQLException {
        String fresh = TABLE + "_f";
        store(fresh).createSchema();
        try (Connection c = DATA_SOURCE.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.execute("ALTER TABLE " + fresh + " SET (autovacuum_enabled = false)");
                s.execute("INSERT INTO " + fresh + " (id, timestamp, event_type, aggregate_type, aggregate_id, "
                                  + "aggregate_sequence, payload, version, status, segment) SELECT 'e' || n, now(), "
                                  + "'E', 'Order', 'o' || n, 0, '{\"n\":' || n || '}', '0', 'PENDING', n % 16 "
                                  + "FROM generate_series(0, 99999) n");
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL plan_cache_mode = force_generic_plan");
                OutboxSql freshSql = OutboxSql.load(OutboxDatabase.POSTGRESQL, fresh);
                List<String> names = List.of("markSent", "assignSequences", "assignSequencesOnePartition",
                                             "sequencesOf");
                for (int n = 0; n < names.size(); n++) { // each statement names rows of its own
                    String name = names.get(n);
                    String plan = explainGeneric(c, name + " of " + OutboxSql.SET_SIZE + " ids, 100,000 pending "
                            + "rows, no statistics, generic plan", freshSql.get(name), 1000 * (n + 1));
                    assertThat(plan).as(name).contains(fresh + "_pk").doesNotContain("_pending_")
                                    .doesNotContain("Seq Scan");
                    // about 3-12 per row named, not one per pending row's page (20,000)
                    assertThat(buffers(plan)).as(name).isLessThan(3_000);
                }
            } finally {
                c.rollback();
            }
        } finally {
            drop(fresh);
        }
    }

    /**
     * The plan of {@code EXPLAIN (ANALYZE, BUFFERS)} of the generic plan of {@code statement} (its parameters as a
     * server-side prepared statement has them, as the driver's become after a few executions), executed with
     * {@link OutboxSql#SET_SIZE} ids: text parameters get {@code e<first>}, {@code e<first + 1>}, … in turn (starting
     * again at each run of ids, as the store binds them), numbers a sequence id, partition 0, a timestamp now. Needs
     * {@code plan_cache_mode = force_generic_plan}.
     */
    private static String explainGeneric(Connection c, String what, String statement, int first)
            throws SQLException {
        StringBuilder numbered = new StringBuilder();
        int parameter = 0;
        for (char ch : statement.toCharArray()) {
            numbered.append(ch == '?' ? "$" + ++parameter : String.valueOf(ch));
        }
        List<String> values = new java.util.ArrayList<>();
        try (Statement s = c.createStatement()) {
            s.execute("PREPARE by_id AS " + numbered);
            try (ResultSet rs = s.executeQuery("SELECT unnest(parameter_types)::text FROM pg_prepared_statements "
                                                       + "WHERE name = 'by_id'")) {
                int text = 0;
                while (rs.next()) {
                    String type = rs.getString(1);
                    values.add(switch (type) {
                        case "character varying", "text" -> "'e" + (first + text++ % OutboxSql.SET_SIZE) + "'";
                        case "bigint" -> String.valueOf(values.size());
                        case "integer" -> "0";
                        default -> "now()";
                    });
                }
            }
            assertThat(values).hasSize(parameter);
            try {
                return explain(c, what, c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) EXECUTE by_id("
                                                                   + String.join(", ", values) + ")"));
            } finally {
                s.execute("DEALLOCATE by_id");
            }
        }
    }

    @Test
    void parkedListingAndStatisticsReadTheirSmallIndexes() throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection()) {
            PreparedStatement list = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + sql.get("findParked"));
            list.setString(1, null);
            list.setString(2, null);
            list.setString(3, null);
            list.setString(4, null);
            list.setInt(5, 0);
            list.setInt(6, 100);
            String listing = explain(c, "parked listing (first 100)", list);
            assertThat(listing).contains(TABLE + "_parked_ix").doesNotContain("Seq Scan");
            assertThat(buffers(listing)).isLessThan(100);

            PreparedStatement oldest = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + sql.get("oldestPending"));
            String age = explain(c, "backlog age (oldestPending)", oldest);
            assertThat(age).contains(TABLE + "_pending_age_ix").doesNotContain("Seq Scan");
            assertThat(buffers(age)).isLessThan(50); // one index entry and its row, not every pending row

            PreparedStatement parked = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + sql.get("countParked"));
            parked.setString(1, null);
            parked.setString(2, null);
            parked.setString(3, null);
            parked.setString(4, null);
            String count = explain(c, "parked count", parked);
            assertThat(count).containsAnyOf(TABLE + "_parked_ix", TABLE + "_parked_aggregate_ix")
                             .doesNotContain("Seq Scan");
            // the parked rows' entries, plus dead ones the rolled-back tests of this class may leave behind
            assertThat(buffers(count)).isLessThan(2_000);
        }
    }

    /*
     * Schema version 3: the relay updates every row twice (its broker sequence id before the send, SENT after the
     * acknowledgement). With room on every page for a new version of each row (fillfactor 45) the sequence id update
     * is heap-only for every row, so it writes no index at all; at fillfactor 70 only part of a transaction's rows fit
     * (about 40% of these), the others wrote a new entry into every index. Counted by the server for this
     * transaction, which is rolled back.
     */
    @Test
    void assigningBrokerSequenceIdsIsAHeapOnlyUpdateOfEveryRow() throws SQLException {
        try (Connection c = DATA_SOURCE.getConnection()) {
            c.setAutoCommit(false);
            try {
                Connection shared = (Connection) java.lang.reflect.Proxy.newProxyInstance(
                        getClass().getClassLoader(), new Class<?>[]{Connection.class}, (proxy, method, args) ->
                                method.getName().equals("close") ? null : method.invoke(c, args));
                JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(() -> shared).table(TABLE).build();
                java.util.Map<String, Long> sequences = new java.util.LinkedHashMap<>();
                for (int n = 1_050_000; n < 1_050_500; n++) { // pending rows no other test of this class updates
                    sequences.put("e" + n, (long) n);
                }

                assertThat(store.assignSequences(sequences)).isEmpty();

                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                                                           + "WHERE relid = '" + TABLE + "'::regclass")) {
                    assertThat(rs.next()).isTrue();
                    System.out.println("sequence id updates: " + rs.getLong(1) + ", heap-only: " + rs.getLong(2));
                    assertThat(rs.getLong(1)).isEqualTo(500);
                    assertThat(rs.getLong(2)).as("heap-only updates").isEqualTo(500);
                }
            } finally {
                c.rollback();
            }
        }
    }

    /*
     * A broker outage: every aggregate's head backs off and 99,000 rows wait behind them. The scan cannot skip them
     * (none is due or sendable) but probes each with one seek into the few rows that back off; before schema version
     * 2 the planner turned the probe into an anti-join against all of them: 9 s per scan here. The relay runs such
     * an unproductive scan at a backed-off interval (OutboxRelay), not every pass.
     */
    @Test
    void scanOverABacklogBlockedBehindBackingOffHeadsProbesEachRowWithOneSmallSeek() throws SQLException {
        onBlockedBacklog("SET attempts = 1, next_attempt_at = now() + interval '1 hour', failure_kind = 'UNAVAILABLE'",
                         c -> {
            String plan = explain(c, "relay scan, 100,000 rows blocked behind 1,000 backing-off heads",
                                  fetchPending(c, 500));
            assertThat(plan).contains("Index Scan using " + TABLE + "_backing_off_ix")
                            .doesNotContain("Join Filter").doesNotContain("Materialize")
                            .contains("rows=0 loops=1"); // nothing is due
            // about 5 per blocked row (more with dead row versions the other tests leave), not rows x heads
            assertThat(buffers(plan)).isLessThan(1_500_000);
        });
    }

    @Test
    void scanOverABacklogBlockedBehindParkedHeadsProbesEachRowWithOneSmallSeek() throws SQLException {
        onBlockedBacklog("SET status = 'FAILED', parked_at = now(), failure_kind = 'REFUSED'", c -> {
            String plan = explain(c, "relay scan, 99,000 rows blocked behind 1,000 parked heads", fetchPending(c, 500));
            assertThat(plan).contains(TABLE + "_parked_aggregate_ix on " + TABLE + " f")
                            .doesNotContain("Join Filter").doesNotContain("Materialize");
            assertThat(buffers(plan)).isLessThan(1_500_000);

            String age = explain(c, "backlog age with 1,000 parked heads",
                                 c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + sql.get("oldestPending")));
            assertThat(age).contains(TABLE + "_pending_age_ix").doesNotContain("Seq Scan");
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
                s.execute("ANALYZE " + TABLE);
                test.run(c);
            } finally {
                c.rollback();
            }
        }
    }

    private static PreparedStatement fetchPending(Connection c, int limit) throws SQLException {
        PreparedStatement explain = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + sql.get("fetchPending"));
        OffsetDateTime now = OffsetDateTime.now();
        explain.setObject(1, now);
        for (int i = 0; i < OutboxSql.SEGMENT_SET_SIZE; i++) {
            explain.setInt(2 + i, i % 16);
        }
        explain.setObject(2 + OutboxSql.SEGMENT_SET_SIZE, now);
        explain.setLong(3 + OutboxSql.SEGMENT_SET_SIZE, Long.MIN_VALUE); // a complete scan, from the lowest position
        explain.setInt(4 + OutboxSql.SEGMENT_SET_SIZE, limit);
        return explain;
    }

    private static PreparedStatement fetchPendingAfter(Connection c, int limit) throws SQLException {
        PreparedStatement explain = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + sql.get("fetchPendingAfter"));
        explain.setLong(1, 1_050_000);
        explain.setObject(2, OffsetDateTime.now());
        for (int i = 0; i < OutboxSql.SEGMENT_SET_SIZE; i++) {
            explain.setInt(3 + i, i % 16);
        }
        explain.setInt(3 + OutboxSql.SEGMENT_SET_SIZE, limit);
        return explain;
    }

    private static String explain(Connection c, String what, PreparedStatement explain) throws SQLException {
        StringBuilder plan = new StringBuilder();
        try (explain; ResultSet rs = explain.executeQuery()) {
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
        }
        System.out.println("PLAN " + what + ":\n" + plan);
        return plan.toString();
    }

    /**
     * The buffers the plan node reading the table as {@code alias} touched (an index scan, or a bitmap heap scan with
     * its index scan below it): the first Buffers line after it.
     */
    private static long branchBuffers(String plan, String table, String alias) {
        int node = plan.indexOf(" on " + table + " " + alias + " ");
        assertThat(node).as("a plan node reading " + alias).isNotNegative();
        return buffers(plan.substring(node));
    }

    /** The buffers the whole statement touched: the first (top-level) Buffers line. */
    private static long buffers(String plan) {
        Matcher m = BUFFERS.matcher(plan);
        assertThat(m.find()).as("the plan reports its buffers").isTrue();
        return (m.group(1) == null ? 0 : Long.parseLong(m.group(1))) + (m.group(2) == null ? 0 : Long.parseLong(m.group(2)));
    }
}
