package io.github.pulsaroutbox.demo.order;

import org.axonframework.commandhandling.gateway.CommandGateway;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.operations.OutboxOperations;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import java.util.Map;
import java.util.UUID;

/** REST endpoints of the order service. */
@RestController
public class OrderController {

    private final CommandGateway commandGateway;
    /** Absent in the tailing dispatch mode ({@code pulsar-outbox.mode=tailing}): it has no outbox table. */
    private final ObjectProvider<OutboxOperations> outboxOperations;

    public OrderController(CommandGateway commandGateway, ObjectProvider<OutboxOperations> outboxOperations) {
        this.commandGateway = commandGateway;
        this.outboxOperations = outboxOperations;
    }

    public record NewOrder(String customer) {
    }

    public record NewLine(String product, int quantity) {
    }

    public record Cancellation(String reason) {
    }

    @PostMapping("/orders")
    @ResponseStatus(HttpStatus.CREATED)
    public Map<String, String> place(@RequestBody NewOrder order) {
        require(order != null && order.customer() != null && !order.customer().isBlank(), "customer is required");
        String orderId = "order-" + UUID.randomUUID();
        commandGateway.sendAndWait(new OrderCommands.PlaceOrder(orderId, order.customer()));
        return Map.of("orderId", orderId);
    }

    @PostMapping("/orders/{orderId}/lines")
    public void addLine(@PathVariable String orderId, @RequestBody NewLine line) {
        require(line != null && line.product() != null && !line.product().isBlank(), "product is required");
        commandGateway.sendAndWait(new OrderCommands.AddLine(orderId, line.product(), line.quantity()));
    }

    @PostMapping("/orders/{orderId}/confirm")
    public void confirm(@PathVariable String orderId) {
        commandGateway.sendAndWait(new OrderCommands.ConfirmOrder(orderId));
    }

    @PostMapping("/orders/{orderId}/cancel")
    public void cancel(@PathVariable String orderId, @RequestBody(required = false) Cancellation cancellation) {
        commandGateway.sendAndWait(new OrderCommands.CancelOrder(
                orderId, cancellation == null ? "cancelled by customer" : cancellation.reason()));
    }

    /** Outbox rows by status (operators use {@code /actuator/outbox}). */
    @GetMapping("/outbox")
    public ResponseEntity<?> outbox() {
        OutboxOperations operations = outboxOperations.getIfAvailable();
        if (operations == null) {
            return ResponseEntity.status(HttpStatus.NOT_FOUND)
                                 .body(Map.of("error", "no outbox table in the tailing dispatch mode: see "
                                         + "/actuator/health/outbox and /actuator/outbox (dead letters)"));
        }
        Map<OutboxStatus, Long> counts = operations.summary().counts();
        return ResponseEntity.ok(counts);
    }

    @ExceptionHandler({IllegalStateException.class, IllegalArgumentException.class})
    @ResponseStatus(HttpStatus.CONFLICT)
    public Map<String, String> refused(RuntimeException e) {
        return Map.of("error", String.valueOf(e.getMessage()));
    }

    /** Input the service refuses before sending a command: nothing is stored or published. */
    @ExceptionHandler({BadRequest.class, org.springframework.http.converter.HttpMessageNotReadableException.class})
    @ResponseStatus(HttpStatus.BAD_REQUEST)
    public Map<String, String> badRequest(Exception e) {
        return Map.of("error", e instanceof BadRequest ? e.getMessage() : "the request body is not valid JSON for it");
    }

    /** An order id that was never placed. */
    @ExceptionHandler(org.axonframework.modelling.command.AggregateNotFoundException.class)
    @ResponseStatus(HttpStatus.NOT_FOUND)
    public Map<String, String> notFound(org.axonframework.modelling.command.AggregateNotFoundException e) {
        return Map.of("error", "no order " + e.getAggregateIdentifier());
    }

    private static void require(boolean valid, String message) {
        if (!valid) {
            throw new BadRequest(message);
        }
    }

    private static final class BadRequest extends RuntimeException {
        private BadRequest(String message) {
            super(message);
        }
    }
}
