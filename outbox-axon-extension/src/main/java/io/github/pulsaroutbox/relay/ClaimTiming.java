package io.github.pulsaroutbox.relay;

import java.time.Duration;

/**
 * The intervals of segment claim work, all derived from the token store's claim timeout, so that a node that stops
 * extending its claims stops sending, and has its statements and idle transactions ended by the database, before
 * another node may claim its segments.
 *
 * @param claimTimeout the token store's claim timeout
 */
record ClaimTiming(Duration claimTimeout) {

    /**
     * How long after a successful extension a claim stays valid locally: half the claim timeout, so that a node whose
     * clock differs from the others' by less than that stops sending before its claim expires.
     */
    long validityNanos() {
        return claimTimeout.toNanos() / 2;
    }

    /** How often claims are extended: a fifth of the claim timeout (at least 50 ms). */
    Duration roundInterval() {
        return Duration.ofNanos(Math.max(claimTimeout.toNanos() / 5, 50_000_000L));
    }

    /**
     * The longest a statement of a claim or relay write waits for a row lock: a quarter of the claim timeout, so that a
     * lock held by a frozen node fails the statement (it is retried) well before this node's own claims lapse.
     */
    Duration lockWait() {
        return claimTimeout.dividedBy(4);
    }

    /**
     * The longest the database lets a session of this node sit idle inside a claim or relay write: half the claim
     * timeout. A node frozen inside such a transaction has its session ended and its locks released by then, before
     * another node can claim its segments.
     */
    Duration idleInTransactionLimit() {
        return claimTimeout.dividedBy(2);
    }
}
