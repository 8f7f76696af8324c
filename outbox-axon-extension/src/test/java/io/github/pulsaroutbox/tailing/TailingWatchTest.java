package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.relay.RelayHealth;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The tailing publisher's view of the broker that health checks read. */
class TailingWatchTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private final AtomicReference<Instant> now = new AtomicReference<>(T0);
    private final TailingWatch watch = new TailingWatch(new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneId.of("UTC");
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    });

    @Test
    void aSegmentWaitsFromItsFirstAttemptThroughFailuresUntilABatchIsAcknowledged() {
        watch.waiting(2);
        now.set(T0.plusSeconds(3));
        watch.failed(FailureKind.TIMEOUT, "no acknowledgement");
        watch.waiting(2); // the retried batch

        RelayHealth failing = watch.snapshot();
        assertThat(failing.openingSince()).containsEntry("segment 2", T0);
        assertThat(failing.openingFor(T0.plusSeconds(10))).isEqualTo(Duration.ofSeconds(10));
        assertThat(failing.failingSince()).isEqualTo(T0.plusSeconds(3));
        assertThat(failing.lastFailureKind()).isEqualTo(FailureKind.TIMEOUT);

        now.set(T0.plusSeconds(11));
        watch.acknowledged(2);
        RelayHealth fine = watch.snapshot();
        assertThat(fine.openingSince()).isEmpty();
        assertThat(fine.failingSince()).isNull();
        assertThat(fine.lastFailure()).isNull();
        assertThat(fine.lastAcknowledged()).isEqualTo(T0.plusSeconds(11));
    }

    @Test
    void aReleasedSegmentNoLongerWaits() {
        watch.waiting(1);
        watch.waiting(-1);
        watch.released(1);
        assertThat(watch.snapshot().openingSince()).containsOnlyKeys("all segments");
    }
}
