package io.github.pulsaroutbox.tailing;

import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenTableFactory;
import org.axonframework.eventsourcing.eventstore.jdbc.EventTableFactory;
import org.axonframework.eventsourcing.eventstore.jdbc.MySqlEventTableFactory;

/** The tailing mode's replica tests of {@link AbstractTailingReplicasIntegrationTest} on MariaDB ({@code OUTBOX_TEST_MARIADB_URL}, Axon's MySQL event tables). */
class MariaDbTailingReplicasIntegrationTest extends AbstractTailingReplicasIntegrationTest {

    @Override
    String url() {
        return System.getenv().getOrDefault("OUTBOX_TEST_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/test");
    }

    @Override
    String user() {
        return System.getenv().getOrDefault("OUTBOX_TEST_MARIADB_USER", "root");
    }

    @Override
    TokenTableFactory tokenTables() {
        return GenericTokenTableFactory.INSTANCE;
    }

    @Override
    EventTableFactory eventTables() {
        return MySqlEventTableFactory.INSTANCE;
    }
}
