package io.github.pulsaroutbox.tailing;

import org.axonframework.eventhandling.tokenstore.jdbc.PostgresTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.TokenTableFactory;
import org.axonframework.eventsourcing.eventstore.jdbc.EventTableFactory;
import org.axonframework.eventsourcing.eventstore.jdbc.PostgresEventTableFactory;

/** The tailing mode's replica tests of {@link AbstractTailingReplicasIntegrationTest} on PostgreSQL ({@code OUTBOX_TEST_POSTGRES_URL}). */
class TailingReplicasIntegrationTest extends AbstractTailingReplicasIntegrationTest {

    @Override
    String url() {
        return System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/test");
    }

    @Override
    String user() {
        return System.getenv().getOrDefault("OUTBOX_TEST_POSTGRES_USER", "postgres");
    }

    @Override
    TokenTableFactory tokenTables() {
        return PostgresTokenTableFactory.INSTANCE;
    }

    @Override
    EventTableFactory eventTables() {
        return PostgresEventTableFactory.INSTANCE;
    }
}
