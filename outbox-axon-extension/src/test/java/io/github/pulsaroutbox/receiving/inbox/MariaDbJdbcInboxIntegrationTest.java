package io.github.pulsaroutbox.receiving.inbox;

import io.github.pulsaroutbox.TestMariaDb;

import javax.sql.DataSource;

class MariaDbJdbcInboxIntegrationTest extends AbstractServerJdbcInboxIntegrationTest {

    private final DataSource dataSource = TestMariaDb.dataSource();

    @Override
    DataSource dataSource() {
        return dataSource;
    }

    @Override
    String waitingForALockQuery() {
        return "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'";
    }
}
