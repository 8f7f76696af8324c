package org.axonframework.extensions.outbox.demo.order;

/** What happened to an order: the events other services learn about through Pulsar. */
public final class OrderEvents {

    private OrderEvents() {
    }

    public record OrderPlaced(String orderId, String customer) {
    }

    public record LineAdded(String orderId, int lineNumber, String product, int quantity) {
    }

    public record OrderConfirmed(String orderId, int lines) {
    }

    public record OrderCancelled(String orderId, String reason) {
    }
}
