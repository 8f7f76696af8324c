package io.github.pulsaroutbox.demo.order;

import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** What can be asked of an order. */
public final class OrderCommands {

    private OrderCommands() {
    }

    public record PlaceOrder(String orderId, String customer) {
    }

    public record AddLine(@TargetAggregateIdentifier String orderId, String product, int quantity) {
    }

    public record ConfirmOrder(@TargetAggregateIdentifier String orderId) {
    }

    public record CancelOrder(@TargetAggregateIdentifier String orderId, String reason) {
    }
}
