package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.OutboxStatus;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The relay's per-aggregate working set: order, one send in flight per aggregate, blocking and dropping. */
class AggregateQueuesTest {

    private static final int SEGMENTS = 4;

    private final List<String> dropped = new ArrayList<>();
    private final AggregateQueues queues = new AggregateQueues(SEGMENTS, false, dropped::add);
    private final AggregateQueues pipelined = new AggregateQueues(SEGMENTS, true, dropped::add);

    @Nested
    class WorkingSet {

        @Test
        void queuedRowIsHeldAndCountedOnceInItsSegment() {
            RelayRow a0 = row("A", 0);
            queues.queue(a0);
            queues.remember(a0);
            queues.forget("unknown");

            assertThat(queues.holds(a0.entry.id())).isTrue();
            assertThat(queues.size()).isEqualTo(1);
            assertThat(queues.idle(a0.segment)).isFalse();

            queues.forget(a0.entry.id());
            queues.forget(a0.entry.id());
            assertThat(queues.holds(a0.entry.id())).isFalse();
            assertThat(queues.size()).isZero();
            assertThat(queues.idle(a0.segment)).isTrue();
        }

        @Test
        void idleIsCountedPerSegment() {
            RelayRow a0 = row("A", 0);
            RelayRow other = row(aggregateOutsideSegment(a0.segment), 0);
            queues.remember(a0);
            queues.remember(other);

            queues.forget(a0.entry.id());

            assertThat(queues.idle(a0.segment)).isTrue();
            assertThat(queues.idle(other.segment)).isFalse();
        }
    }

    @Nested
    class WithoutPipelining {

        @Test
        void handsOutAnAggregatesRowsInQueuedOrderOneAtATime() {
            List<RelayRow> rows = List.of(row("A", 0), row("A", 1), row("A", 2));
            rows.forEach(queues::queue);

            List<String> sent = new ArrayList<>(dispatch(queues, 10));
            assertThat(dispatch(queues, 10)).as("A-0 not acknowledged yet").isEmpty();
            for (int i = 0; i < 2; i++) {
                acknowledge(queues, rows.get(i));
                sent.addAll(dispatch(queues, 10));
            }

            assertThat(sent).containsExactly("A-0", "A-1", "A-2");
        }

        @Test
        void aggregatesSendSideBySide() {
            queues.queue(row("A", 0));
            queues.queue(row("A", 1));
            queues.queue(row("B", 0));

            assertThat(dispatch(queues, 10)).containsExactly("A-0", "B-0");
            assertThat(queues.inFlightCount()).isEqualTo(2);
            assertThat(queues.queuedCount()).isEqualTo(1);
        }

        @Test
        void rowQueuedWhileItsAggregateIsInFlightWaitsForTheAcknowledgement() {
            RelayRow a0 = row("A", 0);
            queues.queue(a0);
            dispatch(queues, 10);

            queues.queue(row("A", 1));
            assertThat(queues.readyCount()).isZero();
            assertThat(dispatch(queues, 10)).isEmpty();

            acknowledge(queues, a0);
            assertThat(dispatch(queues, 10)).containsExactly("A-1");
        }

        @Test
        void handsOutNoMoreThanMaxInFlight() {
            List.of(row("A", 0), row("B", 0), row("C", 0)).forEach(queues::queue);

            assertThat(dispatch(queues, 2)).hasSize(2);
            assertThat(dispatch(queues, 2)).isEmpty();
            assertThat(queues.inFlightCount()).isEqualTo(2);
            assertThat(queues.queuedCount()).isEqualTo(1);
        }

        @Test
        void aggregateWhoseSegmentMayNotSendIsDroppedInsteadOfHandedOut() {
            RelayRow a0 = row("A", 0);
            queues.queue(a0);
            queues.queue(row("A", 1));
            List<String> sent = new ArrayList<>();

            queues.dispatch(10, segment -> segment != a0.segment, (key, row) -> sent.add(row.entry.id()));

            assertThat(sent).isEmpty();
            assertThat(queues.holds("A-0")).isFalse();
            assertThat(queues.holds("A-1")).isFalse();
            assertThat(queues.queuedCount()).isZero();
            assertThat(dropped).containsExactly(a0.entry.aggregateKey());
        }
    }

    @Nested
    class WithPipelining {

        @Test
        void rowWaitingForItsSessionStopsAPipelinedDispatchOfItsAggregate() {
            List.of(row("A", 0), row("A", 1), row("A", 2)).forEach(pipelined::queue);
            List<String> sent = new ArrayList<>();
            pipelined.dispatch(10, segment -> true, (key, row) -> {
                sent.add(row.entry.id());
                pipelined.enterInFlight(key, row);
                pipelined.startWaiting(row); // its topic's producer is still opening
            });
            assertThat(sent).containsExactly("A-0");
            assertThat(pipelined.queuedCount()).isZero();
        }

