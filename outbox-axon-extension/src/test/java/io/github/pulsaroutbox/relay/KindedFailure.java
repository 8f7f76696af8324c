package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;

/** A failure the test publishers of this package classify as {@link #kind}. */
final class KindedFailure extends RuntimeException {
    final FailureKind kind;

    KindedFailure(FailureKind kind, String message) {
        super(message);
        this.kind = kind;
    }
}
