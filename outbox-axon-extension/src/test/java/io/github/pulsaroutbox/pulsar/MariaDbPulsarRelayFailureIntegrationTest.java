package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.TestMariaDb;

import javax.sql.DataSource;

/** The relay's ordering and parking scenarios with the outbox on MariaDB ({@code OUTBOX_TEST_MARIADB_URL}). */
class MariaDbPulsarRelayFailureIntegrationTest extends ServerPulsarRelayFailureIntegrationTest {

    private final DataSource dataSource = TestMariaDb.dataSource();

    @Override
    DataSource dataSource() {
        return dataSource;
    }
}
