package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.store.OutboxNodes;
import io.github.pulsaroutbox.store.OutboxStore.Sequenced;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.Segment;
import org.axonframework.eventhandling.tokenstore.UnableToClaimTokenException;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which segments may send: resolved before they become active, closed when lost, surplus or lapsed. */
class SegmentLifecycleTest {

    private static final Instant NOW = Instant.parse("2024-05-01T10:00:00Z");
    private static final Set<Integer> ALL = Set.of(0, 1, 2, 3);
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Tokens tokens = new Tokens();
    private final Nodes nodes = new Nodes();
    private final SegmentClaims claims = SegmentClaims.builder().tokenStore(tokens).nodes(nodes).segmentCount(4)
                                                      .processorName("outbox").claimTimeout(Duration.ofSeconds(10))
                                                      .nanoTime(nanos::get).build();
    private final SequencedStore store = new SequencedStore();
    private final FakePublisher publisher = new FakePublisher();
    private final ProducerSessions sessions = new ProducerSessions(publisher, true, Duration.ofSeconds(30),
                                                                   Duration.ofMillis(100), new TransportWatch(),
                                                                   nanos::get, () -> { });
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final SegmentResolver resolver = new SegmentResolver(
            store, NoTransactionManager.instance(), new FencedWrites(NoTransactionManager.instance(), store, claims),
            claims, sessions, new RowTopics((type, annotated) -> Optional.of("orders"), CapturedAggregates::none),
            (id, sequence) -> false, clock, nanos::get, Duration.ofSeconds(30));
    private final FetchPlanner planner = new FetchPlanner(store, NoTransactionManager.instance(), clock, nanos::get,
                                                          10, Duration.ofMillis(100), "test");
    private final Rows rows = new Rows();
    private final SegmentLifecycle lifecycle = new SegmentLifecycle(claims, 4, ALL, sessions, resolver, planner,
                                                                    RETRY, nanos::get, rows);

    SegmentLifecycleTest() {
        claims.initialize();
    }

    private void nextRound() {
        nanos.addAndGet(claims.roundInterval().toNanos());
    }

    private int closings(int segment) {
        return Collections.frequency(publisher.closed, segment);
    }

    private void sequencedRowIn(int segment) {
        OutboxEntry entry = OutboxEntry.pending("row-" + segment, NOW, "Evt", "Order", "order", 0, "{}", "{}", "0",
                                                null).withBrokerSequence(5);
        store.sequenced.put(segment, List.of(new Sequenced(entry, 0)));
    }

    @Test
    void withoutClaimsEverySegmentIsSendableAndMaintainingDoesNothing() {
        SegmentLifecycle unclaimed = new SegmentLifecycle(null, 4, ALL, sessions, resolver, planner, RETRY,
                                                          nanos::get, rows);

        unclaimed.maintain();
        unclaimed.startResolving(1); // nothing to resolve without claims: every segment keeps sending

        assertThat(unclaimed.sendableSegments()).isEqualTo(ALL);
        assertThat(IntStream.range(0, 4)).allMatch(unclaimed::mayStillSend);
        assertThat(rows.dropped).isEmpty();
        assertThat(publisher.closed).isEmpty();
    }

    @Nested
    class Gaining {

        @Test
        void nothingIsSentBeforeTheFirstRound() {
            assertThat(lifecycle.sendableSegments()).isEmpty();
            assertThat(lifecycle.mayStillSend(0)).isFalse();
        }

        @Test
        void aGainedSegmentIsResolvedBeforeItBecomesActive() {
            sequencedRowIn(0);
            CompletableFuture<OutboxPublisher.Session> opening = publisher.pending("orders", 0);

            lifecycle.maintain();

            assertThat(rows.dropped).containsExactlyInAnyOrderElementsOf(ALL);
            assertThat(lifecycle.sendableSegments()).containsExactlyInAnyOrder(1, 2, 3);
            assertThat(lifecycle.mayStillSend(0)).isFalse();
            assertThat(store.stored).isEmpty();

            opening.complete(OutboxPublisher.Session.NOTHING_STORED);
            lifecycle.maintain();

            assertThat(lifecycle.sendableSegments()).isEqualTo(ALL);
            assertThat(lifecycle.mayStillSend(0)).isTrue();
            assertThat(store.cleared).containsOnlyKeys("row-0");
        }

        @Test
        void aSegmentIsResolvedOnlyOnceNoneOfItsRowsIsInTheWorkingSet() {
            rows.busy.add(0);

            lifecycle.maintain();

            assertThat(lifecycle.sendableSegments()).containsExactlyInAnyOrder(1, 2, 3);
            assertThat(closings(0)).isZero(); // its resolution did not start
            rows.busy.clear();
            lifecycle.maintain();
            assertThat(lifecycle.sendableSegments()).isEqualTo(ALL);
        }

