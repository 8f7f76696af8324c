package io.github.pulsaroutbox.store.jdbc;

import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;

/**
 * The store's contract on PostgreSQL: {@code OUTBOX_TEST_POSTGRES_URL} (default
 * {@code jdbc:postgresql://127.0.0.1:5432/test}, user {@code postgres}, the server {@code .ci/run} ensures is up).
 * The plans at production backlog sizes: {@link PostgresOutboxPlanIntegrationTest}.
 */
class PostgresJdbcOutboxStoreIntegrationTest extends AbstractJdbcOutboxStoreIntegrationTest {

    private static final PGSimpleDataSource DATA_SOURCE = new PGSimpleDataSource();

    static {
        String url = System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test");
        DATA_SOURCE.setURL(url);
        DATA_SOURCE.setUser(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_USER", "postgres"));
        DATA_SOURCE.setPassword(System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_PASSWORD", ""));
    }

    @Override
    DataSource dataSource() {
        return DATA_SOURCE;
    }
}
