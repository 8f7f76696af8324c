package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;

import java.sql.Connection;
import java.sql.Statement;
import java.util.UUID;

import javax.sql.DataSource;

/**
 * Every relay ordering and parking scenario of {@link PulsarRelayFailureIntegrationTest} on the real broker, with the
 * outbox on a database server (a subclass per database), in a table of its own that is dropped afterwards.
 */
abstract class ServerPulsarRelayFailureIntegrationTest extends PulsarRelayFailureIntegrationTest {

    private final String table = "relay_failure_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);

    /** The server's data source (the one {@code .ci/run} ensures is up). */
    abstract DataSource dataSource();

    @Override
    JdbcOutboxStore newStore() {
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(dataSource()::getConnection).table(table)
                                               .build();
        store.createSchema();
        return store;
    }

    @Override
    void dropStore() throws Exception {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String suffix : new String[]{"", "_archive", "_node", "_version"}) {
                s.execute("DROP TABLE IF EXISTS " + table + suffix);
            }
        }
    }
}
