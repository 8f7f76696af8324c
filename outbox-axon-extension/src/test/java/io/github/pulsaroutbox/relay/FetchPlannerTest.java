package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.transaction.NoTransactionManager;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/** How the relay plans its reads: full scans, continuations above the highest position seen, and held-back rows. */
class FetchPlannerTest {

    private static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");
    private static final Duration POLL = Duration.ofSeconds(1);
    private static final long POLL_NANOS = POLL.toNanos();
    private static final int BATCH = 10;
    private static final Set<Integer> ALL = IntStream.range(0, OutboxSegments.DEFAULT_COUNT).boxed()
                                                     .collect(Collectors.toUnmodifiableSet());

    private final RecordingStore store = new RecordingStore();
    private long nanos = 5_000_000_000L;
    private final FetchPlanner planner = new FetchPlanner(store, NoTransactionManager.instance(),
                                                          Clock.fixed(NOW, ZoneOffset.UTC), () -> nanos, BATCH, POLL,
                                                          "test");

    @Nested
    class FullScans {

        @Test
        void firstReadIsACompleteFullScanTakingEveryRow() {
            append("A", 0, 1);
            append("B", 5);

            FetchPlanner.Read read = planner.read(0, 0, ALL);

            assertThat(read.full()).isTrue();
            assertThat(read.limit()).isEqualTo(BATCH);
            assertThat(store.fullScansAbove).containsExactly(Long.MIN_VALUE);
            assertThat(take(read)).containsExactly("A-0", "A-1", "B-5");
        }

        @Test
        void fullScanReadsPastTheWorkingSetAndFurtherWhenSkippingAhead() {
            FetchPlanner.Read read = planner.read(5, 7, ALL);

            assertThat(read.full()).isTrue();
            assertThat(read.limit()).isEqualTo(BATCH + 7 + 5);
        }

        @Test
        void noSegmentsReadsNothingAndIsDone() {
            FetchPlanner.Read read = planner.read(0, 0, Set.of());

            assertThat(read.rows()).isEmpty();
            assertThat(store.reads).isZero();
            assertThat(planner.lastFetchFull()).isFalse();
            assertThat(planner.next(read, 0, 0, 0)).isEqualTo(FetchPlanner.DONE);
        }

        @Test
        void fullScanThatReadOnlyHeldRowsReadsFurtherUpToALimit() {
            append("A", sequencesUpTo(BATCH));
            FetchPlanner.Read read = planner.read(0, 0, ALL); // all of them already in the working set, say
            assertThat(planner.lastFetchFull()).isTrue();

            assertThat(planner.next(read, 0, 0, 0)).isEqualTo(BATCH);
            assertThat(planner.next(read, 0, 0, BATCH)).isEqualTo(4 * BATCH);
            assertThat(planner.next(read, 0, 0, 16 * BATCH - 1)).isEqualTo(4 * (16 * BATCH - 1));
            assertThat(planner.next(read, 0, 0, 16 * BATCH)).isEqualTo(FetchPlanner.DONE);
        }

        @Test
        void fullScanThatReadLessThanItsLimitIsDoneWhetherOrNotItTookRows() {
            append("A", 0);
            FetchPlanner.Read read = planner.read(0, 0, ALL);

            assertThat(planner.next(read, 0, 0, 0)).isEqualTo(FetchPlanner.DONE);
            assertThat(planner.next(read, 1, 0, 0)).isEqualTo(FetchPlanner.DONE);
        }
    }

    @Nested
    class Continuations {

        @Test
        void readAfterAFullScanContinuesAboveTheHighestPositionSeen() {
            append("A", 0);
            fullScanTakingAll();
            append("A", 1);
            append("B", 0);

            FetchPlanner.Read read = planner.read(0, 1, ALL);

            assertThat(read.full()).isFalse();
            assertThat(read.limit()).isEqualTo(BATCH);
            assertThat(ids(read)).containsExactly("A-1", "B-0");
        }

        @Test
        void takesOnlyDirectSuccessorsOfTheLastRowTaken() {
            append("A", 0);
            append("C", 4);
            fullScanTakingAll();

            assertThat(planner.takes(entry("A", 1), false)).isTrue();
            assertThat(planner.takes(entry("A", 2), false)).isTrue();
            assertThat(planner.takes(entry("C", 6), false)).as("gap").isFalse();
            assertThat(planner.takes(entry("C", 5), false)).as("deferred aggregate waits").isFalse();
            assertThat(planner.takes(entry("B", 3), false)).as("unknown aggregate").isFalse();
        }