        @Test
        void handsOutAllQueuedRowsOfAnAggregateInOrder() {
            List.of(row("A", 0), row("A", 1), row("A", 2)).forEach(pipelined::queue);

            assertThat(dispatch(pipelined, 10)).containsExactly("A-0", "A-1", "A-2");
            assertThat(pipelined.inFlightCount()).isEqualTo(3);
        }

        @Test
        void rowsStoppedByMaxInFlightFollowInOrderLater() {
            List<RelayRow> rows = List.of(row("A", 0), row("A", 1), row("A", 2));
            rows.forEach(pipelined::queue);

            assertThat(dispatch(pipelined, 2)).containsExactly("A-0", "A-1");
            pipelined.leaveInFlight(rows.get(0));
            assertThat(dispatch(pipelined, 2)).containsExactly("A-2");
        }

        @Test
        void failedRowStopsTheRestOfItsAggregate() {
            List.of(row("A", 0), row("A", 1), row("A", 2)).forEach(pipelined::queue);
            List<String> sent = new ArrayList<>();

            pipelined.dispatch(10, segment -> true, (key, row) -> {
                sent.add(row.entry.id());
                if (row.entry.aggregateSequence() == 1) {
                    pipelined.failed(key); // e.g. its topic could not be resolved
                } else {
                    pipelined.enterInFlight(key, row);
                }
            });

            assertThat(sent).containsExactly("A-0", "A-1");
            assertThat(pipelined.holds("A-2")).isFalse();
            assertThat(pipelined.queuedCount()).isZero();
            assertThat(pipelined.admits(key("A"))).isFalse();
        }

        @Test
        void failureVoidsOnlyTheRowsSentAfterIt() {
            List<RelayRow> rows = List.of(row("A", 0), row("A", 1), row("A", 2));
            rows.forEach(pipelined::queue);
            dispatch(pipelined, 10);

            pipelined.voidLaterThan(rows.get(1));

            assertThat(rows).extracting(r -> r.voided).containsExactly(false, false, true);
        }
    }

    @Nested
    class Blocking {

        @Test
        void failedAggregateIsAdmittedOnlyOnceItsFailureIsSettledAndReleased() {
            RelayRow a0 = row("A", 0);
            queues.queue(a0);
            queues.queue(row("A", 1));
            dispatch(queues, 10);

            queues.leaveInFlight(a0);
            queues.failed(key("A"));
            assertThat(queues.blocked(key("A"))).isTrue();
            assertThat(queues.holds("A-1")).as("queued rows dropped").isFalse();
            assertThat(dropped).contains(key("A"));

            queues.releaseBlockedKeys();
            assertThat(queues.admits(key("A"))).as("failure not recorded yet").isFalse();
            queues.failureSettled(a0.entry);
            assertThat(queues.admits(key("A"))).as("not released yet").isFalse();
            queues.releaseBlockedKeys();
            assertThat(queues.admits(key("A"))).isTrue();
            assertThat(queues.admits(key("B"))).isTrue();
        }

        @Test
        void everyFailureMustBeSettledBeforeRelease() {
            queues.failed(key("A"));
            queues.failed(key("A"));

            queues.failureSettled(row("A", 0).entry);
            queues.releaseBlockedKeys();
            assertThat(queues.blocked(key("A"))).isTrue();

            queues.failureSettled(row("A", 1).entry);
            queues.releaseBlockedKeys();
            assertThat(queues.blocked(key("A"))).isFalse();
        }

        @Test
        void aggregateStaysBlockedWhileARowOfItIsInFlight() {
            List<RelayRow> rows = List.of(row("A", 0), row("A", 1));
            rows.forEach(pipelined::queue);
            dispatch(pipelined, 10);
            pipelined.leaveInFlight(rows.get(0));
            pipelined.failed(key("A"));
            pipelined.failureSettled(rows.get(0).entry);

            pipelined.releaseBlockedKeys();
            assertThat(pipelined.blocked(key("A"))).isTrue();

            pipelined.leaveInFlight(rows.get(1));
            pipelined.releaseBlockedKeys();
            assertThat(pipelined.blocked(key("A"))).isFalse();
        }

        @Test
        void rowQueuedForABlockedAggregateIsNotHandedOut() {
            queues.failed(key("A"));
            queues.queue(row("A", 0));

            assertThat(dispatch(queues, 10)).isEmpty();
        }

