package io.github.pulsaroutbox.upcasting;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.commandhandling.gateway.CommandGateway;
import io.github.pulsaroutbox.BrokerTestSupport;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.upcasting.current.Customer;
import io.github.pulsaroutbox.upcasting.current.CustomerApp;
import io.github.pulsaroutbox.upcasting.current.CustomerRegistered;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Upcasting at relay time on the real broker, with the application's own event-store upcasters (1 → 2 → 3): rows at
 * versions 1 and 2 are published at 3, rows at 3 untouched, and rows that cannot be upcast are parked while the rest
 * of the stream flows.
 */
@SpringBootTest(classes = CustomerApp.class, properties = "pulsar-outbox.relay.poll-interval=200ms")
@DirtiesContext
class UpcastingIntegrationTest extends BrokerTestSupport {

    private static final String TOPIC = "persistent://public/default/customers-" + UUID.randomUUID();
    private static final String TYPE = CustomerRegistered.class.getName();

    @DynamicPropertySource
    static void topics(DynamicPropertyRegistry registry) {
        registry.add("pulsar-outbox.topics.Customer", () -> TOPIC);
    }

    @Autowired
    CommandGateway commandGateway;
    @Autowired
    OutboxStore store;
    @Autowired
    OutboxMaintenance maintenance;
    @Autowired
    PulsarClient pulsarClient;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void olderRowsArePublishedAtTheCurrentVersionAndCurrentRowsUntouched() throws Exception {
        try (Consumer<byte[]> consumer = subscribe("current-check")) {
            // rows an earlier deploy captured at versions 1 and 2, still pending
            store.append(List.of(
                    row("c-1", 0, "1", "{\"customerId\":\"c-1\",\"name\":\"Ada Lovelace\",\"mail\":\"ada@example.com\"}"),
                    row("c-2", 0, "2", "{\"customerId\":\"c-2\",\"name\":\"Grace Hopper\",\"email\":\"grace@example.com\"}")));
            // and one captured now, at version 3
            commandGateway.sendAndWait(new Customer.Register("c-3", "Barbara", "Liskov", "barbara@example.com"));

            Map<String, Message<byte[]>> byKey = receive(consumer, 3);
            assertThat(value(byKey.get("c-1"))).isEqualTo(
                    new CustomerRegistered("c-1", "Ada", "Lovelace", "ada@example.com", false));
            assertThat(value(byKey.get("c-2"))).isEqualTo(
                    new CustomerRegistered("c-2", "Grace", "Hopper", "grace@example.com", false));
            assertThat(value(byKey.get("c-3"))).isEqualTo(
                    new CustomerRegistered("c-3", "Barbara", "Liskov", "barbara@example.com", true));
            byKey.values().forEach(m -> assertThat(m.getProperty(OutboxMessageProperties.SCHEMA_VERSION))
                    .isEqualTo("3"));
            byKey.values().forEach(m -> assertThat(m.getProperty(OutboxMessageProperties.TYPE))
                    .isEqualTo(CustomerRegistered.class.getSimpleName()));

            // the current-version row went out byte for byte as captured; stored rows keep their original version
            String c3Id = byKey.get("c-3").getProperty(OutboxMessageProperties.ID);
            assertThat(new String(byKey.get("c-3").getValue(), StandardCharsets.UTF_8))
                    .isEqualTo(maintenance.find(c3Id).orElseThrow().entry().payload());
            String c1Id = byKey.get("c-1").getProperty(OutboxMessageProperties.ID);
            assertThat(maintenance.find(c1Id).orElseThrow().entry().version()).isEqualTo("1");
        }
    }

    @Test
    void rowsThatCannotBeUpcastAreParkedWhileTheRestFlowsInOrder() throws Exception {
        try (Consumer<byte[]> consumer = subscribe("failure-check")) {
            store.append(List.of(
                    row("c-4", 0, "4", "{\"customerId\":\"c-4\",\"futureField\":1}"),      // newer than the code
                    row("c-4", 1, "3", "{\"customerId\":\"c-4\",\"firstName\":\"x\",\"lastName\":\"y\","
                            + "\"email\":\"e\",\"newsletter\":true}"),                      // waits behind it
                    row("c-5", 0, "2", "{\"customerId\":\"c-5\",\"name\":\"Plato\",\"email\":\"p@example.com\"}"),
                    row("c-6", 0, "1", "{\"customerId\":\"c-6\",\"name\":\"Alan Turing\",\"mail\":\"alan@example.com\"}")));

            Map<String, Message<byte[]>> byKey = receive(consumer, 1);
            assertThat(value(byKey.get("c-6")).firstName()).isEqualTo("Alan");

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(entry("c-4", 0).status()).isEqualTo(OutboxStatus.FAILED);
                assertThat(entry("c-5", 0).status()).isEqualTo(OutboxStatus.FAILED);
            });
            assertThat(entry("c-4", 0).failureKind()).isEqualTo(FailureKind.UPCAST_FAILED);
            assertThat(entry("c-4", 0).lastError()).contains("version 4").contains("newer than the running code");
            assertThat(entry("c-4", 0).attempts()).isEqualTo(1);   // parked at once, not retried
            assertThat(entry("c-4", 1).status()).isEqualTo(OutboxStatus.PENDING);
            assertThat(entry("c-5", 0).failureKind()).isEqualTo(FailureKind.UPCAST_FAILED);
            assertThat(entry("c-5", 0).lastError()).contains("cannot split the name 'Plato'");
            assertThat(consumer.receive(1, TimeUnit.SECONDS)).isNull();
        }
    }

    private OutboxEntry entry(String aggregateId, long sequence) {
        return maintenance.find(aggregateId + "-" + sequence).orElseThrow().entry();
    }

    private static OutboxEntry row(String customerId, long sequence, String version, String payload) {
        return OutboxEntry.pending(customerId + "-" + sequence, Instant.now(), TYPE, "Customer", customerId, sequence,
                                   payload, "{}", version, null);
    }

    private Consumer<byte[]> subscribe(String subscription) throws Exception {
        return pulsarClient.newConsumer(Schema.BYTES).topic(TOPIC).subscriptionName(subscription)
                           .subscriptionInitialPosition(SubscriptionInitialPosition.Latest).subscribe();
    }

    private static Map<String, Message<byte[]>> receive(Consumer<byte[]> consumer, int count) throws Exception {
        Map<String, Message<byte[]>> byKey = new HashMap<>();
        while (byKey.size() < count) {
            Message<byte[]> message = consumer.receive(30, TimeUnit.SECONDS);
            assertThat(message).as("message %d of %d", byKey.size() + 1, count).isNotNull();
            byKey.put(message.getKey(), message);
        }
        return byKey;
    }

    private CustomerRegistered value(Message<byte[]> message) throws Exception {
        return json.readValue(message.getValue(), CustomerRegistered.class);
    }
}
