package io.github.pulsaroutbox;

import com.zaxxer.hikari.HikariDataSource;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.PostgresTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenTableFactory;
import org.axonframework.eventsourcing.eventstore.jdbc.EventTableFactory;
import org.axonframework.eventsourcing.eventstore.jdbc.MySqlEventTableFactory;
import org.axonframework.eventsourcing.eventstore.jdbc.PostgresEventTableFactory;
import org.axonframework.serialization.json.JacksonSerializer;
import org.axonframework.spring.jdbc.SpringDataSourceConnectionProvider;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A database server the multi-JVM tests (relay replicas, tailing replicas) run their nodes on: its URL and user (the
 * nodes connect without a password), and how Axon's token and event tables are created on it. One pool per server
 * per test JVM, with Axon's token table created once; {@link #closePools()} ends them.
 */
public enum NodeDatabase {

    POSTGRESQL(TestPostgres.url(), TestPostgres.user(), PostgresTokenTableFactory.INSTANCE,
               PostgresEventTableFactory.INSTANCE),
    MARIADB(TestMariaDb.url(), TestMariaDb.user(), GenericTokenTableFactory.INSTANCE,
            MySqlEventTableFactory.INSTANCE);

    private static final Map<NodeDatabase, HikariDataSource> POOLS = new ConcurrentHashMap<>();

    private final String url;
    private final String user;
    private final TokenTableFactory tokenTables;
    private final EventTableFactory eventTables;

    NodeDatabase(String url, String user, TokenTableFactory tokenTables, EventTableFactory eventTables) {
        this.url = url;
        this.user = user;
        this.tokenTables = tokenTables;
        this.eventTables = eventTables;
    }

    public String url() {
        return url;
    }

    public String user() {
        return user;
    }

    public EventTableFactory eventTables() {
        return eventTables;
    }

    /** This server's pool (4 connections), with Axon's token table. */
    public HikariDataSource pool() {
        return POOLS.computeIfAbsent(this, database -> {
            HikariDataSource pool = new HikariDataSource();
            pool.setJdbcUrl(url);
            pool.setUsername(user);
            pool.setMaximumPoolSize(4);
            try {
                JdbcTokenStore.builder().connectionProvider(new SpringDataSourceConnectionProvider(pool))
                              .serializer(JacksonSerializer.defaultSerializer()).build()
                              .createSchema(tokenTables);
            } catch (RuntimeException e) {
                // the token table exists already
            }
            return pool;
        });
    }

    /** Closes the pools opened so far. */
    public static void closePools() {
        POOLS.values().forEach(HikariDataSource::close);
        POOLS.clear();
    }
}
