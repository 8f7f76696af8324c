package io.github.pulsaroutbox;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.Configuration;
import org.axonframework.config.Configurer;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import io.github.pulsaroutbox.testapp.ShopCommands;
import io.github.pulsaroutbox.testapp.ShopOrder;
import io.github.pulsaroutbox.examples.PlainAxonExample;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The documented set-up without Spring Boot: Axon's {@code DefaultConfigurer} with a JDBC event store, and the
 * outbox registered through {@link OutboxConfigurerModule#configureModule(Configurer)}.
 */
class PlainAxonConfigurerIntegrationTest {

    @Test
    void outboxModuleOnAPlainConfigurerCapturesAndRelays() throws Exception {
        String topic = "persistent://public/default/plain-axon-" + UUID.randomUUID();
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:plain-axon-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        new ResourceDatabasePopulator(new ClassPathResource("axon-jdbc/h2-event-store.sql")).execute(dataSource);

        try (PulsarClient pulsarClient = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl()).build();
             Consumer<byte[]> consumer = pulsarClient.newConsumer(Schema.BYTES).topic(topic)
                                                     .subscriptionName("plain")
                                                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                                     .subscribe()) {
            // the documented example, as it is
            PlainAxonExample.Started started = PlainAxonExample.start(dataSource, pulsarClient, ShopOrder.class, topic);
            Configuration configuration = started.configuration();
            OutboxConfigurerModule outbox = started.outbox();
            JdbcOutboxStore store = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).build();
            try {
                CommandGateway gateway = configuration.commandGateway();
                String orderId = "plain-" + UUID.randomUUID();
                gateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "erin"));
                gateway.sendAndWait(new ShopCommands.AddLine(orderId, "cup", 1));
                assertThatThrownBy(() -> gateway.sendAndWait(new ShopCommands.AddLineThenFail(orderId)));
                gateway.sendAndWait(new ShopCommands.AddLine(orderId, "saucer", 2));

                List<Long> sequences = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    Message<byte[]> message = consumer.receive(30, TimeUnit.SECONDS);
                    assertThat(message).as("message %d", i).isNotNull();
                    assertThat(message.getKey()).isEqualTo(orderId);
                    sequences.add(Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
                }
                assertThat(sequences).containsExactly(0L, 1L, 2L);
                assertThat(consumer.receive(1, TimeUnit.SECONDS)).as("the rolled back event").isNull();
                await().atMost(Duration.ofSeconds(10))
                       .untilAsserted(() -> assertThat(store.count(OutboxStatus.SENT)).isEqualTo(3));
                assertThat(store.count(OutboxStatus.PENDING)).isZero();
            } finally {
                configuration.shutdown();
            }
            assertThat(outbox.relay().isRunning()).isFalse();
        }
    }
}
