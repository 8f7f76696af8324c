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
        return publisher(sendTimeout, Integer.MAX_VALUE);
    }

    private static OutboxPublisher publisher(Duration sendTimeout, int maxPending) {
        return new OutboxPublisher() {
            @Override
            public int maxPendingSends() {
                return maxPending;
            }

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
                                                    claims(store.segmentCount()), Duration.ofSeconds(60), 1000))
                .doesNotThrowAnyException();
        assertThatCode(() -> RelayChecks.consistent(store, publisher(null), null, Duration.ofMillis(1), 1000))
                .doesNotThrowAnyException();
    }

    @Test
    void claimsMustSplitTheOutboxAsItsStoreDoes() {
        assertThatThrownBy(() -> RelayChecks.consistent(store, publisher(null), claims(store.segmentCount() + 1),
                                                        Duration.ofSeconds(60), 1000))
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("pulsar-outbox.segments");
    }

    @Test
    void theAckTimeoutMustBeLongerThanThePublishersSendTimeout() {
        assertThatThrownBy(() -> RelayChecks.consistent(store, publisher(Duration.ofSeconds(60)), null,
                                                        Duration.ofSeconds(60), 1000))
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("ackTimeout (PT1M)")
                .hasMessageContaining("send timeout (PT1M)");
    }

    /* A full producer queue blocks sendAsync: the relay thread would stop keeping claims and recording. */
    @Test
    void noMoreSendsInFlightThanAProducerQueues() {
        assertThatCode(() -> RelayChecks.consistent(store, publisher(null, 1000), null, Duration.ofSeconds(60), 1000))
                .doesNotThrowAnyException();
        assertThatCode(() -> RelayChecks.consistent(store, publisher(null, 0), null, Duration.ofSeconds(60), 1000))
                .as("0: no limit, as Pulsar's").doesNotThrowAnyException();
        assertThatThrownBy(() -> RelayChecks.consistent(store, publisher(null, 500), null, Duration.ofSeconds(60),
                                                        1000))
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("maxInFlight (1000)")
                .hasMessageContaining("maxPendingMessages (500)");
    }
}
