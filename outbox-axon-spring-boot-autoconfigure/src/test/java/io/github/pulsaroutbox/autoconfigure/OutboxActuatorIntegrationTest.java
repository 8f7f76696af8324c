package io.github.pulsaroutbox.autoconfigure;

import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.axonframework.commandhandling.gateway.CommandGateway;
import io.github.pulsaroutbox.BrokerAdmin;
import io.github.pulsaroutbox.BrokerTestSupport;
import io.github.pulsaroutbox.pulsar.OutboxMessageProperties;
import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import io.github.pulsaroutbox.testapp.ShopCommands;
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
 * Operations over HTTP on the real broker: rows of an aggregate whose topic's namespace does not exist park; the
 * {@code outbox} endpoint lists and shows them, the health indicator and the metrics report them, and a retry by
 * aggregate, once the namespace exists, releases them in order.
 */
@SpringBootTest(classes = OutboxTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.endpoints.web.exposure.include=outbox,health,metrics",
                "management.endpoint.health.show-details=always",
                "pulsar-outbox.relay.poll-interval=200ms"})
@DirtiesContext
class OutboxActuatorIntegrationTest extends BrokerTestSupport {

    private static final String TENANT = "ops" + UUID.randomUUID().toString().substring(0, 8);
    private static final String TOPIC = "persistent://" + TENANT + "/ns/orders";
    private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
    };

    @DynamicPropertySource
    static void topics(DynamicPropertyRegistry registry) {
        registry.add("pulsar-outbox.topics.ShopOrder", () -> TOPIC);
    }

    @Autowired
    CommandGateway commandGateway;
    @Autowired
    TestRestTemplate rest;
    @Autowired
    PulsarClient pulsarClient;

    @Test
    @SuppressWarnings("unchecked")
    void operatorSeesParkedRowsAndReleasesThem() throws Exception {
        String orderId = "ops-" + UUID.randomUUID();
        commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "olga"));
        commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "tea", 1));
        commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "mug", 1));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                (Map<String, Object>) get("/actuator/outbox").get("counts")).containsEntry("FAILED", 1));
        Map<String, Object> overview = get("/actuator/outbox?aggregateType=ShopOrder&aggregateId=" + orderId);
        assertThat((Map<String, Object>) overview.get("counts")).containsEntry("PENDING", 2);
        assertThat(overview.get("relayRunning")).isEqualTo(true);
        Map<String, Object> node = (Map<String, Object>) overview.get("relayNode"); // the only node owns every segment
        assertThat(node).containsEntry("segmentCount", 16).containsEntry("liveNodes", 1);
        assertThat((List<Integer>) node.get("ownedSegments")).hasSize(16);
        Map<String, Object> page = (Map<String, Object>) overview.get("parked");
        assertThat(page.get("total")).isEqualTo(1);
        Map<String, Object> parked = ((List<Map<String, Object>>) page.get("rows")).get(0);
        assertThat(parked.get("waitingBehind")).isEqualTo(2);
        Map<String, Object> entry = (Map<String, Object>) ((Map<String, Object>) parked.get("row")).get("entry");
        assertThat(entry.get("failureKind")).isEqualTo("UNKNOWN_TOPIC");
        String parkedId = (String) entry.get("id");

        Map<String, Object> shown = get("/actuator/outbox/" + parkedId);
        assertThat((String) ((Map<String, Object>) ((Map<String, Object>) shown.get("row")).get("entry"))
                .get("lastError")).contains("TopicDoesNotExist");
        assertThat(rest.getForEntity("/actuator/outbox/no-such-row", String.class).getStatusCode())
                .isEqualTo(HttpStatus.NOT_FOUND);

        Map<String, Object> health = get("/actuator/health");
        Map<String, Object> outboxHealth = (Map<String, Object>) ((Map<String, Object>) health.get("components"))
                .get("outbox");
        assertThat(outboxHealth.get("status")).isEqualTo("UP");
        // the two rows behind the parked one wait for an operator, not for the relay: no backlog age
        assertThat(overview.get("oldestPendingAge")).isEqualTo("PT0S");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) get("/actuator/health")
                        .get("components")).get("outbox")).get("details")).containsEntry("parked", 1));

        assertThat(post("/actuator/outbox/" + parkedId, Map.of("action", "discard")).getStatusCode())
                .isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(post("/actuator/outbox", Map.of("action", "explode")).getStatusCode())
                .isEqualTo(HttpStatus.BAD_REQUEST);

        BrokerAdmin.createNamespace(TENANT, "ns");
        try (Consumer<byte[]> consumer = pulsarClient.newConsumer(Schema.BYTES).topic(TOPIC)
                                                     .subscriptionName("ops-check")
                                                     .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                                                     .subscribe()) {
            ResponseEntity<Map<String, Object>> retried = post("/actuator/outbox", Map.of(
                    "action", "retry-aggregate", "aggregateType", "ShopOrder", "aggregateId", orderId,
                    "reason", "namespace created"));
            assertThat(retried.getStatusCode()).isEqualTo(HttpStatus.OK);
            assertThat(retried.getBody()).containsEntry("rows", 1).containsEntry("by", "actuator");

            List<Long> sequences = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Message<byte[]> message = consumer.receive(30, TimeUnit.SECONDS);
                assertThat(message).isNotNull();
                sequences.add(Long.parseLong(message.getProperty(OutboxMessageProperties.AGGREGATE_SEQUENCE)));
            }
            assertThat(sequences).containsExactly(0L, 1L, 2L);
        }
        Map<String, Object> history = (Map<String, Object>) get("/actuator/outbox/" + parkedId).get("row");
        assertThat(history).containsEntry("action", "RETRIED").containsEntry("actionBy", "actuator")
                           .containsEntry("actionReason", "namespace created");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(metric("pulsar.outbox.published")).isEqualTo(3.0));
        assertThat(metric("pulsar.outbox.parked")).isEqualTo(1.0);
        assertThat(metric("pulsar.outbox.failures?tag=kind:unknown-topic")).isEqualTo(1.0);
        assertThat(metric("pulsar.outbox.operator.actions?tag=action:retry")).isEqualTo(1.0);
        assertThat(metric("pulsar.outbox.publish.latency")).isEqualTo(3.0);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(
                () -> assertThat(metric("pulsar.outbox.rows?tag=status:parked")).isZero());
    }

    private Map<String, Object> get(String path) {
        ResponseEntity<Map<String, Object>> response = rest.exchange(path, HttpMethod.GET, null, JSON);
        assertThat(response.getStatusCode()).as(path).isEqualTo(HttpStatus.OK);
        return response.getBody();
    }

    private ResponseEntity<Map<String, Object>> post(String path, Map<String, Object> body) {
        return rest.exchange(path, HttpMethod.POST, new HttpEntity<>(body), JSON);
    }

    /** COUNT (counters, timers) or VALUE (gauges) of a meter. */
    @SuppressWarnings("unchecked")
    private double metric(String nameAndQuery) {
        Map<String, Object> meter = get("/actuator/metrics/" + nameAndQuery);
        return ((List<Map<String, Object>>) meter.get("measurements")).stream()
                                                                       .filter(m -> List.of("COUNT", "VALUE")
                                                                                        .contains(m.get("statistic")))
                                                                       .map(m -> ((Number) m.get("value"))
                                                                               .doubleValue())
                                                                       .findFirst().orElseThrow();
    }
}
