package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.NodeDatabase;

/** The tailing mode's replica tests of {@link AbstractTailingReplicasIntegrationTest} on MariaDB ({@code OUTBOX_TEST_MARIADB_URL}, Axon's MySQL event tables). */
class MariaDbTailingReplicasIntegrationTest extends AbstractTailingReplicasIntegrationTest {

    @Override
    NodeDatabase database() {
        return NodeDatabase.MARIADB;
    }
}
