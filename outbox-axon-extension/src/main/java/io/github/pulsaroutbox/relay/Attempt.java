package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;

/** A failed attempt to deliver a row: what kind of failure, and its message (stored on the row). */
record Attempt(FailureKind kind, String error) {

    /** The attempt a transport error stands for, classified by the publisher; {@code null} for no error. */
    static Attempt of(Throwable error, OutboxPublisher publisher) {
        return error == null ? null : new Attempt(publisher.classify(error),
                                                  error.getClass().getSimpleName() + ": " + error.getMessage());
    }
}
