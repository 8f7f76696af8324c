package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Handing out rows to send, with real queues and preparation, on a fake clock. */
class DispatcherTest {

    private static final int SEGMENTS = 4;
    private static final long DELAY = TimeUnit.MILLISECONDS.toNanos(Dispatcher.DELAY_MILLIS);

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AggregateQueues queues = new AggregateQueues(SEGMENTS, false, key -> { });
    private final RowPreparation preparation = new RowPreparation(
            () -> EntryUpcaster.NONE,
            new RowTopics((type, annotated) -> type.equals("Unrouted") ? Optional.empty() : Optional.of("orders"),
                          CapturedAggregates::none));
    private final Map<String, Attempt> failed = new LinkedHashMap<>();
    private final Set<Integer> closedSegments = new HashSet<>();
    private final List<List<String>> sequenced = new ArrayList<>();
    private final List<String> transmitted = new ArrayList<>();

    private Dispatcher dispatcher(boolean withSequenceIds, int maxInFlight) {
        return new Dispatcher(queues, preparation, (row, attempt) -> failed.put(row.entry.id(), attempt),
                              segment -> !closedSegments.contains(segment),
                              rows -> sequenced.add(rows.stream().map(row -> row.entry.id()).toList()),
                              row -> transmitted.add(row.entry.id()), withSequenceIds, maxInFlight, nanos::get);
    }

    private RelayRow queue(String aggregateType, String aggregateId, long sequence) {
        RelayRow row = new RelayRow(OutboxEntry.pending(aggregateId + sequence, Instant.EPOCH, "Evt", aggregateType,
                                                        aggregateId, sequence, "{}", "{}", "1", null), SEGMENTS);
        queues.queue(row);
        return row;
    }

    @Nested
    class WithoutSequenceIds {

        @Test
        void isAlwaysDue() {
            Dispatcher dispatcher = dispatcher(false, 10);
            queue("Order", "A", 0);
            dispatcher.dispatch();

            assertThat(dispatcher.due()).isTrue();
            assertThat(dispatcher.waitUntil(123)).isEqualTo(123);
        }

        @Test
        void transmitsTheNextRowOfEachAggregateReadiedAndCountedInFlight() {
            RelayRow a0 = queue("Order", "A", 0);
            queue("Order", "A", 1);
            queue("Order", "B", 0);

            dispatcher(false, 10).dispatch();

            assertThat(transmitted).containsExactly("A0", "B0");
            assertThat(a0.topic).isEqualTo("orders");
            assertThat(queues.inFlightCount()).isEqualTo(2);
            assertThat(queues.queuedCount()).isEqualTo(1);
            assertThat(sequenced).isEmpty();
        }

        @Test
        void handsOutNoMoreThanMaxInFlight() {
            queue("Order", "A", 0);
            queue("Order", "B", 0);

            dispatcher(false, 1).dispatch();

            assertThat(transmitted).hasSize(1);
            assertThat(queues.inFlightCount()).isEqualTo(1);
        }

        @Test
        void aRowThatCannotBeReadiedFailsInsteadOfBeingSent() {
            queue("Unrouted", "A", 0);

            dispatcher(false, 10).dispatch();

            assertThat(transmitted).isEmpty();
            assertThat(failed).containsOnlyKeys("A0");
            assertThat(failed.get("A0").kind()).isEqualTo(FailureKind.NO_ROUTE);
            assertThat(queues.inFlightCount()).isZero();
        }

        @Test
        void rowsOfASegmentThatMayNotSendAreDroppedNotSent() {
            RelayRow row = queue("Order", "A", 0);
            closedSegments.add(row.segment);

            dispatcher(false, 10).dispatch();

            assertThat(transmitted).isEmpty();
            assertThat(queues.queuedCount()).isZero();
            assertThat(queues.holds(row.entry.id())).isFalse();
        }
    }

    @Nested
    class WithSequenceIds {

        @Test
        void theRowsOfADispatchGoToTheSequencerTogether() {
            queue("Order", "A", 0);
            queue("Order", "B", 0);

            dispatcher(true, 10).dispatch();

            assertThat(sequenced).containsExactly(List.of("A0", "B0"));
            assertThat(transmitted).isEmpty();
            assertThat(queues.inFlightCount()).isEqualTo(2);
        }

        @Test
        void isDueWithNothingInFlightAGroupReadyOrOnceTheDelayPassedWithRoomInFlight() {
            Dispatcher dispatcher = dispatcher(true, 100);
            assertThat(dispatcher.due()).isTrue(); // nothing in flight
            queue("Order", "first", 0);
            dispatcher.dispatch();
            for (int i = 0; i < Dispatcher.GROUP - 1; i++) {
                queue("Order", "agg-" + i, 0);
            }
            assertThat(dispatcher.due()).isFalse();

            queue("Order", "last", 0);
            assertThat(dispatcher.due()).isTrue(); // a group is ready

            queues.dropAllQueued();
            queue("Order", "late", 0);
            nanos.addAndGet(DELAY);
            assertThat(dispatcher.due()).isTrue(); // the delay passed
        }

        @Test
        void isNotDueAfterTheDelayWithoutRoomInFlight() {
            Dispatcher dispatcher = dispatcher(true, 1);
            queue("Order", "A", 0);
            dispatcher.dispatch();
            queue("Order", "B", 0);

            nanos.addAndGet(DELAY);

            assertThat(dispatcher.due()).isFalse();
        }

        @Test
        void aStepWaitsNoLongerThanUntilReadyRowsAreDue() {
            Dispatcher dispatcher = dispatcher(true, 10);
            long dispatched = nanos.get();
            queue("Order", "A", 0);
            dispatcher.dispatch();
            long far = dispatched + TimeUnit.SECONDS.toNanos(1);
            assertThat(dispatcher.waitUntil(far)).isEqualTo(far); // nothing ready

            queue("Order", "B", 0);

            assertThat(dispatcher.waitUntil(far)).isEqualTo(dispatched + DELAY);
            assertThat(dispatcher.waitUntil(dispatched + 1)).isEqualTo(dispatched + 1);
        }
    }
}
