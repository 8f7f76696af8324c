package io.github.pulsaroutbox.benchmark;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.jdbc.UnitOfWorkAwareConnectionProviderWrapper;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventsourcing.eventstore.jdbc.JdbcEventStorageEngine;
import org.axonframework.eventsourcing.eventstore.jdbc.PostgresEventTableFactory;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;
import org.axonframework.spring.messaging.unitofwork.SpringTransactionManager;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh database for one round: an in-memory H2 database, a schema of its own on PostgreSQL or a database of its own
 * on MariaDB (dropped at the end), with the outbox table and, on request, Axon's event tables. Connections are pooled (HikariCP) and bound to
 * Spring transactions, as in an application.
 */
final class BenchDatabase implements AutoCloseable {

    private static final AtomicInteger ROUNDS = new AtomicInteger();

    private final boolean postgres;
    private final boolean mariaDb;
    private final String schema;
    private final HikariDataSource dataSource;
    private final TransactionManager transactionManager;
    private final ConnectionProvider connectionProvider;
    private final JdbcOutboxStore store;

    private BenchDatabase(Options options) {
        this.postgres = options.postgres();
        this.mariaDb = options.mariaDb();
        HikariConfig config = new HikariConfig();
        // as an application would size it: the latency scenario's 16 senders and the relay's threads at once
        config.setMaximumPoolSize(options.integer("pool-size", 24));
        if (mariaDb) {
            schema = "outbox_bench_" + ProcessHandle.current().pid() + "_" + ROUNDS.incrementAndGet();
            String server = options.get("jdbc-url", "jdbc:mariadb://127.0.0.1:3306/test");
            config.setUsername(options.get("jdbc-user", "root"));
            config.setJdbcUrl(server);
            try (HikariDataSource admin = new HikariDataSource(copyWithoutSchema(config));
                 Connection connection = admin.getConnection(); Statement statement = connection.createStatement()) {
                statement.execute("DROP DATABASE IF EXISTS " + schema);
                statement.execute("CREATE DATABASE " + schema);
            } catch (SQLException e) {
                throw new IllegalStateException("Cannot prepare MariaDB database " + schema, e);
            }
            config.setJdbcUrl(server.substring(0, server.lastIndexOf('/') + 1) + schema);
        } else if (postgres) {
            schema = "outbox_bench_" + ProcessHandle.current().pid() + "_" + ROUNDS.incrementAndGet();
            config.setJdbcUrl(options.get("jdbc-url", "jdbc:postgresql://127.0.0.1:5432/test"));
            config.setUsername(options.get("jdbc-user", "postgres"));
            config.setConnectionInitSql("SET search_path TO " + schema);
            try (HikariDataSource admin = new HikariDataSource(copyWithoutSchema(config));
                 Connection connection = admin.getConnection(); Statement statement = connection.createStatement()) {
                statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                statement.execute("CREATE SCHEMA " + schema);
            } catch (SQLException e) {
                throw new IllegalStateException("Cannot prepare PostgreSQL schema " + schema, e);
            }
        } else {
            schema = null;
            config.setJdbcUrl("jdbc:h2:mem:bench-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        }
        dataSource = new HikariDataSource(config);
        transactionManager = new SpringTransactionManager(new DataSourceTransactionManager(dataSource));
        connectionProvider = new UnitOfWorkAwareConnectionProviderWrapper(
                new SpringDataSourceConnectionProvider(dataSource));
        store = JdbcOutboxStore.builder().connectionProvider(connectionProvider).build();
        store.createSchema();
    }

    static BenchDatabase fresh(Options options) {
        return new BenchDatabase(options);
    }

    private static HikariConfig copyWithoutSchema(HikariConfig config) {
        HikariConfig admin = new HikariConfig();
        admin.setJdbcUrl(config.getJdbcUrl());
        admin.setUsername(config.getUsername());
        admin.setMaximumPoolSize(1);
        return admin;
    }

    TransactionManager transactionManager() {
        return transactionManager;
    }

    ConnectionProvider connectionProvider() {
        return connectionProvider;
    }

    JdbcOutboxStore store() {
        return store;
    }

    private boolean tokenTable;

    /** A JDBC token store on this database for one relay node (the token table is created on first use). */
    synchronized org.axonframework.eventhandling.tokenstore.TokenStore tokenStore(String nodeId) {
        org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore tokens =
                org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore.builder()
                        .connectionProvider(connectionProvider)
                        .serializer(org.axonframework.serialization.json.JacksonSerializer.defaultSerializer())
                        .nodeId(nodeId)
                        .build();
        if (!tokenTable) {
            transactionManager.executeInTransaction(() -> tokens.createSchema(
                    postgres ? org.axonframework.eventhandling.tokenstore.jdbc.PostgresTokenTableFactory.INSTANCE
                             : org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory.INSTANCE));
            tokenTable = true;
        }
        return tokens;
    }

    /** Axon's event tables, for the scenarios that run commands. */
    void createEventStore(JdbcEventStorageEngine engine) {
        if (postgres) {
            engine.createSchema(PostgresEventTableFactory.INSTANCE);
        } else if (mariaDb) {
            new ResourceDatabasePopulator(new ClassPathResource("mariadb-event-store.sql")).execute(dataSource);
        } else {
            new ResourceDatabasePopulator(new ClassPathResource("h2-event-store.sql")).execute(dataSource);
        }
    }

    /**
     * Inserts {@code rows} pending rows spread round-robin over {@code aggregates} aggregates named
     * {@code prefix + n}, sequences from 0, through the store's own insert (batches of 2000, one transaction each).
     */
    void prefill(String prefix, int rows, int aggregates, int payloadBytes) {
        List<OutboxEntry> batch = new ArrayList<>(2000);
        Instant now = Instant.now();
        for (int row = 0; row < rows; row++) {
            String aggregateId = Payloads.aggregateId(prefix, row, aggregates);
            batch.add(OutboxEntry.pending(UUID.randomUUID().toString(), now, Payloads.EVENT_TYPE,
                                          Payloads.AGGREGATE_TYPE, aggregateId, Payloads.sequence(row, aggregates),
                                          Payloads.json(aggregateId, row, payloadBytes), "{}",
                                          OutboxEntry.NO_REVISION, null));
            if (batch.size() == 2000 || row == rows - 1) {
                List<OutboxEntry> chunk = List.copyOf(batch);
                transactionManager.executeInTransaction(() -> store.append(chunk));
                batch.clear();
            }
        }
    }

    /**
     * Writes {@code rows} rows of history for the cost-growth run, in one set-based insert: already SENT, except about
     * {@code parked} of them (one in each {@code rows / parked} rows) parked (FAILED, refused); spread over
     * {@code aggregates} aggregates named {@code prefix + n}, payloads of about {@code payloadBytes}.
     */
    void prefillHistory(String prefix, int rows, int parked, int aggregates, int payloadBytes) {
        int every = parked <= 0 ? 0 : Math.max(1, rows / parked);
        String columns = " (id, timestamp, event_type, aggregate_type, aggregate_id, aggregate_sequence, payload, "
                + "metadata, version, status, attempts, sent_at, parked_at, failure_kind, last_error) ";
        if (mariaDb) {
            String now = "UTC_TIMESTAMP(6)";
            execute("INSERT INTO " + store.table() + columns
                            + "SELECT CONCAT('" + prefix + "', seq), " + now + ", '" + Payloads.EVENT_TYPE
                            + "', '" + Payloads.AGGREGATE_TYPE + "', CONCAT('" + prefix + "', seq % " + aggregates
                            + "), seq DIV " + aggregates + ", CONCAT('{\"note\":\"', REPEAT('x', "
                            + Math.max(1, payloadBytes - 12) + "), '\"}'), '{}', '0', "
                            + historyColumns("seq", " DIV ", every, now) + " FROM seq_0_to_" + (rows - 1));
            analyze();
            return;
        }
        String generator = postgres ? "generate_series(0, " + (rows - 1) + ") AS g(x)"
                                    : "SYSTEM_RANGE(0, " + (rows - 1) + ") AS g(x)";
        String text = postgres ? "CAST(x AS TEXT)" : "CAST(x AS VARCHAR)";
        execute("INSERT INTO " + store.table() + columns
                        + "SELECT '" + prefix + "' || " + text + ", CURRENT_TIMESTAMP, '" + Payloads.EVENT_TYPE
                        + "', '" + Payloads.AGGREGATE_TYPE + "', '" + prefix + "' || CAST(MOD(x, " + aggregates
                        + ") AS " + (postgres ? "TEXT" : "VARCHAR") + "), x / " + aggregates + ", "
                        + "'{\"note\":\"' || REPEAT('x', " + Math.max(1, payloadBytes - 12) + ") || '\"}', '{}', "
                        + "'0', " + historyColumns("x", " / ", every, "CURRENT_TIMESTAMP") + " FROM " + generator);
        analyze();
    }

    /** The status, attempts, sent_at, parked_at, failure_kind and last_error of history rows: one in every parked. */
    private static String historyColumns(String x, String integerDivision, int every, String now) {
        if (every == 0) {
            return "'SENT', 0, " + now + ", NULL, NULL, NULL";
        }
        // one row in each block of `every` consecutive rows, its offset moving from block to block: spread over the
        // history's positions and over several of its aggregates (x % aggregates) whatever `every` is
        String parked = "MOD(" + x + ", " + every + ") = MOD(" + x + integerDivision + every + ", " + every + ")";
        return "CASE WHEN " + parked + " THEN 'FAILED' ELSE 'SENT' END, CASE WHEN " + parked + " THEN 1 ELSE 0 END, "
                + "CASE WHEN " + parked + " THEN NULL ELSE " + now + " END, CASE WHEN " + parked + " THEN " + now
                + " END, CASE WHEN " + parked + " THEN 'REFUSED' END, CASE WHEN " + parked + " THEN 'benchmark' END";
    }

    /** Parks the first row of every aggregate whose id starts with {@code prefix}: the rows behind it are blocked. */
    void parkHeads(String prefix) {
        execute("UPDATE " + store.table() + " SET status = 'FAILED', parked_at = CURRENT_TIMESTAMP, "
                        + "failure_kind = 'REFUSED', last_error = 'benchmark' WHERE aggregate_sequence = 0 "
                        + "AND aggregate_id LIKE '" + prefix + "%'");
        analyze();
    }

    /** Refreshes the planner's statistics (PostgreSQL, MariaDB), as autovacuum would after a bulk load. */
    void analyze() {
        if (postgres) {
            execute("ANALYZE " + store.table());
        } else if (mariaDb) {
            execute("ANALYZE TABLE " + store.table());
        }
    }

    /**
     * Writes every dirty page of the set-up out (PostgreSQL): a drain then never pays for flushing the rows its set-up
     * wrote (a checkpoint forced by the set-up's WAL during the timed part), whichever drain comes first.
     */
    void checkpoint() {
        if (postgres) {
            execute("CHECKPOINT");
        }
    }

    private void execute(String sql) {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    @Override
    public void close() {
        if (mariaDb) {
            execute("DROP DATABASE IF EXISTS " + schema);
            dataSource.close();
        } else if (postgres) {
            execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            dataSource.close();
        } else {
            dataSource.close(); // then free the in-memory database
            try (Connection connection = java.sql.DriverManager.getConnection(dataSource.getJdbcUrl());
                 Statement statement = connection.createStatement()) {
                statement.execute("SHUTDOWN");
            } catch (SQLException e) {
                // already closed
            }
        }
    }
}
