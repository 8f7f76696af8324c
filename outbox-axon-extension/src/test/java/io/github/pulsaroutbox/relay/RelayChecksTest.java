package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The checks of a relay's settings against each other. */
class RelayChecksTest {

    private final InMemoryOutboxStore store = new InMemoryOutboxStore();

    private static OutboxPublisher publisher(Duration sendTimeout) {
        return new OutboxPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public Optional<Duration> sendTimeout() {
                return Optional.ofNullable(sendTimeout);
            }
        };
    }

    private SegmentClaims claims(int segments) {
        return SegmentClaims.builder().tokenStore(new InMemoryTokenStore()).segmentCount(segments).build();
    }

    @Test
    void fittingSettingsPass() {
        assertThatCode(() -> RelayChecks.consistent(store, publisher(Duration.ofSeconds(30)),
                                                    claims(store.segmentCount()), Duration.ofSeconds(60)))
                .doesNotThrowAnyException();
        assertThatCode(() -> RelayChecks.consistent(store, publisher(null), null, Duration.ofMillis(1)))
                .doesNotThrowAnyException();
    }

    @Test
    void claimsMustSplitTheOutboxAsItsStoreDoes() {
        assertThatThrownBy(() -> RelayChecks.consistent(store, publisher(null), claims(store.segmentCount() + 1),
                                                        Duration.ofSeconds(60)))
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("pulsar-outbox.segments");
    }

    @Test
    void theAckTimeoutMustBeLongerThanThePublishersSendTimeout() {
        assertThatThrownBy(() -> RelayChecks.consistent(store, publisher(Duration.ofSeconds(60)), null,
                                                        Duration.ofSeconds(60)))
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("ackTimeout (PT1M)")
                .hasMessageContaining("send timeout (PT1M)");
    }
}
