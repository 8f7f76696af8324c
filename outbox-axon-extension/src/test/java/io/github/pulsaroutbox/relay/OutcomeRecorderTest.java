package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore.Failure;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;
import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Recording the outcomes of sends (SENT, or the failure policy's decision) on the recorder's own thread. */
class OutcomeRecorderTest {

    private static final Instant NOW = Instant.parse("2024-05-01T10:00:00Z");
    private static final int SEGMENTS = 4;
    private static final long FLUSH_INTERVAL = Duration.ofMillis(50).toNanos();

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final RecordingStore store = new RecordingStore();
    private final Working workingSet = new Working();
    private final NotRecordedRows notRecorded = new NotRecordedRows();
    private final TransportWatch transport = new TransportWatch();
    private final CountingTransactions transactions = new CountingTransactions();
    private final AtomicInteger signals = new AtomicInteger();
    private final List<Integer> policyAttempts = new CopyOnWriteArrayList<>();
    private FailurePolicy policy = (entry, kind, attempts) -> FailurePolicy.Decision.retryAfter(Duration.ofSeconds(10));
    private OutcomeRecorder recorder;

    private OutcomeRecorder recorder(SegmentClaims claims, int batchSize) {
        recorder = new OutcomeRecorder(store, transactions, new FencedWrites(transactions, store, claims), claims,
                                       (entry, kind, attempts) -> {
                                           policyAttempts.add(attempts);
                                           return policy.decide(entry, kind, attempts);
                                       }, Clock.fixed(NOW, ZoneOffset.UTC), nanos::get, SEGMENTS, batchSize,
                                       "test", OutboxMetrics.NOOP, transport, notRecorded, RelayThreads.DAEMONS,
                                       workingSet, signals::incrementAndGet);
        return recorder;
    }

    @AfterEach
    void closeRecorder() {
        recorder.close();
    }

    /** Starts a recording of what waits and waits until the recorder thread signals that it finished. */
    private void flushAndAwait() {
        int before = signals.get();
        recorder.flush();
        await().atMost(Duration.ofSeconds(5)).until(() -> signals.get() > before);
    }

    private void record() {
        flushAndAwait();
        recorder.applyFinished();
    }

    private OutboxEntry stored(String id, String aggregateId) {
        OutboxEntry entry = OutboxEntry.pending(id, NOW, "Evt", "Order", aggregateId, 0, "{}", "{}", "0", null);
        store.append(List.of(entry));
        return store.find(id).orElseThrow();
    }

    private static String aggregateIn(int segment) {
        for (int i = 0; ; i++) {
            if (OutboxSegments.of("order-" + i, SEGMENTS) == segment) {
                return "order-" + i;
            }
        }
    }

    @Nested
    class Recording {

        @BeforeEach
        void create() {
            recorder(null, 100);
        }

        @Test
        void acknowledgedRowsAreRecordedSentAndLeaveTheWorkingSet() {
            OutboxEntry a = stored("a", "order-1");
            recorder.acknowledged(new RelayRow(a, SEGMENTS));
            assertThat(recorder.idle()).isFalse();

            record();

            assertThat(store.find("a").orElseThrow().status()).isEqualTo(OutboxStatus.SENT);
            assertThat(workingSet.forgotten).containsExactly("a");
            assertThat(workingSet.releases).isEqualTo(1);
            assertThat(recorder.idle()).isTrue();
        }

        @Test
        void aFailedRowIsRecordedWithThePolicysDecisionAndSettlesItsAggregate() {
            OutboxEntry a = stored("a", "order-1");
            recorder.failed(a, new Attempt(FailureKind.TIMEOUT, "no answer"));

            record();

            assertThat(policyAttempts).containsExactly(1);
            assertThat(store.failures).singleElement().isEqualTo(new Failure(
                    "a", FailureKind.TIMEOUT, "no answer", Outcome.RETRY, NOW.plusSeconds(10), NOW));
            assertThat(store.nextAttemptAt("a")).isEqualTo(NOW.plusSeconds(10));
            assertThat(workingSet.forgotten).containsExactly("a");
            assertThat(workingSet.settled).containsExactly(a);
            assertThat(workingSet.releases).isEqualTo(1);
        }

        @Test
        void aPolicyThatThrowsOrDecidesNothingParksTheRow() {
            Attempt attempt = new Attempt(FailureKind.TRANSIENT, "lost");
            OutboxEntry a = stored("a", "order-1");
            policy = (entry, kind, attempts) -> {
                throw new IllegalStateException("policy bug");
            };
            assertThat(recorder.decide(a, attempt, NOW).outcome()).isEqualTo(Outcome.PARK);
            policy = (entry, kind, attempts) -> null;
            assertThat(recorder.decide(a, attempt, NOW).outcome()).isEqualTo(Outcome.PARK);
            policy = (entry, kind, attempts) -> new FailurePolicy.Decision(null, Duration.ZERO);
            assertThat(recorder.decide(a, attempt, NOW).outcome()).isEqualTo(Outcome.PARK);
            policy = (entry, kind, attempts) -> new FailurePolicy.Decision(Outcome.RETRY, null);
            assertThat(recorder.decide(a, attempt, NOW)).isEqualTo(
                    new Failure("a", FailureKind.TRANSIENT, "lost", Outcome.PARK, NOW, NOW));
        }

        @Test
        void aParkedRowIsParkedInTheStoreAndCountedByKind() {
            policy = (entry, kind, attempts) -> FailurePolicy.Decision.park();
            recorder.failed(stored("a", "order-1"), new Attempt(FailureKind.REFUSED, "no"));

            record();

            assertThat(store.find("a").orElseThrow().status()).isEqualTo(OutboxStatus.FAILED);
            assertThat(transport.snapshot().parkedSinceStart()).containsEntry(FailureKind.REFUSED, 1L);
        }

        @Test
        void aNotRecordedRowOnceParkedIsNeitherSentNorParkedAgain() {
            policy = (entry, kind, attempts) -> FailurePolicy.Decision.park();
            OutboxEntry a = stored("a", "order-1");
            recorder.failed(a, new Attempt(FailureKind.NOT_RECORDED, "acknowledged, not recorded"));

            record();

            assertThat(notRecorded.size()).isEqualTo(1);
            assertThat(notRecorded.sighted(store.find("a").orElseThrow())).isEqualTo(NotRecordedRows.Sighting.SKIP);
        }

        @Test
        void rowsMarkSentDidNotChangeAreRememberedAsAcknowledgedButNotRecorded() {
            OutboxEntry a = stored("a", "order-1");
            OutboxEntry gone = OutboxEntry.pending("gone", NOW, "Evt", "Order", "order-2", 0, "{}", "{}", "0", null);
            recorder.acknowledged(new RelayRow(a, SEGMENTS));
            recorder.acknowledged(new RelayRow(gone, SEGMENTS)); // not pending in the store

            record();

            assertThat(notRecorded.size()).isEqualTo(1);
            assertThat(notRecorded.sighted(gone)).isEqualTo(NotRecordedRows.Sighting.SKIP);
            assertThat(notRecorded.sighted(a)).isEqualTo(NotRecordedRows.Sighting.SEND);
            assertThat(workingSet.forgotten).containsExactly("a", "gone");
        }

        @Test
        void aSequenceIdToClearLaterIsClearedWithTheRowsFailure() {
            OutboxEntry a = stored("a", "order-1");
            recorder.clearLater("a", 7);
            assertThat(recorder.neverStored("a", 7)).isTrue();
            assertThat(recorder.neverStored("a", 8)).isFalse();
            recorder.failed(a.withBrokerSequence(7), new Attempt(FailureKind.REFUSED, "no"));

            record();

            assertThat(store.cleared).containsExactly(Map.of("a", 7L));
            assertThat(recorder.neverStored("a", 7)).isFalse();
        }

        @Test
        void withNothingToRecordAFlushReleasesBlockedAggregatesAtOnce() {
            recorder.flush();

            assertThat(workingSet.releases).isEqualTo(1);
            assertThat(signals.get()).isZero();
            assertThat(store.sentBatches).isEmpty();
        }

        @Test
        void onlyOneRecordingRunsAtATime() {
            store.gate = new CompletableFuture<>();
            recorder.acknowledged(new RelayRow(stored("a", "order-1"), SEGMENTS));
            recorder.flush();
            await().atMost(Duration.ofSeconds(5)).until(() -> store.sentBatches.size() == 1);
            recorder.acknowledged(new RelayRow(stored("b", "order-2"), SEGMENTS));

            recorder.flush();

            assertThat(recorder.acknowledgedCount()).isEqualTo(1); // b waits for the next recording
            store.gate.complete(null);
            await().atMost(Duration.ofSeconds(5)).until(() -> signals.get() == 1);
            recorder.applyFinished();
            record();
            assertThat(store.sentBatches).containsExactly(List.of("a"), List.of("b"));
        }
    }

    @Nested
    class AFailedRecording {

        @BeforeEach
        void create() {
            recorder(null, 100);
        }

        @Test
        void isThrownByApplyFinishedAndHandedBackAheadOfNewerOutcomes() {
            IllegalStateException down = new IllegalStateException("database down");
            store.failure = down;
            recorder.acknowledged(new RelayRow(stored("a", "order-1"), SEGMENTS));
            recorder.failed(stored("x", "order-2"), new Attempt(FailureKind.TRANSIENT, "lost"));
            flushAndAwait();
            recorder.acknowledged(new RelayRow(stored("b", "order-3"), SEGMENTS));
            recorder.failed(stored("y", "order-4"), new Attempt(FailureKind.TRANSIENT, "lost"));

            assertThatThrownBy(recorder::applyFinished).isInstanceOf(IllegalStateException.class)
                                                 .hasCauseReference(down);

            assertThat(workingSet.forgotten).isEmpty();
            assertThat(workingSet.settled).isEmpty();
            assertThat(recorder.acknowledgedCount()).isEqualTo(2);
            assertThat(recorder.failedCount()).isEqualTo(2);
            store.failure = null;
            record();
            assertThat(store.sentBatches.get(store.sentBatches.size() - 1)).containsExactly("a", "b");
            assertThat(store.failures).extracting(Failure::id).containsExactly("x", "y");
            assertThat(workingSet.forgotten).containsExactlyInAnyOrder("a", "b", "x", "y");
        }

        @Test
        void keepsTheSequenceIdsItWasToClearKnownAsNeverStored() {
            store.failure = new IllegalStateException("database down");
            recorder.clearLater("x", 7);
            recorder.failed(stored("x", "order-1").withBrokerSequence(7), new Attempt(FailureKind.REFUSED, "no"));
            flushAndAwait();

            assertThatThrownBy(recorder::applyFinished).isInstanceOf(IllegalStateException.class);

            assertThat(recorder.neverStored("x", 7)).isTrue();
        }
    }

    @Nested
    class WhenToFlush {

        @BeforeEach
        void create() {
            recorder(null, 10);
        }

        private void acknowledge(int rows) {
            for (int i = 0; i < rows; i++) {
                recorder.acknowledged(new RelayRow(stored("r" + i, "order-" + i), SEGMENTS));
            }
        }

        @Test
        void whenHalfABatchWaitsEvenWithRowsInFlight() {
            acknowledge(4);
            assertThat(recorder.shouldFlush(1)).isFalse();
            acknowledge(1);
            assertThat(recorder.shouldFlush(1)).isTrue();
        }

        @Test
        void neverWithNothingToRecordEvenWithABatchSizeOfOne() {
            recorder(null, 1);
            assertThat(recorder.shouldFlush(1)).isFalse();
            acknowledge(1);
            assertThat(recorder.shouldFlush(1)).isTrue();
        }

        @Test
        void whenSomethingWaitsAndNothingIsInFlight() {
            nanos.addAndGet(FLUSH_INTERVAL * 10);
            assertThat(recorder.shouldFlush(0)).isFalse(); // nothing waits

            acknowledge(1);

            assertThat(recorder.shouldFlush(0)).isTrue();
        }

        @Test
        void whenSomethingWaitsAndTheIntervalSinceTheLastFlushPassed() {
            store.gate = new CompletableFuture<>();
            nanos.addAndGet(1_000);
            acknowledge(1);
            recorder.flush(); // the interval starts again here
            acknowledge(1);

            nanos.addAndGet(FLUSH_INTERVAL);
            assertThat(recorder.shouldFlush(1)).isFalse();
            nanos.addAndGet(1);
            assertThat(recorder.shouldFlush(1)).isTrue();
            store.gate.complete(null);
        }
    }

    @Nested
    class WithSegmentClaims {

        private final RefusingTokenStore tokens = new RefusingTokenStore();
        private SegmentClaims claims;
        private final String owned = aggregateIn(0);
        private final String released = aggregateIn(1);

        @BeforeEach
        void claimAll() {
            claims = SegmentClaims.builder().tokenStore(tokens).segmentCount(SEGMENTS).processorName("outbox")
                                  .nanoTime(nanos::get).build();
            claims.initialize();
            assertThat(claims.round().gained()).hasSize(SEGMENTS);
            recorder(claims, 100);
        }

        @Test
        void rowsOfASegmentNoLongerOwnedAreLeftOutOfTheRecordingAndLeaveTheWorkingSet() {
            OutboxEntry mine = stored("mine", owned);
            OutboxEntry theirs = stored("theirs", released);
            OutboxEntry failedTheirs = stored("failed", released);
            recorder.acknowledged(new RelayRow(mine, SEGMENTS));
            recorder.acknowledged(new RelayRow(theirs, SEGMENTS));
            recorder.failed(failedTheirs, new Attempt(FailureKind.TIMEOUT, "no answer"));
            claims.release(1);

            recorder.flush();

            assertThat(workingSet.forgotten).containsExactlyInAnyOrder("theirs", "failed"); // before it commits
            assertThat(workingSet.settled).containsExactly(failedTheirs);
            await().atMost(Duration.ofSeconds(5)).until(() -> signals.get() == 1);
            recorder.applyFinished();
            assertThat(store.sentBatches).containsExactly(List.of("mine"));
            assertThat(store.failures).isEmpty();
            assertThat(store.find("theirs").orElseThrow().status()).isEqualTo(OutboxStatus.PENDING);
        }

        @Test
        void aRefusedRowOfASegmentNoLongerOwnedHasItsSequenceIdClearedFirst() {
            OutboxEntry refused = stored("refused", released).withBrokerSequence(41);
            OutboxEntry timedOut = stored("timed-out", released).withBrokerSequence(42);
            OutboxEntry notSent = stored("not-sent", released).withBrokerSequence(43);
            recorder.failed(refused, new Attempt(FailureKind.REFUSED, "no"));
            recorder.failed(timedOut, new Attempt(FailureKind.TIMEOUT, "no answer")); // may have been stored
            recorder.failed(notSent, new Attempt(FailureKind.TRANSIENT, "queue full"));
            recorder.clearLater("not-sent", 43);
            claims.release(1);
            store.gate = new CompletableFuture<>(); // the (empty) recording that follows does not commit meanwhile

            recorder.flush();

            assertThat(store.cleared).containsExactly(Map.of("refused", 41L, "not-sent", 43L));
            assertThat(transactions.commits).hasValue(1);
            assertThat(recorder.neverStored("not-sent", 43)).isFalse();
            store.gate.complete(null);
        }

        @Test
        void aRecordingWithFailuresIsFencedByTheClaimsInTheDatabase() {
            tokens.refused.add(0); // another node holds segment 0 now
            recorder.failed(stored("x", owned), new Attempt(FailureKind.TRANSIENT, "lost"));
            flushAndAwait();

            assertThatThrownBy(recorder::applyFinished).hasCauseInstanceOf(UnableToClaimTokenException.class);
            assertThat(transactions.rollbacks).hasValue(1);
            assertThat(recorder.failedCount()).isEqualTo(1);
        }

        @Test
        void aRecordingOfSentRowsAloneIsNotFencedInTheDatabase() {
            tokens.refused.add(0);
            recorder.acknowledged(new RelayRow(stored("a", owned), SEGMENTS));

            record();

            assertThat(transactions.commits).hasValue(1);
            assertThat(workingSet.forgotten).containsExactly("a");
        }

        @Test
        void aRecordingDoesNotCommitOnceAClaimOfItsSegmentsLapsedLocally() {
            recorder.acknowledged(new RelayRow(stored("a", owned), SEGMENTS));
            nanos.set(claims.validUntilNanos(0));
            flushAndAwait();

            assertThatThrownBy(recorder::applyFinished).isInstanceOf(IllegalStateException.class)
                                                       .hasRootCauseMessage("The claim of a segment lapsed before "
                                                                                    + "its outcomes were recorded: "
                                                                                    + "not recording them");
            assertThat(transactions.rollbacks).hasValue(1);
            assertThat(transactions.commits).hasValue(0);
            assertThat(recorder.acknowledgedCount()).isEqualTo(1);
        }
    }

    /** The in-memory store, recording what it was asked; it can block or fail recordings. */
    private static final class RecordingStore extends InMemoryOutboxStore {
        final List<List<String>> sentBatches = new CopyOnWriteArrayList<>();
        final List<Failure> failures = new CopyOnWriteArrayList<>();
        final List<Map<String, Long>> cleared = new CopyOnWriteArrayList<>();
        volatile CompletableFuture<Void> gate;
        volatile RuntimeException failure;

        @Override
        public Set<String> markSent(Collection<String> ids, Instant sentAt) {
            sentBatches.add(List.copyOf(ids));
            if (gate != null) {
                gate.join();
            }
            if (failure != null) {
                throw failure;
            }
            return super.markSent(ids, sentAt);
        }

        @Override
        public void recordFailures(Collection<Failure> recorded) {
            failures.addAll(recorded);
            super.recordFailures(recorded);
        }

        @Override
        public void clearSequences(Map<String, Long> sequences) {
            cleared.add(Map.copyOf(sequences));
        }
    }

    /** What the recorder tells the working set (on the calling thread). */
    private static final class Working implements OutcomeRecorder.WorkingSet {
        final List<String> forgotten = new ArrayList<>();
        final List<OutboxEntry> settled = new ArrayList<>();
        int releases;

        @Override
        public void forget(String rowId) {
            forgotten.add(rowId);
        }

        @Override
        public void failureSettled(OutboxEntry entry) {
            settled.add(entry);
        }

        @Override
        public void releaseBlockedKeys() {
            releases++;
        }
    }

    /** A token store in which another node holds the claims of some segments (extending them fails). */
    private static final class RefusingTokenStore extends InMemoryTokenStore {
        final Set<Integer> refused = ConcurrentHashMap.newKeySet();

        @Override
        public void extendClaim(String processorName, int segment) {
            if (refused.contains(segment)) {
                throw new UnableToClaimTokenException("segment " + segment + " is claimed by another node");
            }
        }
    }

    /** Counts commits and rollbacks (the transactions of the fenced writes and of clearing ids). */
    private static final class CountingTransactions implements TransactionManager {
        final AtomicInteger commits = new AtomicInteger();
        final AtomicInteger rollbacks = new AtomicInteger();

        @Override
        public Transaction startTransaction() {
            return new Transaction() {
                @Override
                public void commit() {
                    commits.incrementAndGet();
                }

                @Override
                public void rollback() {
                    rollbacks.incrementAndGet();
                }
            };
        }
    }
}
