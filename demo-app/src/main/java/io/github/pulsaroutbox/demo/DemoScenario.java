package io.github.pulsaroutbox.demo;

import org.axonframework.commandhandling.gateway.CommandGateway;
import io.github.pulsaroutbox.demo.consumer.OrderEventsPrinter;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.demo.order.OrderCommands;
import io.github.pulsaroutbox.demo.order.OrderEvents;
import io.github.pulsaroutbox.store.OutboxStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * A scripted scenario run at startup ({@code demo.scenario.enabled}, on by default): three customers work on their
 * orders at the same time; the consumer then shows each order's events arriving in order. A row left pending by the
 * "previous release" (an event at an older schema version) shows upcasting at relay time.
 */
@Component
@ConditionalOnProperty(name = "demo.scenario.enabled", havingValue = "true", matchIfMissing = true)
public class DemoScenario implements ApplicationRunner {

    private static final Logger logger = LoggerFactory.getLogger("demo-scenario");

    private final CommandGateway commandGateway;
    private final OrderEventsPrinter printer;
    private final Environment environment;
    /** Absent in the tailing dispatch mode ({@code pulsar-outbox.mode=tailing}): it has no outbox table. */
    private final OutboxStore outboxStore;

    public DemoScenario(CommandGateway commandGateway, OrderEventsPrinter printer, Environment environment,
                        ObjectProvider<OutboxStore> outboxStore) {
        this.commandGateway = commandGateway;
        this.printer = printer;
        this.environment = environment;
        this.outboxStore = outboxStore.getIfAvailable();
    }

    @Override
    public void run(ApplicationArguments args) throws Exception {
        logger.info("Running the demo scenario: alice, bob and carol place orders concurrently");
        List<String> orderIds = new ArrayList<>();
        List<CompletableFuture<Void>> customers = new ArrayList<>();
        for (Map.Entry<String, Integer> customer : Map.of("alice", 3, "bob", 2, "carol", 4).entrySet()) {
            String orderId = customer.getKey() + "-" + UUID.randomUUID().toString().substring(0, 8);
            orderIds.add(orderId);
            customers.add(CompletableFuture.runAsync(() -> shop(orderId, customer.getKey(), customer.getValue())));
        }
        CompletableFuture.allOf(customers.toArray(CompletableFuture[]::new)).join();
        int expected = 3 + 2 + 4 + 3 * 2; // lines + placed + confirmed/cancelled per order
        if (outboxStore != null) {
            orderIds.add(leaveRowOfPreviousRelease());
            expected++; // the old row
        } else {
            logger.info("Tailing mode: events are published from the event store (no outbox table)");
        }

        long arrived = printer.awaitReceived(orderIds, expected, Duration.ofSeconds(30));
        Map<String, List<Long>> sequences = printer.received().stream()
                                                   .filter(r -> orderIds.contains(r.key()))
                                                   .collect(Collectors.groupingBy(
                                                           OrderEventsPrinter.Received::key,
                                                           Collectors.mapping(OrderEventsPrinter.Received::sequence,
                                                                              Collectors.toList())));
        sequences.forEach((order, seq) -> logger.info("{}: events arrived in sequence {}", order, seq));
        logger.info("Demo scenario done: {} of {} events reached the consumer. Try it yourself: "
                            + "curl -XPOST localhost:{}/orders -H 'Content-Type: application/json' "
                            + "-d '{\"customer\":\"you\"}'",
                    arrived, expected, environment.getProperty("local.server.port", "8080"));
    }

    /**
     * What a deploy leaves behind: a LineAdded captured by the previous release at version 1 ({@code product}), not
     * yet relayed. The relay publishes it at version 2 ({@code sku}) with the application's own upcaster.
     */
    private String leaveRowOfPreviousRelease() {
        String orderId = "legacy-" + UUID.randomUUID().toString().substring(0, 8);
        String payload = "{\"orderId\":\"" + orderId + "\",\"lineNumber\":1,\"product\":\"vintage-lamp\",\"quantity\":1}";
        logger.info("A row the previous release left pending: LineAdded v1 {}", payload);
        outboxStore.append(List.of(OutboxEntry.pending(UUID.randomUUID().toString(), Instant.now(),
                                                       OrderEvents.LineAdded.class.getName(), "Order", orderId, 0,
                                                       payload, "{}", "1", null)));
        return orderId;
    }

    private void shop(String orderId, String customer, int lines) {
        commandGateway.sendAndWait(new OrderCommands.PlaceOrder(orderId, customer));
        for (int i = 1; i <= lines; i++) {
            commandGateway.sendAndWait(new OrderCommands.AddLine(orderId, "product-" + i, i));
        }
        if (customer.equals("bob")) {
            commandGateway.sendAndWait(new OrderCommands.CancelOrder(orderId, "changed his mind"));
        } else {
            commandGateway.sendAndWait(new OrderCommands.ConfirmOrder(orderId));
        }
    }

}
