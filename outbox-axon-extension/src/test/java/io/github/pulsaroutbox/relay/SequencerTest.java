package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Broker sequence ids persisted before the rows are sent, on the sequencer's threads. */
class SequencerTest {

    private static final int SEGMENTS = 4;
    private static final String TOPIC = "orders";

    private final SegmentClaims claims = SegmentClaims.builder().tokenStore(new InMemoryTokenStore())
                                                      .segmentCount(SEGMENTS).processorName("outbox").build();
    private final AssigningStore store = new AssigningStore();
    private final FakeRows rows = new FakeRows();
    private final AtomicInteger signals = new AtomicInteger();
    private int finished;
    private final ProducerSessions sessions = new ProducerSessions(new OutboxPublisher() {
        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new AssertionError("the sequencer does not send itself");
        }
    }, true, Duration.ofSeconds(5), Duration.ofMillis(100), new TransportWatch(), System::nanoTime, () -> { });
    private final Sequencer sequencer = new Sequencer(store, new FencedWrites(NoTransactionManager.instance(), store,
                                                                              claims),
                                                      claims, sessions, "test", RelayThreads.DAEMONS, rows,
                                                      signals::incrementAndGet);

    SequencerTest() {
        claims.initialize();
        claims.round();
        for (int segment = 0; segment < SEGMENTS; segment++) {
            sessions.opened(sessions.key(TOPIC, segment), TOPIC, new Partitioned(segment + 10));
        }
    }

    @AfterEach
    void close() {
        store.released = true;
        store.gates.values().forEach(gate -> gate.complete(null));
        assertThat(sequencer.close(Duration.ofSeconds(5))).isTrue();
    }

    private static RelayRow row(String id, int segment) {
        String aggregateId = null;
        for (int i = 0; aggregateId == null; i++) {
            aggregateId = OutboxSegments.of(id + i, SEGMENTS) == segment ? id + i : null;
        }
        RelayRow row = new RelayRow(OutboxEntry.pending(id, Instant.EPOCH, "Evt", "Order", aggregateId, 0, "{}", "{}",
                                                        "0", null), SEGMENTS);
        row.topic = TOPIC;
        return row;
    }

    /** Waits until {@code count} more assignments signalled that they finished, and sends what may be sent. */
    private void sendFinished(int count) {
        finished += count;
        await().atMost(Duration.ofSeconds(5)).until(() -> signals.get() >= finished);
        sequencer.sendFinished();
    }

    @Test
    void givesEachRowTheNextIdOfItsSegmentAndPersistsItWithItsPartitionBeforeSendingIt() {
        RelayRow a = row("a", 0);
        RelayRow b = row("b", 0);
        RelayRow c = row("c", 1);

        sequencer.add(List.of(a, b, c));

        assertThat(rows.sent).isEmpty();
        sendFinished(1);
        assertThat(rows.sent).containsExactly(a, b, c); // FakeRows checks each id committed before its send
        assertThat(b.sequence).isEqualTo(a.sequence + 1);
        assertThat(store.assigned).containsExactly(Map.of("a", a.sequence, "b", b.sequence, "c", c.sequence));
        assertThat(store.partitions).containsExactly(Map.of("a", 10, "b", 10, "c", 11));
        assertThat(a.session).isSameAs(sessions.get(TOPIC, 0));
    }

    @Test
    void sendsInIdOrderWhenALaterAssignmentCommitsFirst() {
        store.blocking = true;
        RelayRow a = row("a", 0);
        RelayRow b = row("b", 0);
        sequencer.add(List.of(a));
        sequencer.add(List.of(b));

        store.gate("b").complete(null);
        sendFinished(1);
        assertThat(rows.sent).isEmpty(); // b waits for a's assignment

        store.gate("a").complete(null);
        sendFinished(1);
        assertThat(rows.sent).containsExactly(a, b);
        assertThat(a.sequence).isLessThan(b.sequence);
    }

    @Test
    void runsAtMostTwoAssignmentsAtOnceAndGivesTheRowsPreparedMeanwhileTheirIdsWithTheNext() {
        store.blocking = true;
        RelayRow a = row("a", 0);
        RelayRow b = row("b", 1);
        RelayRow c = row("c", 2);
        RelayRow d = row("d", 2);
        sequencer.add(List.of(a));
        sequencer.add(List.of(b));
        sequencer.add(List.of(c));
        sequencer.add(List.of(d));

        assertThat(c.sequence).isEqualTo(OutboxEntry.NO_SEQUENCE);
        await().atMost(Duration.ofSeconds(5)).until(() -> store.assigned.size() == 2);
        store.gate("a").complete(null);
        sendFinished(1);

        assertThat(rows.sent).containsExactly(a);
        assertThat(d.sequence).isEqualTo(c.sequence + 1);
        await().atMost(Duration.ofSeconds(5)).until(() -> store.assigned.size() == 3);
        assertThat(store.assigned.get(2)).containsOnlyKeys("c", "d");
        store.gate("b").complete(null);
        store.gate("c").complete(null);
        sendFinished(2);
        assertThat(rows.sent).containsExactly(a, b, c, d);
    }

    @Nested
    class Retracting {

        @Test
        void aRowNoLongerSendableWhenAddedWithoutGivingItAnId() {
            RelayRow a = row("a", 0);
            rows.unsendable.add(a);

            sequencer.add(List.of(a));

            assertThat(rows.retracted).containsExactly(a);
            assertThat(a.sequence).isEqualTo(OutboxEntry.NO_SEQUENCE);
            assertThat(store.assigned).isEmpty();
        }

        @Test
        void noRowWhoseSessionIsNotOpenYet() {
            RelayRow a = row("a", 0);
            rows.noSession.add(a);

            sequencer.add(List.of(a));

            assertThat(rows.retracted).isEmpty();
            assertThat(a.sequence).isEqualTo(OutboxEntry.NO_SEQUENCE); // the session gate holds it meanwhile
            assertThat(store.assigned).isEmpty();
        }

        @Test
        void aRowThatStoppedBeingSendableWhileItsIdWasPersisted() {
            RelayRow a = row("a", 0);
            RelayRow b = row("b", 1);
            sequencer.add(List.of(a, b));
            rows.unsendable.add(a);

            sendFinished(1);

            assertThat(rows.retracted).containsExactly(a);
            assertThat(rows.sent).containsExactly(b);
        }

        @Test
        void aRowTheStoreDidNotAssignBecauseItIsNoLongerPending() {
            store.notPending.add("a");
            RelayRow a = row("a", 0);
            RelayRow b = row("b", 0);
            sequencer.add(List.of(a, b));

            sendFinished(1);

            assertThat(rows.retracted).containsExactly(a);
            assertThat(rows.sent).containsExactly(b);
        }

        @Test
        void aRowWhoseSessionWasOpenedAgainMeanwhile() {
            RelayRow a = row("a", 0);
            RelayRow b = row("b", 1);
            sequencer.add(List.of(a, b));
            sessions.opened(sessions.key(TOPIC, 0), TOPIC, new Partitioned(20)); // its partition was the old one's

            sendFinished(1);

            assertThat(rows.retracted).containsExactly(a);
            assertThat(rows.sent).containsExactly(b);
        }
    }

    @Nested
    class Failing {

        @Test
        void aFailedAssignmentRetractsItsRowsAndThrowsWithoutLosingTheNextOne() {
            store.blocking = true;
            store.failing.add("a");
            RelayRow a = row("a", 0);
            RelayRow b = row("b", 0);
            sequencer.add(List.of(a));
            sequencer.add(List.of(b));
            store.gate("a").complete(null);
            store.gate("b").complete(null);
            await().atMost(Duration.ofSeconds(5)).until(() -> signals.get() == 2);

            assertThatThrownBy(sequencer::sendFinished).isSameAs(store.failure);

            assertThat(rows.retracted).containsExactly(a);
            assertThat(rows.sent).isEmpty();
            sequencer.sendFinished();
            assertThat(rows.sent).containsExactly(b);
        }

        @Test
        void rowsWhoseIdsCannotBeReservedAreRetractedAndTheErrorThrown() {
            claims.release(3); // no ids of segment 3 for this node any more
            RelayRow a = row("a", 0);
            RelayRow b = row("b", 3);

            assertThatThrownBy(() -> sequencer.add(List.of(a, b))).isInstanceOf(IllegalStateException.class)
                                                                   .hasMessageContaining("segment 3");

            assertThat(rows.retracted).containsExactlyInAnyOrder(a, b);
            assertThat(store.assigned).isEmpty();
        }
    }

    @Test
    void closingWaitsForTheRunningAssignment() {
        store.blocking = true;
        sequencer.add(List.of(row("a", 0)));
        await().atMost(Duration.ofSeconds(5)).until(() -> store.assigned.size() == 1);

        assertThat(sequencer.close(Duration.ofMillis(50))).isFalse();

        store.gate("a").complete(null);
        assertThat(sequencer.close(Duration.ofSeconds(5))).isTrue();
    }

    /** A session whose keys all route to one partition. */
    private record Partitioned(int partition) implements OutboxPublisher.Session {
        @Override
        public long lastStored(String key) {
            return -1;
        }

        @Override
        public long highestStored() {
            return -1;
        }

        @Override
        public int partitionOf(String key) {
            return partition;
        }
    }

    /**
     * Records the assignments; each may wait for its gate, or fail (both named after the assignment's first row: the
     * two sequencer threads may call in either order).
     */
    private static final class AssigningStore extends InMemoryOutboxStore {
        final List<Map<String, Long>> assigned = new CopyOnWriteArrayList<>();
        final List<Map<String, Integer>> partitions = new CopyOnWriteArrayList<>();
        final Set<String> committed = ConcurrentHashMap.newKeySet();
        final Set<String> notPending = ConcurrentHashMap.newKeySet();
        final Set<String> failing = ConcurrentHashMap.newKeySet();
        final Map<String, CompletableFuture<Void>> gates = new ConcurrentHashMap<>();
        final IllegalStateException failure = new IllegalStateException("database down");
        volatile boolean blocking;
        volatile boolean released;

        CompletableFuture<Void> gate(String firstRow) {
            CompletableFuture<Void> gate = gates.computeIfAbsent(firstRow, n -> new CompletableFuture<>());
            if (released) {
                gate.complete(null);
            }
            return gate;
        }

        @Override
        public Set<String> assignSequences(Map<String, Long> sequences, Map<String, Integer> partitionsById) {
            String firstRow = sequences.keySet().iterator().next();
            assigned.add(Map.copyOf(sequences));
            partitions.add(Map.copyOf(partitionsById));
            if (blocking) {
                gate(firstRow).join();
            }
            if (failing.contains(firstRow)) {
                throw failure;
            }
            committed.addAll(sequences.keySet());
            Set<String> left = ConcurrentHashMap.newKeySet();
            sequences.keySet().stream().filter(notPending::contains).forEach(left::add);
            return left;
        }
    }

    /** The relay's dispatch as the sequencer sees it. */
    private final class FakeRows implements Sequencer.Rows {
        final Set<RelayRow> unsendable = ConcurrentHashMap.newKeySet();
        final Set<RelayRow> noSession = ConcurrentHashMap.newKeySet();
        final List<RelayRow> retracted = new ArrayList<>();
        final List<RelayRow> sent = new ArrayList<>();

        @Override
        public boolean stillSendable(RelayRow row) {
            return !unsendable.contains(row);
        }

        @Override
        public boolean sessionOpen(RelayRow row) {
            return !noSession.contains(row);
        }

        @Override
        public void retract(RelayRow row) {
            retracted.add(row);
        }

        @Override
        public void send(RelayRow row) {
            assertThat(store.committed).as("ids committed before the send").contains(row.entry.id());
            sent.add(row);
        }
    }
}
