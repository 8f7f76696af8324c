package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.TestPostgres;

import javax.sql.DataSource;

/**
 * The store's contract on PostgreSQL: {@code OUTBOX_TEST_POSTGRES_URL} (default
 * {@code jdbc:postgresql://127.0.0.1:5432/test}, user {@code postgres}, the server {@code .ci/run} ensures is up).
 * The plans at production backlog sizes: {@link PostgresOutboxPlanIntegrationTest}.
 */
class PostgresJdbcOutboxStoreIntegrationTest extends AbstractJdbcOutboxStoreIntegrationTest {

    private static final DataSource DATA_SOURCE = TestPostgres.dataSource();

    @Override
    DataSource dataSource() {
        return DATA_SOURCE;
    }
}
