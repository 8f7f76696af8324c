package io.github.pulsaroutbox.replicas;

import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenTableFactory;

/**
 * The replica chaos of {@link AbstractRelayReplicasIntegrationTest} (SIGKILLs, pauses past the claims, a broker
 * restart, nodes joining and leaving) on MariaDB ({@code OUTBOX_TEST_MARIADB_URL}, the server {@code .ci/run} ensures
 * is up), with Axon's JDBC token store on it.
 */
class MariaDbRelayReplicasIntegrationTest extends AbstractRelayReplicasIntegrationTest {

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
}
