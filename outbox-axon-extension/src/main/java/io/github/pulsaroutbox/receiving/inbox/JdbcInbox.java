package io.github.pulsaroutbox.receiving.inbox;

import io.github.pulsaroutbox.store.jdbc.OutboxDatabase;
import io.github.pulsaroutbox.store.jdbc.TableNames;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.JdbcException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Properties;

import static org.axonframework.common.BuilderUtils.assertNonNull;

/**
 * An {@link Inbox} in a table of the service's database (H2, PostgreSQL or MariaDB), through the connections of the
 * handlers' transactions: give it the {@link ConnectionProvider} the projections use (in Spring, one bound to the
 * transaction manager), so that an event's record commits or rolls back with its effects.
 * <p>
 * Guarantees: one row per (processing group, event id), enforced by the primary key; recording an event a second time
 * changes nothing and raises no error (the transaction goes on, the caller skips the event); a concurrent first
 * handling in another transaction waits for that transaction (PostgreSQL, MariaDB) and then sees its row. {@link
 * #createSchema()} applies {@code io/github/pulsaroutbox/receiving/inbox/<database>/V1__pulsar_inbox.sql}.
 */
public final class JdbcInbox implements Inbox {

    /** The default table name. */
    public static final String DEFAULT_TABLE = "axon_inbox";

    private final ConnectionProvider connections;
    private final String table;
    private final OutboxDatabase configuredDatabase;
    private volatile Properties statements;
    private volatile OutboxDatabase database;

    private JdbcInbox(Builder builder) {
        builder.validate();
        this.connections = builder.connections;
        this.table = builder.table;
        this.configuredDatabase = builder.database;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Creates the inbox table and its index if they do not exist. */
    public void createSchema() {
        withConnection(connection -> {
            String script = substitute(resource(database(connection), "V1__pulsar_inbox.sql"));
            try (Statement statement = connection.createStatement()) {
                for (String ddl : script.replaceAll("(?m)^--.*$", "").split(";")) {
                    if (!ddl.isBlank()) {
                        statement.execute(ddl.trim());
                    }
                }
            }
            return null;
        });
    }

    @Override
    public boolean firstHandling(String processingGroup, String messageId, Instant at) {
        return withConnection(connection -> {
            try (PreparedStatement record = connection.prepareStatement(statement(connection, "record"))) {
                record.setString(1, processingGroup);
                record.setString(2, messageId);
                record.setObject(3, database(connection).bindable(at));
                return record.executeUpdate() == 1;
            }
        });
    }

    @Override
    public int purge(Instant before, int batchSize) {
        return withConnection(connection -> {
            try (PreparedStatement purge = connection.prepareStatement(statement(connection, "purge"))) {
                purge.setObject(1, database(connection).bindable(before));
                purge.setInt(2, batchSize);
                return purge.executeUpdate();
            }
        });
    }

    /** The events {@code processingGroup} has recorded. */
    public long count(String processingGroup) {
        return withConnection(connection -> {
            try (PreparedStatement count = connection.prepareStatement(statement(connection, "count"))) {
                count.setString(1, processingGroup);
                try (ResultSet rs = count.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    private String statement(Connection connection, String name) throws SQLException {
        Properties loaded = statements;
        if (loaded == null) {
            loaded = new Properties();
            try (InputStream in = open(database(connection), "statements.properties")) {
                loaded.load(in);
            } catch (IOException e) {
                throw new IllegalStateException("Cannot read the inbox statements", e);
            }
            statements = loaded;
        }
        return substitute(loaded.getProperty(name));
    }

    private OutboxDatabase database(Connection connection) throws SQLException {
        OutboxDatabase known = database;
        if (known == null) {
            known = configuredDatabase != null ? configuredDatabase : OutboxDatabase.detect(connection);
            database = known;
        }
        return known;
    }

    private String substitute(String sql) {
        return sql.replace("${name}", table.substring(table.indexOf('.') + 1)).replace("${table}", table);
    }

    private static String resource(OutboxDatabase database, String name) {
        try (InputStream in = open(database, name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read the inbox schema", e);
        }
    }

    private static InputStream open(OutboxDatabase database, String name) {
        String path = "io/github/pulsaroutbox/receiving/inbox/" + database.folder() + "/" + name;
        InputStream in = JdbcInbox.class.getClassLoader().getResourceAsStream(path);
        if (in == null) {
            throw new IllegalStateException("Missing inbox SQL resource " + path);
        }
        return in;
    }

    private <T> T withConnection(SqlWork<T> work) {
        try (Connection connection = connections.getConnection()) {
            return work.apply(connection);
        } catch (SQLException e) {
            throw new JdbcException("Inbox table '" + table + "': " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface SqlWork<T> {
        T apply(Connection connection) throws SQLException;
    }

    /** Builds a {@link JdbcInbox}; the connection provider is required. */
    public static final class Builder {
        private ConnectionProvider connections;
        private String table = DEFAULT_TABLE;
        private OutboxDatabase database;

        private Builder() {
        }

        /** The connections of the handlers' transactions. Required. */
        public Builder connectionProvider(ConnectionProvider connections) {
            assertNonNull(connections, "connectionProvider may not be null");
            this.connections = connections;
            return this;
        }

        /** The table (optionally schema-qualified; default {@value #DEFAULT_TABLE}). */
        public Builder table(String table) {
            this.table = table;
            return this;
        }

        /** The database, when it should not be detected from the connection's metadata. */
        public Builder database(OutboxDatabase database) {
            this.database = database;
            return this;
        }

        public JdbcInbox build() {
            return new JdbcInbox(this);
        }

        void validate() {
            assertNonNull(connections, "The ConnectionProvider is a hard requirement and should be provided");
            try {
                TableNames.validate("inbox", table);
            } catch (IllegalArgumentException e) {
                throw new AxonConfigurationException(e.getMessage(), e);
            }
        }
    }
}
