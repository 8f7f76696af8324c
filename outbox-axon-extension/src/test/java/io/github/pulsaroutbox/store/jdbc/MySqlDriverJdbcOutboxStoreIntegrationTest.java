package io.github.pulsaroutbox.store.jdbc;

import io.github.pulsaroutbox.TestMariaDb;

import javax.sql.DataSource;

/** The store's contract on the same MariaDB server through MySQL's Connector/J (which names the server "MySQL"). */
class MySqlDriverJdbcOutboxStoreIntegrationTest extends AbstractJdbcOutboxStoreIntegrationTest {

    private static final DataSource DATA_SOURCE = TestMariaDb.mysqlDataSource();

    @Override
    DataSource dataSource() {
        return DATA_SOURCE;
    }
}
