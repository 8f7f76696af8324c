package io.github.pulsaroutbox.store.jdbc;

import org.axonframework.common.AxonConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.JdbcException;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.OutboxStore;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

import org.axonframework.common.BuilderUtils;

import static org.axonframework.common.BuilderUtils.assertNonNull;

/**
 * {@link OutboxStore} and {@link OutboxMaintenance} on a relational database through JDBC, with SQL shipped per
 * {@link OutboxDatabase}.
 * <p>
 * Connections come from an Axon {@link ConnectionProvider}: give it the one the event store uses (in Spring, one
 * bound to the application's transaction manager), so that {@link #append(List)} joins the unit of work's transaction.
 * Nothing here commits. Writes are JDBC batches: one round trip per call, not per row.
 */
public final class JdbcOutboxStore implements OutboxStore, OutboxMaintenance, OutboxNodes {

    private static final Logger logger = LoggerFactory.getLogger(JdbcOutboxStore.class);

    /** The default table name. */
    public static final String DEFAULT_TABLE = "axon_outbox";
    private static final int MAX_ERROR_LENGTH = 4000;
    private static final int MAX_REASON_LENGTH = 1000;

    private final ConnectionProvider connectionProvider;
    private final String table;
    private final OutboxDatabase configuredDatabase;
    private final int segmentCount;
    private final Set<Integer> allSegments;
    private volatile OutboxSql sql;

