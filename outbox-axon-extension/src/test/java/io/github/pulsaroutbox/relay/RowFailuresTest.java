package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore.Sequenced;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** What a failed row does to its aggregate, its sequence id, its producer session and its segment. */
class RowFailuresTest {

    private static final Instant NOW = Instant.parse("2024-05-01T10:00:00Z");
    private static final int SEGMENTS = 4;
    private static final String TOPIC = "orders";
    private static final long SEQUENCE = 9;

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final ClearingStore store = new ClearingStore();
    private final SegmentClaims claims = SegmentClaims.builder().tokenStore(new InMemoryTokenStore() {
        @Override
        public void extendClaim(String processorName, int segment) {
            events.add("fence " + segment);
        }
    }).segmentCount(SEGMENTS).processorName("outbox").nanoTime(nanos::get).build();
    private final FencedWrites writes = new FencedWrites(NoTransactionManager.instance(), store, claims);
    private final TransportWatch transport = new TransportWatch();
    private final ProducerSessions sessions = new ProducerSessions(new OutboxPublisher() {
        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new AssertionError("nothing is sent here");
        }

        @Override
        public CompletableFuture<Session> openSession(String destination, int segment) {
            return CompletableFuture.completedFuture(Session.NOTHING_STORED);
        }
    }, true, Duration.ofSeconds(30), Duration.ofMillis(100), transport, nanos::get, () -> { });
    private final FetchPlanner planner = new FetchPlanner(store, NoTransactionManager.instance(), clock, nanos::get,
                                                          10, Duration.ofMillis(100), "test");
    private final AggregateQueues queues = new AggregateQueues(SEGMENTS, false, planner::forget);
    private final List<OutboxEntry> handedOver = new CopyOnWriteArrayList<>();
    private final OutcomeRecorder recorder = new OutcomeRecorder(
            store, NoTransactionManager.instance(), writes, claims, (entry, kind, attempts) -> {
                handedOver.add(entry);
                return FailurePolicy.Decision.park();
            }, clock, nanos::get, SEGMENTS, 100, "test", OutboxMetrics.NOOP, transport, new NotRecordedRows(),
            RelayThreads.DAEMONS, new NoWorkingSet(), () -> { });
    private final SegmentLifecycle lifecycle = new SegmentLifecycle(
            claims, SEGMENTS, Set.of(0, 1, 2, 3), sessions,
            new SegmentResolver(store, NoTransactionManager.instance(), writes, claims, sessions,
                                new RowTopics((type, annotated) -> Optional.of(TOPIC), CapturedAggregates::none),
                                recorder::neverStored, clock, nanos::get, Duration.ofSeconds(30)),
            planner, Duration.ofSeconds(1), nanos::get, new SegmentLifecycle.WorkingSet() {
                @Override
                public void dropQueuedOf(int segment) {
                    queues.dropQueuedOf(segment);
                }

                @Override
                public boolean idle(int segment) {
                    return queues.idle(segment);
                }
            });

    RowFailuresTest() {
        claims.initialize();
        lifecycle.maintain(); // every segment claimed, resolved and active
        events.clear();
    }

    @AfterEach
    void closeRecorder() {
        recorder.close();
    }

    private RowFailures failures(boolean sequenced) {
        return new RowFailures(store, writes, sequenced, clock, transport, sessions, lifecycle, recorder, planner,
                               queues);
    }

    private RelayRow sentRow(String id, long aggregateSequence) {
        OutboxEntry entry = OutboxEntry.pending(id, NOW, "Evt", "Order", "order-1", aggregateSequence, "{}", "{}",
                                                "0", null);
        RelayRow row = new RelayRow(entry, SEGMENTS);
        row.topic = TOPIC;
        row.sequence = SEQUENCE;
        queues.remember(row);
        return row;
    }

    /** The entry the recorder was handed (as the failure policy sees it when the failure is recorded). */
    private OutboxEntry recorded() {
        assertThat(recorder.failedCount()).isEqualTo(1);
        recorder.flush();
        return handedOver.get(0);
    }

    private static int segment() {
        return OutboxSegments.of("order-1", SEGMENTS);
    }

    @Nested
    class AnyFailure {

        @Test
        void isHandedToTheRecorderAndBlocksItsAggregateDroppingItsQueuedRows() {
            RelayRow failed = sentRow("a", 0);
            queues.queue(new RelayRow(OutboxEntry.pending("b", NOW, "Evt", "Order", "order-1", 1, "{}", "{}", "0",
                                                          null), SEGMENTS));

            failures(false).fail(failed, new Attempt(FailureKind.REFUSED, "no"));

            assertThat(failed.done).isTrue();
            assertThat(queues.blocked(failed.entry.aggregateKey())).isTrue();
            assertThat(queues.holds("b")).isFalse();
            assertThat(queues.queuedCount()).isZero();
            assertThat(recorded().id()).isEqualTo("a");
        }

        @Test
        void aFailureThatMayPassIsReportedToTheTransportWatchButARefusalIsNot() {
            failures(false).fail(sentRow("a", 0), new Attempt(FailureKind.REFUSED, "no"));
            assertThat(transport.snapshot().failingSince()).isNull();

            failures(false).fail(sentRow("b", 1), new Attempt(FailureKind.TIMEOUT, "no answer"));

            RelayHealth health = transport.snapshot();
            assertThat(health.failingSince()).isEqualTo(NOW);
            assertThat(health.lastFailureKind()).isEqualTo(FailureKind.TIMEOUT);
            assertThat(health.lastFailure()).isEqualTo("no answer");
        }

        @Test
        void aProducerThatIsGoneHasItsSessionDroppedSoTheNextRowOpensItAgain() {
            sessions.opened(sessions.key(TOPIC, segment()), TOPIC, OutboxPublisher.Session.NOTHING_STORED);
            failures(false).fail(sentRow("a", 0), new Attempt(FailureKind.TIMEOUT, "no answer"));
            assertThat(sessions.get(TOPIC, segment())).isNotNull();

            failures(false).fail(sentRow("b", 1), new Attempt(FailureKind.UNAVAILABLE, "producer fenced"));

            assertThat(sessions.get(TOPIC, segment())).isNull();
        }
    }

    @Nested
    class WithoutSequenceIds {

        @Test
        void neitherClearsNorResolvesAnythingAndHandsOverTheRowAsItWas() {
            failures(false).fail(sentRow("a", 0), new Attempt(FailureKind.REFUSED, "no"));

            assertThat(store.cleared).isEmpty();
            assertThat(lifecycle.mayStillSend(segment())).isTrue();
            assertThat(recorded().brokerSequence()).isEqualTo(OutboxEntry.NO_SEQUENCE);
        }
    }

    @Nested
    class WithSequenceIds {

        @Test
        void aSendThatMayHaveBeenStoredKeepsItsIdAndResolvesItsSegment() {
            failures(true).fail(sentRow("a", 0), new Attempt(FailureKind.TIMEOUT, "no answer"));

            assertThat(lifecycle.mayStillSend(segment())).isFalse();
            assertThat(store.cleared).isEmpty();
            assertThat(recorded().brokerSequence()).isEqualTo(SEQUENCE);
        }

        @Test
        void aRefusedSendHasItsIdClearedAtOnceFencedByTheSegmentsClaim() {
            failures(true).fail(sentRow("a", 0), new Attempt(FailureKind.REFUSED, "no"));

            assertThat(store.cleared).containsExactly(Map.of("a", SEQUENCE));
            assertThat(events).containsExactly("clear", "fence " + segment());
            assertThat(lifecycle.mayStillSend(segment())).isTrue();
            assertThat(recorder.neverStored("a", SEQUENCE)).isFalse();
        }

        @Test
        void aSendThatNeverReachedTheBrokerHasItsIdClearedAtOnce() {
            RelayRow row = sentRow("a", 0);
            row.notStored = true;

            failures(true).fail(row, new Attempt(FailureKind.TRANSIENT, "producer queue full"));

            assertThat(store.cleared).containsExactly(Map.of("a", SEQUENCE));
            assertThat(lifecycle.mayStillSend(segment())).isTrue();
        }

        @Test
        void anIdThatCouldNotBeClearedIsClearedWithTheFailuresRecordingAndItsSegmentResolvedMeanwhile() {
            store.failing = true;

            failures(true).fail(sentRow("a", 0), new Attempt(FailureKind.REFUSED, "no"));

            assertThat(recorder.neverStored("a", SEQUENCE)).isTrue();
            assertThat(lifecycle.mayStillSend(segment())).isFalse();
        }

        @Test
        void aRowThatGotNoIdYetLeavesIdsAndSegmentAlone() {
            RelayRow row = sentRow("a", 0);
            row.sequence = OutboxEntry.NO_SEQUENCE;

            failures(true).fail(row, new Attempt(FailureKind.TIMEOUT, "no answer"));

            assertThat(lifecycle.mayStillSend(segment())).isTrue();
            assertThat(store.cleared).isEmpty();
            assertThat(recorded().brokerSequence()).isEqualTo(OutboxEntry.NO_SEQUENCE);
        }
    }

    /** No rows with ids to resolve; records the ids cleared, or fails to. */
    private final class ClearingStore extends InMemoryOutboxStore {
        final List<Map<String, Long>> cleared = new CopyOnWriteArrayList<>();
        volatile boolean failing;

        @Override
        public List<Sequenced> fetchSequencedWithPartitions(int segment) {
            return List.of();
        }

        @Override
        public void markStored(Map<String, Long> sequences, Instant sentAt) {
        }

        @Override
        public void clearSequences(Map<String, Long> sequences) {
            if (failing) {
                throw new IllegalStateException("database down");
            }
            if (!sequences.isEmpty()) {
                events.add("clear");
                cleared.add(Map.copyOf(sequences));
            }
        }
    }
}