        @Test
        void rowWaitingForItsSessionHoldsBackItsAggregateOutsideTheInFlightCount() {
            RelayRow a0 = row("A", 0);
            queues.queue(a0);
            dispatch(queues, 10);
            queues.queue(row("A", 1));

            queues.startWaiting(a0);
            assertThat(queues.admits(key("A"))).isFalse();
            assertThat(queues.blocked(key("A"))).as("not a failure").isFalse();
            assertThat(queues.inFlightCount()).isZero();
            assertThat(queues.waitingCount()).isEqualTo(1);
            assertThat(queues.holds("A-1")).as("later rows read again once it is sent").isFalse();
            assertThat(queues.busy()).isTrue();

            queues.stopWaiting(a0);
            assertThat(queues.admits(key("A"))).isTrue();
            assertThat(queues.inFlightCount()).isEqualTo(1);
            assertThat(queues.waitingCount()).isZero();
        }
    }

    @Nested
    class Dropping {

        @Test
        void dropQueuedForgetsTheAggregatesRowsAndTellsOfIt() {
            List.of(row("A", 0), row("A", 1), row("B", 0)).forEach(queues::queue);

            queues.dropQueued(key("A"));

            assertThat(queues.holds("A-0")).isFalse();
            assertThat(queues.holds("A-1")).isFalse();
            assertThat(queues.queuedCount()).isEqualTo(1);
            assertThat(dropped).containsExactly(key("A"));
            assertThat(dispatch(queues, 10)).containsExactly("B-0");
        }

        @Test
        void dropQueuedOfASegmentKeepsTheOtherSegments() {
            RelayRow a0 = row("A", 0);
            RelayRow other = row(aggregateOutsideSegment(a0.segment), 0);
            queues.queue(a0);
            queues.queue(other);

            queues.dropQueuedOf(a0.segment);

            assertThat(queues.holds(a0.entry.id())).isFalse();
            assertThat(queues.holds(other.entry.id())).isTrue();
            assertThat(queues.idle(a0.segment)).isTrue();
            assertThat(dropped).containsExactly(a0.entry.aggregateKey());
        }

        @Test
        void dropAllQueuedKeepsTheRowsInFlight() {
            RelayRow a0 = row("A", 0);
            queues.queue(a0);
            dispatch(queues, 10);
            queues.remember(a0);
            queues.queue(row("A", 1));
            queues.queue(row("B", 0));

            queues.dropAllQueued();

            assertThat(queues.holds("A-0")).isTrue();
            assertThat(queues.holds("A-1")).isFalse();
            assertThat(queues.holds("B-0")).isFalse();
            assertThat(queues.queuedCount()).isZero();
            assertThat(queues.inFlightCount()).isEqualTo(1);
            assertThat(dropped).containsExactlyInAnyOrder(key("A"), key("B"));
            assertThat(dispatch(queues, 10)).isEmpty();
        }

        @Test
        void busyOnlyWithSomethingToSendOrAwait() {
            assertThat(queues.busy()).isFalse();
            RelayRow a0 = row("A", 0);
            queues.queue(a0);
            assertThat(queues.busy()).as("queued and ready").isTrue();
            dispatch(queues, 10);
            assertThat(queues.busy()).as("in flight").isTrue();
            acknowledge(queues, a0);
            assertThat(queues.busy()).isFalse();
        }
    }

    /** Hands out what may go, as the relay does: each row handed out enters flight. */
    private static List<String> dispatch(AggregateQueues queues, int maxInFlight) {
        List<String> sent = new ArrayList<>();
        queues.dispatch(maxInFlight, segment -> true, (key, row) -> {
            queues.enterInFlight(key, row);
            sent.add(row.entry.id());
        });
        return sent;
    }

    private static void acknowledge(AggregateQueues queues, RelayRow row) {
        queues.leaveInFlight(row);
        queues.forget(row.entry.id());
        queues.acknowledged(row.entry.aggregateKey());
    }

    private static String aggregateOutsideSegment(int segment) {
        return IntStream.range(0, 100).mapToObj(i -> "X" + i)
                        .filter(id -> OutboxSegments.of(id, SEGMENTS) != segment).findFirst().orElseThrow();
    }

    private static String key(String aggregateId) {
        return entry(aggregateId, 0).aggregateKey();
    }

    private static RelayRow row(String aggregateId, long sequence) {
        return new RelayRow(entry(aggregateId, sequence), SEGMENTS);
    }

    private static OutboxEntry entry(String aggregateId, long sequence) {
        return new OutboxEntry(aggregateId + "-" + sequence, sequence + 1, Instant.EPOCH, "Evt", "Order", aggregateId,
                               sequence, "{}", "{}", OutboxEntry.NO_REVISION, null, OutboxStatus.PENDING, 0, null,
                               null, OutboxEntry.NO_SEQUENCE, null, OutboxEntry.NO_SEGMENT);
    }
}