    private JdbcOutboxStore(Builder builder) {
        builder.validate();
        this.connectionProvider = builder.connectionProvider;
        this.table = builder.table;
        this.configuredDatabase = builder.database;
        this.segmentCount = builder.segmentCount;
        this.allSegments = Set.copyOf(IntStream.range(0, segmentCount).boxed().toList());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The table name this store uses. */
    public String table() {
        return table;
    }

    @Override
    public int segmentCount() {
        return segmentCount;
    }

    /** The schema version this version of the extension reads and writes (see {@link #createSchema()}). */
    public static int schemaVersion() {
        return OutboxSql.SCHEMA_VERSION;
    }

    /**
     * Brings the tables to {@link #schemaVersion()}: applies the extension's migration files
     * ({@code io/github/pulsaroutbox/store/jdbc/<database>/migration/V<n>__*.sql}, the same files Flyway or Liquibase
     * users include) above the version the tables carry. Tables without a recorded version get version 1 first, whose
     * statements are all {@code IF NOT EXISTS}: tables created by an earlier version of the extension are adopted.
     * Tables of a newer version are left alone ({@link #verifySchema()} reports them).
     */
    public void createSchema() {
        withConnection(connection -> {
            OutboxSql statements = sql(connection);
            int installed = installedVersion(connection, statements);
            try (Statement statement = connection.createStatement()) {
                for (int version = Math.max(installed, 0) + 1; version <= OutboxSql.SCHEMA_VERSION; version++) {
                    for (String ddl : statements.migration(version)) {
                        statement.execute(ddl);
                    }
                    logger.info("Outbox table '{}' migrated to schema version {}", table, version);
                }
            }
            return null;
        });
    }

    /**
     * Checks the tables before anything uses them: their schema version (recorded by the migrations) must be the
     * one this code needs, and a read through every column of the outbox and node tables and the relay's scan (with
     * its index hints) must work. A missing, older or newer table fails the start once, with the fix, instead of every
     * command and every relay pass failing later.
     *
     * @throws io.github.pulsaroutbox.OutboxStartupException naming what is wrong and how to fix it
     */
    @Override
    public void verifySchema() {
        OutboxDatabase[] database = new OutboxDatabase[1];
        int installed;
        try {
            installed = withConnection(connection -> {
                database[0] = configuredDatabase != null ? configuredDatabase : OutboxDatabase.detect(connection);
                return installedVersion(connection, sql(connection));
            });
        } catch (JdbcException e) {
            throw startupFailure(database[0], "the outbox table '" + table + "' cannot be read: " + e.getMessage()
                    + ".", e);
        }
        String folder = "io/github/pulsaroutbox/store/jdbc/" + (database[0] == null ? "<database>"
                                                                                    : database[0].folder())
                + "/migration/";
        if (installed > OutboxSql.SCHEMA_VERSION) {
            throw new io.github.pulsaroutbox.OutboxStartupException(
                    "the outbox table '" + table + "' has schema version " + installed + ", newer than this version "
                            + "of the extension reads and writes (" + OutboxSql.SCHEMA_VERSION + "): a newer version "
                            + "migrated it.",
                    "Run the version of the extension that migrated the table (schema versions only move forward; "
                            + "docs/databases.md, Schema versions)", null);
        }
        if (installed > 0 && installed < OutboxSql.SCHEMA_VERSION) {
            throw new io.github.pulsaroutbox.OutboxStartupException(
                    "the outbox table '" + table + "' has schema version " + installed + ", older than this version "
                            + "of the extension needs (" + OutboxSql.SCHEMA_VERSION + ").",
                    "Migrate it: in Spring Boot set pulsar-outbox.initialize-schema=always (it applies the missing "
                            + "migrations), or apply " + folder + OutboxSql.MIGRATIONS.get(installed) + " and later "
                            + "files (in the extension's jar) with your migrations (Flyway, Liquibase: "
                            + "docs/databases.md)", null);
        }
        // a table from before versions were recorded lacks the columns of later versions: say that, not which column
        if (installed == 0 && withConnection(connection -> tableExists(connection, table))) {
            throw startupFailure(database[0], "the outbox table '" + table + "' records no schema version (its "
                    + table + "_version table is missing): it was created before schema versions were recorded.",
                                 null);
        }
        try {
            withConnection(connection -> {
                try (Statement statement = connection.createStatement()) {
                    statement.executeQuery(sql(connection).get("verifyTable")).close();
                    statement.executeQuery(sql(connection).get("verifyNodes")).close();
                }
                return null;
            });
            fetchPending(0, Instant.now());
        } catch (JdbcException e) {
            throw startupFailure(database[0], "the outbox table '" + table + "' (or its " + table + "_node or "
                    + table + "_version table) is missing or was not created by the extension's migrations: "
                    + e.getMessage() + ".", e);
        }
        if (installed == 0) {
            throw startupFailure(database[0], "the outbox table '" + table + "' records no schema version (its "
                    + table + "_version table is missing): it was created before schema versions were recorded.",
                                 null);
        }
    }

    private io.github.pulsaroutbox.OutboxStartupException startupFailure(OutboxDatabase database, String problem,
                                                                         Exception cause) {
        String folder = database == null ? "<database>" : database.folder();
        return new io.github.pulsaroutbox.OutboxStartupException(
                problem,
                "Create or migrate it: in Spring Boot set pulsar-outbox.initialize-schema=always (it applies the "
                        + "extension's migrations; the default does so only on embedded databases), or apply "
                        + "io/github/pulsaroutbox/store/jdbc/" + folder + "/migration/V1__*.sql to V"
                        + OutboxSql.SCHEMA_VERSION + "__*.sql (in its jar) with your migrations (Flyway, Liquibase), "
                        + "with the placeholders ${table}, ${name}, ${archive} and ${nodes} (docs/databases.md)",
                cause);
    }

    /** The version recorded in {@code <table>_version}, or 0 when there is no such table. */
    private int installedVersion(Connection connection, OutboxSql statements) throws SQLException {
        if (!tableExists(connection, table + "_version")) {
            return 0;
        }
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(statements.get("schemaVersion"))) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    /** Whether {@code name} (optionally schema-qualified; else in the connection's schema) names a table. */
    private static boolean tableExists(Connection connection, String name) throws SQLException {
        java.sql.DatabaseMetaData metaData = connection.getMetaData();
        int dot = name.indexOf('.');
        String schema = dot < 0 ? connection.getSchema() : identifier(metaData, name.substring(0, dot));
        String escape = metaData.getSearchStringEscape();
        String pattern = identifier(metaData, name.substring(dot + 1)).replace("_", escape + "_");
        try (ResultSet tables = metaData.getTables(connection.getCatalog(), schema, pattern, null)) {
            return tables.next();
        }
    }

    /** An unquoted identifier as the database stores it. */
    private static String identifier(java.sql.DatabaseMetaData metaData, String name) throws SQLException {
        if (metaData.storesUpperCaseIdentifiers()) {
            return name.toUpperCase(java.util.Locale.ROOT);
        }
        return metaData.storesLowerCaseIdentifiers() ? name.toLowerCase(java.util.Locale.ROOT) : name;
    }

    @Override
    public void append(List<OutboxEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        withConnection(connection -> {
            if (CurrentUnitOfWork.isStarted() && connection.getAutoCommit()) {
                throw new IllegalStateException(
                        "Outbox rows must be written in the event store's database transaction, but this connection "
                                + "is in auto-commit mode: they would commit on their own, whatever happens to the "
                                + "events. Run the unit of work in a transaction (configure Axon with a "
                                + "TransactionManager, also on deadline managers and asynchronous command buses), or "
                                + "use the tailing dispatch mode");
            }
            try (PreparedStatement insert = connection.prepareStatement(sql(connection).get("insert"))) {
                for (OutboxEntry entry : entries) {
                    boolean parked = entry.status() == OutboxStatus.FAILED;
                    insert.setString(1, entry.id());
                    insert.setObject(2, toDb(entry.timestamp()));
                    insert.setString(3, entry.eventType());
                    insert.setString(4, entry.aggregateType());
                    insert.setString(5, entry.aggregateId());
                    insert.setLong(6, entry.aggregateSequence());
                    insert.setString(7, entry.payload());
                    insert.setString(8, entry.metadata());
                    insert.setString(9, entry.version());
                    insert.setString(10, entry.traceParent());
                    insert.setString(11, parked ? OutboxStatus.FAILED.name() : OutboxStatus.PENDING.name());
                    insert.setString(12, entry.failureKind() == null ? null : entry.failureKind().name());
                    insert.setString(13, truncate(entry.lastError(), MAX_ERROR_LENGTH));
                    insert.setObject(14, parked ? toDb(entry.timestamp()) : null);
                    insert.setInt(15, entry.segment() >= 0 ? entry.segment() : OutboxSegments.of(entry.aggregateId(), segmentCount));
                    insert.setString(16, entry.topic());
                    insert.addBatch();
                }
                try {
                    insert.executeBatch();
                } catch (SQLException e) {
                    if (isDuplicateKey(e)) {
                        throw concurrentAppend(entries, e);
                    }
                    throw e;
                }
            }
            return null;
        });
    }

    /**
     * A row for one of these events' aggregate sequences is already in the table: another unit of work appended the
     * same sequence of the aggregate (or the same event) first. As Axon's event store does for its own key: a
     * {@code ConcurrencyException}, or an {@code AggregateStreamCreationException} for an aggregate's first event, so
     * that application code handling those (a retry, an HTTP 409) handles this too.
     */
    private RuntimeException concurrentAppend(List<OutboxEntry> entries, SQLException cause) {
        OutboxEntry first = entries.get(0);
        java.util.Set<String> aggregates = new java.util.TreeSet<>();
        entries.forEach(entry -> aggregates.add(entry.aggregateType() + " " + entry.aggregateId()));
        boolean oneAggregate = aggregates.size() == 1;
        String message = "An event for aggregate [" + first.aggregateId() + "] at sequence ["
                + first.aggregateSequence() + "] was already inserted (outbox table '" + table + "' holds a row of "
                + (oneAggregate ? "aggregate " + aggregates.iterator().next() + " for one of the sequences "
                + entries.stream().map(entry -> String.valueOf(entry.aggregateSequence())).distinct().toList()
                                : "one of the aggregates " + aggregates)
                + ", or of one of these events: another unit of work appended it first)";
        // Axon's event store answers a duplicate first event with AggregateStreamCreationException
        boolean creation = oneAggregate && first.aggregateSequence() == 0;
        RuntimeException concurrent = creation
                ? new org.axonframework.modelling.command.AggregateStreamCreationException(message)
                : new org.axonframework.modelling.command.ConcurrencyException(message);
        concurrent.initCause(cause);
        return concurrent;
    }

    /** A unique key violation: SQL state class 23 with the standard code (PostgreSQL, H2) or MySQL's error 1062. */
    static boolean isDuplicateKey(SQLException failure) {
        for (SQLException e = failure; e != null; e = e.getNextException()) {
            if ("23505".equals(e.getSQLState()) || e.getErrorCode() == 1062
                    || (e.getCause() instanceof SQLException cause && isDuplicateKey(cause))) {
                return true;
            }
            if (e.getNextException() == e) {
                break;
            }
        }
        return false;
    }

    @Override
    public List<OutboxEntry> fetchPending(int limit, Instant now) {
        return fetchPending(limit, now, allSegments);
    }

    /**
     * Due pending rows from the lowest position, within each aggregate in {@code aggregate_sequence} order whatever
     * their positions say. Positions normally follow sequences; after a crash a database can hand out identity values
     * again, and a later event of an aggregate then sits at a lower position than an earlier one. A row is returned
     * only when every pending row of its aggregate with a lower sequence is returned before it: when the scan stopped
     * at the limit below such a row, the aggregate's rows are left out, except its head (the row with the lowest
     * sequence), so that the aggregate always progresses.
     */
    @Override
    public List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments) {
        return fetchPending(limit, now, segments, Long.MIN_VALUE);
    }

