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
 * An unreachable broker with the Pulsar client's default time-outs (30 s): the outbox group turns DEGRADED within
 * {@code max-failing-for} of the first attempt to open a producer, while the client is still trying, not after the
 * client's own time-out fails the attempt.
 */
@SpringBootTest(classes = OutboxTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.endpoints.web.exposure.include=health",
                "management.endpoint.health.show-components=always",
                "pulsar-outbox.pulsar.deduplication=off",
                "pulsar-outbox.health.max-failing-for=2s",
                "pulsar-outbox.topics.ShopOrder=persistent://public/default/unreachable"})
@DirtiesContext
class OutboxHealthUnreachableBrokerIntegrationTest {

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
    void theOutboxGroupTurnsDegradedWhileTheFirstProducerOpeningIsStillWaitingForTheBroker() {
        commandGateway.sendAndWait(new ShopCommands.CreateOrder("unreachable-" + UUID.randomUUID(), "olga"));

        // the reason exists only while the opening has had no answer: once the client's time-out (30 s) fails it,
        // the health says "producers cannot be opened" instead, so seeing it proves the earlier turn
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            ResponseEntity<Map<String, Object>> outbox = rest.exchange("/actuator/health/outbox", HttpMethod.GET,
                                                                       null, JSON);
            assertThat(outbox.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
            Map<String, Object> details = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                    outbox.getBody().get("components")).get("outbox")).get("details");
            assertThat((List<String>) details.get("reasons")).anySatisfy(
                    reason -> assertThat(reason).contains("no producer opened for")
                                                .contains("persistent://public/default/unreachable"));
            assertThat(((Map<String, Object>) details.get("broker")).get("openingProducersSince")).isNotNull();
            assertThat(outbox.getBody().toString()).doesNotContain("=null");
        });
    }
}
