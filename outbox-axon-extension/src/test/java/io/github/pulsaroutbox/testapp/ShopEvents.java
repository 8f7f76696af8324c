package io.github.pulsaroutbox.testapp;

import org.axonframework.serialization.Revision;

/** Events of the test application. */
public final class ShopEvents {

    private ShopEvents() {
    }

    /** No {@code @Revision}: recorded as version "0". */
    public record OrderCreated(String orderId, String customer) {
    }

    @Revision("2")
    public record LineAdded(String orderId, int lineNumber, String product, int quantity) {
    }

    public record CounterCreated(String counterId) {
    }

    public record Incremented(String counterId, int value) {
    }

    /** Published through the event gateway, not by an aggregate. */
    public record Announcement(String text) {
    }
}
