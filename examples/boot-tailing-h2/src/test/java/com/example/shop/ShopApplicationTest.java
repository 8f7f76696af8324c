package com.example.shop;

import io.github.pulsaroutbox.test.AutoConfigurePulsarTestBroker;
import io.github.pulsaroutbox.test.OutboxTopic;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The service in the tailing mode against a real broker: the events reach their topic in order, no outbox table. */
@SpringBootTest
@AutoConfigurePulsarTestBroker
class ShopApplicationTest {

    @Autowired
    CommandGateway commands;
    @Autowired
    PulsarClient pulsar;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void anOrdersEventsReachItsTopicInOrderFromTheEventStore() {
        String orderId = "order-" + UUID.randomUUID();

        commands.sendAndWait(new Order.PlaceOrder(orderId, "ada"));
        commands.sendAndWait(new Order.AddLine(orderId, "tea"));
        commands.sendAndWait(new Order.AddLine(orderId, "cups"));

        List<OutboxTopic.Event> events = OutboxTopic.of(pulsar, "persistent://public/default/orders")
                                                    .awaitEventsOf(orderId, 3, Duration.ofSeconds(60));
        assertThat(events).extracting(OutboxTopic.Event::sequence).containsExactly(0L, 1L, 2L);
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM information_schema.tables "
                                               + "WHERE LOWER(table_name) = 'axon_outbox'", Integer.class))
                .as("no outbox table in the tailing mode").isZero();
    }
}
