package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.testapp.OutboxTestApplication;
import io.github.pulsaroutbox.testapp.ShopCommands;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A broker outage, for real: the application's Pulsar client points at a port where no broker listens. The outbox
 * health group ({@code /actuator/health/outbox}) turns DEGRADED (HTTP 503) with the reason and the last error, while
 * the application's own health, liveness and readiness stay UP (HTTP 200): capture goes on, the outbox buffers.
 */
@SpringBootTest(classes = OutboxTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.endpoints.web.exposure.include=health",
                "management.endpoint.health.show-components=always",
                "management.endpoint.health.probes.enabled=true",
                "spring.pulsar.client.operation-timeout=2s",
                "spring.pulsar.client.lookup-timeout=2s",
                "pulsar-outbox.pulsar.deduplication=off",
                "pulsar-outbox.pulsar.send-timeout=2s",
                "pulsar-outbox.relay.ack-timeout=5s",
                "pulsar-outbox.relay.poll-interval=200ms",
                "pulsar-outbox.health.max-failing-for=1s",
                "pulsar-outbox.topics.ShopOrder=persistent://public/default/outage"})
@DirtiesContext
class OutboxHealthGroupIntegrationTest {

    private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
    };

    @DynamicPropertySource
    static void noBroker(DynamicPropertyRegistry registry) {
        String unreachable = io.github.pulsaroutbox.BrokerAdmin.unreachableServiceUrl();
        registry.add("spring.pulsar.client.service-url", () -> unreachable);
    }

    @Autowired
    CommandGateway commandGateway;
    @Autowired
    TestRestTemplate rest;

    @Test
    @SuppressWarnings("unchecked")
    void brokerOutageDegradesTheOutboxGroupButNotTheApplication() {
        String orderId = "outage-" + UUID.randomUUID();
        commandGateway.sendAndWait(new ShopCommands.CreateOrder(orderId, "olga")); // capture works without a broker

        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            ResponseEntity<Map<String, Object>> outbox = get("/actuator/health/outbox");
            assertThat(outbox.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
            assertThat(outbox.getBody()).containsEntry("status", "DEGRADED");
            Map<String, Object> details = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                    outbox.getBody().get("components")).get("outbox")).get("details");
            assertThat((List<String>) details.get("reasons")).anySatisfy(
                    reason -> assertThat(reason).contains("no row acknowledged for"));
            assertThat((Map<String, Object>) details.get("broker")).containsKey("failingSince")
                                                                   .containsKey("lastFailure");
            assertThat(details.get("pending")).isEqualTo(1);
        });

        ResponseEntity<Map<String, Object>> overall = get("/actuator/health");
        assertThat(overall.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(overall.getBody()).containsEntry("status", "UP");
        assertThat((Map<String, Object>) ((Map<String, Object>) overall.getBody().get("components")).get("outbox"))
                .containsEntry("status", "DEGRADED");
        assertThat(get("/actuator/health/liveness").getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(get("/actuator/health/readiness").getStatusCode()).isEqualTo(HttpStatus.OK);

        commandGateway.sendAndWait(new ShopCommands.AddLine(orderId, "tea", 1)); // and still does
    }

    private ResponseEntity<Map<String, Object>> get(String path) {
        return rest.exchange(path, HttpMethod.GET, null, JSON);
    }
}
