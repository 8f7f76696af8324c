package io.github.pulsaroutbox.upcasting.current;

import org.axonframework.serialization.Revision;

/**
 * Version 3 of the event. History: v1 {@code {customerId, name, mail}}; v2 renamed {@code mail} to {@code email};
 * v3 split {@code name} into {@code firstName}/{@code lastName} and added {@code newsletter} (default false).
 */
@Revision("3")
public record CustomerRegistered(String customerId, String firstName, String lastName, String email,
                                 boolean newsletter) {
}
