package io.github.pulsaroutbox;

import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.h2.jdbcx.JdbcDataSource;

import java.util.UUID;

/** Outbox stores on fresh in-memory H2 databases, for relay tests that need no Axon application. */
public final class H2OutboxStores {

    private H2OutboxStores() {
    }

    /** A store with its table created, on a new database named after {@code purpose}. */
    public static JdbcOutboxStore newStore(String purpose) {
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:" + purpose + "-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).build();
        store.createSchema();
        return store;
    }
}
