package io.github.pulsaroutbox;

/**
 * Why a row could not be published. The failure policy decides per kind whether to retry, park or discard; metrics
 * count failures by kind.
 */
public enum FailureKind {
    /** A passing fault (connection lost, broker busy, ...): worth retrying. */
    TRANSIENT(true),
    /**
     * The broker did not acknowledge in time: retried with backoff until it does, never parked for it (an outage
     * longer than the retry schedule must not park every row it touched).
     */
    TIMEOUT(true, true),
    /**
     * The broker cannot be reached (connection refused or lost, lookup failed), or another node's producer still
     * holds the segment's producer name (until the broker notices that node is gone): retried with backoff until it
     * is resolved, never parked for it.
     */
    UNAVAILABLE(true, true),
    /**
     * The client had no room for the message (its producer's pending-message queue or the client's memory limit is
     * full, e.g. other producers of a shared client use it): the message never left the client, so it is retried
     * until there is room, never parked for it. The relay and the tailing processor never block on a full queue.
     */
    BUSY(true, true),
    /** No topic is configured for the row's aggregate type. */
    NO_ROUTE(false),
    /** The broker says the topic does not exist (and does not create it): parked at once. */
    UNKNOWN_TOPIC(false),
    /**
     * A lookup answered "not found" without saying the topic does not exist: a namespace bundle moving between
     * brokers (unloading, splitting) or a namespace being created answers this for a moment. Retried with backoff up
     * to the policy's maximum attempts (about 13.5 minutes with the defaults), then parked.
     */
    NOT_FOUND(true),
    /**
     * Authentication or authorization failed (an expired token, a permission not granted yet): often passing, so
     * retried with backoff up to the policy's maximum attempts (about 13.5 minutes with the defaults), then parked.
     */
    NOT_AUTHORIZED(true),
    /** The broker refuses the producer or the message (terminated topic, incompatible schema, topic policy). */
    REFUSED(false),
    /** The message exceeds the broker's size limit. */
    MESSAGE_TOO_LARGE(false),
    /** The payload could not be serialized at capture or read at relay time. */
    UNREADABLE_PAYLOAD(false),
    /** An upcaster failed, or the row's version is newer than the running code knows. */
    UPCAST_FAILED(false),
    /**
     * The broker acknowledged the row, but the store did not record it SENT (the update found it no longer
     * pending, e.g. an index out of step with the table after a crash): sending it again would duplicate it, so the
     * relay stops sending it and parks it for an operator to check.
     */
    NOT_RECORDED(false);

    private final boolean retryable;
    private final boolean retriedUntilResolved;

    /**
     * Whether the broker may have stored the message although the send failed this way (the outcome is unknown:
     * time-outs, lost connections, other passing faults, or a row acknowledged but not recorded). Such a row keeps its
     * broker sequence id until the relay has asked the broker what it stored (see {@code docs/guarantees.md}); a row
     * refused outright gets a new, higher id when it is retried, so deduplication can never drop it.
     */
    public boolean mayHaveBeenStored() {
        return this == TRANSIENT || this == TIMEOUT || this == UNAVAILABLE || this == NOT_RECORDED;
    }

    FailureKind(boolean retryable) {
        this(retryable, false);
    }

    FailureKind(boolean retryable, boolean retriedUntilResolved) {
        this.retryable = retryable;
        this.retriedUntilResolved = retriedUntilResolved;
    }

    /**
     * Whether a row failing this way is retried for as long as it takes (broker outages), instead of being parked
     * after the failure policy's maximum attempts.
     */
    public boolean isRetriedUntilResolved() {
        return retriedUntilResolved;
    }

    /** Whether retrying can help without someone changing something first. */
    public boolean isRetryable() {
        return retryable;
    }
}
