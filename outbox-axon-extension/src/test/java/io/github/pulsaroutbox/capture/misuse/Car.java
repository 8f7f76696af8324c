package io.github.pulsaroutbox.capture.misuse;

import io.github.pulsaroutbox.Outbox;

/** A subtype of {@link Vehicle} carrying {@code @Outbox}: its events would carry the root's type. */
@Outbox(topic = "cars")
public class Car extends Vehicle {

    protected Car() {
    }
}
