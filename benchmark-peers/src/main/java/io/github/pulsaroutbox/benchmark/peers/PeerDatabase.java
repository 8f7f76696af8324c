package io.github.pulsaroutbox.benchmark.peers;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh database for one peer round, as the extension's benchmark makes one for the relay: an in-memory H2 database
 * in this JVM, or a schema of its own on PostgreSQL (dropped at the end).
 */
final class PeerDatabase implements AutoCloseable {

    private static final AtomicInteger ROUNDS = new AtomicInteger();

    final String url;
    final String user;
    final boolean postgres;
    private final String server;
    private final String schema;

    PeerDatabase(String db, String jdbcUrl) throws SQLException {
        postgres = db.equals("postgresql");
        if (postgres) {
            server = jdbcUrl;
            user = "postgres";
            schema = "peers_bench_" + ProcessHandle.current().pid() + "_" + ROUNDS.incrementAndGet();
            execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE", "CREATE SCHEMA " + schema);
            url = jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema;
        } else if (db.equals("h2")) {
            server = null;
            schema = null;
            user = "sa";
            url = "jdbc:h2:mem:peers-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        } else {
            throw new IllegalArgumentException("--db must be h2 or postgresql, not " + db);
        }
    }

    private void execute(String... statements) throws SQLException {
        try (Connection connection = DriverManager.getConnection(server, user, "");
             Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    /**
     * What the relay's drain does after its rows are written: statistics refreshed and, on PostgreSQL, a checkpoint,
     * so that no drain pays for flushing its own set-up (or the previous round's).
     */
    void prepare(String table) throws SQLException {
        if (postgres) {
            execute("ANALYZE " + schema + "." + table.toLowerCase(Locale.ROOT), "CHECKPOINT");
        }
    }

    /** One number from a query on the peer's table (its count of incomplete rows). */
    long count(String sql) {
        try (Connection connection = DriverManager.getConnection(url, user, "");
             Statement statement = connection.createStatement();
             var result = statement.executeQuery(sql)) {
            result.next();
            return result.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws SQLException {
        if (postgres) {
            execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } else {
            try (Connection connection = DriverManager.getConnection(url, user, "");
                 Statement statement = connection.createStatement()) {
                statement.execute("SHUTDOWN"); // frees the warm-up's database before the measured drain
            }
        }
    }
}
