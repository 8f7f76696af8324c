package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** The relay thread's work on a (mocked) pipeline: stepping, backing off, finishing and handing segments back. */
class RelayLoopTest {

    private static final Duration POLL_INTERVAL = Duration.ofMillis(50);

    private final RelayPipeline pipeline = mock(RelayPipeline.class);
    private final RelaySignals signals = new RelaySignals(() -> true);
    private final List<Integer> closedSegments = new CopyOnWriteArrayList<>();
    private final OutboxPublisher publisher = new OutboxPublisher() {
        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new AssertionError("nothing is sent here");
        }

        @Override
        public void closeSegment(int segment) {
            closedSegments.add(segment);
        }
    };

    private RelayLoop loop(SegmentClaims claims) {
        return new RelayLoop(publisher, claims, null, signals, POLL_INTERVAL, Duration.ofMillis(10), 2, "test");
    }

    /** True for the first {@code steps} calls. */
    private static java.util.function.BooleanSupplier steps(int steps) {
        AtomicInteger calls = new AtomicInteger();
        return () -> calls.getAndIncrement() < steps;
    }

    private static SegmentClaims ownedClaims() {
        SegmentClaims claims = SegmentClaims.builder().tokenStore(new InMemoryTokenStore()).segmentCount(2).build();
        claims.initialize();
        claims.round();
        assertThat(claims.ownedSegments()).containsExactlyInAnyOrder(0, 1);
        return claims;
    }

    @Nested
    class Running {

        @Test
        void stepsWhileTheRelayRunsThenFinishesThePipeline() throws Exception {
            loop(null).run(pipeline, steps(3));

            var order = inOrder(pipeline);
            order.verify(pipeline, times(3)).step();
            order.verify(pipeline).finish();
            verify(pipeline, never()).abandon();
        }

        @Test
        void aStepThatCaughtUpWaitsForWorkTakingTheWakeUps() throws Exception {
            when(pipeline.step()).thenReturn(true);
            signals.wakeUp();

            loop(null).run(pipeline, steps(1));

            assertThat(signals.takeWakeUp()).isFalse();
        }

        @Test
        void aFailedStepAbandonsTheQueuedRowsAndBacksOffBeforeTheNext() throws Exception {
            when(pipeline.step()).thenThrow(new IllegalStateException("database down")).thenReturn(false);
            long started = System.nanoTime();

            loop(null).run(pipeline, steps(2));

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(POLL_INTERVAL);
            verify(pipeline).abandon();
            verify(pipeline, times(2)).step();
            verify(pipeline).finish();
        }

        @Test
        void anInterruptionOrAnUnexpectedErrorEndsItWithoutFinishing() throws Exception {
            when(pipeline.step()).thenThrow(new InterruptedException()).thenThrow(new AssertionError("bug"));

            loop(null).run(pipeline, () -> true);
            loop(null).run(pipeline, () -> true);

            verify(pipeline, times(2)).step();
            verify(pipeline, never()).finish();
        }

        @Test
        void backsOffAtMost30SecondsOrWithClaimsOneClaimRound() {
            assertThat(loop(null).maxErrorBackoff()).isEqualTo(Duration.ofSeconds(30));
            SegmentClaims claims = SegmentClaims.builder().tokenStore(new InMemoryTokenStore()).build();
            assertThat(loop(claims).maxErrorBackoff()).isEqualTo(claims.roundInterval());
        }
    }

    @Nested
    class Ending {

        @Test
        void withoutClaimsOnlyClosesThePipeline() {
            loop(null).end(pipeline);

            verify(pipeline).close();
            assertThat(closedSegments).isEmpty();
        }

        @Test
        void closesEverySegmentsProducersThenReleasesTheClaims() {
            SegmentClaims claims = ownedClaims();
            when(pipeline.close()).thenReturn(true);

            loop(claims).end(pipeline);

            assertThat(closedSegments).containsExactly(0, 1);
            assertThat(claims.ownedSegments()).isEmpty();
        }

        @Test
        void leavesTheClaimsToExpireWhileSequenceIdsAreStillBeingPersisted() {
            SegmentClaims claims = ownedClaims();
            when(pipeline.close()).thenReturn(false);

            loop(claims).end(pipeline);

            assertThat(closedSegments).containsExactly(0, 1);
            assertThat(claims.ownedSegments()).containsExactlyInAnyOrder(0, 1);
        }
    }
}
