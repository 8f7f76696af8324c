package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.TestPostgres;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.Statement;
import java.util.UUID;

/**
 * Every relay ordering and parking scenario of {@link PulsarRelayFailureIntegrationTest} on the real broker, with the
 * outbox on PostgreSQL ({@code OUTBOX_TEST_POSTGRES_URL}, the server {@code .ci/run} ensures is up), in a table of
 * its own that is dropped afterwards.
 */
class PostgresPulsarRelayFailureIntegrationTest extends PulsarRelayFailureIntegrationTest {

    private final PGSimpleDataSource dataSource = TestPostgres.dataSource();
    private final String table = "relay_failure_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);

    @Override
    JdbcOutboxStore newStore() {
        JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).table(table)
                                               .build();
        store.createSchema();
        return store;
    }

    @Override
    void dropStore() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            for (String suffix : new String[]{"", "_archive", "_node", "_version"}) {
                s.execute("DROP TABLE IF EXISTS " + table + suffix);
            }
        }
    }
}
