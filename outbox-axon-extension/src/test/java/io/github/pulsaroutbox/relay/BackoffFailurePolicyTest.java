package io.github.pulsaroutbox.relay;

import org.axonframework.common.AxonConfigurationException;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffFailurePolicyTest {

    private final OutboxEntry entry = OutboxEntry.pending("e", Instant.now(), "Evt", "Order", "A", 0, "{}", "{}", "0",
                                                          null);

    @Test
    void delaysGrowExponentiallyUpToTheMaximum() {
        BackoffFailurePolicy policy = BackoffFailurePolicy.builder().initialDelay(Duration.ofSeconds(1))
                                                          .multiplier(3).maxDelay(Duration.ofSeconds(20))
                                                          .jitter(0).build();
        assertThat(policy.delay(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(policy.delay(2)).isEqualTo(Duration.ofSeconds(3));
        assertThat(policy.delay(3)).isEqualTo(Duration.ofSeconds(9));
        assertThat(policy.delay(4)).isEqualTo(Duration.ofSeconds(20));
        assertThat(policy.delay(50)).isEqualTo(Duration.ofSeconds(20));
    }

    @Test
    void jitterSpreadsDelaysWithinItsBounds() {
        BackoffFailurePolicy policy = BackoffFailurePolicy.builder().initialDelay(Duration.ofSeconds(10))
                                                          .jitter(0.2).build();
        for (int i = 0; i < 200; i++) {
            assertThat(policy.delay(1)).isBetween(Duration.ofMillis(8000), Duration.ofMillis(12000));
        }
    }

    @Test
    void retryableFailuresRetryUntilTheLastAttemptThenPark() {
        BackoffFailurePolicy policy = BackoffFailurePolicy.builder().maxAttempts(3).build();
        assertThat(policy.decide(entry, FailureKind.TRANSIENT, 1).outcome()).isEqualTo(Outcome.RETRY);
        assertThat(policy.decide(entry, FailureKind.TIMEOUT, 2).outcome()).isEqualTo(Outcome.RETRY);
        assertThat(policy.decide(entry, FailureKind.TRANSIENT, 3).outcome()).isEqualTo(Outcome.PARK);
    }

    @ParameterizedTest
    @EnumSource(value = FailureKind.class, names = {"NOT_AUTHORIZED", "NOT_FOUND"})
    void failuresThatOftenPassAreRetriedForABoundedTimeThenParked(FailureKind kind) {
        BackoffFailurePolicy policy = BackoffFailurePolicy.builder().maxAttempts(4).build();
        assertThat(policy.decide(entry, kind, 1).outcome()).isEqualTo(Outcome.RETRY);
        assertThat(policy.decide(entry, kind, 3).outcome()).isEqualTo(Outcome.RETRY);
        assertThat(policy.decide(entry, kind, 4).outcome()).isEqualTo(Outcome.PARK);
    }

    @ParameterizedTest
    @EnumSource(value = FailureKind.class, names = {"TIMEOUT", "UNAVAILABLE"})
    void brokerOutagesAreRetriedForAsLongAsTheyLastNeverParked(FailureKind kind) {
        BackoffFailurePolicy policy = BackoffFailurePolicy.builder().maxAttempts(3).maxDelay(Duration.ofMinutes(5))
                                                          .jitter(0.2).build();
        FailurePolicy.Decision decision = policy.decide(entry, kind, 500);
        assertThat(decision.outcome()).isEqualTo(Outcome.RETRY);
        assertThat(decision.delay()).isLessThanOrEqualTo(Duration.ofMinutes(6)); // max delay, with jitter
        assertThat(policy.decide(entry, FailureKind.TRANSIENT, 3).outcome()).isEqualTo(Outcome.PARK);
    }

    @ParameterizedTest
    @EnumSource(value = FailureKind.class, names = {"NO_ROUTE", "UNKNOWN_TOPIC", "REFUSED", "MESSAGE_TOO_LARGE",
            "UNREADABLE_PAYLOAD", "UPCAST_FAILED"})
    void failuresThatRetryingCannotFixParkAtOnce(FailureKind kind) {
        assertThat(BackoffFailurePolicy.defaults().decide(entry, kind, 1).outcome()).isEqualTo(Outcome.PARK);
    }

    @Test
    void outcomePerKindCanBeOverridden() {
        BackoffFailurePolicy policy = BackoffFailurePolicy.builder()
                                                          .outcome(FailureKind.MESSAGE_TOO_LARGE, Outcome.DISCARD)
                                                          .outcome(FailureKind.TRANSIENT, Outcome.PARK)
                                                          .build();
        assertThat(policy.decide(entry, FailureKind.MESSAGE_TOO_LARGE, 1).outcome()).isEqualTo(Outcome.DISCARD);
        assertThat(policy.decide(entry, FailureKind.TRANSIENT, 1).outcome()).isEqualTo(Outcome.PARK);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> BackoffFailurePolicy.builder().multiplier(0.5))
                .isInstanceOf(AxonConfigurationException.class);
        assertThatThrownBy(() -> BackoffFailurePolicy.builder().maxAttempts(0))
                .isInstanceOf(AxonConfigurationException.class);
        assertThatThrownBy(() -> BackoffFailurePolicy.builder().jitter(1.5))
                .isInstanceOf(AxonConfigurationException.class);
    }
}
