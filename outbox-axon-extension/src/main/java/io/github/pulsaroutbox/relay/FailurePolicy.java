package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;

import java.time.Duration;

/**
 * Decides what happens to a row after a failed publish attempt: retry after a delay, park it for an operator, or
 * discard it. Whatever is decided, order per aggregate is kept: later rows of the aggregate wait while a row waits
 * for its retry or is parked.
 */
@FunctionalInterface
public interface FailurePolicy {

    /**
     * @param entry          the row as it was before this attempt
     * @param kind           the kind of failure
     * @param failedAttempts the number of failed attempts including this one
     * @return the decision
     */
    Decision decide(OutboxEntry entry, FailureKind kind, int failedAttempts);

    /**
     * A decision: an outcome, and for {@link Outcome#RETRY} the delay before the next attempt.
     *
     * @param outcome what to do
     * @param delay   the delay before the next attempt (zero unless retrying)
     */
    record Decision(Outcome outcome, Duration delay) {

        public static Decision retryAfter(Duration delay) {
            return new Decision(Outcome.RETRY, delay);
        }

        public static Decision park() {
            return new Decision(Outcome.PARK, Duration.ZERO);
        }

        public static Decision discard() {
            return new Decision(Outcome.DISCARD, Duration.ZERO);
        }
    }
}
