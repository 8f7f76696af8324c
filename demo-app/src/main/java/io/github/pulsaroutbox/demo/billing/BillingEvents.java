package io.github.pulsaroutbox.demo.billing;

import org.axonframework.serialization.Revision;

/**
 * The order events as billing reads them from Pulsar: billing's own classes (it shares no code with the order
 * service), mapped from the messages' {@code ce_type} by {@code pulsar-outbox.receiving.types}.
 */
public final class BillingEvents {

    private BillingEvents() {
    }

    public record OrderPlaced(String orderId, String customer) {
    }

    /** The order service publishes version 2 (its own upcaster brings older rows there before they are sent). */
    @Revision("2")
    public record LineAdded(String orderId, int lineNumber, String sku, int quantity) {
    }

    public record OrderConfirmed(String orderId, int lines) {
    }

    public record OrderCancelled(String orderId, String reason) {
    }
}
