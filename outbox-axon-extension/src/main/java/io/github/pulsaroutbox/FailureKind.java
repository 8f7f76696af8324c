package io.github.pulsaroutbox;

/**
 * Why a row could not be published. The failure policy decides per kind whether to retry, park or discard; metrics
 * count failures by kind.
 */
public enum FailureKind {
    /** A passing fault (connection lost, broker busy, ...): worth retrying. */
    TRANSIENT(true),
    /** The broker did not acknowledge in time: worth retrying. */
    TIMEOUT(true),
    /** No topic is configured for the row's aggregate type. */
    NO_ROUTE(false),
    /** The broker says the topic (or its tenant/namespace) does not exist. */
    UNKNOWN_TOPIC(false),
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

    FailureKind(boolean retryable) {
        this.retryable = retryable;
    }

    /** Whether retrying can help without someone changing something first. */
    public boolean isRetryable() {
        return retryable;
    }
}
