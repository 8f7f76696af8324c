package org.axonframework.extensions.outbox.demo;

import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.extensions.outbox.demo.consumer.OrderEventsPrinter;
import org.axonframework.extensions.outbox.demo.order.OrderCommands;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * A scripted scenario run at startup ({@code demo.scenario.enabled}, on by default): three customers work on their
 * orders at the same time; the consumer then shows each order's events arriving in order.
 */
@Component
@ConditionalOnProperty(name = "demo.scenario.enabled", havingValue = "true", matchIfMissing = true)
public class DemoScenario implements ApplicationRunner {

    private static final Logger logger = LoggerFactory.getLogger("demo-scenario");

    private final CommandGateway commandGateway;
    private final OrderEventsPrinter printer;
    private final Environment environment;

    public DemoScenario(CommandGateway commandGateway, OrderEventsPrinter printer, Environment environment) {
        this.commandGateway = commandGateway;
        this.printer = printer;
        this.environment = environment;
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
