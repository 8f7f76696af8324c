package com.example.plain;

import io.github.pulsaroutbox.test.OutboxTopic;
import io.github.pulsaroutbox.test.PulsarTestBroker;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.Configuration;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The plain-Axon service against a real broker: an order's events reach its topic once, in order. */
@ExtendWith(PulsarTestBroker.class)
class ShopApplicationTest {

    @Test
    void anOrdersEventsReachItsTopicOnceInOrder(PulsarTestBroker.Urls broker) throws Exception {
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:shop-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        try (PulsarClient pulsar = PulsarClient.builder().serviceUrl(broker.serviceUrl()).build()) {
            Configuration axon = ShopApplication.start(dataSource, pulsar);
            try {
                String orderId = "order-" + UUID.randomUUID();
                CommandGateway commands = axon.commandGateway();
                commands.sendAndWait(new Order.PlaceOrder(orderId, "ada"));
                commands.sendAndWait(new Order.AddLine(orderId, "tea"));

                List<OutboxTopic.Event> events = OutboxTopic.of(pulsar, "persistent://public/default/orders")
                                                            .awaitEventsOf(orderId, 2, Duration.ofSeconds(60));
                assertThat(events).extracting(OutboxTopic.Event::type).containsExactly("OrderPlaced", "LineAdded");
                assertThat(events).extracting(OutboxTopic.Event::sequence).containsExactly(0L, 1L);
            } finally {
                axon.shutdown();
            }
        }
    }
}
