package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.BrokerTestSupport;
import io.github.pulsaroutbox.OutboxConfigurerModule;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import io.github.pulsaroutbox.testapp.ShopCommands;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code pulsar-outbox.mode=tailing} in a Spring Boot application (Axon's JPA event store): one property switches the
 * dispatch mode; no outbox table, store or relay exists; a pooled streaming processor named after the mode publishes
 * the aggregate's events, in order, with the same message format as the outbox-table mode.
 */
@SpringBootTest(classes = OutboxTestApplication.class, properties = {"pulsar-outbox.mode=tailing",
                TailingStartupAndHealthIntegrationTest.POSITIONS_FOLLOW_SEQUENCES})
@DirtiesContext
class TailingModeBootIntegrationTest extends BrokerTestSupport {

    private static final String TOPIC = "persistent://public/default/tailing-boot-" + UUID.randomUUID();

    @DynamicPropertySource
    static void topics(DynamicPropertyRegistry registry) {
        registry.add("pulsar-outbox.topics.ShopOrder", () -> TOPIC);
    }

    @Autowired
    CommandGateway commandGateway;
    @Autowired
    PulsarClient pulsarClient;
    @Autowired
    ApplicationContext context;
    @Autowired
    DataSource dataSource;
    @Autowired
    EventProcessingConfiguration eventProcessing;

    @Test
    void onePropertySwitchesToTailingTheEventStore() throws Exception {
        assertThat(context.getBeansOfType(OutboxConfigurerModule.class)).isEmpty();
        assertThat(context.getBeansOfType(OutboxStore.class)).isEmpty();
        assertThat(eventProcessing.eventProcessor(EventStoreTailingModule.DEFAULT_PROCESSOR_NAME,
                                                  PooledStreamingEventProcessor.class)).isPresent();

        String orderId = "boot-tail-" + UUID.randomUUID();
        try (Consumer<byte[]> consumer = pulsarClient.newConsumer(Schema.BYTES).topic(TOPIC)
                                                     .subscriptionName("boot-tail")
                                                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                                     .subscribe()) {
            commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "tess"));
            commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "kettle", 1));
            commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "cup", 2));
            List<String> received = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Message<byte[]> message = consumer.receive(60, TimeUnit.SECONDS);
                assertThat(message).as("message %d", i).isNotNull();
                assertThat(message.getKey()).isEqualTo(orderId);
                assertThat(message.getProperty(OutboxMessageProperties.SOURCE)).isEqualTo("outbox-test");
                assertThat(message.getProperty(OutboxMessageProperties.CORRELATION_ID)).isNotBlank();
                assertThat(message.getProperty(OutboxMessageProperties.TIME)) // as in the table mode: microseconds
                        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
                received.add(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE) + ":"
                                     + message.getProperty(OutboxMessageProperties.TYPE));
            }
            assertThat(received).containsExactly("0:OrderCreated", "1:LineAdded", "2:LineAdded");
        }
        try (Connection connection = dataSource.getConnection();
             ResultSet tables = connection.getMetaData().getTables(null, null, "AXON_OUTBOX%", null)) {
            assertThat(tables.next()).as("no outbox table in tailing mode").isFalse();
        }
    }
}
