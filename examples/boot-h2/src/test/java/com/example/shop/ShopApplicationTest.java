package com.example.shop;

import io.github.pulsaroutbox.test.AutoConfigurePulsarTestBroker;
import io.github.pulsaroutbox.test.OutboxTopic;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The service as README.md sets it up, against a real broker: an order's events reach its topic, in order. */
@SpringBootTest
@AutoConfigurePulsarTestBroker
class ShopApplicationTest {

    @Autowired
    CommandGateway commands;
    @Autowired
    PulsarClient pulsar;

    @Test
    void anOrdersEventsReachItsTopicOnceInOrderWithTheOrderIdAsKey() {
        String orderId = "order-" + UUID.randomUUID();

        commands.sendAndWait(new Order.PlaceOrder(orderId, "ada"));
        commands.sendAndWait(new Order.AddLine(orderId, "tea"));
        commands.sendAndWait(new Order.AddLine(orderId, "cups"));

        List<OutboxTopic.Event> events = OutboxTopic.of(pulsar, "persistent://public/default/orders")
                                                    .awaitEventsOf(orderId, 3, Duration.ofSeconds(60));
        assertThat(events).extracting(OutboxTopic.Event::type)
                          .containsExactly("OrderPlaced", "LineAdded", "LineAdded");
        assertThat(events).extracting(OutboxTopic.Event::sequence).containsExactly(0L, 1L, 2L);
        assertThat(events.get(2).payload()).contains("\"product\":\"cups\"");
    }
}
