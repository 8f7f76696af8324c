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
 * @param openingSince            destinations (topics) whose producers are being opened, with when the first attempt
 *                                since they were last open started: an unreachable broker shows here before the
 *                                client's own time-out fails the attempt
 */
public record RelayHealth(Instant lastAcknowledged, Instant failingSince, FailureKind lastFailureKind,
                          String lastFailure, Map<String, String> unavailableDestinations,
                          Map<FailureKind, Long> parkedSinceStart, Map<String, Instant> openingSince) {

    /** A snapshot without producer openings under way. */
    public RelayHealth(Instant lastAcknowledged, Instant failingSince, FailureKind lastFailureKind,
                       String lastFailure, Map<String, String> unavailableDestinations,
                       Map<FailureKind, Long> parkedSinceStart) {
        this(lastAcknowledged, failingSince, lastFailureKind, lastFailure, unavailableDestinations, parkedSinceStart,
             Map.of());
    }

    /**
     * How long the longest producer opening has gone without success (no answer yet, or failed and retried), at
     * {@code now}; zero when none is under way.
     */
    public Duration openingFor(Instant now) {
        return openingSince.values().stream().min(Instant::compareTo).map(since -> Duration.between(since, now))
                           .orElse(Duration.ZERO);
    }

    /** How long sends have failed without any acknowledgement, at {@code now}; zero when they are not failing. */
    public Duration failingFor(Instant now) {
        return failingSince == null ? Duration.ZERO : Duration.between(failingSince, now);
    }
}
