package io.github.pulsaroutbox.demo.order;

import org.axonframework.serialization.Revision;

/** What happened to an order: the events other services learn about through Pulsar. */
public final class OrderEvents {

    private OrderEvents() {
    }

    public record OrderPlaced(String orderId, String customer) {
    }

    /**
     * Version 2: the previous release (version 1) called {@code sku} {@code product}; {@link LineAddedUpcaster}
     * converts stored events and pending outbox rows alike.
     */
    @Revision("2")
    public record LineAdded(String orderId, int lineNumber, String sku, int quantity) {
    }

    public record OrderConfirmed(String orderId, int lines) {
    }

    public record OrderCancelled(String orderId, String reason) {
    }
}
