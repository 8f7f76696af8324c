package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.OutboxEntry;
import org.axonframework.common.jdbc.JdbcException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.github.pulsaroutbox.store.jdbc.JdbcRows.readEntry;

/**
 * The store's connections and statements: each call runs on a connection of the store's
 * {@link org.axonframework.common.jdbc.ConnectionProvider} (the caller's transaction, if any) with the SQL of the detected or configured {@link OutboxDatabase}, loaded once.
 */
final class JdbcAccess {

    private static final Logger logger = LoggerFactory.getLogger(JdbcAccess.class);

    private final org.axonframework.common.jdbc.ConnectionProvider connectionProvider;
    private final String table;
    private final OutboxDatabase configuredDatabase;
    private volatile OutboxSql sql;

    JdbcAccess(org.axonframework.common.jdbc.ConnectionProvider connectionProvider, String table,
               OutboxDatabase configuredDatabase) {
        this.connectionProvider = connectionProvider;
        this.table = table;
        this.configuredDatabase = configuredDatabase;
    }

    String table() {
        return table;
    }

    /** The configured database, or the one the connection's metadata names. */
    OutboxDatabase database(Connection connection) throws SQLException {
        return configuredDatabase != null ? configuredDatabase : OutboxDatabase.detect(connection);
    }

    /** The rows a select returns, its parameters bound by {@code binder}. */
    List<OutboxEntry> readEntries(String statement, int limit, SqlBinder binder) {
        return withConnection(connection -> {
            TimeColumns times = times(connection);
            try (PreparedStatement select = connection.prepareStatement(sql(connection).get(statement))) {
                binder.bind(select, times);
                try (ResultSet rs = select.executeQuery()) {
                    List<OutboxEntry> entries = new ArrayList<>(limit);
                    while (rs.next()) {
                        entries.add(readEntry(rs, times));
                    }
                    return entries;
                }
            }
        });
    }

    /** How the connection's database writes and reads timestamps. */
    TimeColumns times(Connection connection) throws SQLException {
        return sql(connection).times();
    }

    /** The statements of the connection's database, loaded on first use. */
    OutboxSql sql(Connection connection) throws SQLException {
        OutboxSql loaded = sql;
        if (loaded == null) {
            OutboxDatabase database = database(connection);
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

    /** Runs {@code work} on a connection of the provider; SQL failures become {@link JdbcException}s naming the table. */
    <T> T withConnection(SqlFunction<T> work) {
        try (Connection connection = connectionProvider.getConnection()) {
            return work.apply(connection);
        } catch (SQLException e) {
            throw new JdbcException("Outbox table '" + table + "': " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    interface SqlBinder {
        void bind(PreparedStatement statement, TimeColumns times) throws SQLException;
    }

    @FunctionalInterface
    interface SqlFunction<T> {
        T apply(Connection connection) throws SQLException;
    }
}
