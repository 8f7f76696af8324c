package io.github.pulsaroutbox.demo;

import io.github.pulsaroutbox.demo.consumer.OrderEventsPrinter;
import io.github.pulsaroutbox.receiving.inbox.JdbcInbox;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The round trip with the other source: billing as a subscribing processor on a {@code Key_Shared} subscription
 * ({@code mode: subscribable}), configured by properties alone; its health and meters show the consumer.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
                properties = {"pulsar-outbox.receiving.sources.order-events.mode=subscribable",
                              "axon.eventhandling.processors.billing.mode=subscribing"})
class DemoBillingSubscribingIntegrationTest {

    /**
     * A topic of its own: the other demo applications of this test run (kept by the test framework) relay to theirs
     * under the same producer names, which a topic admits once.
     */
    @DynamicPropertySource
    static void topic(DynamicPropertyRegistry registry) {
        String topic = "persistent://public/default/orders-subscribing-" + UUID.randomUUID();
        registry.add("pulsar-outbox.topics.Order", () -> topic);
    }

    @Autowired
    TestRestTemplate rest;
    @Autowired
    OrderEventsPrinter printer;
    @Autowired
    JdbcInbox inbox;

    @Test
    @SuppressWarnings("unchecked")
    void billingLearnsEveryOrderOnceThroughASubscription() {
        ScenarioInvoices.assertInvoiced(rest, printer);
        assertThat(inbox.count("billing")).as("one inbox record per event billing handled").isGreaterThanOrEqualTo(15);

        Map<String, Object> health = rest.getForObject("/actuator/health/pulsarOutboxReceiving", Map.class);
        assertThat(health).containsEntry("status", "UP");
        Map<String, Object> source = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) health
                .get("details")).get("sources")).get("order-events");
        assertThat(source).containsEntry("subscription", "order-events").containsEntry("connected", true);
        Map<String, Object> handled = rest.getForObject(
                "/actuator/metrics/pulsar.outbox.receiving.handled?tag=source:order-events", Map.class);
        List<Map<String, Object>> measurements = (List<Map<String, Object>>) handled.get("measurements");
        assertThat(((Number) measurements.get(0).get("value")).doubleValue()).isGreaterThanOrEqualTo(15);
    }
}
