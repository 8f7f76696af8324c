package org.axonframework.extensions.outbox;

/** The life cycle of an outbox row. */
public enum OutboxStatus {
    /** Committed, not yet acknowledged by the broker. */
    PENDING,
    /** Acknowledged by the broker. */
    SENT,
    /** Parked for investigation; later rows of the same aggregate wait behind it. */
    FAILED
}
