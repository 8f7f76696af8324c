package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.store.TokenTable;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.BuilderUtils;
import org.axonframework.common.jdbc.ConnectionProvider;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

import static org.axonframework.common.BuilderUtils.assertNonNull;

/**
 * {@link OutboxStore} and {@link OutboxMaintenance} on a relational database through JDBC, with SQL shipped per
 * {@link OutboxDatabase}.
 * <p>
 * Connections come from an Axon {@link ConnectionProvider}: give it the one the event store uses (in Spring, one
 * bound to the application's transaction manager), so that {@link #append(List)} joins the unit of work's transaction.
 * Nothing here commits. Writes are JDBC batches: one round trip per call, not per row. The statements are grouped by
 * who uses them: capture ({@code JdbcCapture}), the relay's reads and writes ({@code JdbcRelayReads},
 * {@code JdbcRelayWrites}), operators, statistics and retention ({@code JdbcOperatorStatements}), relay nodes
 * ({@code JdbcNodes}) and the schema ({@code JdbcSchema}).
 */
public final class JdbcOutboxStore implements OutboxStore, OutboxMaintenance, OutboxNodes {

    /** The default table name. */
    public static final String DEFAULT_TABLE = "axon_outbox";

    private final String table;
    private final int segmentCount;
    private final Set<Integer> allSegments;
    private final JdbcSchema schema;
    private final JdbcCapture capture;
    private final JdbcRelayReads reads;
    private final JdbcRelayWrites writes;
    private final JdbcOperatorStatements operators;
    private final JdbcNodes nodes;
    private final JdbcTokenTable tokens;

    private JdbcOutboxStore(Builder builder) {
        builder.validate();
        this.table = builder.table;
        this.segmentCount = builder.segmentCount;
        this.allSegments = Set.copyOf(IntStream.range(0, segmentCount).boxed().toList());
        JdbcAccess db = new JdbcAccess(builder.connectionProvider, builder.table, builder.database);
        this.schema = new JdbcSchema(db);
        this.capture = new JdbcCapture(db, segmentCount);
        this.reads = new JdbcRelayReads(db);
        this.writes = new JdbcRelayWrites(db);
        this.operators = new JdbcOperatorStatements(db);
        this.nodes = new JdbcNodes(db);
        this.tokens = new JdbcTokenTable(db);
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
        schema.createSchema();
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
        schema.verifySchema(() -> fetchPending(0, Instant.now()));
    }

    @Override
    public void append(List<OutboxEntry> entries) {
        capture.append(entries);
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
        return reads.fetchPending(limit, now, segments, abovePosition);
    }

    @Override
    public List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now) {
        return fetchPendingAfter(afterPosition, limit, now, allSegments);
    }

    @Override
    public List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now, Set<Integer> segments) {
        return reads.fetchPendingAfter(afterPosition, limit, now, segments);
    }

    @Override
    public Set<String> assignSequences(Map<String, Long> sequences, Map<String, Integer> partitions) {
        return writes.assignSequences(sequences, partitions);
    }

    @Override
    public List<OutboxEntry> fetchSequenced(int segment) {
        return fetchSequencedWithPartitions(segment).stream().map(Sequenced::entry).toList();
    }

    @Override
    public List<Sequenced> fetchSequencedWithPartitions(int segment) {
        return reads.fetchSequencedWithPartitions(Set.of(segment)).get(segment);
    }

    @Override
    public Map<Integer, List<Sequenced>> fetchSequencedWithPartitions(Set<Integer> segments) {
        return reads.fetchSequencedWithPartitions(segments);
    }

    @Override
    public void markStored(Map<String, Long> sequences, Instant sentAt) {
        writes.markStored(sequences, sentAt);
    }

    @Override
    public void clearSequences(Map<String, Long> sequences) {
        writes.clearSequences(sequences);
    }

    /**
     * On PostgreSQL: {@code lock_timeout} and {@code idle_in_transaction_session_timeout} for this transaction. On
     * MariaDB: {@code innodb_lock_wait_timeout} and {@code idle_transaction_timeout} for the session until
     * {@link #restoreWaits} (MySQL: the lock wait only), in whole seconds rounded up. Nothing on H2, nor outside a
     * transaction.
     */
    @Override
    public void limitWaits(Duration lockWait, Duration idle) {
        writes.limitWaits(lockWait, idle);
    }

    /** On MariaDB and MySQL: the session's own lock wait and idle limits, which {@link #limitWaits} replaced. */
    @Override
    public void restoreWaits() {
        writes.restoreWaits();
    }

    @Override
    public void heartbeat(String nodeId, Instant at, String segments) {
        nodes.heartbeat(nodeId, at, segments);
    }

    @Override
    public List<Node> liveNodes(Instant since) {
        return nodes.liveNodes(since);
    }

    @Override
    public void leave(String nodeId) {
        nodes.leave(nodeId);
    }

    @Override
    public void forgetNodes(Instant before) {
        nodes.forgetNodes(before);
    }

    @Override
    public int extendClaims(TokenTable table, String processorName, String owner, Collection<Integer> segments,
                            String timestamp) {
        return tokens.extendClaims(table, processorName, owner, segments, timestamp);
    }

    @Override
    public int holdClaims(TokenTable table, String processorName, String owner, Collection<Integer> segments) {
        return tokens.holdClaims(table, processorName, owner, segments);
    }

    @Override
    public int markClaim(TokenTable table, String processorName, int segment, String timestamp) {
        return tokens.markClaim(table, processorName, segment, timestamp);
    }

    @Override
    public Optional<Claim> claimOf(TokenTable table, String processorName, int segment) {
        return tokens.claimOf(table, processorName, segment);
    }

    @Override
    public Set<String> markSent(Collection<String> ids, Instant sentAt) {
        return writes.markSent(ids, sentAt);
    }

    @Override
    public void recordFailures(Collection<Failure> failures) {
        writes.recordFailures(failures);
    }

    @Override
    public Optional<OutboxRow> find(String id) {
        return operators.find(id);
    }

    @Override
    public List<OutboxRow> findParked(String aggregateType, String aggregateId, int offset, int limit) {
        return operators.findParked(aggregateType, aggregateId, offset, limit);
    }

    @Override
    public long countParked(String aggregateType, String aggregateId) {
        return operators.countParked(aggregateType, aggregateId);
    }

    @Override
    public long countPending(String aggregateType, String aggregateId) {
        return operators.countPending(aggregateType, aggregateId);
    }

    @Override
    public int retryParked(String id, Action action) {
        return operators.retryParked(id, action);
    }

    @Override
    public int retryParkedOfAggregate(String aggregateType, String aggregateId, Action action) {
        return operators.retryParkedOfAggregate(aggregateType, aggregateId, action);
    }

    @Override
    public int retryAllParked(Action action) {
        return operators.retryAllParked(action);
    }

    @Override
    public int discardParked(String id, Action action) {
        return operators.discardParked(id, action);
    }

    @Override
    public long count(OutboxStatus status) {
        return operators.count(status);
    }

    @Override
    public Optional<Instant> nextRetryAt(Set<Integer> segments) {
        return reads.nextRetryAt(segments);
    }

    @Override
    public Optional<Instant> oldestPending() {
        return operators.oldestPending();
    }

    @Override
    public int purgeSent(Instant cutoff, int batchSize, boolean archive) {
        return operators.purgeSent(cutoff, batchSize, archive);
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