        @Test
        void takesTheFirstEventOfAnAggregateItHasNotTakenARowOf() {
            append("A", 0);
            fullScanTakingAll();
            append("B", 0, 1);
            append("C", 2);
            FetchPlanner.Read read = planner.read(0, 1, ALL);

            assertThat(read.full()).isFalse();
            assertThat(take(read)).as("no row can precede an aggregate's first event").containsExactly("B-0", "B-1");
            assertThat(planner.takes(entry("A", 0), false)).as("not the first row taken of A").isFalse();
        }

        @Test
        void forgottenAggregateIsNotExtended() {
            append("A", 0);
            fullScanTakingAll();

            planner.forget(entry("A", 0).aggregateKey());

            assertThat(planner.takes(entry("A", 1), false)).isFalse();
        }

        @Test
        void continuationThatCouldTakeNothingAsksForAFullScanNow() {
            append("A", 0);
            fullScanTakingAll();
            append("B", 3);
            FetchPlanner.Read read = planner.read(0, 1, ALL);

            assertThat(take(read)).isEmpty();
            assertThat(planner.next(read, 0, 1, 0)).isEqualTo(FetchPlanner.FULL_SCAN_NOW);
            assertThat(planner.read(FetchPlanner.FULL_SCAN_NOW, 1, ALL).full()).isTrue();
        }

        @Test
        void continuationThatDeferredSomeRowsIsFollowedByAFullScan() {
            append("A", 0);
            fullScanTakingAll();
            append("A", 1);
            append("B", 3);
            FetchPlanner.Read read = planner.read(0, 1, ALL);

            assertThat(take(read)).containsExactly("A-1");
            assertThat(planner.next(read, 1, 1, 0)).isEqualTo(FetchPlanner.DONE);
            assertThat(planner.read(0, 2, ALL).full()).isTrue();
        }

        @Test
        void continuationKeepsGoingWhileItReadsFullBatches() {
            append("A", 0);
            fullScanTakingAll();
            append("A", sequencesUpTo(BATCH + 1));
            FetchPlanner.Read read = planner.read(0, 1, ALL);

            assertThat(take(read)).hasSize(BATCH);
            assertThat(planner.lastFetchFull()).isTrue();
            assertThat(planner.next(read, BATCH, 0, 0)).isEqualTo(FetchPlanner.DONE);
            assertThat(planner.read(0, BATCH + 1, ALL).full()).isFalse();
        }

        @Test
        void caughtUpContinuationIsFollowedByAFullScan() {
            append("A", 0);
            fullScanTakingAll();
            append("A", 1);
            FetchPlanner.Read read = planner.read(0, 1, ALL);

            assertThat(planner.next(read, take(read).size(), 0, 0)).isEqualTo(FetchPlanner.DONE);
            assertThat(planner.read(0, 2, ALL).full()).isTrue();
        }

        @Test
        void fullScanComesOncePollIntervalPassed() { // the outbox is empty: not held back
            fullScanTakingAll();
            nanos += POLL_NANOS;
            assertThat(planner.fullScanOverdue()).isFalse();
            assertThat(planner.read(0, 0, ALL).full()).isFalse();

            nanos += 1;
            assertThat(planner.fullScanOverdue()).isTrue();
            assertThat(planner.read(0, 0, ALL).full()).isTrue();
        }

        @Test
        void rescanFromStartMakesTheNextReadAFullScan() {
            fullScanTakingAll();
            assertThat(planner.read(0, 0, ALL).full()).isFalse();

            planner.rescanFromStart();

            assertThat(planner.read(0, 0, ALL).full()).isTrue();
        }
    }

    @Nested
    class HeldBackRows {

        @Test
        void newAggregateIsFoundAfterASkipAheadScanThatReadNothing() {
            appendParked("A", 0);
            append("A", 1);
            FetchPlanner.Read skipped = planner.read(BATCH, 0, ALL); // the rows read before were recorded meanwhile
            assertThat(planner.next(skipped, 0, 0, BATCH)).isEqualTo(FetchPlanner.DONE);
            append("B", 3);
            FetchPlanner.Read continuation = planner.read(0, 0, ALL);
            List<String> taken = take(continuation);
            assertThat(planner.next(continuation, taken.size(), continuation.rows().size() - taken.size(), 0))
                    .isEqualTo(FetchPlanner.FULL_SCAN_NOW);
            assertThat(ids(planner.read(0, 0, ALL))).containsExactly("B-3");
        }

