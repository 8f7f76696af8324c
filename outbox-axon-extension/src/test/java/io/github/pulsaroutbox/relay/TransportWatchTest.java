package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

/** The relay's view of the broker that health checks read. */
class TransportWatchTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Nested
    class Failures {

        @Test
        void anEpisodeStartsAtTheFirstFailureAndEndsWithTheNextAcknowledgement() {
            TransportWatch watch = new TransportWatch();
            watch.failed(FailureKind.UNAVAILABLE, "refused", T0);
            watch.failed(FailureKind.TIMEOUT, "no answer", T0.plusSeconds(5));

            RelayHealth failing = watch.snapshot();
            assertThat(failing.failingSince()).isEqualTo(T0);
            assertThat(failing.lastFailureKind()).isEqualTo(FailureKind.TIMEOUT);
            assertThat(failing.failingFor(T0.plusSeconds(7))).isEqualTo(Duration.ofSeconds(7));

            watch.acknowledged(T0.plusSeconds(8));
            RelayHealth fine = watch.snapshot();
            assertThat(fine.failingSince()).isNull();
            assertThat(fine.lastFailure()).isNull();
            assertThat(fine.lastAcknowledged()).isEqualTo(T0.plusSeconds(8));
        }
    }

    @Nested
    class Openings {

        @Test
        void anOpeningCountsFromItsFirstAttemptUntilTheDestinationIsAvailable() {
            TransportWatch watch = new TransportWatch(Clock.fixed(T0, ZoneOffset.UTC));
            watch.opening("a");
            watch.unavailable("a", "UNAVAILABLE: refused");

            assertThat(watch.snapshot().openingSince()).containsEntry("a", T0);
            assertThat(watch.snapshot().openingFor(T0.plusSeconds(6))).isEqualTo(Duration.ofSeconds(6));
            assertThat(watch.snapshot().unavailableDestinations()).containsKey("a");

            watch.available("a");
            assertThat(watch.snapshot().openingSince()).isEmpty();
            assertThat(watch.snapshot().unavailableDestinations()).isEmpty();
            assertThat(watch.snapshot().openingFor(T0.plusSeconds(6))).isZero();
        }
    }
}
