package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.NodeDatabase;

/** The tailing mode's replica tests of {@link AbstractTailingReplicasIntegrationTest} on PostgreSQL ({@code OUTBOX_TEST_POSTGRES_URL}). */
class TailingReplicasIntegrationTest extends AbstractTailingReplicasIntegrationTest {

    @Override
    NodeDatabase database() {
        return NodeDatabase.POSTGRESQL;
    }
}
