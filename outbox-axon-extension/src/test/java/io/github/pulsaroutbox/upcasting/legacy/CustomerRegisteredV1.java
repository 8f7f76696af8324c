package io.github.pulsaroutbox.upcasting.legacy;

/** Version 1 of CustomerRegistered, as the previous deploy had it. */
public record CustomerRegisteredV1(String customerId, String name, String mail) {
}
