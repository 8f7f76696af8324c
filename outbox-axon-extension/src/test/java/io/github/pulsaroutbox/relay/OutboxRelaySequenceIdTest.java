package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.jdbc.JdbcOutboxStore;
import org.axonframework.eventhandling.GlobalSequenceTrackingToken;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Broker sequence ids with segment claims, against a fake transport that answers sessions with the last sequence id
 * "stored": what an earlier owner (or an attempt with an unknown outcome) got stored is recorded SENT without being
 * sent again, the rest is sent with new, higher ids, in increasing order.
 */
class OutboxRelaySequenceIdTest {

    private final JdbcDataSource dataSource = new JdbcDataSource();
    private final JdbcOutboxStore store;
    private final InMemoryTokenStore tokens = new InMemoryTokenStore();
    private final List<Sent> sent = new CopyOnWriteArrayList<>();
    private final AtomicLong lastStored = new AtomicLong(-1);
    private final AtomicInteger sessions = new AtomicInteger();
    private OutboxRelay relay;

    private record Sent(String id, long sequence) {
    }

    OutboxRelaySequenceIdTest() {
        dataSource.setURL("jdbc:h2:mem:sequence-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        store = JdbcOutboxStore.builder().connectionProvider(dataSource::getConnection).segmentCount(1).build();
        store.createSchema();
    }

    @AfterEach
    void stop() {
        if (relay != null) {
            relay.shutdown();
        }
    }

    private OutboxRelay relay(OutboxPublisher publisher) {
        relay = OutboxRelay.builder()
                           .store(store)
                           .publisher(publisher)
                           .topicResolver((type, annotated) -> Optional.of("topic"))
                           .pollInterval(Duration.ofMillis(50))
                           .failurePolicy(BackoffFailurePolicy.builder().initialDelay(Duration.ofMillis(50)).build())
                           .segmentClaims(SegmentClaims.builder().tokenStore(tokens).segmentCount(1)
                                                       .processorName("outbox").build())
                           .build();
        return relay;
    }

    /**
     * A transport with sequence ids whose sends succeed unless {@code failFirst} names the row whose first send fails:
     * after a while with a time-out (the broker stored it, the answer was lost), or at once, before it left the
     * client ({@code failAtOnce}).
     */
    private OutboxPublisher transport(String failFirst) {
        return transport(failFirst, false);
    }

    private OutboxPublisher transport(String failFirst, boolean failAtOnce) {
        AtomicInteger failures = new AtomicInteger();
        return new SequencedPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
                sent.add(new Sent(entry.id(), sequenceId));
                if (entry.id().equals(failFirst) && failures.getAndIncrement() == 0) {
                    if (failAtOnce) {
                        return CompletableFuture.failedFuture(new IllegalStateException("producer queue is full"));
                    }
                    lastStored.set(sequenceId); // the broker stored it, but the answer was lost
                    CompletableFuture<Object> timeout = new CompletableFuture<>();
                    CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS)
                                     .execute(() -> timeout.completeExceptionally(new TimeoutException("no answer")));
                    return timeout;
                }
                lastStored.accumulateAndGet(sequenceId, Math::max);
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public FailureKind classify(Throwable failure) {
                return failure instanceof TimeoutException ? FailureKind.TIMEOUT : FailureKind.TRANSIENT;
            }

            @Override
            public boolean neverSent(Throwable failure) {
                return failure instanceof IllegalStateException; // the client's own refusal
            }

            @Override
            public CompletableFuture<Session> openSession(String destination, int segment) {
                sessions.incrementAndGet();
                long last = lastStored.get();
                return CompletableFuture.completedFuture(new Session() {
                    @Override
                    public long lastStored(String key) {
                        return last;
                    }

                    @Override
                    public long highestStored() {
                        return last;
                    }
                });
            }
        };
    }

    private void append(String aggregateId, long sequence) {
        store.append(List.of(OutboxEntry.pending(aggregateId + "-" + sequence, Instant.now(), "Evt", "Order",
                                                 aggregateId, sequence, "{}", "{}", "0", null)));
    }

    private OutboxEntry row(String id) {
        return store.find(id).orElseThrow().entry();
    }

    /**
     * A producer that cannot be opened because the topic does not exist, answered asynchronously as the real client
     * does: the row is parked once (not reopened forever), and the opening is not asked again per step.
     */
    @Test
    void aRefusalThatArrivesLaterParksTheRowOnce() {
        AtomicInteger openings = new AtomicInteger();
        relay(new SequencedPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long id) {
                throw new AssertionError("sent to a topic whose producer never opened");
            }

            @Override
            public CompletableFuture<Session> openSession(String destination, int segment) {
                openings.incrementAndGet();
                CompletableFuture<Session> refused = new CompletableFuture<>();
                CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS).execute(
                        () -> refused.completeExceptionally(new IllegalArgumentException("topic does not exist")));
                return refused;
            }

            @Override
            public FailureKind classify(Throwable failure) {
                return FailureKind.UNKNOWN_TOPIC;
            }
        }).start();
        append("A", 0);
        append("A", 1);

        await().atMost(Duration.ofSeconds(10)).until(() -> row("A-0").status() == OutboxStatus.FAILED);
        assertThat(row("A-0").failureKind()).isEqualTo(FailureKind.UNKNOWN_TOPIC);
        assertThat(row("A-1").status()).isEqualTo(OutboxStatus.PENDING); // waits behind the parked row
        int asked = openings.get();
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
               .untilAsserted(() -> assertThat(openings.get()).isEqualTo(asked)); // nothing left to open it for
        assertThat(asked).isLessThanOrEqualTo(2);
    }

    @Test
    void rowsAnEarlierOwnerGotStoredAreRecordedSentWithoutBeingSentAgain() {
        append("x", 0);
        append("y", 0);
        append("z", 0);
        // a dead owner had reserved up to 10 and sent x-0 (5), y-0 (6) and z-0 (7); the broker stored up to 6
        tokens.initializeTokenSegments("outbox", 1, new GlobalSequenceTrackingToken(10));
        assertThat(store.assignSequences(Map.of("x-0", 5L, "y-0", 6L, "z-0", 7L))).isEmpty();
        lastStored.set(6);

        relay(transport(null)).start();

        await().atMost(Duration.ofSeconds(10)).until(() -> store.count(OutboxStatus.SENT) == 3);
        assertThat(sent).extracting(Sent::id).containsExactly("z-0"); // x-0 and y-0 were stored: not sent again
        assertThat(sent.get(0).sequence()).isGreaterThan(10); // z-0 was not: a new id above the reservation
        assertThat(row("z-0").brokerSequence()).isEqualTo(sent.get(0).sequence());
    }

    /**
     * k-0 was sent with id 5 to partition 0 of a topic with one partition, and its outcome is unknown; then partitions
     * were added, k now routes to partition 1, where the broker stored ids up to 10 (other keys). Partition 0, where
     * k-0 went, holds ids up to 4 only: k-0 was not stored and must be sent again. Compared with the partition its key
     * routes to now, it would be taken for stored and recorded SENT without ever reaching the broker.
     */
    @Test
    void aRowIsResolvedAgainstThePartitionItWasSentToNotTheOneItsKeyRoutesToNow() {
        append("k", 0);
        tokens.initializeTokenSegments("outbox", 1, new GlobalSequenceTrackingToken(10));
        assertThat(store.assignSequences(Map.of("k-0", 5L), Map.of("k-0", 0))).isEmpty();
        assertThat(store.fetchSequencedWithPartitions(0)).singleElement()
                                                         .satisfies(row -> assertThat(row.partition()).isZero());

        relay(new SequencedPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long id) {
                sent.add(new Sent(entry.id(), id));
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public CompletableFuture<Session> openSession(String destination, int segment) {
                return CompletableFuture.completedFuture(new Session() { // two partitions now
                    @Override
                    public long lastStored(String key) {
                        return lastStoredIn(partitionOf(key));
                    }

                    @Override
                    public long highestStored() {
                        return 10;
                    }

                    @Override
                    public int partitionOf(String key) {
                        return 1;
                    }

                    @Override
                    public long lastStoredIn(int partition) {
                        return partition == 0 ? 4 : 10;
                    }
                });
            }
        }).start();

        await().atMost(Duration.ofSeconds(10)).until(() -> store.count(OutboxStatus.SENT) == 1);
        assertThat(sent).extracting(Sent::id).containsExactly("k-0"); // sent again: the broker never stored it
        assertThat(sent.get(0).sequence()).isGreaterThan(10);
        assertThat(row("k-0").brokerSequence()).isEqualTo(sent.get(0).sequence());
    }

    @Test
    void aSendWithAnUnknownOutcomeHoldsItsSegmentUntilTheBrokerSaysWhatItStored() {
        append("a", 0);
        append("a", 1);
        append("b", 0);

        relay(transport("a-0")).start();

        await().atMost(Duration.ofSeconds(10)).until(() -> store.count(OutboxStatus.SENT) == 3);
        // a-0 timed out but was stored: the resolution after it records it SENT instead of sending it again
        assertThat(sent).extracting(Sent::id).filteredOn("a-0"::equals).hasSize(1);
        assertThat(row("a-0").attempts()).isEqualTo(1);
        assertThat(row("a-0").failureKind()).isEqualTo(FailureKind.TIMEOUT);
        assertThat(sessions.get()).isGreaterThanOrEqualTo(2); // the first session, and the one that resolved a-0
        // every id sent is higher than every id sent before it: the broker's deduplication can drop nothing new
        for (int i = 1; i < sent.size(); i++) {
            assertThat(sent.get(i).sequence()).isGreaterThan(sent.get(i - 1).sequence());
        }
        assertThat(sent).extracting(Sent::id).containsSubsequence("a-0", "a-1");
    }

    @Test
    void aSendThatFailedBeforeLeavingTheClientIsSentAgainWithAHigherIdNotTakenForStored() {
        append("x", 0);
        append("y", 0);

        relay(transport("x-0", true)).start();

        await().atMost(Duration.ofSeconds(10)).until(() -> store.count(OutboxStatus.SENT) == 2);
        List<Sent> ofX = sent.stream().filter(s -> s.id().equals("x-0")).toList();
        assertThat(ofX).hasSize(2); // sent again: the broker never had it, although y-0's higher id was stored
        long ofY = sent.stream().filter(s -> s.id().equals("y-0")).findFirst().orElseThrow().sequence();
        assertThat(ofX.get(1).sequence()).isGreaterThan(ofY);
        assertThat(row("x-0").brokerSequence()).isEqualTo(ofX.get(1).sequence());
    }

    /**
     * Persisting ids does not hold up the relay thread: while the transaction giving a-1 its id waits (its row is
     * locked by another transaction), the acknowledgement of b-0 is collected and recorded. a-1 is sent once its id
     * has committed, after a-0.
     */
    @Test
    void acknowledgementsAreRecordedWhileTheNextRowsIdsArePersisted() throws Exception {
        append("a", 0);
        append("a", 1);
        append("b", 0);
        OutboxPublisher base = transport(null);
        CompletableFuture<Object> ackOfB = new CompletableFuture<>();
        try (Connection locker = dataSource.getConnection(); Statement lock = locker.createStatement()) {
            lock.execute("SET DEFAULT_LOCK_TIMEOUT 60000");
            locker.setAutoCommit(false);
            assertThat(lock.executeUpdate("UPDATE " + JdbcOutboxStore.DEFAULT_TABLE
                                                  + " SET last_error = 'locked' WHERE id = 'a-1'")).isEqualTo(1);
            relay(new SequencedPublisher() {
                @Override
                public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long id) {
                    CompletableFuture<?> ack = base.publish(entry, destination, segment, id);
                    return entry.id().equals("b-0") ? ack.thenCompose(ignored -> ackOfB) : ack;
                }

                @Override
                public CompletableFuture<Session> openSession(String destination, int segment) {
                    return base.openSession(destination, segment);
                }
            }).start();

            await().atMost(Duration.ofSeconds(10)).until(() -> row("a-0").status() == OutboxStatus.SENT);
            await().atMost(Duration.ofSeconds(10)).until(() -> blockedSessions(locker) == 1); // a-1's id waits
            ackOfB.complete(null);

            await().atMost(Duration.ofSeconds(10)).until(() -> row("b-0").status() == OutboxStatus.SENT);
            assertThat(blockedSessions(locker)).isEqualTo(1); // a-1's id is still waiting
            assertThat(sent).extracting(Sent::id).doesNotContain("a-1");
            locker.rollback();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> row("a-1").status() == OutboxStatus.SENT);
        assertThat(sent).extracting(Sent::id).containsSubsequence("a-0", "a-1");
        assertThat(sent.get(sent.size() - 1).sequence()).isGreaterThan(sent.get(0).sequence());
    }

    /** Sessions of the database waiting for a lock held by {@code holder}'s transaction. */
    private static int blockedSessions(Connection holder) throws SQLException {
        try (Statement query = holder.createStatement();
             ResultSet rs = query.executeQuery("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS "
                                                       + "WHERE BLOCKER_ID = SESSION_ID()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** A transport with sequence ids, in which a send without one fails the test. */
    private abstract static class SequencedPublisher implements OutboxPublisher {
        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new AssertionError("sent without a sequence id");
        }

        @Override
        public boolean supportsSequenceIds() {
            return true;
        }
    }
}