    @Override
    public List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments, long abovePosition) {
        if (segments.isEmpty()) {
            return List.of();
        }
        OffsetDateTime at = toDb(now);
        return withConnection(connection -> {
            List<OutboxEntry> rows = new ArrayList<>(limit);
            List<Long> lowerMax = new ArrayList<>(limit);
            int read = 0;
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("fetchPending"))) {
                select.setObject(1, at);
                int next = bindSegments(select, 2, segments);
                select.setObject(next, at);
                select.setLong(next + 1, abovePosition);
                select.setInt(next + 2, limit);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        read++;
                        OutboxEntry entry = readEntry(rs);
                        long min = rs.getLong("lower_min");
                        if (!rs.wasNull() && min <= abovePosition) {
                            continue; // an earlier row of its aggregate lies below the scan: it goes first
                        }
                        long max = rs.getLong("lower_max");
                        rows.add(entry);
                        lowerMax.add(rs.wasNull() ? null : max);
                    }
                }
            }
            long cutoff = read < limit ? Long.MAX_VALUE
                                       : rows.stream().mapToLong(OutboxEntry::position).max().orElse(0);
            return inSequenceOrder(rows, lowerMax, cutoff, connection);
        });
    }

    /**
     * Per aggregate, its rows in sequence order in the places its rows held in the scan, as long as every pending row
     * with a lower sequence was read (its position is within the scan's {@code cutoff}); an aggregate none of whose
     * rows qualifies gets its head row read on its own.
     */
    private List<OutboxEntry> inSequenceOrder(List<OutboxEntry> rows, List<Long> lowerMax, long cutoff,
                                              Connection connection) throws SQLException {
        boolean ordered = true;
        for (int i = 0; i < rows.size() && ordered; i++) {
            Long max = lowerMax.get(i);
            ordered = max == null || max < rows.get(i).position();
        }
        if (ordered) {
            return rows; // the usual case: positions follow sequences
        }
        Map<String, List<Integer>> slots = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            slots.computeIfAbsent(rows.get(i).aggregateKey(), k -> new ArrayList<>()).add(i);
        }
        OutboxEntry[] placed = new OutboxEntry[rows.size()];
        for (List<Integer> aggregate : slots.values()) {
            List<Integer> bySequence = new ArrayList<>(aggregate);
            bySequence.sort(Comparator.comparingLong(i -> rows.get(i).aggregateSequence()));
            int taken = 0;
            for (int i : bySequence) {
                Long max = lowerMax.get(i);
                if (max != null && max > cutoff) {
                    break; // a row with a lower sequence lies beyond the scan: this and later rows wait for it
                }
                placed[aggregate.get(taken++)] = rows.get(i);
            }
            if (taken == 0) {
                OutboxEntry any = rows.get(aggregate.get(0));
                headOf(any.aggregateType(), any.aggregateId(), connection)
                        .ifPresent(head -> placed[aggregate.get(0)] = head);
            }
        }
        List<OutboxEntry> result = new ArrayList<>(rows.size());
        for (OutboxEntry entry : placed) {
            if (entry != null) {
                result.add(entry);
            }
        }
        return result;
    }

    private Optional<OutboxEntry> headOf(String aggregateType, String aggregateId, Connection connection)
            throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(sql(connection).get("fetchHead"))) {
            select.setString(1, aggregateType);
            select.setString(2, aggregateId);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(readEntry(rs)) : Optional.empty();
            }
        }
    }

    @Override
    public List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now) {
        return fetchPendingAfter(afterPosition, limit, now, allSegments);
    }

    @Override
    public List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now, Set<Integer> segments) {
        if (segments.isEmpty()) {
            return List.of();
        }
        return readEntries("fetchPendingAfter", limit, select -> {
            select.setLong(1, afterPosition);
            select.setObject(2, toDb(now));
            int next = bindSegments(select, 3, segments);
            select.setInt(next, limit);
        });
    }

    /** Binds {@link OutboxSql#SEGMENT_SET_SIZE} segment numbers, repeating one to fill the set; the next index. */
    private static int bindSegments(PreparedStatement statement, int firstIndex, Set<Integer> segments)
            throws SQLException {
        List<Integer> list = List.copyOf(segments);
        if (list.size() > OutboxSql.SEGMENT_SET_SIZE) {
            throw new IllegalArgumentException("At most " + OutboxSql.SEGMENT_SET_SIZE + " segments");
        }
        for (int i = 0; i < OutboxSql.SEGMENT_SET_SIZE; i++) {
            statement.setInt(firstIndex + i, list.get(Math.min(i, list.size() - 1)));
        }
        return firstIndex + OutboxSql.SEGMENT_SET_SIZE;
    }

    @Override
    public Set<String> assignSequences(Map<String, Long> sequences, Map<String, Integer> partitions) {
        if (sequences.isEmpty()) {
            return Set.of();
        }
        return withConnection(connection -> {
            OutboxSql statements = sql(connection);
            List<String> ids = List.copyOf(sequences.keySet());
            Integer onePartition = onePartition(ids, partitions);
            int[] counts;
            try (PreparedStatement update = connection.prepareStatement(statements.get(
                    onePartition != null ? "assignSequencesOnePartition" : "assignSequences"))) {
                for (int from = 0; from < ids.size(); from += OutboxSql.SET_SIZE) {
                    if (onePartition != null) { // (id, sequence) pairs, one partition, the ids
                        for (int i = 0; i < OutboxSql.SET_SIZE; i++) {
                            String id = ids.get(Math.min(from + i, ids.size() - 1));
                            update.setString(1 + 2 * i, id);
                            update.setLong(2 + 2 * i, sequences.get(id));
                        }
                        update.setInt(1 + 2 * OutboxSql.SET_SIZE, onePartition);
                        bindSet(update, 2 + 2 * OutboxSql.SET_SIZE, ids, from);
                        update.addBatch();
                        continue;
                    }
                    for (int i = 0; i < OutboxSql.SET_SIZE; i++) { // pairs; the last one repeated to fill the set
                        String id = ids.get(Math.min(from + i, ids.size() - 1));
                        update.setString(1 + 2 * i, id);
                        update.setLong(2 + 2 * i, sequences.get(id));
                        int partitionPair = 1 + 2 * OutboxSql.SET_SIZE + 2 * i;
                        update.setString(partitionPair, id);
                        Integer partition = partitions.get(id);
                        if (partition == null || partition < 0) {
                            update.setNull(partitionPair + 1, java.sql.Types.INTEGER);
                        } else {
                            update.setInt(partitionPair + 1, partition);
                        }
                    }
                    bindSet(update, 1 + 4 * OutboxSql.SET_SIZE, ids, from);
                    update.addBatch();
                }
                counts = update.executeBatch();
            }
            Set<String> notAssigned = new LinkedHashSet<>();
            for (int chunk = 0; chunk < counts.length; chunk++) {
                int from = chunk * OutboxSql.SET_SIZE;
                List<String> part = ids.subList(from, Math.min(from + OutboxSql.SET_SIZE, ids.size()));
                if (counts[chunk] != part.size()) { // which of them does not carry its id now
                    Set<String> missing = new LinkedHashSet<>(part);
                    try (PreparedStatement check = connection.prepareStatement(statements.get("sequencesOf"))) {
                        bindSet(check, 1, part, 0);
                        try (ResultSet rs = check.executeQuery()) {
                            while (rs.next()) {
                                long sequence = rs.getLong(2);
                                if (!rs.wasNull() && sequence == sequences.get(rs.getString(1))) {
                                    missing.remove(rs.getString(1));
                                }
                            }
                        }
                    }
                    notAssigned.addAll(missing);
                }
            }
            return notAssigned;
        });
    }

    /** The partition of every id when they all have the same (known) one, else {@code null}. */
    private static Integer onePartition(List<String> ids, Map<String, Integer> partitions) {
        Integer first = partitions.get(ids.get(0));
        if (first == null || first < 0) {
            return null;
        }
        for (String id : ids) {
            if (!first.equals(partitions.get(id))) {
                return null;
            }
        }
        return first;
    }

    @Override
    public List<OutboxEntry> fetchSequenced(int segment) {
        return fetchSequencedWithPartitions(segment).stream().map(Sequenced::entry).toList();
    }

    @Override
    public List<Sequenced> fetchSequencedWithPartitions(int segment) {
        return withConnection(connection -> {
            String statement = sql(connection).get("fetchSequenced");
            try (PreparedStatement select = connection.prepareStatement(statement)) {
                select.setFetchSize(16);
                for (int parameter = 1; parameter <= OutboxSql.parameterCount(statement); parameter++) {
                    select.setInt(parameter, segment); // once per branch where a database reads two indexes
                }
                List<Sequenced> rows = new ArrayList<>();
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        int partition = rs.getInt("broker_partition");
                        if (rs.wasNull()) {
                            partition = Sequenced.NO_PARTITION;
                        }
                        rows.add(new Sequenced(readEntry(rs), partition));
                    }
                }
                return rows;
            }
        });
    }

    @Override
    public void markStored(Map<String, Long> sequences, Instant sentAt) {
        updateBySequence("markStored", sequences, toDb(sentAt));
    }

    @Override
    public void clearSequences(Map<String, Long> sequences) {
        updateBySequence("clearSequence", sequences, null);
    }

    /** Runs a per-row statement whose last two parameters are id and sequence id, after an optional first one. */
    private void updateBySequence(String statement, Map<String, Long> sequences, Object first) {
        if (sequences.isEmpty()) {
            return;
        }
        withConnection(connection -> {
            try (PreparedStatement update = connection.prepareStatement(sql(connection).get(statement))) {
                for (Map.Entry<String, Long> row : sequences.entrySet()) {
                    int index = 1;
                    if (first != null) {
                        update.setObject(index++, first);
                    }
                    update.setString(index++, row.getKey());
                    update.setLong(index, row.getValue());
                    update.addBatch();
                }
                update.executeBatch();
            }
            return null;
        });
    }

    /** On PostgreSQL: {@code lock_timeout} and {@code idle_in_transaction_session_timeout} for this transaction. */
    @Override
    public void limitWaits(java.time.Duration lockWait, java.time.Duration idle) {
        withConnection(connection -> {
            Optional<String> statement = sql(connection).find("limitWaits");
            if (statement.isPresent()) {
                try (PreparedStatement limit = connection.prepareStatement(statement.get())) {
                    limit.setString(1, Math.max(1, lockWait.toMillis()) + "ms");
                    limit.setString(2, Math.max(1, idle.toMillis()) + "ms");
                    limit.executeQuery().close();
                }
            }
            return null;
        });
    }

    @Override
    public void heartbeat(String nodeId, Instant at, String segments) {
        withConnection(connection -> {
            try (PreparedStatement upsert = connection.prepareStatement(sql(connection).get("heartbeat"))) {
                upsert.setString(1, nodeId);
                upsert.setObject(2, toDb(at));
                upsert.setString(3, truncate(segments, 1000));
                upsert.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public List<Node> liveNodes(Instant since) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("liveNodes"))) {
                select.setObject(1, toDb(since));
                try (ResultSet rs = select.executeQuery()) {
                    List<Node> nodes = new ArrayList<>();
                    while (rs.next()) {
                        nodes.add(new Node(rs.getString(1), instant(rs, "heartbeat_at"), rs.getString(3)));
                    }
                    return nodes;
                }
            }
        });
    }

    @Override
    public void leave(String nodeId) {
        withConnection(connection -> {
            try (PreparedStatement delete = connection.prepareStatement(sql(connection).get("leave"))) {
                delete.setString(1, nodeId);
                delete.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public void forgetNodes(Instant before) {
        withConnection(connection -> {
            try (PreparedStatement delete = connection.prepareStatement(sql(connection).get("forgetNodes"))) {
                delete.setObject(1, toDb(before));
                delete.executeUpdate();
            }
            return null;
        });
    }

    private List<OutboxEntry> readEntries(String statement, int limit, SqlBinder binder) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get(statement))) {
                binder.bind(select);
                try (ResultSet rs = select.executeQuery()) {
                    List<OutboxEntry> entries = new ArrayList<>(limit);
                    while (rs.next()) {
                        entries.add(readEntry(rs));
                    }
                    return entries;
                }
            }
        });
    }

    @Override
    public Set<String> markSent(Collection<String> ids, Instant sentAt) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return withConnection(connection -> {
            OutboxSql statements = sql(connection);
            OffsetDateTime at = toDb(sentAt);
            List<String> all = List.copyOf(new LinkedHashSet<>(ids));
            int[] counts;
            try (PreparedStatement update = connection.prepareStatement(statements.get("markSent"))) {
                for (int from = 0; from < all.size(); from += OutboxSql.SET_SIZE) {
                    update.setObject(1, at);
                    bindSet(update, 2, all, from);
                    update.addBatch();
                }
                counts = update.executeBatch();
            }
            Set<String> notRecorded = new LinkedHashSet<>();
            for (int chunk = 0; chunk < counts.length; chunk++) {
                int from = chunk * OutboxSql.SET_SIZE;
                List<String> ids0 = all.subList(from, Math.min(from + OutboxSql.SET_SIZE, all.size()));
                if (counts[chunk] != ids0.size()) { // SUCCESS_NO_INFO or fewer: find the rows it did not change
                    notRecorded.addAll(notRecordedOf(connection, statements, ids0, at));
                }
            }
            return notRecorded;
        });
    }

    /** Of {@code ids}, those not marked SENT at {@code at} (the update left them, or they are gone). */
    private static Set<String> notRecordedOf(Connection connection, OutboxSql statements, List<String> ids,
                                             OffsetDateTime at) throws SQLException {
        Set<String> missing = new LinkedHashSet<>(ids);
        try (PreparedStatement check = connection.prepareStatement(statements.get("sentAt"))) {
            bindSet(check, 1, ids, 0);
            check.setObject(OutboxSql.SET_SIZE + 1, at);
            try (ResultSet rs = check.executeQuery()) {
                while (rs.next()) {
                    missing.remove(rs.getString(1));
                }
            }
        }
        return missing;
    }

    /** Binds {@link OutboxSql#SET_SIZE} ids from {@code from} on, repeating the last one to fill the set. */
    private static void bindSet(PreparedStatement statement, int firstIndex, List<String> ids, int from)
            throws SQLException {
        for (int i = 0; i < OutboxSql.SET_SIZE; i++) {
            statement.setString(firstIndex + i, ids.get(Math.min(from + i, ids.size() - 1)));
        }
    }

    @Override
    public void recordFailures(Collection<Failure> failures) {
        if (failures.isEmpty()) {
            return;
        }
        withConnection(connection -> {
            OutboxSql statements = sql(connection);
            try (PreparedStatement retry = connection.prepareStatement(statements.get("retryLater"));
                 PreparedStatement park = connection.prepareStatement(statements.get("park"));
                 PreparedStatement discard = connection.prepareStatement(statements.get("discardFailed"))) {
                int retries = 0;
                int parks = 0;
                int discards = 0;
                for (Failure failure : failures) {
                    String kind = failure.kind().name();
                    String error = truncate(failure.error(), MAX_ERROR_LENGTH);
                    switch (failure.outcome()) {
                        case RETRY -> {
                            retry.setObject(1, toDb(failure.nextAttemptAt()));
                            retry.setString(2, kind);
                            retry.setString(3, error);
                            retry.setBoolean(4, failure.kind().mayHaveBeenStored());
                            retry.setString(5, failure.id());
                            retry.addBatch();
                            retries++;
                        }
                        case PARK -> {
                            park.setObject(1, toDb(failure.at()));
                            park.setBoolean(2, failure.kind().mayHaveBeenStored()); // resolved later, see relay
                            park.setString(3, kind);
                            park.setString(4, error);
                            park.setString(5, failure.id());
                            park.addBatch();
                            parks++;
                        }
                        case DISCARD -> {
                            discard.setString(1, kind);
                            discard.setString(2, error);
                            discard.setObject(3, toDb(failure.at()));
                            discard.setString(4, truncate(error, MAX_REASON_LENGTH));
                            discard.setString(5, failure.id());
                            discard.addBatch();
                            discards++;
                        }
                    }
                }
                if (retries > 0) {
                    retry.executeBatch();
                }
                if (parks > 0) {
                    park.executeBatch();
                }
                if (discards > 0) {
                    discard.executeBatch();
                }
            }
            return null;
        });
    }

    @Override
    public Optional<OutboxRow> find(String id) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("find"))) {
                select.setString(1, id);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.of(readRow(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public List<OutboxRow> findParked(String aggregateType, String aggregateId, int offset, int limit) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("findParked"))) {
                int next = bindFilter(select, aggregateType, aggregateId);
                select.setInt(next, offset);
                select.setInt(next + 1, limit);
                try (ResultSet rs = select.executeQuery()) {
                    List<OutboxRow> rows = new ArrayList<>();
                    while (rs.next()) {
                        rows.add(readRow(rs));
                    }
                    return rows;
                }
            }
        });
    }

    @Override
    public long countParked(String aggregateType, String aggregateId) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("countParked"))) {
                bindFilter(select, aggregateType, aggregateId);
                return singleLong(select);
            }
        });
    }

    @Override
    public long countPending(String aggregateType, String aggregateId) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("countWaiting"))) {
                select.setString(1, aggregateType);
                select.setString(2, aggregateId);
                return singleLong(select);
            }
        });
    }

    @Override
    public int retryParked(String id, Action action) {
        return update("retryParked", action, id);
    }

    @Override
    public int retryParkedOfAggregate(String aggregateType, String aggregateId, Action action) {
        return update("retryParkedOfAggregate", action, aggregateType, aggregateId);
    }

    @Override
    public int retryAllParked(Action action) {
        return update("retryAllParked", action);
    }

    @Override
    public int discardParked(String id, Action action) {
        return update("discardParked", action, id);
    }

    @Override
    public long count(OutboxStatus status) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("countByStatus"))) {
                select.setString(1, status.name());
                return singleLong(select);
            }
        });
    }

    @Override
    public Optional<Instant> nextRetryAt(Set<Integer> segments) {
        if (segments.isEmpty()) {
            return Optional.empty();
        }
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("nextRetryAt"))) {
                bindSegments(select, 1, segments);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.ofNullable(rs.getObject(1, OffsetDateTime.class))
                                               .map(OffsetDateTime::toInstant)
                                     : Optional.empty();
                }
            }
        });
    }

    @Override
    public Optional<Instant> oldestPending() {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("oldestPending"));
                 ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getObject(1, OffsetDateTime.class)).map(OffsetDateTime::toInstant)
                                 : Optional.empty();
            }
        });
    }

    @Override
    public int purgeSent(Instant cutoff, int batchSize, boolean archive) {
        return withConnection(connection -> {
            OutboxSql statements = sql(connection);
            OffsetDateTime before = toDb(cutoff);
            long upperBound;
            try (PreparedStatement bound = connection.prepareStatement(statements.get("retentionUpperBound"))) {
                bound.setObject(1, before);
                bound.setInt(2, batchSize);
                try (ResultSet rs = bound.executeQuery()) {
                    rs.next();
                    upperBound = rs.getLong(1);
                    if (rs.wasNull()) {
                        return 0;
                    }
                }
            }
            if (archive) {
                try (PreparedStatement copy = connection.prepareStatement(statements.get("retentionArchive"))) {
                    copy.setObject(1, before);
                    copy.setLong(2, upperBound);
                    copy.executeUpdate();
                }
            }
            try (PreparedStatement delete = connection.prepareStatement(statements.get("retentionDelete"))) {
                delete.setObject(1, before);
                delete.setLong(2, upperBound);
                return delete.executeUpdate();
            }
        });
    }

    private int update(String statement, Action action, String... keys) {
        return withConnection(connection -> {
            try (PreparedStatement update = connection.prepareStatement(sql(connection).get(statement))) {
                update.setString(1, truncate(action.actor(), 255));
                update.setObject(2, toDb(action.at()));
                update.setString(3, truncate(action.reason(), MAX_REASON_LENGTH));
                for (int i = 0; i < keys.length; i++) {
                    update.setString(4 + i, keys[i]);
                }
                return update.executeUpdate();
            }
        });
    }

    private static int bindFilter(PreparedStatement statement, String aggregateType, String aggregateId)
            throws SQLException {
        statement.setString(1, aggregateType);
        statement.setString(2, aggregateType);
        statement.setString(3, aggregateId);
        statement.setString(4, aggregateId);
        return 5;
    }

    private static long singleLong(PreparedStatement select) throws SQLException {
        try (ResultSet rs = select.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static OutboxEntry readEntry(ResultSet rs) throws SQLException {
        String kind = rs.getString("failure_kind");
        return new OutboxEntry(rs.getString("id"),
                               rs.getLong("position"),
                               rs.getObject("timestamp", OffsetDateTime.class).toInstant(),
                               rs.getString("event_type"),
                               rs.getString("aggregate_type"),
                               rs.getString("aggregate_id"),
                               rs.getLong("aggregate_sequence"),
                               rs.getString("payload"),
                               rs.getString("metadata"),
                               rs.getString("version"),
                               rs.getString("trace_parent"),
                               OutboxStatus.valueOf(rs.getString("status")),
                               rs.getInt("attempts"),
                               kind == null ? null : FailureKind.valueOf(kind),
                               rs.getString("last_error"),
                               sequenceOf(rs),
                               rs.getString("topic"),
                               rs.getInt("segment"));
    }

    private static long sequenceOf(ResultSet rs) throws SQLException {
        long sequence = rs.getLong("broker_sequence");
        return rs.wasNull() ? OutboxEntry.NO_SEQUENCE : sequence;
    }

    private static OutboxRow readRow(ResultSet rs) throws SQLException {
        return new OutboxRow(readEntry(rs),
                             instant(rs, "next_attempt_at"),
                             instant(rs, "parked_at"),
                             instant(rs, "sent_at"),
                             rs.getString("action"),
                             rs.getString("action_by"),
                             instant(rs, "action_at"),
                             rs.getString("action_reason"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    private OutboxSql sql(Connection connection) throws SQLException {
        OutboxSql loaded = sql;
        if (loaded == null) {
            OutboxDatabase database = configuredDatabase != null ? configuredDatabase
                                                                  : OutboxDatabase.detect(connection);
            loaded = OutboxSql.load(database, table);
            if (database == OutboxDatabase.H2) {
                h2DurabilityWarning(connection).ifPresent(logger::warn);
            }
            sql = loaded;
        }
        return loaded;
    }

    /**
     * A warning when H2 keeps its database in files but may lose acknowledged commits: with its default write delay
     * (500 ms) a kill -9 forgets transactions H2 had confirmed, and the relay may already have published their
     * events ("ghost" messages for events the store later forgot). In-memory databases keep nothing anyway.
     */
    static Optional<String> h2DurabilityWarning(Connection connection) throws SQLException {
        String url = connection.getMetaData().getURL();
        if (url == null || url.startsWith("jdbc:h2:mem:")) {
            return Optional.empty();
        }
        try (Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery(
                     "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'WRITE_DELAY'")) {
            if (!rs.next() || "0".equals(rs.getString(1).trim())) {
                return Optional.empty();
            }
            return Optional.of("The outbox's H2 database " + url + " delays writes by " + rs.getString(1).trim()
                                       + " ms: a crash can lose commits H2 already confirmed, after the relay published "
                                       + "their events. Add ;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE to the URL (the second "
                                       + "keeps H2's shutdown hook from closing the database under the relay), or use "
                                       + "PostgreSQL (docs/architecture.md, Preconditions)");
        }
    }

    private <T> T withConnection(SqlFunction<T> work) {
        try (Connection connection = connectionProvider.getConnection()) {
            return work.apply(connection);
        } catch (SQLException e) {
            throw new JdbcException("Outbox table '" + table + "': " + e.getMessage(), e);
        }
    }

    private static OffsetDateTime toDb(Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    private static String truncate(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        return text.substring(0, max);
    }

    @FunctionalInterface
    private interface SqlBinder {
        void bind(PreparedStatement statement) throws SQLException;
    }

    @FunctionalInterface
    private interface SqlFunction<T> {
        T apply(Connection connection) throws SQLException;
    }

    /**
     * Builds a {@link JdbcOutboxStore}. Required: {@link #connectionProvider(ConnectionProvider)}. Defaults: table
     * {@value #DEFAULT_TABLE}, database detected from the connection.
     */
    public static final class Builder {
        private ConnectionProvider connectionProvider;
        private String table = DEFAULT_TABLE;
        private OutboxDatabase database;
        private int segmentCount = OutboxSegments.DEFAULT_COUNT;

        private Builder() {
        }

        /**
         * How many segments rows are split into (default {@value OutboxSegments#DEFAULT_COUNT}, at most
         * {@value OutboxSegments#MAX_COUNT}); the relay's segment count must be the same. Fixed for a table's life:
         * rows keep the segment computed when they were written.
         */
        public Builder segmentCount(int segmentCount) {
            BuilderUtils.assertThat(segmentCount, n -> n >= 1 && n <= OutboxSegments.MAX_COUNT,
                                    "segmentCount must be between 1 and " + OutboxSegments.MAX_COUNT);
            this.segmentCount = segmentCount;
            return this;
        }

        /** The connections to use; the event store's, so that capture joins its transaction. Required. */
        public Builder connectionProvider(ConnectionProvider connectionProvider) {
            assertNonNull(connectionProvider, "ConnectionProvider may not be null");
            this.connectionProvider = connectionProvider;
            return this;
        }

        /** The table name (optionally schema-qualified). Defaults to {@value #DEFAULT_TABLE}. */
        public Builder table(String table) {
            this.table = table;
            return this;
        }

        /** The database, when it should not be detected from the connection's metadata. */
        public Builder database(OutboxDatabase database) {
            this.database = database;
            return this;
        }

        public JdbcOutboxStore build() {
            return new JdbcOutboxStore(this);
        }

        /** @throws AxonConfigurationException when a required value is missing or the table name is invalid */
        void validate() {
            assertNonNull(connectionProvider, "The ConnectionProvider is a hard requirement and should be provided");
            try {
                OutboxSql.validateTableName(table);
            } catch (IllegalArgumentException e) {
                throw new AxonConfigurationException(e.getMessage(), e);
            }
        }
    }
}
