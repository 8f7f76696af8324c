package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.capture.CapturedAggregates;
import io.github.pulsaroutbox.store.OutboxStore.Sequenced;
import org.axonframework.common.transaction.NoTransactionManager;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** What the broker stored of a segment's rows with sequence ids, found out through new producer sessions. */
class SegmentResolverTest {

    private static final Instant NOW = Instant.parse("2024-05-01T10:00:00Z");
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);
    private static final int SEGMENT = 0;

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final List<String> events = new ArrayList<>();
    private final SequencedStore store = new SequencedStore();
    private final FakePublisher publisher = new FakePublisher();
    private final Set<String> neverStored = new HashSet<>();
    private final Map<String, Optional<String>> topicByType = new HashMap<>(Map.of("Order", Optional.of("orders")));
    private final SegmentClaims claims = SegmentClaims.builder().tokenStore(new LoggingTokenStore()).segmentCount(1)
                                                      .processorName("outbox").nanoTime(nanos::get).build();
    private final ProducerSessions sessions = new ProducerSessions(publisher, true, ACK_TIMEOUT, Duration.ofMillis(100),
                                                                   new TransportWatch(), nanos::get, () -> { });
    private final SegmentResolver resolver = resolverOver(claims);

    private SegmentResolver resolverOver(SegmentClaims segmentClaims) {
        return new SegmentResolver(
                store, NoTransactionManager.instance(),
                new FencedWrites(NoTransactionManager.instance(), store, segmentClaims), segmentClaims, sessions,
                new RowTopics((type, annotated) -> {
                    if (!topicByType.containsKey(type)) {
                        throw new IllegalStateException("no resolver for " + type);
                    }
                    return topicByType.get(type);
                }, CapturedAggregates::none), (id, sequence) -> neverStored.contains(id + "@" + sequence),
                Clock.fixed(NOW, ZoneOffset.UTC), nanos::get, ACK_TIMEOUT);
    }

    SegmentResolverTest() {
        claims.initialize();
        claims.round();
    }

    private void row(String id, String type, String key, long sequence, int partition) {
        OutboxEntry entry = OutboxEntry.pending(id, NOW, "Evt", type, key, 0, "{}", "{}", "0", null);
        store.sequenced.add(new Sequenced(entry.withBrokerSequence(sequence), partition));
    }

    @Nested
    class Resolved {

        private final Stored session = new Stored(Map.of(0, 7L, 1, 2L), Map.of("k-old", 4L, "k-new", 3L), 100);

        @Test
        void rowsAtOrBelowTheLastIdStoredInTheirPartitionAreRecordedSentAndTheOthersCleared() {
            publisher.answer("orders", session);
            row("a", "Order", "k1", 5, 0);
            row("b", "Order", "k1", 7, 0);
            row("c", "Order", "k1", 8, 0);
            row("d", "Order", "k2", 6, 1); // sent to partition 1 (2 stored there); its key now routes to 0

            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.RESOLVED);

            assertThat(store.stored).isEqualTo(Map.of("a", 5L, "b", 7L));
            assertThat(store.cleared).isEqualTo(Map.of("c", 8L, "d", 6L));
            assertThat(store.storedAt).isEqualTo(NOW);
        }

        @Test
        void aRowWithoutAStoredPartitionIsComparedWithTheLastIdStoredForItsKey() {
            publisher.answer("orders", session);
            row("old", "Order", "k-old", 4, Sequenced.NO_PARTITION);
            row("new", "Order", "k-new", 6, Sequenced.NO_PARTITION); // 7 stored in partition 0, 3 for its key

            resolver.resolve(SEGMENT);

            assertThat(store.stored).isEqualTo(Map.of("old", 4L));
            assertThat(store.cleared).isEqualTo(Map.of("new", 6L));
        }

        @Test
        void aRowKnownNeverToHaveReachedTheBrokerCountsAsNotStored() {
            publisher.answer("orders", session);
            row("a", "Order", "k1", 5, 0);
            row("b", "Order", "k1", 6, 0);
            neverStored.add("a@5");

            resolver.resolve(SEGMENT);

            assertThat(store.stored).isEqualTo(Map.of("b", 6L));
            assertThat(store.cleared).isEqualTo(Map.of("a", 5L));
        }

        @Test
        void rowsOfATopicThatRefusesProducersOrHasNoneConfiguredAreCleared() {
            publisher.fail("orders", new IllegalArgumentException("topic does not exist"), FailureKind.UNKNOWN_TOPIC);
            topicByType.put("Unrouted", Optional.empty());
            row("a", "Order", "k1", 5, 0);
            row("b", "Unrouted", "k1", 6, 0);

            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.RESOLVED);

            assertThat(store.cleared).isEqualTo(Map.of("a", 5L, "b", 6L));
            assertThat(store.stored).isEmpty();
        }

        @Test
        void closesTheOldProducersFirstAndWritesTheOutcomeFencedByTheClaim() {
            publisher.answer("orders", session);
            row("a", "Order", "k1", 5, 0);

            resolver.resolve(SEGMENT);

            assertThat(events).containsExactly("close 0", "open orders 0", "markStored", "clearSequences",
                                               "fence 0");
        }

        @Test
        void adoptsTheNewSessionsAndRaisesTheSegmentsIdsAboveTheHighestStored() {
            publisher.answer("orders", session);
            row("a", "Order", "k1", 5, 0);

            resolver.resolve(SEGMENT);

            assertThat(sessions.get("orders", SEGMENT)).isSameAs(session);
            claims.reserve(Map.of(SEGMENT, 1));
            assertThat(claims.nextSequence(SEGMENT)).isEqualTo(101);
            assertThat(resolver.started(SEGMENT)).isFalse();
        }
    }

    /* A start or takeover resolves several segments: the rows of those that read them are read in one statement. */
    @Nested
    class SeveralSegments {

        private final SegmentClaims twoSegments = SegmentClaims.builder().tokenStore(new LoggingTokenStore())
                                                               .segmentCount(2).processorName("outbox")
                                                               .nanoTime(nanos::get).build();
        private final SegmentResolver resolver = resolverOver(twoSegments);
        private final Map<Integer, SegmentResolver.Result> results = new HashMap<>();

        SeveralSegments() {
            twoSegments.initialize();
            twoSegments.round();
        }

        @Test
        void readTheirRowsInOneStatementAndResolveEachWithItsOwn() {
            publisher.answer("orders", new Stored(Map.of(0, 5L), Map.of(), 5));
            row("a", "Order", "k1", 5, 0);
            row("b", "Order", "k1", 6, 0);
            store.otherSegment.add(new Sequenced(OutboxEntry.pending("c", NOW, "Evt", "Order", "k9", 0, "{}", "{}",
                                                                     "0", null).withBrokerSequence(4), 0));

            resolver.resolveAll(List.of(0, 1), results::put);

            assertThat(results).containsOnly(Map.entry(0, SegmentResolver.Result.RESOLVED),
                                             Map.entry(1, SegmentResolver.Result.RESOLVED));
            assertThat(store.setReads).containsExactly(Set.of(0, 1));
            assertThat(store.reads).as("no read segment by segment").isZero();
            assertThat(store.stored).isEqualTo(Map.of("a", 5L, "c", 4L));
            assertThat(store.cleared).isEqualTo(Map.of("b", 6L));
        }

        @Test
        void aSegmentWaitingForItsProducersReadsNothingAndTheRowsReadAreNotKeptForLater() {
            CompletableFuture<OutboxPublisher.Session> opening = publisher.pending("orders");
            row("a", "Order", "k1", 5, 0);

            resolver.resolveAll(List.of(0, 1), results::put);
            assertThat(results).containsEntry(0, SegmentResolver.Result.WAITING)
                               .containsEntry(1, SegmentResolver.Result.RESOLVED); // segment 1 has no such rows
            assertThat(store.setReads).containsExactly(Set.of(0, 1));

            resolver.resolveAll(List.of(0), results::put); // still waiting: nothing read
            assertThat(store.setReads).hasSize(1);
            assertThat(store.reads).isZero();

            opening.complete(new Stored(Map.of(0, 5L), Map.of(), 5));
            row("late", "Order", "k1", 6, 0); // what the segment holds now is read again, not what was read before
            resolver.resolveAll(List.of(0), results::put);
            assertThat(results).containsEntry(0, SegmentResolver.Result.RESOLVED);
            assertThat(store.reads).as("one segment: read on its own").isEqualTo(1);
            assertThat(store.stored).isEqualTo(Map.of("a", 5L));
            assertThat(store.cleared).isEqualTo(Map.of("late", 6L));
        }
    }

    @Nested
    class Waiting {

        @Test
        void whileAnOpeningRunsWithoutReadingTheRowsAgain() {
            CompletableFuture<OutboxPublisher.Session> opening = publisher.pending("orders");
            row("a", "Order", "k1", 5, 0);

            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.WAITING);
            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.WAITING);
            assertThat(resolver.started(SEGMENT)).isTrue();
            assertThat(store.reads).isEqualTo(1);
            assertThat(store.stored).isEmpty();

            opening.complete(new Stored(Map.of(0, 5L), Map.of(), 5));

            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.RESOLVED);
            assertThat(store.reads).isEqualTo(2);
            assertThat(store.stored).isEqualTo(Map.of("a", 5L));
            assertThat(publisher.opened).containsExactly("orders"); // opened once
        }

        @Test
        void anOpeningWithoutAnAnswerWithinTheAckTimeoutHoldsItsTopic() {
            publisher.pending("orders");
            row("a", "Order", "k1", 5, 0);
            resolver.resolve(SEGMENT);

            nanos.addAndGet(ACK_TIMEOUT.toNanos());
            claims.round(); // the claim kept meanwhile

            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.HELD);
            assertThat(resolver.holdsTopics(SEGMENT)).isTrue();
            assertThat(resolver.started(SEGMENT)).isFalse();
            assertThat(store.stored).isEmpty();
            assertThat(store.cleared).isEmpty();
        }

        @Test
        void anAbandonedResolutionStartsOverClosingTheSessionsAgain() {
            publisher.pending("orders");
            row("a", "Order", "k1", 5, 0);
            resolver.resolve(SEGMENT);

            resolver.abandon(SEGMENT);

            assertThat(resolver.started(SEGMENT)).isFalse();
            resolver.resolve(SEGMENT);
            assertThat(events).containsExactly("close 0", "open orders 0", "close 0", "open orders 0");
        }
    }

    @Nested
    class Failed {

        @ParameterizedTest
        @EnumSource(value = FailureKind.class, names = {"TRANSIENT", "TIMEOUT", "UNAVAILABLE", "NOT_FOUND",
                                                         "NOT_AUTHORIZED"})
        void whenAnOpeningFailsInAWayThatMayPassTheTopicIsHeld(FailureKind kind) {
            publisher.fail("orders", new IllegalStateException("broker unreachable"), kind);
            row("a", "Order", "k1", 5, 0);

            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.HELD);

            assertThat(resolver.started(SEGMENT)).isFalse();
            assertThat(resolver.holdsTopics(SEGMENT)).isTrue();
            assertThat(resolver.holds(SEGMENT, order("later", "k9"))).isTrue(); // also rows without an id yet
            assertThat(store.stored).isEmpty();
            assertThat(store.cleared).isEmpty(); // its rows keep their ids until the broker answers
            assertThat(events).startsWith("close 0", "open orders 0");
        }

        /* One topic holds the whole segment: the warning must say which, once per reason, not at every retry. */
        @Test
        void theWarningNamesTheTopicOncePerReason() {
            List<ch.qos.logback.classic.spi.ILoggingEvent> logged = CapturedLogs.during(SegmentResolver.class, () -> {
                publisher.fail("orders", new IllegalStateException("not authorized"), FailureKind.NOT_AUTHORIZED);
                row("a", "Order", "k1", 5, 0);
                resolver.resolve(SEGMENT);
                resolver.resolve(SEGMENT);
                publisher.fail("orders", new IllegalStateException("broker unreachable"), FailureKind.UNAVAILABLE);
                resolver.resolve(SEGMENT);
            });

            assertThat(logged).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                                     .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                                     .hasSize(2)
                                     .allSatisfy(m -> assertThat(m).contains("segment " + SEGMENT)
                                                                   .contains("none of its rows of topic orders is sent")
                                                                   .contains("orders"))
                                     .anySatisfy(m -> assertThat(m).contains("not authorized"))
                                     .anySatisfy(m -> assertThat(m).contains("broker unreachable"));
        }

        @Test
        void whenARowsTopicCannotBeResolved() {
            row("a", "Unknown", "k1", 5, 0);

            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.FAILED);

            assertThat(store.cleared).isEmpty();
            assertThat(resolver.started(SEGMENT)).isFalse();
        }
    }

    /*
     * Resolution is per topic: one topic that refuses a producer for now (not authorized, not found yet, unreachable)
     * holds only its own rows of the segment; the others are resolved and flow, and the held topic is resolved later
     * without closing their producers.
     */
    @Nested
    class PerTopic {

        private final Stored session = new Stored(Map.of(0, 7L), Map.of(), 100);

        PerTopic() {
            topicByType.put("Invoice", Optional.of("invoices"));
        }

        @Test
        void aTopicThatCannotBeAskedHoldsOnlyItsOwnRows() {
            ordersRefusedInvoicesAnswered();
            row("c", "Invoice", "k2", 9, 0);

            assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.HELD);

            assertThat(store.stored).isEqualTo(Map.of("b", 6L));
            assertThat(store.cleared).isEqualTo(Map.of("c", 9L));
            assertThat(resolver.holds(SEGMENT, order("a", "k1"))).isTrue();
            assertThat(resolver.holds(SEGMENT, invoice("d", "k3"))).isFalse();
            topicByType.put("Refund", Optional.of("orders")); // another type on the held topic, not resolved yet
            assertThat(resolver.holds(SEGMENT, OutboxEntry.pending("r", NOW, "Evt", "Refund", "k4", 0, "{}", "{}",
                                                                   "0", null))).isTrue();
            assertThat(sessions.get("invoices", SEGMENT)).isNotNull(); // adopted: the topic flows
            assertThat(sessions.get("orders", SEGMENT)).isNull();
        }

        @Test
        void theHeldTopicIsResolvedLaterLeavingTheOthersAlone() {
            ordersRefusedInvoicesAnswered();
            resolver.resolve(SEGMENT);
            store.stored.clear();
            events.clear();
            row("c", "Invoice", "k2", 101, 0); // sent meanwhile on the flowing session: not the resolution's business
            publisher.answer("orders", session);
            nanos.addAndGet(Duration.ofSeconds(1).toNanos()); // past the opening's back-off

            assertThat(resolver.resolveHeld(SEGMENT)).isEqualTo(SegmentResolver.Result.RESOLVED);

            assertThat(store.stored).isEqualTo(Map.of("a", 5L));
            assertThat(store.cleared).isEmpty();
            assertThat(events).doesNotContain("close 0").contains("open orders 0").doesNotContain("open invoices 0");
            assertThat(resolver.holdsTopics(SEGMENT)).isFalse();
            assertThat(resolver.holds(SEGMENT, order("a", "k1"))).isFalse();
            assertThat(sessions.get("orders", SEGMENT)).isNotNull();
        }

        @Test
        void aHeldTopicThatStillFailsStaysHeld() {
            publisher.fail("orders", new IllegalStateException("not authorized"), FailureKind.NOT_AUTHORIZED);
            row("a", "Order", "k1", 5, 0);
            resolver.resolve(SEGMENT);

            assertThat(resolver.resolveHeld(SEGMENT)).isEqualTo(SegmentResolver.Result.HELD);

            assertThat(store.stored).isEmpty();
            assertThat(store.cleared).isEmpty();
            assertThat(resolver.holdsTopics(SEGMENT)).isTrue();
        }

        @Test
        void abandoningTheSegmentForgetsItsHeldTopics() {
            publisher.fail("orders", new IllegalStateException("not authorized"), FailureKind.NOT_AUTHORIZED);
            row("a", "Order", "k1", 5, 0);
            resolver.resolve(SEGMENT);

            resolver.abandon(SEGMENT);

            assertThat(resolver.holdsTopics(SEGMENT)).isFalse();
            assertThat(resolver.resolveHeld(SEGMENT)).isEqualTo(SegmentResolver.Result.RESOLVED);
        }

        /** Orders' producer refused (not authorized) with row a (id 5); invoices answered, with row b (id 6). */
        private void ordersRefusedInvoicesAnswered() {
            publisher.fail("orders", new IllegalStateException("not authorized"), FailureKind.NOT_AUTHORIZED);
            publisher.answer("invoices", session);
            row("a", "Order", "k1", 5, 0);
            row("b", "Invoice", "k2", 6, 0);
        }

        private OutboxEntry invoice(String id, String key) {
            return OutboxEntry.pending(id, NOW, "Evt", "Invoice", key, 0, "{}", "{}", "0", null);
        }
    }

    private static OutboxEntry order(String id, String key) {
        return OutboxEntry.pending(id, NOW, "Evt", "Order", key, 0, "{}", "{}", "0", null);
    }

    @Test
    void lapsedWhenTheClaimIsNoLongerValidWritingNothing() {
        publisher.answer("orders", new Stored(Map.of(0, 7L), Map.of(), 7));
        row("a", "Order", "k1", 5, 0);
        nanos.set(claims.validUntilNanos(SEGMENT));

        assertThat(resolver.resolve(SEGMENT)).isEqualTo(SegmentResolver.Result.LAPSED);

        assertThat(store.stored).isEmpty();
        assertThat(store.cleared).isEmpty();
        assertThat(sessions.get("orders", SEGMENT)).isNull();
        assertThat(events).containsExactly("close 0", "open orders 0", "close 0");
    }

    /** What the broker had stored when a session opened. */
    private record Stored(Map<Integer, Long> byPartition, Map<String, Long> byKey, long highestStored)
            implements OutboxPublisher.Session {
        @Override
        public long lastStored(String key) {
            return byKey.getOrDefault(key, -1L);
        }

        @Override
        public long lastStoredIn(int partition) {
            return byPartition.getOrDefault(partition, -1L);
        }
    }

    /** The rows with sequence ids of the segment, and what the resolution writes. */
    private final class SequencedStore extends InMemoryOutboxStore {
        final List<Sequenced> sequenced = new ArrayList<>();
        final Map<String, Long> stored = new HashMap<>();
        final Map<String, Long> cleared = new HashMap<>();
        Instant storedAt;
        int reads;

        /** The rows with sequence ids of segment 1 (for the tests of several segments). */
        final List<Sequenced> otherSegment = new ArrayList<>();
        final List<Set<Integer>> setReads = new ArrayList<>();

        @Override
        public List<Sequenced> fetchSequencedWithPartitions(int segment) {
            reads++;
            return rowsOf(segment);
        }

        @Override
        public Map<Integer, List<Sequenced>> fetchSequencedWithPartitions(Set<Integer> segments) {
            setReads.add(Set.copyOf(segments));
            Map<Integer, List<Sequenced>> rows = new HashMap<>();
            segments.forEach(segment -> rows.put(segment, rowsOf(segment)));
            return rows;
        }

        private List<Sequenced> rowsOf(int segment) {
            return List.copyOf(segment == SEGMENT ? sequenced : segment == 1 ? otherSegment : List.of());
        }

        @Override
        public void markStored(Map<String, Long> sequences, Instant sentAt) {
            events.add("markStored");
            stored.putAll(sequences);
            storedAt = sentAt;
        }

        @Override
        public void clearSequences(Map<String, Long> sequences) {
            events.add("clearSequences");
            cleared.putAll(sequences);
        }
    }

    /** Opens sessions as told per topic: at once, later (a future the test completes), or failing. */
    private final class FakePublisher implements OutboxPublisher {
        final Map<String, CompletableFuture<Session>> answers = new HashMap<>();
        final Map<String, FailureKind> kinds = new HashMap<>();
        final List<String> opened = new ArrayList<>();

        void answer(String topic, Session session) {
            answers.put(topic, CompletableFuture.completedFuture(session));
        }

        CompletableFuture<Session> pending(String topic) {
            return answers.computeIfAbsent(topic, t -> new CompletableFuture<>());
        }

        void fail(String topic, RuntimeException error, FailureKind kind) {
            answers.put(topic, CompletableFuture.failedFuture(error));
            kinds.put(error.getMessage(), kind);
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new AssertionError("a resolution sends nothing");
        }

        @Override
        public CompletableFuture<Session> openSession(String destination, int segment) {
            events.add("open " + destination + " " + segment);
            opened.add(destination);
            return answers.get(destination);
        }

        @Override
        public void closeSegment(int segment) {
            events.add("close " + segment);
        }

        @Override
        public FailureKind classify(Throwable failure) {
            return kinds.getOrDefault(failure.getMessage(), FailureKind.TRANSIENT);
        }
    }

    /** Logs the claim extensions that fence the resolution's write. */
    private final class LoggingTokenStore extends InMemoryTokenStore {
        @Override
        public void extendClaim(String processorName, int segment) {
            events.add("fence " + segment);
        }
    }
}
