package io.github.pulsaroutbox.tailing;

import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.config.Configuration;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.GlobalSequenceTrackingToken;
import org.axonframework.eventhandling.deadletter.DeadLetteringEventHandlerInvoker;
import org.axonframework.eventhandling.pooled.PooledStreamingEventProcessor;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.axonframework.messaging.deadletter.InMemorySequencedDeadLetterQueue;
import org.axonframework.messaging.deadletter.SequencedDeadLetterQueue;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.mockito.Answers;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** The tailing processor's parts, built from a mocked processing configuration. */
class TailingProcessorPartsTest {

    private static final String NAME = "tailing";

    private final InMemoryTokenStore tokenStore = new InMemoryTokenStore();
    private final Configuration config = mock(Configuration.class);
    private final EventProcessingConfiguration processing = mock(EventProcessingConfiguration.class);
    private final PooledStreamingEventProcessor.Builder processorBuilder =
            mock(PooledStreamingEventProcessor.Builder.class, Answers.RETURNS_SELF);
    private final TailingPublisher handler = mock(TailingPublisher.class);

    TailingProcessorPartsTest() {
        when(config.eventProcessingConfiguration()).thenReturn(processing);
        when(processing.tokenStore(NAME)).thenReturn(tokenStore);
        when(processing.transactionManager(NAME)).thenReturn(NoTransactionManager.instance());
    }

    @Test
    void beforeTheProcessorIsBuiltEveryPartIsAbsent() {
        TailingProcessorParts parts = new TailingProcessorParts(NAME, Duration.ofSeconds(2));

        assertThat(parts.tokenStore()).isNull();
        assertThat(parts.deadLetterProcessor()).isEmpty();
        assertThat(parts.deadLetters()).isEmpty();
        assertThat(parts.committedToken(0)).isEmpty();
        parts.stop(); // no balancer yet: nothing to stop
    }

    @Nested
    class Building {

        @Test
        void takesTheGroupsTokenStoreAndBalancesItsSegments() {
            TailingProcessorParts parts = new TailingProcessorParts(NAME, Duration.ofSeconds(2));

            TailingInvoker invoker = parts.build(config, processorBuilder, handler);

            assertThat(invoker).isNotNull();
            assertThat(parts.tokenStore()).isSameAs(tokenStore);
            verify(processorBuilder).maxSegmentProvider(any(TailingBalancer.class));
            verify(handler).deadLettering(false);
            assertThat(parts.deadLetters()).isEmpty();
            assertThat(parts.deadLetterProcessor()).isEmpty();
        }

        @Test
        void withoutAHeartbeatLeavesTheSegmentsToAxon() {
            new TailingProcessorParts(NAME, null).build(config, processorBuilder, handler);

            verify(processorBuilder, never()).maxSegmentProvider(any());
        }

        @Test
        void withADeadLetterQueueParksEventsThereAndOffersTheOperatorsActions() {
            SequencedDeadLetterQueue<EventMessage<?>> queue = InMemorySequencedDeadLetterQueue.defaultQueue();
            when(processing.deadLetterQueue(NAME)).thenReturn(Optional.of(queue));
            TailingProcessorParts parts = new TailingProcessorParts(NAME, null);

            TailingInvoker invoker = parts.build(config, processorBuilder, handler);

            verify(handler).deadLettering(true);
            assertThat(invoker.deadLetterProcessor()).containsInstanceOf(DeadLetteringEventHandlerInvoker.class);
            assertThat(parts.deadLetterProcessor()).isPresent();
            assertThat(parts.deadLetters()).isPresent();
        }
    }

    @Test
    void onceStartedGivesEachSegmentsCommittedTokenFromTheProcessorsStatus() {
        PooledStreamingEventProcessor processor = mock(PooledStreamingEventProcessor.class);
        EventTrackerStatus status = mock(EventTrackerStatus.class);
        when(status.getTrackingToken()).thenReturn(new GlobalSequenceTrackingToken(41));
        when(processor.processingStatus()).thenReturn(Map.of(1, status));
        when(processing.eventProcessor(NAME, PooledStreamingEventProcessor.class)).thenReturn(Optional.of(processor));
        TailingProcessorParts parts = new TailingProcessorParts(NAME, null);

        parts.start(config);

        assertThat(parts.committedToken(1)).contains(new GlobalSequenceTrackingToken(41));
        assertThat(parts.committedToken(0)).isEmpty();
    }
}
