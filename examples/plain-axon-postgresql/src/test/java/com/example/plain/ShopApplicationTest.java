package com.example.plain;

import io.github.pulsaroutbox.test.OutboxTopic;
import io.github.pulsaroutbox.test.PulsarTestBroker;
import org.apache.pulsar.client.api.PulsarClient;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.config.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plain-Axon service on PostgreSQL against a real broker: an order's events reach its topic once, in order, and
 * Axon stores them with PostgreSQL's types. Each run gets a database of its own on the local server.
 */
@ExtendWith(PulsarTestBroker.class)
class ShopApplicationTest {

    private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";
    private final String database = "plain_shop_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

    @BeforeEach
    void createDatabase() throws Exception {
        try (Connection test = DriverManager.getConnection(SERVER + "test", "postgres", "");
             Statement statement = test.createStatement()) {
            statement.execute("CREATE DATABASE " + database);
        }
    }

    @AfterEach
    void dropDatabase() throws Exception {
        try (Connection test = DriverManager.getConnection(SERVER + "test", "postgres", "");
             Statement statement = test.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }
    }

    @Test
    void anOrdersEventsReachItsTopicOnceInOrder(PulsarTestBroker.Urls broker) throws Exception {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setUrl(SERVER + database);
        dataSource.setUser("postgres");
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
                try (Connection connection = dataSource.getConnection();
                     ResultSet payload = connection.getMetaData().getColumns(null, null, "domainevententry",
                                                                              "payload")) {
                    assertThat(payload.next()).isTrue();
                    assertThat(payload.getString("TYPE_NAME")).isEqualTo("bytea");
                }
            } finally {
                axon.shutdown();
            }
        }
    }
}