        /* Resolution is per topic: one topic that cannot be asked holds only its own rows of the segment. */
        @Test
        void aTopicThatCannotBeAskedIsHeldWhileTheSegmentSendsAndIsTriedAgainBackingOff() {
            sequencedRowIn(0);
            OutboxEntry held = store.sequenced.get(0).get(0).entry();
            publisher.answers.put("orders/0", CompletableFuture.failedFuture(new IllegalStateException("down")));

            lifecycle.maintain();
            assertThat(lifecycle.mayStillSend(0)).isTrue(); // its other topics flow
            assertThat(lifecycle.sendableSegments()).isEqualTo(ALL);
            assertThat(lifecycle.heldBack(0, held)).isTrue();
            assertThat(lifecycle.heldBack(1, held)).isFalse();
            assertThat(store.cleared).isEmpty();
            assertThat(publisher.openings).containsEntry("orders/0", 1);

            lifecycle.maintain(); // not due yet
            assertThat(publisher.openings).containsEntry("orders/0", 1);
            nanos.addAndGet(RETRY.toNanos());
            lifecycle.maintain(); // fails again: the next try waits twice as long
            assertThat(publisher.openings).containsEntry("orders/0", 2);
            assertThat(closings(0)).isEqualTo(1); // only when it was gained: the flowing topics keep their producers
            nanos.addAndGet(RETRY.toNanos());
            lifecycle.maintain();
            assertThat(publisher.openings).containsEntry("orders/0", 2);

            publisher.answers.remove("orders/0");
            nanos.addAndGet(RETRY.toNanos());
            lifecycle.maintain();
            assertThat(publisher.openings).containsEntry("orders/0", 3);
            assertThat(lifecycle.heldBack(0, held)).isFalse();
            assertThat(store.cleared).containsOnlyKeys("row-0");
        }

        @Test
        void aLostSegmentForgetsItsHeldTopics() {
            sequencedRowIn(0);
            OutboxEntry held = store.sequenced.get(0).get(0).entry();
            publisher.answers.put("orders/0", CompletableFuture.failedFuture(new IllegalStateException("down")));
            lifecycle.maintain();
            assertThat(lifecycle.heldBack(0, held)).isTrue();

            tokens.stolen.add(0);
            nextRound();
            lifecycle.maintain();

            assertThat(lifecycle.heldBack(0, held)).isFalse();
            assertThat(lifecycle.mayStillSend(0)).isFalse();
        }
    }

    @Nested
    class WhileActive {

        @Test
        void startResolvingStopsSendingUntilTheSegmentIsResolvedAgain() {
            lifecycle.maintain();
            rows.dropped.clear();

            lifecycle.startResolving(2);

            assertThat(lifecycle.mayStillSend(2)).isFalse();
            assertThat(lifecycle.sendableSegments()).containsExactlyInAnyOrder(0, 1, 3);
            assertThat(rows.dropped).containsExactly(2);
            lifecycle.maintain();
            assertThat(lifecycle.mayStillSend(2)).isTrue();
            assertThat(closings(2)).isEqualTo(2); // each resolution closes the producers first
        }

        @Test
        void aLostSegmentStopsAtOnceAndIsClosedOnceIdleWithoutReleasingItsClaim() {
            lifecycle.maintain();
            tokens.stolen.add(1);
            rows.busy.add(1);
            nextRound();

            lifecycle.maintain();

            assertThat(lifecycle.mayStillSend(1)).isFalse();
            assertThat(lifecycle.sendableSegments()).containsExactlyInAnyOrder(0, 2, 3);
            assertThat(rows.dropped).contains(1);
            assertThat(closings(1)).isEqualTo(1); // in flight: its producers stay open
            rows.busy.clear();
            lifecycle.maintain();
            assertThat(closings(1)).isEqualTo(2);
            assertThat(tokens.released).isEmpty();
        }

        @Test
        void surplusSegmentsStopAndAreReleasedOnceIdle() {
            lifecycle.maintain();
            nodes.live = 2; // a second node joined: this one keeps its fair share of 2
            rows.busy.add(3);
            nextRound();

            lifecycle.maintain();

            assertThat(lifecycle.sendableSegments()).containsExactlyInAnyOrder(0, 1);
            assertThat(tokens.released).containsExactly(2);
            assertThat(closings(2)).isEqualTo(2);
            assertThat(claims.owns(3)).isTrue();
            rows.busy.clear();
            lifecycle.maintain();
            assertThat(tokens.released).containsExactly(2, 3);
            assertThat(claims.ownedSegments()).containsExactlyInAnyOrder(0, 1);
        }

        @Test
        void aSurplusSegmentBeingDrainedKeepsItsProducersWhileItsClaimIsValid() {
            lifecycle.maintain();
            sessions.opening("orders", 3); // its producers are open
            nodes.live = 2;
            rows.busy.add(3); // a row of it in flight
            nextRound();
            lifecycle.maintain(); // segment 3 is surplus: drained before it is released
            int closedBefore = closings(3);

            lifecycle.maintain(); // its claim is valid, its row still in flight

            assertThat(closings(3)).isEqualTo(closedBefore);
        }

