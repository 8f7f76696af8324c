package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What a relay saw of the broker lately, for health checks and operators: a snapshot, never blocking the relay.
 *
 * @param lastAcknowledged        when the broker last acknowledged a row, or {@code null} if never since the start
 * @param failingSince            when sends started failing in a way retrying may fix (a broker outage, an
 *                                unreachable topic, a permission not granted yet: {@link FailureKind#isRetryable()})
 *                                with no acknowledgement since, or {@code null}; refusals are parked instead and
 *                                counted in {@code parkedSinceStart}
 * @param lastFailureKind         the kind of the latest failure since then, or {@code null}
 * @param lastFailure             its error message, or {@code null}
 * @param unavailableDestinations destinations (topics) whose producers could not be opened at the last attempt for a
 *                                reason retrying may fix, with the reason; they are tried again with backoff
 * @param parkedSinceStart        rows this relay parked since it was built, by failure kind
 */
public record RelayHealth(Instant lastAcknowledged, Instant failingSince, FailureKind lastFailureKind,
                          String lastFailure, Map<String, String> unavailableDestinations,
                          Map<FailureKind, Long> parkedSinceStart) {

    /** How long sends have failed without any acknowledgement, at {@code now}; zero when they are not failing. */
    public Duration failingFor(Instant now) {
        return failingSince == null ? Duration.ZERO : Duration.between(failingSince, now);
    }
}
