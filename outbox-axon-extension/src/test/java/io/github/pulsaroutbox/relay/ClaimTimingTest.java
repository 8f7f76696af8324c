package io.github.pulsaroutbox.relay;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The intervals derived from the claim timeout. */
class ClaimTimingTest {

    @Test
    void derivesEveryIntervalFromTheClaimTimeout() {
        ClaimTiming timing = new ClaimTiming(Duration.ofSeconds(10));

        assertThat(timing.validityNanos()).isEqualTo(Duration.ofSeconds(5).toNanos());
        assertThat(timing.roundInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(timing.lockWait()).isEqualTo(Duration.ofMillis(2_500));
        assertThat(timing.idleInTransactionLimit()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void roundsAreAtLeast50MillisecondsApart() {
        assertThat(new ClaimTiming(Duration.ofMillis(200)).roundInterval()).isEqualTo(Duration.ofMillis(50));
    }

    @Test
    void aStatementGivesUpOnALockBeforeAClaimLapsesLocally() {
        ClaimTiming timing = new ClaimTiming(Duration.ofMillis(500));

        assertThat(timing.lockWait().toNanos()).isLessThan(timing.validityNanos());
        assertThat(timing.roundInterval().toNanos()).isLessThan(timing.validityNanos());
    }
}
