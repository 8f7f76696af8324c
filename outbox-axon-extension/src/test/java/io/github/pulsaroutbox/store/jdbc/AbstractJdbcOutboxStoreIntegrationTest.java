package io.github.pulsaroutbox.store.jdbc;

import org.axonframework.common.jdbc.ConnectionWrapperFactory;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.TokenTable;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.store.OutboxMaintenance.Action;
import io.github.pulsaroutbox.store.OutboxStore.Failure;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import javax.sql.DataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The contract of {@link JdbcOutboxStore}, run against each real database it ships SQL for. */
abstract class AbstractJdbcOutboxStoreIntegrationTest {

    private final String table = "outbox_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    private JdbcOutboxStore store;

    abstract DataSource dataSource();

    @BeforeEach
    void createTable() {
        store = storeOf(table);
        store.createSchema();
        store.createSchema(); // idempotent
    }

    @AfterEach
    void dropTable() throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE " + table);
            s.execute("DROP TABLE " + table + "_archive");
            s.execute("DROP TABLE " + table + "_node");
            s.execute("DROP TABLE IF EXISTS " + table + "_version");
        }
    }

    /*
     * Schema versions: tables created before versions were recorded (version 1, the baseline) are reported at startup
     * and migrated by createSchema without losing a row; a table of an older or a newer version fails the start
     * with what to do.
     */
    @Test
    void tablesOfAnEarlierSchemaAreReportedThenMigratedKeepingTheirRows() throws SQLException {
        String old = table + "_v1";
        JdbcOutboxStore oldStore = storeAtVersion(old, 1);
        try {
            oldStore.append(List.of(entry("kept", "A", 0)));
            assertThatThrownBy(oldStore::verifySchema).isInstanceOf(io.github.pulsaroutbox.OutboxStartupException.class)
                    .hasMessageContaining("records no schema version")
                    .hasMessageContaining("pulsar-outbox.initialize-schema=always")
                    .hasMessageContaining("/migration/V1__");

            oldStore.createSchema();

            oldStore.verifySchema();
            assertThat(oldStore.fetchPending(10, Instant.now())).extracting(OutboxEntry::id).containsExactly("kept");
            assertThat(recordedVersion(old)).isEqualTo(JdbcOutboxStore.schemaVersion());
        } finally {
            dropTables(old);
        }
    }

    /** A store of the outbox tables named {@code name} on {@link #dataSource()}. */
    private JdbcOutboxStore storeOf(String name) {
        return JdbcOutboxStore.builder().connectionProvider(dataSource()::getConnection).table(name).build();
    }

    /** Creates the outbox tables named {@code name} as migrations 1 to {@code version} leave them; their store. */
    private JdbcOutboxStore storeAtVersion(String name, int version) throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            OutboxSql sql = OutboxSql.load(OutboxDatabase.detect(c), name);
            for (int applied = 1; applied <= version; applied++) {
                for (String ddl : sql.migration(applied)) {
                    s.execute(ddl);
                }
            }
        }
        return storeOf(name);
    }

    /*
     * A filled table of schema version 4 (the relay's rows in every state: SENT history, pending rows with and without
     * broker sequence ids, parked rows refused and parked of unknown outcome with their ids) is migrated to the
     * current version without losing a row or changing one, and the relay's reads find what they found before.
     */
    @Test
    void aFilledTableOfVersion4IsMigratedKeepingEveryRowAndWhatTheRelayReadsOfIt() throws SQLException {
        String old = table + "_v4";
        JdbcOutboxStore oldStore = storeAtVersion(old, 4);
        try (Connection c = dataSource().getConnection()) {
            // per aggregate k (400 of them, segment k % 4): sequence 0..2 SENT, 3 pending (every 4th with an id);
            // aggregates 0..39 also have sequence 4 parked, refused (no id) for 0..29, of unknown outcome (TRANSIENT,
            // its id kept) for 30..39
            try (java.sql.PreparedStatement insert = c.prepareStatement(
                    "INSERT INTO " + old + " (id, timestamp, event_type, aggregate_type, aggregate_id, "
                            + "aggregate_sequence, payload, version, status, segment, sent_at, parked_at, attempts, "
                            + "failure_kind, broker_sequence) VALUES (?, CURRENT_TIMESTAMP, 'E', 'Order', ?, ?, ?, '0', "
                            + "?, ?, CASE WHEN ? = 'SENT' THEN CURRENT_TIMESTAMP END, "
                            + "CASE WHEN ? = 'FAILED' THEN CURRENT_TIMESTAMP END, ?, ?, ?)")) {
                for (int k = 0; k < 400; k++) {
                    for (int sequence = 0; sequence <= (k < 40 ? 4 : 3); sequence++) {
                        String status = sequence < 3 ? "SENT" : sequence == 3 ? "PENDING" : "FAILED";
                        String kind = sequence < 4 ? null : k < 30 ? "REFUSED" : "TRANSIENT";
                        boolean withId = (sequence == 3 && k % 4 == 0) || "TRANSIENT".equals(kind);
                        insert.setString(1, "v4-" + k + "-" + sequence);
                        insert.setString(2, "a" + k);
                        insert.setLong(3, sequence);
                        insert.setString(4, "{\"k\":" + k + "}");
                        insert.setString(5, status);
                        insert.setInt(6, k % 4);
                        insert.setString(7, status);
                        insert.setString(8, status);
                        insert.setInt(9, sequence == 4 ? 3 : 0);
                        insert.setString(10, kind);
                        if (withId) {
                            insert.setLong(11, 1000L * k + sequence);
                        } else {
                            insert.setNull(11, java.sql.Types.BIGINT);
                        }
                        insert.addBatch();
                    }
                }
                insert.executeBatch();
            }
        }
        try {
            String before = rowsOf(old);
            assertThatThrownBy(oldStore::verifySchema).isInstanceOf(io.github.pulsaroutbox.OutboxStartupException.class)
                    .hasMessageContaining("has schema version 4, older");

            oldStore.createSchema();

            oldStore.verifySchema();
            assertThat(recordedVersion(old)).isEqualTo(JdbcOutboxStore.schemaVersion());
            assertThat(rowsOf(old)).as("every row, unchanged").isEqualTo(before);
            assertThat(oldStore.count(OutboxStatus.SENT)).isEqualTo(1200);
            assertThat(oldStore.count(OutboxStatus.PENDING)).isEqualTo(400);
            assertThat(oldStore.count(OutboxStatus.FAILED)).isEqualTo(40);
            // every pending row is due (the parked rows come after them in their aggregates)
            assertThat(oldStore.fetchPending(1000, Instant.now())).hasSize(400)
                    .allSatisfy(row -> assertThat(row.aggregateSequence()).isEqualTo(3));
            java.util.Map<Integer, List<io.github.pulsaroutbox.store.OutboxStore.Sequenced>> sequenced =
                    oldStore.fetchSequencedWithPartitions(Set.of(0, 1, 2, 3));
            assertThat(sequenced.values().stream().flatMap(List::stream).map(row -> row.entry().id()))
                    .as("the pending rows with ids and the parked rows of unknown outcome")
                    .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 400).boxed().flatMap(k -> {
                        java.util.stream.Stream<String> pending = k % 4 == 0 ? java.util.stream.Stream.of(
                                "v4-" + k + "-3") : java.util.stream.Stream.empty();
                        return k >= 30 && k < 40 ? java.util.stream.Stream.concat(pending,
                                java.util.stream.Stream.of("v4-" + k + "-4")) : pending;
                    }).toList());
        } finally {
            dropTables(old);
        }
    }

    private void dropTables(String outboxTable) throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String suffix : new String[]{"", "_archive", "_node", "_version"}) {
                s.execute("DROP TABLE IF EXISTS " + outboxTable + suffix);
            }
        }
    }

    /** Every row of the table, each column the relay and operators read, in id order: one string to compare. */
    private String rowsOf(String outboxTable) throws SQLException {
        StringBuilder rows = new StringBuilder();
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery(
                     "SELECT id, position, timestamp, aggregate_id, aggregate_sequence, payload, status, segment, "
                             + "sent_at, parked_at, attempts, failure_kind, broker_sequence FROM " + outboxTable
                             + " ORDER BY id")) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                for (int i = 1; i <= columns; i++) {
                    rows.append(rs.getString(i)).append('|');
                }
                rows.append('\n');
            }
        }
        return rows.toString();
    }

    @Test
    void tablesOfAnotherSchemaVersionFailTheStartWithWhatToDo() throws SQLException {
        assertThat(recordedVersion(table)).isEqualTo(JdbcOutboxStore.schemaVersion());
        store.verifySchema();

        setRecordedVersion(JdbcOutboxStore.schemaVersion() - 1);
        assertThatThrownBy(store::verifySchema).isInstanceOf(io.github.pulsaroutbox.OutboxStartupException.class)
                .hasMessageContaining("has schema version " + (JdbcOutboxStore.schemaVersion() - 1) + ", older")
                .hasMessageContaining("V" + JdbcOutboxStore.schemaVersion() + "__");

        setRecordedVersion(JdbcOutboxStore.schemaVersion() + 1);
        store.createSchema(); // leaves a newer table alone
        assertThat(recordedVersion(table)).isEqualTo(JdbcOutboxStore.schemaVersion() + 1);
        assertThatThrownBy(store::verifySchema).isInstanceOf(io.github.pulsaroutbox.OutboxStartupException.class)
                .hasMessageContaining("has schema version " + (JdbcOutboxStore.schemaVersion() + 1) + ", newer");
    }

    /*
     * Bounded waits: in a transaction, limitWaits bounds how long its statements wait for a row lock (PostgreSQL,
     * MariaDB; H2 keeps its own lock timeout). Where the limits are the session's (MariaDB), restoreWaits gives the
     * pooled connection its own values back, and outside a transaction limitWaits changes nothing.
     */
    @Test
    void limitWaitsBoundsATransactionsLockWaitsAndTheSessionGetsItsOwnLimitsBack() throws SQLException {
        store.append(List.of(entry("locked", "A", 0)));
        try (Connection holder = dataSource().getConnection(); Connection c = dataSource().getConnection()) {
            OutboxDatabase database = OutboxDatabase.detect(c);
            if (database == OutboxDatabase.MARIADB) {
                execute(c, "SET SESSION innodb_lock_wait_timeout = 41, SESSION idle_transaction_timeout = 0, "
                        + "SESSION idle_write_transaction_timeout = 600, SESSION idle_readonly_transaction_timeout = 0");
            }
            String own = sessionLimits(c, database);
            try {
                inTransaction(c).limitWaits(Duration.ofSeconds(1), Duration.ofSeconds(30));
                assertThat(sessionLimits(c, database)).as("auto-commit: nothing changed").isEqualTo(own);

                holder.setAutoCommit(false);
                execute(holder, "UPDATE " + table + " SET attempts = 1 WHERE id = 'locked'");
                c.setAutoCommit(false);
                JdbcOutboxStore bounded = inTransaction(c);
                bounded.limitWaits(Duration.ofMillis(1500), Duration.ofSeconds(30));
                if (database == OutboxDatabase.MARIADB) {
                    assertThat(sessionLimits(c, database)).isEqualTo(c.getMetaData().getDatabaseProductVersion()
                            .toLowerCase(java.util.Locale.ROOT).contains("mariadb") ? "2 30 30 30" : "2");
                }
                if (database != OutboxDatabase.H2) {
                    try (Statement update = c.createStatement()) {
                        update.setQueryTimeout(40); // fails differently: only a lock wait limit ends it sooner
                        assertThatThrownBy(() -> update.executeUpdate(
                                "UPDATE " + table + " SET attempts = 2 WHERE id = 'locked'"))
                                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(
                                        database == OutboxDatabase.POSTGRESQL ? e.getSQLState() : e.getErrorCode())
                                        .as("a lock wait timeout: %s", e.getMessage())
                                        .isEqualTo(database == OutboxDatabase.POSTGRESQL ? "55P03" : 1205));
                    }
                }
                bounded.restoreWaits();
                c.rollback();
                holder.rollback();
                c.setAutoCommit(true);
                assertThat(sessionLimits(c, database)).as("the session's own limits").isEqualTo(own);
            } finally {
                if (database == OutboxDatabase.MARIADB) { // a pooled connection: the server's defaults again
                    execute(c, "SET SESSION innodb_lock_wait_timeout = DEFAULT, SESSION idle_transaction_timeout = "
                            + "DEFAULT, SESSION idle_write_transaction_timeout = DEFAULT, "
                            + "SESSION idle_readonly_transaction_timeout = DEFAULT");
                }
            }
        }
    }

    private static void execute(Connection connection, String statement) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute(statement);
        }
    }

    /** The session's lock wait and idle-in-transaction limits, as text ("" on H2, which has none of them). */
    private static String sessionLimits(Connection connection, OutboxDatabase database) throws SQLException {
        String query = switch (database) {
            case POSTGRESQL -> "SELECT current_setting('lock_timeout') || ' ' "
                    + "|| current_setting('idle_in_transaction_session_timeout')";
            case MARIADB -> connection.getMetaData().getDatabaseProductVersion().toLowerCase(java.util.Locale.ROOT)
                    .contains("mariadb") ? "SELECT CONCAT_WS(' ', @@SESSION.innodb_lock_wait_timeout, "
                    + "@@SESSION.idle_transaction_timeout, @@SESSION.idle_write_transaction_timeout, "
                    + "@@SESSION.idle_readonly_transaction_timeout)"
                    : "SELECT CONCAT(@@SESSION.innodb_lock_wait_timeout)";
            case H2 -> "SELECT ''";
        };
        try (Statement s = connection.createStatement(); java.sql.ResultSet rs = s.executeQuery(query)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    /* The relay's one-round-trip claim fence on Axon's token table (its JdbcTokenStore layout, names configured). */
    @Test
    void extendsInOneRoundTripOnlyTheClaimsTheOwnerHolds() throws SQLException {
        TokenTable tokens = tokenTable();
        try {
            assertThat(store.extendClaims(tokens, "relay", "a", List.of(1, 0), "t1")).isEqualTo(2);
            assertThat(store.extendClaims(tokens, "relay", "a", List.of(0, 1, 2), "t2")).isEqualTo(2);

            assertThat(store.claimOf(tokens, "relay", 0)).contains(new OutboxNodes.Claim("a", "t2"));
            assertThat(store.claimOf(tokens, "relay", 2)).contains(new OutboxNodes.Claim("b", "t0"));
            assertThat(store.claimOf(tokens, "other", 0)).contains(new OutboxNodes.Claim("a", "t0"));
            assertThat(store.claimOf(tokens, "relay", 3)).isEmpty();
            TokenTable missing = new TokenTable(table + "_missing", "processorName", "segment", "owner", "timestamp");
            assertThatThrownBy(() -> store.claimOf(missing, "relay", 0)).isInstanceOf(RuntimeException.class);

            // the probe's mark: whoever holds the claim
            assertThat(store.markClaim(tokens, "relay", 2, "mark")).isEqualTo(1);
            assertThat(store.claimOf(tokens, "relay", 2)).contains(new OutboxNodes.Claim("b", "mark"));
            assertThat(store.markClaim(tokens, "relay", 9, "mark")).isZero();

            // a segment with two rows of this owner's is not one claim: it does not count
            try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO " + tokens.table() + " VALUES ('relay', 1, 'a', 't0')");
            }
            assertThat(store.extendClaims(tokens, "relay", "a", List.of(0, 1), "t3")).isEqualTo(1);
        } finally {
            try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + tokens.table());
            }
        }
    }

    /*
     * The fence where the database locks rows shared: the claims confirmed, their rows locked until the transaction
     * ends; two writes confirming the same claims do not wait for each other, a takeover (an update) waits for both.
     */
    @Test
    void holdsSharedOnlyTheClaimsTheOwnerHoldsUntilTheTransactionEnds() throws SQLException {
        TokenTable tokens = tokenTable();
        boolean sharesRowLocks = sharesRowLocks();
        try (Connection first = dataSource().getConnection(); Connection second = dataSource().getConnection();
             Connection takeover = dataSource().getConnection()) {
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            JdbcOutboxStore inFirst = inTransaction(first);
            JdbcOutboxStore inSecond = inTransaction(second);
            int held = inFirst.holdClaims(tokens, "relay", "a", List.of(1, 0));
            if (!sharesRowLocks) {
                assertThat(held).as("no shared row locks: the relay extends the claims instead").isEqualTo(-1);
                return;
            }
            assertThat(held).isEqualTo(2);
            assertThat(inSecond.holdClaims(tokens, "relay", "a", List.of(0, 1, 2))).as("does not wait").isEqualTo(2);
            assertThat(inSecond.holdClaims(tokens, "relay", "b", List.of(2))).isEqualTo(1);
            assertThat(inSecond.holdClaims(tokens, "relay", "a", List.of(3))).isZero();

            assertThatThrownBy(() -> takeOver(takeover, tokens, 0)).as("a takeover waits for the holders")
                    .isInstanceOf(SQLException.class);
            first.commit();
            assertThatThrownBy(() -> takeOver(takeover, tokens, 0)).as("and for every one of them")
                    .isInstanceOf(SQLException.class);
            second.commit();
            assertThat(takeOver(takeover, tokens, 0)).isEqualTo(1);
            assertThat(store.holdClaims(tokens, "relay", "a", List.of(0, 1))).as("segment 0 is c's now").isEqualTo(1);

            // a segment with two rows of this owner's is not one claim, whatever else is held
            try (Statement s = takeover.createStatement()) {
                s.execute("INSERT INTO " + tokens.table() + " VALUES ('relay', 1, 'a', 't0')");
            }
            takeover.commit();
            assertThat(store.holdClaims(tokens, "relay", "a", List.of(1))).isZero();
            assertThat(store.holdClaims(tokens, "relay", "a", List.of(1, 2))).isZero();
        } finally {
            try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE " + tokens.table());
            }
        }
    }

    /**
     * A token table in the JdbcTokenStore's layout: relay segments 0 and 1 claimed by a, 2 by b; another processor's
     * segment 0 by a.
     */
    private TokenTable tokenTable() throws SQLException {
        TokenTable tokens = new TokenTable(table + "_tokens", "processorName", "segment", "owner", "timestamp");
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + tokens.table() + " (processorName VARCHAR(255) NOT NULL, segment INTEGER NOT "
                              + "NULL, owner VARCHAR(255), timestamp VARCHAR(255) NOT NULL)");
            s.execute("INSERT INTO " + tokens.table() + " VALUES ('relay', 0, 'a', 't0'), ('relay', 1, 'a', 't0'), "
                              + "('relay', 2, 'b', 't0'), ('other', 0, 'a', 't0')");
        }
        return tokens;
    }

    /** Whether the database under test has shared row locks (the relay's claim fence then takes them). */
    private boolean sharesRowLocks() throws SQLException {
        try (Connection c = dataSource().getConnection()) {
            return OutboxDatabase.detect(c) != OutboxDatabase.H2;
        }
    }

    /** Gives {@code segment}'s claim to node c in a transaction of its own, waiting at most a second for locks. */
    private static int takeOver(Connection connection, TokenTable tokens, int segment) throws SQLException {
        connection.setAutoCommit(false);
        try (Statement s = connection.createStatement()) {
            s.execute(OutboxDatabase.detect(connection) == OutboxDatabase.POSTGRESQL ? "SET LOCAL lock_timeout = '1s'"
                              : "SET SESSION innodb_lock_wait_timeout = 1");
            int updated = s.executeUpdate("UPDATE " + tokens.table() + " SET owner = 'c' WHERE processorName = "
                                                  + "'relay' AND segment = " + segment);
            connection.commit();
            return updated;
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        }
    }

    private JdbcOutboxStore inTransaction(Connection connection) {
        return JdbcOutboxStore.builder().table(table).connectionProvider(() -> ConnectionWrapperFactory.wrap(
                connection, new ConnectionWrapperFactory.NoOpCloseHandler())).build();
    }

    private int recordedVersion(String outboxTable) throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT version FROM " + outboxTable + "_version")) {
            assertThat(rs.next()).isTrue();
            int version = rs.getInt(1);
            assertThat(rs.next()).as("one row").isFalse();
            return version;
        }
    }

    private void setRecordedVersion(int version) throws SQLException {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE " + table + "_version SET version = " + version);
        }
    }

    /*
     * A scan from a position (the relay skipping rows it found held back) never returns a row whose aggregate has a
     * pending row with a lower sequence at or below its start, even when other earlier rows of that aggregate lie
     * above it: those rows wait for a complete scan, other aggregates flow.
     */
    @Test
    void aScanFromAPositionLeavesOutAggregatesWithAnEarlierRowBelowIt() {
        store.append(List.of(entry("a0", "A", 0)));
        store.append(List.of(entry("b0", "B", 0)));
        store.append(List.of(entry("a1", "A", 1)));
        store.append(List.of(entry("a2", "A", 2)));
        store.append(List.of(entry("b1", "B", 1)));
        long a0 = store.find("a0").orElseThrow().entry().position();
        Set<Integer> all = IntStream.range(0, store.segmentCount()).boxed().collect(java.util.stream.Collectors.toSet());

        assertThat(store.fetchPending(10, Instant.now(), all, Long.MIN_VALUE)).extracting(OutboxEntry::id)
                                                                            .containsExactly("a0", "b0", "a1", "a2", "b1");
        assertThat(store.fetchPending(10, Instant.now(), all, a0)).extracting(OutboxEntry::id)
                                                                 .containsExactly("b0", "b1");
    }

    @Test
    void storesAndReadsEveryField() {
        Instant timestamp = Instant.parse("2026-11-26T10:15:30.123456Z");
        OutboxEntry written = OutboxEntry.pending("evt-1", timestamp, "com.acme.OrderPlaced", "Order", "o-1", 7,
                                                  "{\"orderId\":\"o-1\",\"text\":\"" + "x".repeat(10_000) + "\"}",
                                                  "{\"traceId\":\"t\"}", "3",
                                                  "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                                          .withTopic("persistent://shop/sales/orders"); // resolved at capture
        store.append(List.of(written));

        OutboxEntry read = store.find("evt-1").orElseThrow().entry();
        assertThat(read.position()).isPositive();
        assertThat(read).usingRecursiveComparison().ignoringFields("position", "segment").isEqualTo(written);
        assertThat(read.segment()).isEqualTo(io.github.pulsaroutbox.OutboxSegments.of("o-1", store.segmentCount()));
        assertThat(store.find("nope")).isEmpty();
    }

    /*
     * A row keeps the segment it was stored in, and every read returns that number: rows of tables created before
     * segments existed sit in segment 0 whatever their aggregate id hashes to, and the relay must treat them as the
     * segment its reads filtered on.
     */
    @Test
    void rowsAreReadWithTheSegmentTheyWereStoredIn() {
        String aggregateId = IntStream.range(0, 100).mapToObj(i -> "agg-" + i)
                                      .filter(id -> io.github.pulsaroutbox.OutboxSegments.of(id, store.segmentCount()) != 0)
                                      .findFirst().orElseThrow();
        OutboxEntry inZero = new OutboxEntry("old", -1, Instant.now(), "Evt", "Order", aggregateId, 0, "{}", "{}", "0",
                                             null, OutboxStatus.PENDING, 0, null, null, OutboxEntry.NO_SEQUENCE, null,
                                             0);
        store.append(List.of(inZero, entry("new", aggregateId + "-x", 0)));
        store.assignSequences(java.util.Map.of("old", 5L), java.util.Map.of("old", 0));

        assertThat(store.fetchPending(10, Instant.now(), Set.of(0))).extracting(OutboxEntry::id, OutboxEntry::segment)
                                                                    .contains(org.assertj.core.groups.Tuple.tuple("old", 0));
        assertThat(store.fetchPendingAfter(Long.MIN_VALUE, 10, Instant.now(), Set.of(0)))
                .extracting(OutboxEntry::id, OutboxEntry::segment).contains(org.assertj.core.groups.Tuple.tuple("old", 0));
        assertThat(store.fetchSequenced(0)).extracting(OutboxEntry::id, OutboxEntry::segment)
                                           .containsExactly(org.assertj.core.groups.Tuple.tuple("old", 0));
        assertThat(store.find("new").orElseThrow().entry().segment())
                .isEqualTo(io.github.pulsaroutbox.OutboxSegments.of(aggregateId + "-x", store.segmentCount()));
    }

    @Test
    void fetchesPendingInInsertionOrderUpToTheLimit() {
        store.append(IntStream.range(0, 5).mapToObj(i -> entry("e" + i, "A", i)).toList());
        assertThat(store.fetchPending(3, Instant.now())).extracting(OutboxEntry::id).containsExactly("e0", "e1", "e2");

        store.markSent(List.of("e0", "e2"), Instant.now());
        assertThat(store.fetchPending(10, Instant.now())).extracting(OutboxEntry::id)
                                                         .containsExactly("e1", "e3", "e4");
        assertThat(store.count(OutboxStatus.SENT)).isEqualTo(2);
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(3);
    }

    @Test
    void fetchesPendingAfterAPositionInPositionOrderSkippingRowsNotDue() {
        store.append(IntStream.range(0, 6).mapToObj(i -> entry("e" + i, "A", i)).toList());
        List<OutboxEntry> all = store.fetchPending(10, Instant.now());
        long third = all.get(2).position();
        Instant now = Instant.now();
        store.markSent(List.of("e3"), now);
        store.recordFailures(List.of(failure("e4", FailureKind.TRANSIENT, "later", Outcome.RETRY,
                                             now.plusSeconds(60))));

        assertThat(store.fetchPendingAfter(third, 10, now)).extracting(OutboxEntry::id)
                                                           .containsExactly("e5"); // e3 sent, e4 not due
        assertThat(store.fetchPendingAfter(third, 10, now.plusSeconds(61))).extracting(OutboxEntry::id)
                                                                          .containsExactly("e4", "e5");
        assertThat(store.fetchPendingAfter(Long.MIN_VALUE, 2, now)).extracting(OutboxEntry::id)
                                                                   .containsExactly("e0", "e1");
    }

    @Test
    void marksSentInSetsOfAnySizeOnlyPendingRows() {
        store.append(IntStream.range(0, 250).mapToObj(i -> entry("s" + i, "S" + (i % 7), i / 7)).toList());
        store.recordFailures(List.of(failure("s5", FailureKind.REFUSED, "parked", Outcome.PARK, null)));
        store.markSent(IntStream.range(0, 201).mapToObj(i -> "s" + i).toList(), Instant.now()); // 3 chunks, padded
        assertThat(store.count(OutboxStatus.SENT)).isEqualTo(200); // the parked one stays parked
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(49);
        assertThat(store.find("s5").orElseThrow().entry().status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(store.find("s200").orElseThrow().entry().status()).isEqualTo(OutboxStatus.SENT);
        assertThat(store.find("s201").orElseThrow().entry().status()).isEqualTo(OutboxStatus.PENDING);
    }

    @Test
    void retryLaterKeepsTheRowAndItsAggregateOutOfTheScanUntilDue() {
        store.append(List.of(entry("a0", "A", 0), entry("a1", "A", 1), entry("b0", "B", 0)));
        Instant now = Instant.now();
        store.recordFailures(List.of(failure("a0", FailureKind.TRANSIENT, "x".repeat(5000), Outcome.RETRY,
                                             now.plusSeconds(60))));

        OutboxEntry a0 = store.find("a0").orElseThrow().entry();
        assertThat(a0.status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(a0.attempts()).isEqualTo(1);
        assertThat(a0.failureKind()).isEqualTo(FailureKind.TRANSIENT);
        assertThat(a0.lastError()).hasSize(4000);
        assertThat(store.find("a0").orElseThrow().nextAttemptAt()).isAfter(now.plusSeconds(59));
        assertThat(store.fetchPending(10, now)).extracting(OutboxEntry::id).containsExactly("b0");
        assertThat(store.fetchPending(10, now.plusSeconds(61))).extracting(OutboxEntry::id)
                                                                .containsExactly("a0", "a1", "b0");
    }

    @Test
    void parkedRowHoldsBackItsAggregateUntilRetriedOrDiscarded() {
        store.append(List.of(entry("a0", "A", 0), entry("a1", "A", 1), entry("a2", "A", 2), entry("b0", "B", 0)));
        store.markSent(List.of("a0"), Instant.now());
        store.recordFailures(List.of(failure("a1", FailureKind.REFUSED, "not authorized", Outcome.PARK, null)));

        assertThat(store.fetchPending(10, Instant.now())).extracting(OutboxEntry::id).containsExactly("b0");
        assertThat(store.countParked(null, null)).isEqualTo(1);
        assertThat(store.countParked("Order", "A")).isEqualTo(1);
        assertThat(store.countParked("Order", "B")).isZero();
        assertThat(store.countPending("Order", "A")).isEqualTo(1);
        OutboxRow parked = store.findParked(null, null, 0, 10).get(0);
        assertThat(parked.entry().id()).isEqualTo("a1");
        assertThat(parked.entry().status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(parked.entry().lastError()).isEqualTo("not authorized");
        assertThat(parked.parkedAt()).isNotNull();
        assertThat(store.findParked("Order", "B", 0, 10)).isEmpty();

        Instant at = Instant.parse("2026-11-26T12:00:00Z");
        assertThat(store.retryParked("a1", new Action("ops-alice", at, "tenant created"))).isEqualTo(1);
        assertThat(store.retryParked("a1", new Action("ops-alice", at, "again"))).isZero();
        OutboxRow retried = store.find("a1").orElseThrow();
        assertThat(retried.entry().status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(retried.entry().attempts()).isZero();
        assertThat(retried.action()).isEqualTo("RETRIED");
        assertThat(retried.actionBy()).isEqualTo("ops-alice");
        assertThat(retried.actionAt()).isEqualTo(at);
        assertThat(retried.actionReason()).isEqualTo("tenant created");
        assertThat(store.fetchPending(10, Instant.now())).extracting(OutboxEntry::id)
                                                         .containsExactly("a1", "a2", "b0");

        store.recordFailures(List.of(failure("a1", FailureKind.REFUSED, "still", Outcome.PARK, null)));
        assertThat(store.discardParked("a1", new Action("ops-bob", at, "obsolete event"))).isEqualTo(1);
        OutboxRow discarded = store.find("a1").orElseThrow();
        assertThat(discarded.entry().status()).isEqualTo(OutboxStatus.DISCARDED);
        assertThat(discarded.actionReason()).isEqualTo("obsolete event");
        assertThat(store.fetchPending(10, Instant.now())).extracting(OutboxEntry::id).containsExactly("a2", "b0");
    }

    @Test
    void bulkRetriesReleaseParkedRowsOfOneAggregateOrAll() {
        store.append(List.of(entry("a0", "A", 0), entry("b0", "B", 0), entry("c0", "C", 0)));
        store.recordFailures(List.of(failure("a0", FailureKind.REFUSED, "e", Outcome.PARK, null),
                                     failure("b0", FailureKind.REFUSED, "e", Outcome.PARK, null),
                                     failure("c0", FailureKind.REFUSED, "e", Outcome.DISCARD, null)));
        assertThat(store.find("c0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.DISCARDED);
        assertThat(store.find("c0").orElseThrow().actionBy()).isEqualTo("failure-policy");
        Action action = new Action("ops", Instant.now(), null);
        assertThat(store.retryParkedOfAggregate("Order", "A", action)).isEqualTo(1);
        assertThat(store.count(OutboxStatus.FAILED)).isEqualTo(1);
        assertThat(store.retryAllParked(action)).isEqualTo(1);
        assertThat(store.count(OutboxStatus.FAILED)).isZero();
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(2);
    }

    @Test
    void entryParkedAtCaptureIsStoredParked() {
        store.append(List.of(entry("a0", "A", 0).parked(FailureKind.UNREADABLE_PAYLOAD, "cannot serialize"),
                             entry("a1", "A", 1)));
        OutboxRow row = store.find("a0").orElseThrow();
        assertThat(row.entry().status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(row.entry().failureKind()).isEqualTo(FailureKind.UNREADABLE_PAYLOAD);
        assertThat(row.parkedAt()).isNotNull();
        assertThat(store.fetchPending(10, Instant.now())).isEmpty();
    }

    @Test
    void statisticsCountAndAgeTheBacklog() {
        assertThat(store.oldestPending()).isEmpty();
        Instant old = Instant.parse("2026-01-01T00:00:00Z");
        store.append(List.of(OutboxEntry.pending("a0", old, "Evt", "Order", "A", 0, "{}", "{}", "0", null),
                             entry("a1", "A", 1)));
        assertThat(store.oldestPending()).contains(old);
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(2);

        // rows held back behind a parked row wait for an operator: they do not age the backlog
        Instant older = Instant.parse("2025-01-01T00:00:00Z");
        store.append(List.of(OutboxEntry.pending("b0", older, "Evt", "Order", "B", 0, "{}", "{}", "0", null),
                             OutboxEntry.pending("b1", older, "Evt", "Order", "B", 1, "{}", "{}", "0", null)));
        assertThat(store.oldestPending()).contains(older);
        store.recordFailures(List.of(failure("b0", FailureKind.REFUSED, "no", Outcome.PARK, null)));
        assertThat(store.oldestPending()).contains(old);
    }

    @Test
    void retentionRemovesOnlyOldSentRowsInBoundedBatches() {
        Instant longAgo = Instant.now().minusSeconds(3600);
        store.append(IntStream.range(0, 25).mapToObj(i -> entry("old" + i, "A", i)).toList());
        store.append(List.of(entry("recent", "B", 0), entry("pending", "C", 0), entry("parked", "D", 0)));
        store.markSent(IntStream.range(0, 25).mapToObj(i -> "old" + i).toList(), longAgo);
        store.markSent(List.of("recent"), Instant.now());
        store.recordFailures(List.of(failure("parked", FailureKind.REFUSED, "e", Outcome.PARK, null)));
        Instant cutoff = Instant.now().minusSeconds(60);

        assertThat(store.purgeSent(cutoff, 10, false)).isEqualTo(10);
        assertThat(store.purgeSent(cutoff, 10, true)).isEqualTo(10);
        assertThat(store.purgeSent(cutoff, 10, false)).isEqualTo(5);
        assertThat(store.purgeSent(cutoff, 10, false)).isZero();

        assertThat(store.count(OutboxStatus.SENT)).isEqualTo(1);
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(1);
        assertThat(store.count(OutboxStatus.FAILED)).isEqualTo(1);
        assertThat(countRows(table + "_archive")).isEqualTo(10);
    }

    private long countRows(String tableName) {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT COUNT(*) FROM " + tableName)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Failure failure(String id, FailureKind kind, String error, Outcome outcome, Instant next) {
        return new Failure(id, kind, error, outcome, next, Instant.now());
    }

    @Test
    void refusesASecondRowForTheSameAggregateSequence() {
        store.append(List.of(entry("e0", "A", 0)));
        assertThatThrownBy(() -> store.append(List.of(entry("e1", "A", 0))))
                .isInstanceOf(org.axonframework.modelling.command.AggregateStreamCreationException.class)
                .hasMessageContaining(table);
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(1);
    }

    /* As Axon's event store answers for its own key: a concurrent append of an aggregate's sequence can be retried. */
    @Test
    void aConcurrentAppendOfTheSameAggregateSequenceIsAxonsConcurrencyException() {
        store.append(List.of(entry("e0", "A", 0), entry("e1", "A", 1)));
        assertThatThrownBy(() -> store.append(List.of(entry("other-e1", "A", 1))))
                .isInstanceOf(org.axonframework.modelling.command.ConcurrencyException.class)
                .hasMessageContaining("An event for aggregate [A] at sequence [1] was already inserted")
                .hasMessageContaining(table)
                .hasCauseInstanceOf(java.sql.SQLException.class);
        assertThat(store.count(OutboxStatus.PENDING)).isEqualTo(2);
    }

    /* One row per event (its identifier is the row's), pending or long sent: capturing an event twice fails. */
    @Test
    void refusesTheSameEventTwiceWhateverItsRowsStatus() {
        store.append(List.of(entry("e0", "A", 0)));
        assertThatThrownBy(() -> store.append(List.of(entry("e0", "A", 0)))).hasMessageContaining(table);

        store.markSent(List.of("e0"), Instant.now());
        assertThatThrownBy(() -> store.append(List.of(entry("e0", "A", 0)))).hasMessageContaining(table);
        assertThat(store.count(OutboxStatus.SENT)).isEqualTo(1);
        assertThat(store.count(OutboxStatus.PENDING)).isZero();
    }

    /*
     * Positions are assigned at insert, rows become visible at commit: a row with a LOWER position can become
     * visible AFTER a higher one was already relayed. Selection by status (not "highest position seen") delivers it.
     */
    @Test
    void rowCommittedLateWithALowerPositionIsStillFetched() throws SQLException {
        try (Connection slowTransaction = dataSource().getConnection()) {
            slowTransaction.setAutoCommit(false);
            JdbcOutboxStore inSlowTransaction = inTransaction(slowTransaction);
            inSlowTransaction.append(List.of(entry("late", "L", 0)));   // lower position, not committed

            store.append(List.of(entry("early", "E", 0)));             // higher position, committed
            assertThat(store.fetchPending(10, Instant.now())).extracting(OutboxEntry::id).containsExactly("early");
            store.markSent(List.of("early"), Instant.now());

            slowTransaction.commit();
        }
        List<OutboxEntry> pending = store.fetchPending(10, Instant.now());
        assertThat(pending).extracting(OutboxEntry::id).containsExactly("late");
        assertThat(pending.get(0).position()).isLessThan(store.find("early").orElseThrow().entry().position());
    }

    /**
     * After a crash, a database can hand out identity values again: a later event of an aggregate then has a lower
     * position than an earlier one (seen on H2: sequence 7 at 2915, sequence 8 at 2913). Order within an aggregate
     * follows its sequence: a row is not fetched while a row of its aggregate with a lower sequence is still pending at
     * a higher position, and other aggregates are not held up.
     */
    @Test
    void rowsWhosePositionsContradictTheirSequencesAreFetchedInSequenceOrder() throws SQLException {
        store.append(List.of(entry("a7", "A", 7), entry("a8", "A", 8), entry("b0", "B", 0), entry("a9", "A", 9)));
        long a7 = store.find("a7").orElseThrow().entry().position();
        long a8 = store.find("a8").orElseThrow().entry().position();
        long b0 = store.find("b0").orElseThrow().entry().position();
        long a9 = store.find("a9").orElseThrow().entry().position();
        // a8 takes the lowest position, a7 a position above b0; a9 keeps the highest
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE " + table + " SET position = " + (a9 + 100) + " WHERE id = 'a7'");
            s.executeUpdate("UPDATE " + table + " SET position = " + a7 + " WHERE id = 'a8'");
            s.executeUpdate("UPDATE " + table + " SET position = " + a8 + " WHERE id = 'b0'");
            s.executeUpdate("UPDATE " + table + " SET position = " + b0 + " WHERE id = 'a7'");
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
        assertThat(store.find("a8").orElseThrow().entry().position())
                .isLessThan(store.find("a7").orElseThrow().entry().position());

        // A's rows come in sequence order in the places A's rows hold in the scan
        assertThat(store.fetchPending(10, Instant.now())).extracting(OutboxEntry::id)
                                                         .containsExactly("a7", "b0", "a8", "a9");
        // a scan that stops below a7 returns no row of A after it, but A's head, so that A progresses
        assertThat(store.fetchPending(1, Instant.now())).extracting(OutboxEntry::id).containsExactly("a7");
        assertThat(store.fetchPending(2, Instant.now())).extracting(OutboxEntry::id).containsExactly("a7", "b0");
        assertThat(store.fetchPending(3, Instant.now())).extracting(OutboxEntry::id).containsExactly("a7", "b0", "a8");
        store.markSent(List.of("a7"), Instant.now());
        assertThat(store.fetchPending(3, Instant.now())).extracting(OutboxEntry::id).containsExactly("a8", "b0", "a9");
    }

    /**
     * A row's broker sequence id and the partition it was sent to are written, read and cleared together: a resolution
     * compares the id with what the broker stored in that partition; a cleared id leaves no partition behind.
     */
    @Test
    void brokerSequenceIdsAndTheirPartitionsAreStoredAndClearedTogether() {
        store.append(List.of(entry("a", "A", 0), entry("b", "A", 1), entry("c", "A", 2)));
        int segment = io.github.pulsaroutbox.OutboxSegments.of("A", store.segmentCount());

        assertThat(store.assignSequences(java.util.Map.of("a", 5L, "b", 6L, "c", 7L),
                                         java.util.Map.of("a", 3, "b", 0))).isEmpty();
        assertThat(store.fetchSequencedWithPartitions(segment))
                .extracting(row -> row.entry().id() + "#" + row.entry().brokerSequence() + "@" + row.partition())
                .containsExactly("a#5@3", "b#6@0", "c#7@-1"); // in id order; c was given no partition

        store.clearSequences(java.util.Map.of("a", 5L));
        store.assignSequences(java.util.Map.of("a", 8L), java.util.Map.of());
        assertThat(store.fetchSequencedWithPartitions(segment))
                .extracting(row -> row.entry().id() + "#" + row.entry().brokerSequence() + "@" + row.partition())
                .containsExactly("b#6@0", "c#7@-1", "a#8@-1");
        assertThat(store.fetchSequenced(segment)).extracting(OutboxEntry::id).containsExactly("b", "c", "a");
    }

    /**
     * A start or takeover reads the sequenced rows of several segments in one statement: each segment's own, in id
     * order, parked ones included, an empty list for a segment without any, nothing of a segment not asked for.
     */
    @Test
    void sequencedRowsOfSeveralSegmentsAreReadAtOnceGroupedBySegment() {
        String a = "A";
        String b = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "B" + i)
                .filter(id -> segmentOf(id) != segmentOf(a)).findFirst().orElseThrow();
        String c = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "C" + i)
                .filter(id -> segmentOf(id) != segmentOf(a) && segmentOf(id) != segmentOf(b)).findFirst()
                .orElseThrow();
        store.append(List.of(entry("a0", a, 0), entry("a1", a, 1), entry("b0", b, 0), entry("b1", b, 1),
                             entry("c0", c, 0), entry("a2", a, 2)));
        assertThat(store.assignSequences(java.util.Map.of("a0", 9L, "a1", 3L, "b0", 5L, "c0", 1L),
                                         java.util.Map.of("a0", 0, "a1", 0, "b0", 1, "c0", 0))).isEmpty();
        // parked after a time-out: its id kept (the broker may have stored it)
        store.recordFailures(List.of(failure("b0", FailureKind.TIMEOUT, "timed out", Outcome.PARK, null)));
        int empty = java.util.stream.IntStream.range(0, store.segmentCount())
                .filter(segment -> segment != segmentOf(a) && segment != segmentOf(b) && segment != segmentOf(c))
                .findFirst().orElseThrow();

        java.util.Map<Integer, List<io.github.pulsaroutbox.store.OutboxStore.Sequenced>> read =
                store.fetchSequencedWithPartitions(Set.of(segmentOf(a), segmentOf(b), empty));

        assertThat(read).containsOnlyKeys(segmentOf(a), segmentOf(b), empty);
        assertThat(read.get(segmentOf(a))).extracting(row -> row.entry().id() + "@" + row.partition())
                                          .containsExactly("a1@0", "a0@0");
        assertThat(read.get(segmentOf(b))).extracting(row -> row.entry().id() + "@" + row.partition())
                                          .containsExactly("b0@1"); // parked
        assertThat(read.get(empty)).isEmpty();
        assertThat(store.fetchSequencedWithPartitions(segmentOf(c))).extracting(row -> row.entry().id())
                                                                    .containsExactly("c0");
    }

    /*
     * A row parked with its sequence id is read again at start and takeover exactly when the failure may have reached
     * the broker (FailureKind#mayHaveBeenStored: its id is kept to ask the broker); a row refused outright is parked
     * without its id and is not read. One row per kind, parked through the relay's own path.
     */
    @Test
    void parkedRowsAreReadWithTheirSequenceIdExactlyWhenTheirFailureMayHaveReachedTheBroker() {
        List<FailureKind> kinds = List.of(FailureKind.values());
        List<OutboxEntry> rows = new java.util.ArrayList<>();
        java.util.Map<String, Long> sequences = new java.util.HashMap<>();
        for (int i = 0; i < kinds.size(); i++) {
            rows.add(entry("k" + i, "K" + i, 0));
            sequences.put("k" + i, 100L + i);
        }
        store.append(rows);
        assertThat(store.assignSequences(sequences)).isEmpty();

        store.recordFailures(IntStream.range(0, kinds.size())
                                      .mapToObj(i -> failure("k" + i, kinds.get(i), "failed", Outcome.PARK, null))
                                      .toList());

        assertThat(store.count(OutboxStatus.FAILED)).isEqualTo(kinds.size());
        Set<Integer> everySegment = IntStream.range(0, store.segmentCount()).boxed()
                                             .collect(java.util.stream.Collectors.toSet());
        assertThat(store.fetchSequencedWithPartitions(everySegment).values().stream().flatMap(List::stream)
                        .map(row -> row.entry().failureKind()))
                .containsExactlyInAnyOrderElementsOf(kinds.stream().filter(FailureKind::mayHaveBeenStored).toList());
    }

    private int segmentOf(String aggregateId) {
        return io.github.pulsaroutbox.OutboxSegments.of(aggregateId, store.segmentCount());
    }

    /** Rows all sent to one partition (a topic without partitions) take the statement with one partition value. */
    @Test
    void brokerSequenceIdsOfRowsSentToOnePartitionAreStoredWithIt() {
        List<OutboxEntry> rows = new java.util.ArrayList<>();
        java.util.Map<String, Long> sequences = new java.util.LinkedHashMap<>();
        java.util.Map<String, Integer> partitions = new java.util.HashMap<>();
        for (int i = 0; i < 150; i++) { // more than one set of the set-based statement
            rows.add(entry("r" + i, "A", i));
            sequences.put("r" + i, 100L + i);
            partitions.put("r" + i, 2);
        }
        store.append(rows);
        int segment = io.github.pulsaroutbox.OutboxSegments.of("A", store.segmentCount());

        assertThat(store.assignSequences(sequences, partitions)).isEmpty();

        assertThat(store.fetchSequencedWithPartitions(segment)).hasSize(150)
                .allSatisfy(row -> {
                    assertThat(row.partition()).isEqualTo(2);
                    assertThat(row.entry().brokerSequence()).isEqualTo(sequences.get(row.entry().id()));
                });
    }

    private static OutboxEntry entry(String id, String aggregateId, long sequence) {
        return OutboxEntry.pending(id, Instant.now(), "Evt", "Order", aggregateId, sequence, "{}", "{}", "0", null);
    }
}