        @Test
        void aSegmentWaitingToBeResolvedWhoseClaimLapsedHasItsProducersClosed() {
            lifecycle.maintain();
            sessions.opening("orders", 1); // its producers are open
            rows.busy.add(1); // its rows cannot leave the working set (their outcomes cannot be recorded)
            lifecycle.startResolving(1); // a send of unknown outcome: resolved once idle
            int closedBefore = closings(1);
            tokens.down = true;
            nanos.set(claims.validUntilNanos(1));

            assertThatThrownBy(lifecycle::maintain).hasMessage("database down");

            assertThat(closings(1)).isEqualTo(closedBefore + 1); // the new owner can open them
        }

        @Test
        void aLapsedClaimClosesTheProducersAtOnceEvenIfTheRoundFails() {
            lifecycle.maintain();
            rows.busy.add(0); // rows in flight do not hold it up
            rows.dropped.clear();
            tokens.down = true;
            nanos.set(claims.validUntilNanos(0));

            assertThatThrownBy(lifecycle::maintain).hasMessage("database down");

            assertThat(ALL).allMatch(segment -> closings(segment) == 2);
            assertThat(rows.dropped).containsExactlyInAnyOrderElementsOf(ALL);
            assertThat(lifecycle.sendableSegments()).isEmpty();
            tokens.down = false;
            rows.busy.clear();
            nextRound();
            lifecycle.maintain();
            assertThat(lifecycle.sendableSegments()).isEqualTo(ALL); // resolved again once the claims are extended
        }
    }

    /** The segments' rows with sequence ids, and what resolutions write. */
    private static final class SequencedStore extends InMemoryOutboxStore {
        final Map<Integer, List<Sequenced>> sequenced = new HashMap<>();
        final Map<String, Long> stored = new HashMap<>();
        final Map<String, Long> cleared = new HashMap<>();

        @Override
        public List<Sequenced> fetchSequencedWithPartitions(int segment) {
            return sequenced.getOrDefault(segment, List.of());
        }

        @Override
        public void markStored(Map<String, Long> sequences, Instant sentAt) {
            stored.putAll(sequences);
        }

        @Override
        public void clearSequences(Map<String, Long> sequences) {
            cleared.putAll(sequences);
        }
    }

    /** Opens sessions at once with nothing stored, unless told otherwise per topic and segment. */
    private static final class FakePublisher implements OutboxPublisher {
        final Map<String, CompletableFuture<Session>> answers = new HashMap<>();
        final Map<String, Integer> openings = new HashMap<>();
        final List<Integer> closed = new ArrayList<>();

        CompletableFuture<Session> pending(String topic, int segment) {
            return answers.computeIfAbsent(topic + "/" + segment, key -> new CompletableFuture<>());
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new AssertionError("the lifecycle sends nothing");
        }

        @Override
        public CompletableFuture<Session> openSession(String destination, int segment) {
            openings.merge(destination + "/" + segment, 1, Integer::sum);
            return answers.getOrDefault(destination + "/" + segment,
                                        CompletableFuture.completedFuture(Session.NOTHING_STORED));
        }

        @Override
        public void closeSegment(int segment) {
            closed.add(segment);
        }
    }

    /** The relay's working set as the lifecycle sees it. */
    private static final class Rows implements SegmentLifecycle.WorkingSet {
        final Set<Integer> busy = new HashSet<>();
        final List<Integer> dropped = new ArrayList<>();

        @Override
        public void dropQueuedOf(int segment) {
            dropped.add(segment);
        }

        @Override
        public boolean idle(int segment) {
            return !busy.contains(segment);
        }
    }

    /** A token store whose claims another node may take, or that may be unreachable. */
    private static final class Tokens extends InMemoryTokenStore {
        final Set<Integer> stolen = new HashSet<>();
        final List<Integer> released = new ArrayList<>();
        volatile boolean down;

        @Override
        public void extendClaim(String processorName, int segment) {
            if (down) {
                throw new IllegalStateException("database down");
            }
            if (stolen.contains(segment)) {
                throw new UnableToClaimTokenException("claimed by another node");
            }
        }

        @Override
        public List<Segment> fetchAvailableSegments(String processorName) {
            return super.fetchAvailableSegments(processorName).stream()
                        .filter(segment -> !stolen.contains(segment.getSegmentId())).toList();
        }

        @Override
        public void releaseClaim(String processorName, int segment) {
            released.add(segment);
            super.releaseClaim(processorName, segment);
        }
    }

    /** A node table listing {@code live} nodes. */
    private static final class Nodes implements OutboxNodes {
        volatile int live = 1;

        @Override
        public void heartbeat(String nodeId, Instant at, String segments) {
        }

        @Override
        public List<Node> liveNodes(Instant since) {
            return IntStream.range(0, live).mapToObj(n -> new Node("node-" + n, since, "")).toList();
        }

        @Override
        public void leave(String nodeId) {
        }

        @Override
        public void forgetNodes(Instant before) {
        }
    }
}
