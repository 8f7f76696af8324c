package io.github.pulsaroutbox.relay;

import org.axonframework.common.AxonConfigurationException;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.axonframework.common.BuilderUtils.assertThat;

/**
 * The default {@link FailurePolicy}: exponential backoff with jitter for retryable failures, parking after the
 * maximum number of attempts, and parking at once for failures retrying cannot fix ({@link FailureKind#isRetryable()}
 * false: no route, unknown or refused topic, message too large, unreadable payload, failed upcast). The outcome per
 * kind can be overridden (e.g. discard instead of park).
 * <p>
 * Delay of attempt {@code n} (1-based): {@code min(maxDelay, initialDelay × multiplier^(n-1))}, then spread by
 * ±{@code jitter} (a fraction) so that rows failing together do not retry together.
 */
public final class BackoffFailurePolicy implements FailurePolicy {

    private final Duration initialDelay;
    private final double multiplier;
    private final Duration maxDelay;
    private final int maxAttempts;
    private final double jitter;
    private final Map<FailureKind, Outcome> outcomes;

    private BackoffFailurePolicy(Builder builder) {
        this.initialDelay = builder.initialDelay;
        this.multiplier = builder.multiplier;
        this.maxDelay = builder.maxDelay;
        this.maxAttempts = builder.maxAttempts;
        this.jitter = builder.jitter;
        this.outcomes = new EnumMap<>(builder.outcomes);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The policy with all defaults. */
    public static BackoffFailurePolicy defaults() {
        return builder().build();
    }

    @Override
    public Decision decide(OutboxEntry entry, FailureKind kind, int failedAttempts) {
        Outcome outcome = outcomes.getOrDefault(kind, kind.isRetryable() ? Outcome.RETRY : Outcome.PARK);
        return switch (outcome) {
            case PARK -> Decision.park();
            case DISCARD -> Decision.discard();
            case RETRY -> failedAttempts >= maxAttempts && !kind.isRetriedUntilResolved()
                    ? Decision.park() : Decision.retryAfter(delay(failedAttempts));
        };
    }

    /** The delay before the attempt after {@code failedAttempts} failures, with jitter. */
    Duration delay(int failedAttempts) {
        double base = initialDelay.toMillis() * Math.pow(multiplier, Math.max(0, failedAttempts - 1));
        double capped = Math.min(base, maxDelay.toMillis());
        double spread = jitter == 0 ? 0 : ThreadLocalRandom.current().nextDouble(-jitter, jitter);
        return Duration.ofMillis(Math.max(0, Math.round(capped * (1 + spread))));
    }

    /**
     * Builds a {@link BackoffFailurePolicy}. Defaults: initial delay 1 s, multiplier 2, max delay 5 min, 10 attempts,
     * jitter 0.2; retryable kinds retry, the others park.
     */
    public static final class Builder {
        private Duration initialDelay = Duration.ofSeconds(1);
        private double multiplier = 2.0;
        private Duration maxDelay = Duration.ofMinutes(5);
        private int maxAttempts = 10;
        private double jitter = 0.2;
        private final Map<FailureKind, Outcome> outcomes = new EnumMap<>(FailureKind.class);

        private Builder() {
        }

        public Builder initialDelay(Duration initialDelay) {
            assertThat(initialDelay, d -> d != null && !d.isNegative(), "initialDelay may not be negative");
            this.initialDelay = initialDelay;
            return this;
        }

        public Builder multiplier(double multiplier) {
            assertThat(multiplier, m -> m >= 1.0, "multiplier must be at least 1");
            this.multiplier = multiplier;
            return this;
        }

        public Builder maxDelay(Duration maxDelay) {
            assertThat(maxDelay, d -> d != null && !d.isNegative(), "maxDelay may not be negative");
            this.maxDelay = maxDelay;
            return this;
        }

        /** Failed attempts after which a retryable failure parks the row. */
        public Builder maxAttempts(int maxAttempts) {
            assertThat(maxAttempts, n -> n >= 1, "maxAttempts must be at least 1");
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** Random spread of each delay, as a fraction in [0, 1). */
        public Builder jitter(double jitter) {
            assertThat(jitter, j -> j >= 0 && j < 1, "jitter must be in [0, 1)");
            this.jitter = jitter;
            return this;
        }

        /** What to do on a failure of this kind (RETRY still parks after the maximum attempts). */
        public Builder outcome(FailureKind kind, Outcome outcome) {
            if (kind == null || outcome == null) {
                throw new AxonConfigurationException("kind and outcome may not be null");
            }
            outcomes.put(kind, outcome);
            return this;
        }

        public BackoffFailurePolicy build() {
            return new BackoffFailurePolicy(this);
        }
    }
}
