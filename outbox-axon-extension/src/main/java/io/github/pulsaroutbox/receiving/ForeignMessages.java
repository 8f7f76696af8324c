package io.github.pulsaroutbox.receiving;

/**
 * What a {@link PulsarSubscribableMessageSource} does with a message it cannot turn into an event: one this library did
 * not publish (no {@code ce_id} / {@code ce_type} properties), or of a {@code ce_type} no class is mapped to.
 */
public enum ForeignMessages {
    /** Acknowledged and skipped, with a warning naming the topic, message id and type (the default). */
    SKIP,
    /**
     * Held: the consumer tries it again (backing off) and takes no later message until a mapping for it is deployed
     * and the service restarted, or an operator removes it from the subscription. Nothing is skipped unseen.
     */
    HOLD
}
