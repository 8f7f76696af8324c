package io.github.pulsaroutbox.demo;

import io.github.pulsaroutbox.demo.consumer.OrderEventsPrinter;
import io.github.pulsaroutbox.demo.consumer.OrderEventsPrinter.Received;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The demo as a newcomer runs it: H2, a real broker (started by the demo itself, or the external one of the test
 * run), the scripted scenario at startup, then the REST API; the consumer sees every order's events in order.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
                properties = "pulsar-outbox.receiving.lag-interval=1s")
class DemoApplicationIntegrationTest {

    @Autowired
    TestRestTemplate rest;
    @Autowired
    OrderEventsPrinter printer;
    @Autowired
    io.github.pulsaroutbox.receiving.inbox.JdbcInbox inbox;

    @Test
    void scenarioEventsReachTheConsumerInOrderPerOrder() {
        // the scenario ran before the context was handed to the test: 3 orders, 15 events
        List<Received> scenario = printer.received().stream()
                                         .filter(r -> r.key().matches("(alice|bob|carol)-.*"))
                                         .toList();
        assertThat(scenario).hasSize(15);
        assertInSequence(scenario, "alice", List.of("OrderPlaced", "LineAdded", "LineAdded", "LineAdded",
                                                    "OrderConfirmed"));
        assertInSequence(scenario, "bob", List.of("OrderPlaced", "LineAdded", "LineAdded", "OrderCancelled"));
        assertInSequence(scenario, "carol", List.of("OrderPlaced", "LineAdded", "LineAdded", "LineAdded",
                                                    "LineAdded", "OrderConfirmed"));
        assertThat(scenario).filteredOn(r -> r.type().equals("LineAdded"))
                            .allSatisfy(r -> assertThat(r.schemaVersion()).isEqualTo("2"))
                            .allSatisfy(r -> assertThat(r.payload()).contains("\"sku\""));
    }

    /**
     * The round trip: billing, a second bounded context in this service, reads the order events back from Pulsar
     * through a tracking processor and applies each once (the inbox) to its invoices.
     */
    @Test
    @SuppressWarnings("unchecked")
    void billingLearnsEveryOrderOnceThroughPulsar() {
        ScenarioInvoices.assertInvoiced(rest, printer);
        assertThat(inbox.count("billing")).as("one inbox record per event billing handled").isGreaterThanOrEqualTo(15);

        // billing's dead-letter queue is empty, and it has read the order topic's partitions to their end
        Map<String, Object> receiving = rest.getForObject("/actuator/receiving", Map.class);
        assertThat(((Map<String, Object>) receiving.get("groups")).get("billing"))
                .isEqualTo(Map.of("deadLetterQueue", true, "parkedAggregates", 0, "parkedEvents", 0));
        assertThat(rest.getForObject("/actuator/receiving/billing", Map.class)).containsEntry("parked", List.of());
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Map<String, Object> lag = rest.getForObject(
                    "/actuator/metrics/pulsar.outbox.receiving.lag?tag=group:billing", Map.class);
            assertThat(lag).as("a lag read for billing's segments").containsKey("measurements");
            List<Map<String, Object>> measurements = (List<Map<String, Object>>) lag.get("measurements");
            assertThat(((Number) measurements.get(0).get("value")).doubleValue()).isZero();
        });
    }

    @Test
    void rowLeftPendingByThePreviousReleaseIsPublishedUpcast() {
        List<Received> legacy = printer.received().stream().filter(r -> r.key().startsWith("legacy-")).toList();
        assertThat(legacy).hasSize(1);
        assertThat(legacy.get(0).type()).isEqualTo("LineAdded");
        assertThat(legacy.get(0).schemaVersion()).isEqualTo("2");
        assertThat(legacy.get(0).payload()).contains("\"sku\":\"vintage-lamp\"").doesNotContain("product");
    }

    @Test
    void restApiEventsLeaveThroughTheOutbox() {
        ResponseEntity<Map> placed = rest.postForEntity("/orders", Map.of("customer", "dora"), Map.class);
        assertThat(placed.getStatusCode()).isEqualTo(HttpStatus.CREATED);
        String orderId = (String) placed.getBody().get("orderId");
        assertThat(rest.postForEntity("/orders/" + orderId + "/lines", Map.of("product", "tea", "quantity", 2),
                                      Void.class).getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(rest.postForEntity("/orders/" + orderId + "/confirm", null, Void.class).getStatusCode())
                .isEqualTo(HttpStatus.OK);
        // a refused command leaves no event
        assertThat(rest.postForEntity("/orders/" + orderId + "/cancel", null, Map.class).getStatusCode())
                .isEqualTo(HttpStatus.CONFLICT);
        // invalid input is refused before any command (nothing published with a null customer or product)
        ResponseEntity<Map> noCustomer = rest.postForEntity("/orders", Map.of(), Map.class);
        assertThat(noCustomer.getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(noCustomer.getBody()).containsEntry("error", "customer is required");
        assertThat(rest.postForEntity("/orders/" + orderId + "/lines", Map.of("quantity", 1), Map.class)
                       .getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
        // an order that does not exist is a 404 with a message
        ResponseEntity<Map> unknown = rest.postForEntity("/orders/no-such-order/confirm", null, Map.class);
        assertThat(unknown.getStatusCode()).isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(unknown.getBody()).containsEntry("error", "no order no-such-order");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                printer.received().stream().filter(r -> r.key().equals(orderId)).map(Received::type).toList())
                .containsExactly("OrderPlaced", "LineAdded", "OrderConfirmed"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                rest.getForObject("/outbox", Map.class)).containsEntry("PENDING", 0));
    }

    @Test
    @SuppressWarnings("unchecked")
    void operationsAreExposedThroughActuator() {
        Map<String, Object> health = rest.getForObject("/actuator/health", Map.class);
        Map<String, Object> outbox = (Map<String, Object>) ((Map<String, Object>) health.get("components"))
                .get("outbox");
        assertThat(outbox.get("status")).isEqualTo("UP");
        assertThat((Map<String, Object>) outbox.get("details")).containsEntry("relayRunning", true);
        Map<String, Object> endpoint = rest.getForObject("/actuator/outbox", Map.class);
        assertThat((Map<String, Object>) endpoint.get("counts")).containsEntry("FAILED", 0);
    }

    private static void assertInSequence(List<Received> received, String customer, List<String> types) {
        List<Received> ofCustomer = received.stream().filter(r -> r.key().startsWith(customer + "-")).toList();
        assertThat(ofCustomer).extracting(Received::type).containsExactlyElementsOf(types);
        assertThat(ofCustomer).extracting(Received::sequence)
                              .containsExactlyElementsOf(java.util.stream.LongStream.range(0, types.size())
                                                                                   .boxed().toList());
    }
}
