package io.github.pulsaroutbox.receiving.inbox;

import io.github.pulsaroutbox.TestPostgres;

import javax.sql.DataSource;

class PostgresJdbcInboxIntegrationTest extends AbstractServerJdbcInboxIntegrationTest {

    private final DataSource dataSource = TestPostgres.dataSource();

    @Override
    DataSource dataSource() {
        return dataSource;
    }

    @Override
    String waitingForALockQuery() {
        return "SELECT COUNT(*) FROM pg_locks WHERE NOT granted";
    }
}
