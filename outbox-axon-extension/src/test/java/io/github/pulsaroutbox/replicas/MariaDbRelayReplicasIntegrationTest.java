package io.github.pulsaroutbox.replicas;

import io.github.pulsaroutbox.NodeDatabase;

/**
 * The replica chaos of {@link AbstractRelayReplicasIntegrationTest} (SIGKILLs, pauses past the claims, a broker
 * restart, nodes joining and leaving, a node frozen inside a row-locking transaction, a node cut off from its
 * database) on MariaDB ({@code OUTBOX_TEST_MARIADB_URL}, the server {@code .ci/run} ensures
 * is up), with Axon's JDBC token store on it.
 */
class MariaDbRelayReplicasIntegrationTest extends AbstractRelayReplicasIntegrationTest {

    @Override
    NodeDatabase database() {
        return NodeDatabase.MARIADB;
    }
}
