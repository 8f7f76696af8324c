package io.github.pulsaroutbox.pulsar;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import io.github.pulsaroutbox.BrokerAdmin;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.H2OutboxStores;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import io.github.pulsaroutbox.testapp.ShopEvents;
import io.github.pulsaroutbox.testbroker.SharedPulsarBroker;
import io.github.pulsaroutbox.upcasting.AxonEntryUpcaster;
import io.github.pulsaroutbox.upcasting.current.CustomerRegistered;
import io.github.pulsaroutbox.upcasting.current.CustomerUpcasters;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The schema-registry option on the real broker: the JSON schema of each event type (its current version) is
 * registered for the topic, messages carry its schema version and a consumer with the class's schema reads them; a
 * schema the broker rejects as incompatible parks the row with the broker's message.
 */
class PulsarSchemaRegistryIntegrationTest {

    private final String topic = "persistent://public/default/schemas-" + UUID.randomUUID();
    private PulsarClient client;
    private JdbcOutboxStore store;
    private PulsarOutboxPublisher publisher;
    private OutboxRelay relay;

    @BeforeEach
    void setUp() throws Exception {
        client = PulsarClient.builder().serviceUrl(SharedPulsarBroker.serviceUrl())
                             .operationTimeout(10, TimeUnit.SECONDS).build();
        store = H2OutboxStores.newStore("schemas");
        publisher = PulsarOutboxPublisher.builder().pulsarClient(client).registerSchemas(true)
                                         .sendTimeout(Duration.ofSeconds(10)).build();
        AxonEntryUpcaster upcaster = AxonEntryUpcaster.builder().serializer(JacksonSerializer.defaultSerializer())
                                                      .upcaster(new CustomerUpcasters.V1ToV2())
                                                      .upcaster(new CustomerUpcasters.V2ToV3())
                                                      .build();
        relay = OutboxRelay.builder().store(store).publisher(publisher)
                           .topicResolver((type, annotated) -> java.util.Optional.of(topic))
                           .upcaster(() -> upcaster)
                           .pollInterval(Duration.ofMillis(200))
                           .build();
    }

    @AfterEach
    void tearDown() throws Exception {
        relay.shutdown();
        publisher.close();
        client.close();
    }

    @Test
    void schemaOfTheCurrentVersionIsRegisteredAndConsumersReadWithIt() throws Exception {
        store.append(List.of(
                entry("c-1", CustomerRegistered.class, "1",
                      "{\"customerId\":\"c-1\",\"name\":\"Ada Lovelace\",\"mail\":\"ada@example.com\"}"),
                entry("c-2", CustomerRegistered.class, "3",
                      "{\"customerId\":\"c-2\",\"firstName\":\"Grace\",\"lastName\":\"Hopper\","
                              + "\"email\":\"grace@example.com\",\"newsletter\":true}")));
        try (Consumer<CustomerRegistered> consumer =
                     client.newConsumer(Schema.JSON(CustomerRegistered.class)).topic(topic)
                           .subscriptionName("typed")
                           .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe()) {
            relay.start();
            Message<CustomerRegistered> first = consumer.receive(30, TimeUnit.SECONDS);
            Message<CustomerRegistered> second = consumer.receive(30, TimeUnit.SECONDS);
            assertThat(first).isNotNull();
            assertThat(second).isNotNull();
            assertThat(List.of(first.getValue(), second.getValue())).containsExactlyInAnyOrder(
                    new CustomerRegistered("c-1", "Ada", "Lovelace", "ada@example.com", false),
                    new CustomerRegistered("c-2", "Grace", "Hopper", "grace@example.com", true));
            assertThat(first.getSchemaVersion()).isNotNull().hasSize(8);
        }
        HttpResponse<String> schema = BrokerAdmin.call("GET", "/admin/v2/schemas/public/default/"
                + topic.substring(topic.lastIndexOf('/') + 1) + "/schema", null);
        assertThat(schema.statusCode()).isEqualTo(200);
        assertThat(schema.body()).contains("JSON").contains("firstName").contains("newsletter");
    }

    @Test
    void schemaTheBrokerRejectsParksTheRowWithTheBrokersMessage() throws Exception {
        store.append(List.of(entry("c-3", CustomerRegistered.class, "3",
                                   "{\"customerId\":\"c-3\",\"firstName\":\"A\",\"lastName\":\"B\","
                                           + "\"email\":\"e\",\"newsletter\":false}")));
        relay.start();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(
                () -> assertThat(store.find("c-3-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.SENT));

        // another event type on the same topic: a different record, incompatible under the broker's default (FULL)
        store.append(List.of(entry("o-1", ShopEvents.OrderCreated.class, "0",
                                   "{\"orderId\":\"o-1\",\"customer\":\"x\"}"),
                             entry("c-4", CustomerRegistered.class, "3",
                                   "{\"customerId\":\"c-4\",\"firstName\":\"C\",\"lastName\":\"D\","
                                           + "\"email\":\"e\",\"newsletter\":false}")));
        relay.wakeUp();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(store.find("o-1-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.FAILED);
            assertThat(store.find("c-4-0").orElseThrow().entry().status()).isEqualTo(OutboxStatus.SENT);
        });
        OutboxEntry refused = store.find("o-1-0").orElseThrow().entry();
        assertThat(refused.failureKind()).isEqualTo(FailureKind.REFUSED);
        assertThat(refused.attempts()).isEqualTo(1);
        assertThat(refused.lastError()).containsIgnoringCase("incompatible");
    }

    private static OutboxEntry entry(String aggregateId, Class<?> type, String version, String payload) {
        return OutboxEntry.pending(aggregateId + "-0", Instant.now(), type.getName(), "Customer", aggregateId, 0,
                                   payload, "{}", version, null);
    }
}
