package io.github.pulsaroutbox.tailing;

import io.github.pulsaroutbox.relay.OutboxPublisher;
import io.github.pulsaroutbox.OutboxEntry;
import org.axonframework.common.AxonConfigurationException;
import org.axonframework.serialization.json.JacksonSerializer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventStoreTailingModuleTest {

    private static OutboxPublisher publisher(int maxPending) {
        return new OutboxPublisher() {
            @Override
            public int maxPendingSends() {
                return maxPending;
            }

            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
                return CompletableFuture.completedFuture(null);
            }
        };
    }

    private static EventStoreTailingModule.Builder builder(int maxPending, int batchSize) {
        return EventStoreTailingModule.builder()
                                      .serializer(JacksonSerializer.defaultSerializer())
                                      .publisher(publisher(maxPending))
                                      .topicResolver((type, annotated) -> Optional.of("t"))
                                      .batchSize(batchSize);
    }

    @Nested
    class Validation {

        @Test
        void aBatchFitsIntoTheProducersQueueWhichNeverBlocks() {
            assertThatCode(() -> builder(1000, 1000).build()).doesNotThrowAnyException();
            assertThatCode(() -> builder(0, 10_000).build()).as("0: no limit").doesNotThrowAnyException();
            assertThatThrownBy(() -> builder(100, 500).build())
                    .isInstanceOf(AxonConfigurationException.class)
                    .hasMessageContaining("batchSize (500)")
                    .hasMessageContaining("maxPendingMessages (100)");
        }

        @Test
        void thePartsItCannotWorkWithoutAreRequired() {
            assertThatThrownBy(() -> EventStoreTailingModule.builder().publisher(publisher(0))
                                                            .topicResolver((type, annotated) -> Optional.empty())
                                                            .build())
                    .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("Serializer");
        }
    }
}