        @Test
        void fullScansFindingEveryRowHeldBackComeLessOftenUpToALimit() {
            appendParked("A", 0);
            append("A", 1);
            assertThat(fullScanTakingAll()).isEmpty();
            assertThat(planner.fullScanOverdue()).as("a second complete scan confirms A-1 is held back").isTrue();

            for (long seconds : new long[] {2, 4, 8, 16, 30, 30}) {
                assertThat(fullScanTakingAll()).isEmpty();
                nanos += Duration.ofSeconds(seconds).toNanos();
                assertThat(planner.fullScanOverdue()).as("%d s after", seconds).isFalse();
                nanos += 1;
                assertThat(planner.fullScanOverdue()).isTrue();
            }
        }

        @Test
        void caughtUpContinuationDoesNotBringTheFullScanBackWhileRowsAreHeldBack() {
            appendParked("A", 0);
            append("A", 1);
            heldBackConfirmed();
            FetchPlanner.Read continuation = planner.read(0, 0, ALL); // reads A-1, which it cannot take
            assertThat(planner.next(continuation, take(continuation).size(), 1, 0))
                    .isEqualTo(FetchPlanner.FULL_SCAN_NOW);
            assertThat(fullScanTakingAll()).isEmpty();

            nanos += POLL_NANOS + 1;
            FetchPlanner.Read caughtUp = planner.read(0, 0, ALL);
            assertThat(caughtUp.full()).isFalse();
            assertThat(caughtUp.rows()).isEmpty();
            planner.next(caughtUp, 0, 0, 0);

            assertThat(planner.read(0, 0, ALL).full()).isFalse();
        }

        @Test
        void firstEventOfANewAggregateBringsAFullScanWhileScansBackOff() {
            appendParked("A", 0);
            append("A", 1);                        // position 2: held back
            append("C", 0);                        // position 3
            assertThat(fullScanTakingAll()).containsExactly("C-0");
            store.markSent(List.of("C-0"), NOW);
            assertThat(fullScanTakingAll()).as("everything left is held back: scans back off").isEmpty();
            append("B", 0);

            FetchPlanner.Read continuation = planner.read(0, 0, ALL);
            assertThat(continuation.full()).isFalse();
            assertThat(take(continuation)).containsExactly("B-0");
            assertThat(planner.next(continuation, 1, 0, 0)).isEqualTo(FetchPlanner.DONE);

            assertThat(planner.read(0, 1, ALL).full()).as("a full scan follows, as for any new aggregate").isTrue();
        }

        @Test
        void fullScanFindingEveryRowHeldBackComesWhenTheEarliestRetryIsDue() {
            append("A", 0, 1);
            store.recordFailures(List.of(new OutboxStore.Failure("A-0", FailureKind.TRANSIENT, "down",
                                                                 OutboxStore.Outcome.RETRY, NOW.plusMillis(1500),
                                                                 NOW)));
            assertThat(heldBackConfirmed()).isEmpty();

            nanos += Duration.ofMillis(1500).toNanos();
            assertThat(planner.fullScanOverdue()).isFalse();
            nanos += 1;
            assertThat(planner.fullScanOverdue()).isTrue();
        }

        @Test
        void fullScansSkipAHeldBackPrefixUntilACompleteScanIsDue() {
            appendParked("A", 0);
            append("A", 1);                        // position 2: held back
            append("B", 0);                        // position 3
            assertThat(heldBackConfirmed()).containsExactly("B-0");

            nanos += POLL_NANOS + 1;
            assertThat(planner.read(0, 1, ALL).full()).isTrue();
            nanos += POLL_NANOS + 1;
            assertThat(planner.read(0, 1, ALL).full()).isTrue();

            assertThat(store.fullScansAbove).containsExactly(Long.MIN_VALUE, Long.MIN_VALUE, 2L, Long.MIN_VALUE);
        }

        @Test
        void completeScansLookForAHeldBackPrefixAtMostEveryPollIntervalWhileNoneWasFound() {
            append("A", 0);
            fullScanTakingAll();
            assertThat(store.lowestDueReads).isEqualTo(1);

            planner.rescanFromStart();
            fullScanTakingAll();
            assertThat(store.lowestDueReads).as("looked again within the poll interval").isEqualTo(1);

            nanos += POLL_NANOS;
            planner.rescanFromStart();
            fullScanTakingAll();
            assertThat(store.lowestDueReads).isEqualTo(2);
        }

        @Test
        void rowThatCommittedAfterTheScanIsReadAtOnceNotTakenForHeldBack() {
            appendParked("A", 0);                  // position 1
            append("B", 0);                        // position 2
            // C-0 commits between the scan and the read of the lowest due row, at a lower position (its identity
            // value was drawn first): it looks held back below the scan's first row
            store.afterNextScan = () -> store.appendAt(0, entry("C", 0));
            assertThat(fullScanTakingAll()).containsExactly("B-0");

            assertThat(planner.fullScanOverdue()).as("the next read confirms").isTrue();
            FetchPlanner.Read confirming = planner.read(0, 1, ALL);
            assertThat(confirming.full()).isTrue();
            assertThat(ids(confirming)).containsExactly("C-0", "B-0");
            planner.next(confirming, 1, 0, 0);

            nanos += POLL_NANOS + 1;
            assertThat(planner.read(0, 2, ALL).full()).isTrue();
            assertThat(store.fullScansAbove).as("never taken for a held-back prefix")
                                            .containsExactly(Long.MIN_VALUE, Long.MIN_VALUE, Long.MIN_VALUE);
        }

