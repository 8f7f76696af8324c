package io.github.pulsaroutbox;

/** The life cycle of an outbox row: PENDING → SENT, or PENDING → FAILED (parked) → PENDING (retried) / DISCARDED. */
public enum OutboxStatus {
    /** Committed, not yet acknowledged by the broker; possibly waiting for its next attempt. */
    PENDING,
    /** Acknowledged by the broker. */
    SENT,
    /** Parked for investigation with its error; later rows of the same aggregate wait behind it. */
    FAILED,
    /** Given up on, by an operator (with a reason) or by the failure policy; never sent. Kept for the record. */
    DISCARDED
}
