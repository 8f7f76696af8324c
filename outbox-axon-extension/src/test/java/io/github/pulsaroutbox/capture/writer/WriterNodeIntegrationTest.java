package io.github.pulsaroutbox.capture.writer;

import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.github.pulsaroutbox.PlainAxon;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.common.jdbc.ConnectionProvider;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import org.axonframework.eventhandling.GlobalSequenceTrackingToken;
import org.axonframework.eventhandling.tokenstore.TokenStore;
import org.axonframework.eventhandling.tokenstore.jdbc.GenericTokenTableFactory;
import org.axonframework.eventhandling.tokenstore.jdbc.JdbcTokenStore;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A node that writes outbox rows but does not relay them (relay turned off) fixes each row's segment with its own
 * segment count: it must split the outbox as the relays do, or its rows land in segments nobody reads. It checks the
 * count against the relays' tokens at start.
 */
class WriterNodeIntegrationTest {

    private final PlainAxon.H2Database database = PlainAxon.H2Database.create("writer");
    private final TransactionManager transactionManager = database.transactions();
    private final ConnectionProvider connectionProvider = database.connections();
    private final TokenStore tokenStore;

    WriterNodeIntegrationTest() {
        JdbcTokenStore jdbcTokens = JdbcTokenStore.builder().connectionProvider(connectionProvider)
                                                  .serializer(JacksonSerializer.defaultSerializer()).build();
        transactionManager.executeInTransaction(() -> jdbcTokens.createSchema(GenericTokenTableFactory.INSTANCE));
        tokenStore = jdbcTokens;
    }

    @Test
    void aWriterWithAnotherSegmentCountThanTheRelaysFailsTheStart() {
        relaysSplitTheOutboxInto(4);

        Configurer configurer = configurer();
        writer(16).configureModule(configurer);

        assertThatThrownBy(configurer::start).rootCause()
                                             .isInstanceOf(AxonConfigurationException.class)
                                             .hasMessageContaining("4 segment(s)")
                                             .hasMessageContaining("configured with 16");
    }

    @Test
    void aWriterWithTheRelaysSegmentCountStartsAndCreatesNoTokens() {
        Configurer configurer = configurer();
        writer(4).configureModule(configurer);
        Configuration configuration = configurer.start(); // no relay has run yet: any count
        configuration.shutdown();
        assertThat(transactionManager.fetchInTransaction(() -> tokenStore.fetchSegments("pulsar-outbox"))).isEmpty();

        relaysSplitTheOutboxInto(4);
        Configurer again = configurer();
        writer(4).configureModule(again);
        again.start().shutdown();
    }

    private void relaysSplitTheOutboxInto(int segments) {
        transactionManager.executeInTransaction(() -> tokenStore.initializeTokenSegments(
                "pulsar-outbox", segments, new GlobalSequenceTrackingToken(0)));
    }

    private Configurer configurer() {
        return PlainAxon.jdbcConfigurer(transactionManager, connectionProvider, JacksonSerializer.defaultSerializer())
                        .registerComponent(TokenStore.class, c -> tokenStore);
    }

    private OutboxConfigurerModule writer(int segments) {
        return database.captureOnly(JdbcOutboxStore.builder().connectionProvider(connectionProvider)
                                                   .segmentCount(segments).build());
    }
}
