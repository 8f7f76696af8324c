package com.example.shop;

import io.github.pulsaroutbox.test.AutoConfigurePulsarTestBroker;
import io.github.pulsaroutbox.test.OutboxTopic;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The service as docs/getting-started.md sets it up on PostgreSQL, against a real broker and database. */
@SpringBootTest
@AutoConfigurePulsarTestBroker
class ShopApplicationTest {

    /** The database application.yml names, created on the local server once. */
    @BeforeAll
    static void database() throws Exception {
        try (Connection test = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test", "postgres", "");
             Statement statement = test.createStatement()) {
            if (!statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = 'shop'").next()) {
                statement.execute("CREATE DATABASE shop");
            }
        }
    }

    @Autowired
    CommandGateway commands;
    @Autowired
    PulsarClient pulsar;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void anOrdersEventsReachItsTopicOnceInOrderAndAxonStoresThemAsBytea() {
        String orderId = "order-" + UUID.randomUUID();

        commands.sendAndWait(new Order.PlaceOrder(orderId, "ada"));
        commands.sendAndWait(new Order.AddLine(orderId, "tea"));

        List<OutboxTopic.Event> events = OutboxTopic.of(pulsar, "persistent://public/default/orders")
                                                    .awaitEventsOf(orderId, 2, Duration.ofSeconds(60));
        assertThat(events).extracting(OutboxTopic.Event::type).containsExactly("OrderPlaced", "LineAdded");
        assertThat(jdbc.queryForObject("SELECT data_type FROM information_schema.columns "
                                               + "WHERE table_name = 'domain_event_entry' AND column_name = 'payload'",
                                       String.class)).isEqualTo("bytea");
    }
}
