package org.axonframework.extensions.outbox.store.jdbc;

import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.JdbcException;
import org.axonframework.extensions.outbox.OutboxEntry;
import org.axonframework.extensions.outbox.OutboxStatus;
import org.axonframework.extensions.outbox.store.OutboxStore;

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
import java.util.List;
import java.util.Optional;

import static org.axonframework.common.BuilderUtils.assertNonNull;

/**
 * {@link OutboxStore} on a relational database through JDBC, with SQL shipped per {@link OutboxDatabase}.
 * <p>
 * Connections come from an Axon {@link ConnectionProvider}: give it the one the event store uses (in Spring, one
 * bound to the application's transaction manager), so that {@link #append(List)} joins the unit of work's transaction.
 * Nothing here commits. Writes are JDBC batches: one round trip per call, not per row.
 */
public final class JdbcOutboxStore implements OutboxStore {

    /** The default table name. */
    public static final String DEFAULT_TABLE = "axon_outbox";
    private static final int MAX_ERROR_LENGTH = 4000;

    private final ConnectionProvider connectionProvider;
    private final String table;
    private final OutboxDatabase configuredDatabase;
    private volatile OutboxSql sql;

    private JdbcOutboxStore(Builder builder) {
        builder.validate();
        this.connectionProvider = builder.connectionProvider;
        this.table = builder.table;
        this.configuredDatabase = builder.database;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The table name this store uses. */
    public String table() {
        return table;
    }

    /** Creates the table and its indexes if they do not exist (idempotent). */
    public void createSchema() {
        withConnection(connection -> {
            try (Statement statement = connection.createStatement()) {
                for (String ddl : sql(connection).schema()) {
                    statement.execute(ddl);
                }
            }
            return null;
        });
    }

    @Override
    public void append(List<OutboxEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        withConnection(connection -> {
            try (PreparedStatement insert = connection.prepareStatement(sql(connection).get("insert"))) {
                for (OutboxEntry entry : entries) {
                    insert.setString(1, entry.id());
                    insert.setObject(2, toDb(entry.timestamp()));
                    insert.setString(3, entry.eventType());
                    insert.setString(4, entry.aggregateType());
                    insert.setString(5, entry.aggregateId());
                    insert.setLong(6, entry.aggregateSequence());
                    insert.setString(7, entry.payload());
                    insert.setString(8, entry.metadata());
                    insert.setString(9, entry.version());
                    insert.addBatch();
                }
                insert.executeBatch();
            }
            return null;
        });
    }

    @Override
    public List<OutboxEntry> fetchPending(int limit) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("fetchPending"))) {
                select.setInt(1, limit);
                try (ResultSet rs = select.executeQuery()) {
                    List<OutboxEntry> entries = new ArrayList<>(limit);
                    while (rs.next()) {
                        entries.add(read(rs));
                    }
                    return entries;
                }
            }
        });
    }

    @Override
    public void markSent(Collection<String> ids, Instant sentAt) {
        if (ids.isEmpty()) {
            return;
        }
        withConnection(connection -> {
            try (PreparedStatement update = connection.prepareStatement(sql(connection).get("markSent"))) {
                OffsetDateTime at = toDb(sentAt);
                for (String id : ids) {
                    update.setObject(1, at);
                    update.setString(2, id);
                    update.addBatch();
                }
                update.executeBatch();
            }
            return null;
        });
    }

    @Override
    public void recordFailedAttempts(Collection<FailedAttempt> failures) {
        if (failures.isEmpty()) {
            return;
        }
        withConnection(connection -> {
            try (PreparedStatement update = connection.prepareStatement(sql(connection).get("recordFailedAttempt"))) {
                for (FailedAttempt failure : failures) {
                    update.setString(1, truncate(failure.error()));
                    update.setString(2, failure.id());
                    update.addBatch();
                }
                update.executeBatch();
            }
            return null;
        });
    }

    @Override
    public Optional<OutboxEntry> find(String id) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("find"))) {
                select.setString(1, id);
                try (ResultSet rs = select.executeQuery()) {
                    return rs.next() ? Optional.of(read(rs)) : Optional.empty();
                }
            }
        });
    }

    @Override
    public long count(OutboxStatus status) {
        return withConnection(connection -> {
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get("countByStatus"))) {
                select.setString(1, status.name());
                try (ResultSet rs = select.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    private static OutboxEntry read(ResultSet rs) throws SQLException {
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
                               OutboxStatus.valueOf(rs.getString("status")),
                               rs.getInt("attempts"),
                               rs.getString("last_error"));
    }

    private OutboxSql sql(Connection connection) throws SQLException {
        OutboxSql loaded = sql;
        if (loaded == null) {
            OutboxDatabase database = configuredDatabase != null ? configuredDatabase
                                                                  : OutboxDatabase.detect(connection);
            loaded = OutboxSql.load(database, table);
            sql = loaded;
        }
        return loaded;
    }

    private <T> T withConnection(SqlFunction<T> work) {
        try (Connection connection = connectionProvider.getConnection()) {
            return work.apply(connection);
        } catch (SQLException e) {
            throw new JdbcException("Outbox table '" + table + "': " + e.getMessage(), e);
        }
    }

    private static OffsetDateTime toDb(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }

    private static String truncate(String error) {
        if (error == null || error.length() <= MAX_ERROR_LENGTH) {
            return error;
        }
        return error.substring(0, MAX_ERROR_LENGTH);
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

        private Builder() {
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
