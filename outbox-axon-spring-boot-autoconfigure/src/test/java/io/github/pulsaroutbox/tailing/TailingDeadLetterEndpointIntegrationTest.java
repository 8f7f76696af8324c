package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.BrokerTestSupport;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import io.github.pulsaroutbox.testapp.ShopCommands;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The tailing mode with Axon's dead-letter queue in a Spring Boot application ({@code
 * axon.eventhandling.processors.pulsar-outbox-tailing.dlq.enabled=true} with {@code mode=pooled}, Axon's JPA queue):
 * an event the broker can
 * never take is parked with its aggregate's later event behind it while another aggregate flows; the operator sees
 * both through {@code /actuator/outbox}, discards the first (a reason is required) and retries the aggregate, which
 * publishes the rest in order.
 */
@SpringBootTest(classes = OutboxTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"pulsar-outbox.mode=tailing", TailingStartupAndHealthIntegrationTest.POSITIONS_FOLLOW_SEQUENCES,
                "axon.eventhandling.processors.pulsar-outbox-tailing.mode=pooled",
                "axon.eventhandling.processors.pulsar-outbox-tailing.dlq.enabled=true",
                "management.endpoints.web.exposure.include=outbox"})
@DirtiesContext
class TailingDeadLetterEndpointIntegrationTest extends BrokerTestSupport {

    private static final String TOPIC = "persistent://public/default/tailing-dlq-" + UUID.randomUUID();
    private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
    };

    @DynamicPropertySource
    static void topics(DynamicPropertyRegistry registry) {
        registry.add("pulsar-outbox.topics.ShopOrder", () -> TOPIC);
    }

    @Autowired
    CommandGateway commandGateway;
    @Autowired
    PulsarClient pulsarClient;
    @Autowired
    TestRestTemplate rest;

    @Test
    @SuppressWarnings("unchecked")
    void operatorSeesDiscardsAndRetriesParkedEvents() throws Exception {
        String blocked = "blocked-" + UUID.randomUUID();
        String flowing = "flowing-" + UUID.randomUUID();
        try (Consumer<byte[]> consumer = pulsarClient.newConsumer(Schema.BYTES).topic(TOPIC)
                                                     .subscriptionName("dlq-check")
                                                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                                     .subscribe()) {
            commandGateway.sendAndWait(new ShopCommands.CreateOrder(blocked, "b"));
            commandGateway.sendAndWait(new ShopCommands.AddLine(blocked, "x".repeat(6 * 1024 * 1024), 1));
            commandGateway.sendAndWait(new ShopCommands.AddLine(blocked, "after", 2));
            commandGateway.sendAndWait(new ShopCommands.CreateOrder(flowing, "f"));

            List<String> received = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Message<byte[]> message = consumer.receive(60, TimeUnit.SECONDS);
                assertThat(message).as("message %d; so far %s", i, received).isNotNull();
                received.add(key(message));
            }
            assertThat(received).containsExactlyInAnyOrder(blocked + "#0", flowing + "#0");

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                    (List<Object>) get("/actuator/outbox?aggregateId=" + blocked).get("parked")).hasSize(2));
            Map<String, Object> overview = get("/actuator/outbox");
            assertThat(overview).containsEntry("mode", "tailing").containsEntry("parkedAggregates", 1);
            List<Map<String, Object>> parked = (List<Map<String, Object>>) overview.get("parked");
            assertThat(parked).extracting(row -> row.get("sequence")).containsExactly(1, 2);
            String tooLarge = (String) parked.get(0).get("id");
            assertThat((String) get("/actuator/outbox/" + tooLarge).get("cause")).contains("MESSAGE_TOO_LARGE");
            assertThat(consumer.receive(1, TimeUnit.SECONDS)).as("the parked events stay parked").isNull();

            assertThat(post("/actuator/outbox/" + tooLarge, Map.of("action", "discard")).getStatusCode())
                    .isEqualTo(HttpStatus.BAD_REQUEST); // a reason is required
            assertThat(post("/actuator/outbox/" + tooLarge, Map.of("action", "discard", "reason", "too large"))
                               .getStatusCode()).isEqualTo(HttpStatus.OK);
            ResponseEntity<Map<String, Object>> retried = post("/actuator/outbox", Map.of(
                    "action", "retry-aggregate", "aggregateId", blocked, "reason", "line 1 dropped"));
            assertThat(retried.getStatusCode()).isEqualTo(HttpStatus.OK);
            assertThat(retried.getBody()).containsEntry("rows", 1).containsEntry("by", "actuator");
            Message<byte[]> released = consumer.receive(30, TimeUnit.SECONDS);
            assertThat(released).isNotNull();
            assertThat(key(released)).isEqualTo(blocked + "#2");
            assertThat((List<Object>) get("/actuator/outbox").get("parked")).isEmpty();
        }
    }

    private static String key(Message<byte[]> message) {
        return message.getKey() + "#" + message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE);
    }

    private Map<String, Object> get(String path) {
        ResponseEntity<Map<String, Object>> response = rest.exchange(path, HttpMethod.GET, null, JSON);
        assertThat(response.getStatusCode()).as(path).isEqualTo(HttpStatus.OK);
        return response.getBody();
    }

    private ResponseEntity<Map<String, Object>> post(String path, Map<String, Object> body) {
        return rest.exchange(path, HttpMethod.POST, new HttpEntity<>(body), JSON);
    }
}
