package io.github.pulsaroutbox.testapp;

import org.axonframework.modelling.command.TargetAggregateIdentifier;

/** Commands of the test application. */
public final class ShopCommands {

    private ShopCommands() {
    }

    public record CreateOrder(String orderId, String customer) {
    }

    public record AddLine(@TargetAggregateIdentifier String orderId, String product, int quantity) {
    }

    public record AddLineThenFail(@TargetAggregateIdentifier String orderId) {
    }

    public record CreateCounter(String counterId) {
    }

    public record Increment(@TargetAggregateIdentifier String counterId) {
    }
}