        @Test
        void rescanFromStartBringsACompleteScanAtOnce() {
            appendParked("A", 0);
            append("A", 1);
            append("B", 0);
            heldBackConfirmed();

            planner.read(1, 1, ALL);
            planner.rescanFromStart();
            planner.read(0, 1, ALL);

            assertThat(store.fullScansAbove).containsExactly(Long.MIN_VALUE, Long.MIN_VALUE, 2L, Long.MIN_VALUE);
        }

        @Test
        void otherSegmentsBringACompleteScanAtOnce() {
            appendParked("A", 0);
            append("A", 1);
            append("B", 0);
            heldBackConfirmed();
            Set<Integer> fewer = ALL.stream().filter(segment -> segment > 0).collect(Collectors.toSet());

            planner.read(1, 1, ALL);
            planner.read(1, 1, fewer);

            assertThat(store.fullScansAbove).containsExactly(Long.MIN_VALUE, Long.MIN_VALUE, 2L, Long.MIN_VALUE);
        }
    }

    /**
     * A complete scan that leaves due rows out, and the complete scan that follows at once and confirms that they are
     * held back (it leaves out the same); returns the ids it took.
     */
    private List<String> heldBackConfirmed() {
        List<String> first = fullScanTakingAll();
        assertThat(planner.fullScanOverdue()).as("a complete scan is to confirm what the first left out").isTrue();
        List<String> confirming = fullScanTakingAll();
        assertThat(confirming).isEqualTo(first);
        return confirming;
    }

    /** A full scan (due or overdue), every row taken; returns their ids. */
    private List<String> fullScanTakingAll() {
        FetchPlanner.Read read = planner.read(0, 0, ALL);
        assertThat(read.full()).isTrue();
        List<String> taken = take(read);
        assertThat(planner.next(read, taken.size(), 0, 0)).isEqualTo(FetchPlanner.DONE);
        return taken;
    }

    private List<String> take(FetchPlanner.Read read) {
        List<String> taken = new ArrayList<>();
        read.rows().stream().filter(row -> planner.takes(row, read.full())).forEach(row -> taken.add(row.id()));
        return taken;
    }

    private static List<String> ids(FetchPlanner.Read read) {
        return read.rows().stream().map(OutboxEntry::id).toList();
    }

    private static long[] sequencesUpTo(int count) {
        return LongStream.rangeClosed(1, count).toArray();
    }

    private void append(String aggregateId, long... sequences) {
        for (long sequence : sequences) {
            store.append(List.of(entry(aggregateId, sequence)));
        }
    }

    private void appendParked(String aggregateId, long sequence) {
        store.append(List.of(entry(aggregateId, sequence).parked(FailureKind.REFUSED, "refused")));
    }

    private static OutboxEntry entry(String aggregateId, long sequence) {
        return OutboxEntry.pending(aggregateId + "-" + sequence, NOW, "Evt", "Order", aggregateId, sequence, "{}",
                                   "{}", OutboxEntry.NO_REVISION, null);
    }

    /** Records the full scans asked for (with the position they start above) and counts every read. */
    private static final class RecordingStore extends InMemoryOutboxStore {

        final List<Long> fullScansAbove = new ArrayList<>();
        int reads;
        /** Reads of the lowest due row (after complete scans). */
        int lowestDueReads;
        /** Runs once right after the next full scan (a commit that the scan did not see). */
        Runnable afterNextScan;

        @Override
        public synchronized List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments,
                                                           long abovePosition) {
            reads++;
            fullScansAbove.add(abovePosition);
            List<OutboxEntry> rows = super.fetchPending(limit, now, segments, abovePosition);
            if (afterNextScan != null) {
                Runnable commit = afterNextScan;
                afterNextScan = null;
                commit.run();
            }
            return rows;
        }

        @Override
        public synchronized List<OutboxEntry> fetchPendingAfter(long afterPosition, int limit, Instant now,
                                                                Set<Integer> segments) {
            reads++;
            if (afterPosition == Long.MIN_VALUE && limit == 1) {
                lowestDueReads++;
            }
            return super.fetchPendingAfter(afterPosition, limit, now, segments);
        }
    }
}
