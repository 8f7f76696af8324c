package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.TestMariaDb;

import javax.sql.DataSource;

/**
 * The store's contract on MariaDB through MariaDB's Connector/J: {@code OUTBOX_TEST_MARIADB_URL} (default
 * {@code jdbc:mariadb://127.0.0.1:3306/test}, user {@code root}, the server {@code .ci/run} ensures is up).
 */
class MariaDbJdbcOutboxStoreIntegrationTest extends AbstractJdbcOutboxStoreIntegrationTest {

    private static final DataSource DATA_SOURCE = TestMariaDb.dataSource();

    @Override
    DataSource dataSource() {
        return DATA_SOURCE;
    }
}
