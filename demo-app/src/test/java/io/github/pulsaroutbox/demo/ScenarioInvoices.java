package io.github.pulsaroutbox.demo;

import io.github.pulsaroutbox.demo.consumer.OrderEventsPrinter;
import org.springframework.boot.test.web.client.TestRestTemplate;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Billing's invoices of the startup scenario's three orders, as its REST API shows them. */
final class ScenarioInvoices {

    private ScenarioInvoices() {
    }

    /** Waits until billing shows each scenario order's invoice with its items and status. */
    static void assertInvoiced(TestRestTemplate rest, OrderEventsPrinter printer) {
        Map<String, String> orders = new HashMap<>();
        printer.received().stream().filter(r -> r.key().matches("(alice|bob|carol)-.*"))
               .forEach(r -> orders.put(r.key().substring(0, r.key().indexOf('-')), r.key()));
        assertThat(orders).containsOnlyKeys("alice", "bob", "carol");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertInvoice(rest, orders.get("alice"), "alice", 6, "TO_INVOICE"); // quantities 1 + 2 + 3
            assertInvoice(rest, orders.get("bob"), "bob", 3, "CANCELLED");
            assertInvoice(rest, orders.get("carol"), "carol", 10, "TO_INVOICE");
        });
    }

    @SuppressWarnings("rawtypes")
    private static void assertInvoice(TestRestTemplate rest, String orderId, String customer, int items,
                                      String status) {
        ResponseEntity<Map> invoice = rest.getForEntity("/billing/" + orderId, Map.class);
        assertThat(invoice.getStatusCode()).isEqualTo(HttpStatus.OK);
        assertThat(invoice.getBody()).containsEntry("customer", customer).containsEntry("items", items)
                                     .containsEntry("status", status);
    }
}
