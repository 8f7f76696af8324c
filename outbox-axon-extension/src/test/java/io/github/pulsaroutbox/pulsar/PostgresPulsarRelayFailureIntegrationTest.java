package io.github.pulsaroutbox.pulsar;

import io.github.pulsaroutbox.TestPostgres;

import javax.sql.DataSource;

/** The relay's ordering and parking scenarios with the outbox on PostgreSQL ({@code OUTBOX_TEST_POSTGRES_URL}). */
class PostgresPulsarRelayFailureIntegrationTest extends ServerPulsarRelayFailureIntegrationTest {

    private final DataSource dataSource = TestPostgres.dataSource();

    @Override
    DataSource dataSource() {
        return dataSource;
    }
}
