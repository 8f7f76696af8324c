package io.github.pulsaroutbox.replicas;

import io.github.pulsaroutbox.NodeDatabase;

/**
 * The replica chaos of {@link AbstractRelayReplicasIntegrationTest} on PostgreSQL ({@code OUTBOX_TEST_POSTGRES_URL}),
 * with Axon's JDBC token store on it.
 */
class RelayReplicasIntegrationTest extends AbstractRelayReplicasIntegrationTest {

    @Override
    NodeDatabase database() {
        return NodeDatabase.POSTGRESQL;
    }
}
