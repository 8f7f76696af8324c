package io.github.pulsaroutbox.relay;

import org.axonframework.common.AxonConfigurationException;
import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.store.OutboxStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class OutboxRelayTest {

    private final InMemoryOutboxStore store = new InMemoryOutboxStore();
    private final List<String> published = new CopyOnWriteArrayList<>();

    @Test
    void marksRowsSentOnlyAfterAcknowledgement() throws Exception {
        append("A", 0, 1, 2);
        List<CompletableFuture<Object>> acks = new ArrayList<>();
        OutboxRelay relay = relay((entry, topic) -> {
            CompletableFuture<Object> ack = new CompletableFuture<>();
            acks.add(ack);
            return ack;
        }, Duration.ofSeconds(5));

        CompletableFuture<OutboxRelay.PassResult> pass = CompletableFuture.supplyAsync(() -> {
            try {
                return relay.relayPass();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> acks.size() == 3);
        assertThat(store.count(OutboxStatus.SENT)).isZero();
        assertThat(pass).isNotDone();

        acks.forEach(a -> a.complete("ok"));
        assertThat(pass.get().sent()).isEqualTo(3);
        assertThat(store.count(OutboxStatus.SENT)).isEqualTo(3);
    }

    @Test
    void failedRowWaitsForItsRetryWithLaterRowsOfItsAggregateWhileOthersFlow() throws Exception {
        append("A", 0, 1, 2);
        append("B", 0, 1);
        OutboxRelay relay = relay((entry, topic) -> {
            published.add(entry.aggregateId() + entry.aggregateSequence());
            if (entry.aggregateId().equals("A") && entry.aggregateSequence() == 1) {
                return CompletableFuture.failedFuture(new IllegalStateException("broker said no"));
            }
            return CompletableFuture.completedFuture("ok");
        }, Duration.ofSeconds(5));

        Instant before = Instant.now();
        relay.relayPass();

        assertThat(published).containsExactly("A0", "A1", "B0", "B1"); // A2 is not even sent after A1 failed
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.SENT);
        OutboxEntry failed = entry("A", 1);
        assertThat(failed.status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(failed.attempts()).isEqualTo(1);
        assertThat(failed.failureKind()).isEqualTo(FailureKind.TRANSIENT);
        assertThat(failed.lastError()).contains("broker said no");
        // default backoff: 1 s ± 20 %
        assertThat(store.nextAttemptAt(failed.id())).isBetween(before.plusMillis(790), Instant.now().plusMillis(1210));
        assertThat(status("A", 2)).isEqualTo(OutboxStatus.PENDING);
        assertThat(status("B", 0)).isEqualTo(OutboxStatus.SENT);
        assertThat(status("B", 1)).isEqualTo(OutboxStatus.SENT);

        // while A1 waits for its retry, neither it nor A2 is fetched
        published.clear();
        relay.relayPass();
        assertThat(published).isEmpty();
    }

    @Test
    void rowAcknowledgedAfterAnEarlierFailureOfItsAggregateIsResentAfterIt() throws Exception {
        append("A", 0, 1);
        CompletableFuture<Object> first = new CompletableFuture<>();
        Map<Long, CompletableFuture<Object>> acks = Map.of(0L, first,
                                                           1L, CompletableFuture.completedFuture("ok"));
        OutboxRelay relay = relay((entry, topic) -> acks.get(entry.aggregateSequence()), Duration.ofSeconds(5));
        first.completeExceptionally(new IllegalStateException("timeout"));

        relay.relayPass();

        // seq 1 was acknowledged, but after seq 0 failed: it must be sent again after seq 0, so it stays pending
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.PENDING);
        assertThat(status("A", 1)).isEqualTo(OutboxStatus.PENDING);
        assertThat(entry("A", 1).attempts()).isZero();
    }

    @Test
    void withoutPipeliningAnAggregateHasOneUnacknowledgedSendAndALaterRowNeverOvertakesAFailedOne() throws Exception {
        append("A", 0, 1, 2);
        append("B", 0);
        List<CompletableFuture<Object>> acks = new CopyOnWriteArrayList<>();
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> { // a transport whose sends can fail alone
                                           published.add(entry.aggregateId() + entry.aggregateSequence());
                                           CompletableFuture<Object> ack = new CompletableFuture<>();
                                           acks.add(ack);
                                           return ack;
                                       })
                                       .topicResolver((type, annotated) -> Optional.of("topic"))
                                       .ackTimeout(Duration.ofSeconds(5))
                                       .build();
        CompletableFuture<OutboxRelay.PassResult> pass = CompletableFuture.supplyAsync(() -> {
            try {
                return relay.relayPass();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> acks.size() == 2);
        assertThat(published).containsExactly("A0", "B0");
        acks.get(0).completeExceptionally(new IllegalStateException("schema rejected"));
        acks.get(1).complete("ok");
        assertThat(pass.get().deferred()).isEqualTo(2);

        assertThat(status("A", 0)).isEqualTo(OutboxStatus.PENDING);
        assertThat(entry("A", 0).attempts()).isEqualTo(1);
        assertThat(status("B", 0)).isEqualTo(OutboxStatus.SENT);
        published.clear();
        relay.relayPass(); // A0 waits for its retry: A1 and A2 are not sent
        assertThat(published).isEmpty();
    }

    @Test
    void rowParkedAtCaptureIsNeverPublishedEvenWhenRetried() throws Exception {
        store.append(List.of(OutboxEntry.pending("A-0", Instant.now(), "Evt", "Order", "A", 0, "null", "{}", "0",
                                                 null)));
        OutboxRelay relay = relay((entry, topic) -> {
            published.add(entry.id());
            return CompletableFuture.completedFuture("ok");
        }, Duration.ofSeconds(1));
        relay.relayPass();
        assertThat(published).isEmpty();
        assertThat(entry("A", 0).status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(entry("A", 0).failureKind()).isEqualTo(FailureKind.UNREADABLE_PAYLOAD);
    }

    @Test
    void failingTopicResolverParksWithItsReasonAndIsAskedAgainLater() throws Exception {
        append("A", 0);
        append("B", 0);
        List<String> asked = new CopyOnWriteArrayList<>();
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> CompletableFuture.completedFuture("ok"))
                                       .topicResolver((type, annotated) -> {
                                           asked.add(type);
                                           throw new IllegalArgumentException("bad mapping");
                                       })
                                       .build();
        relay.relayPass();
        assertThat(entry("A", 0).status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(entry("A", 0).lastError()).contains("bad mapping");
        assertThat(asked).hasSize(2); // not cached: asked for each row
    }

    @Test
    void unexpectedErrorStopsTheRelayVisibly() {
        append("A", 0);
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(new InMemoryOutboxStore() {
                                           @Override
                                           public synchronized List<OutboxEntry> fetchPending(int limit,
                                                                                              Instant now) {
                                               throw new OutOfMemoryError("simulated");
                                           }
                                       })
                                       .publisher((entry, topic) -> CompletableFuture.completedFuture("ok"))
                                       .topicResolver((type, annotated) -> Optional.of("t"))
                                       .build();
        relay.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> !relay.isRunning());
        relay.shutdown();
    }

    /*
     * A broker outage or mass parking leaves every due row behind a parked or backing-off row of its aggregate. Full
     * scans then find nothing, and reading the whole held-back backlog again every poll interval is what made a
     * PostgreSQL relay spend seconds per pass (issue 10): they back off (doubling), while the retry's due time still
     * brings the scan that moves the aggregate on.
     */
    @Test
    void fullScansThatFindEverythingHeldBackBackOffAndTheDueRetryStillMovesTheAggregateOn() {
        append("A", 0, 1, 2, 3, 4);
        java.util.concurrent.atomic.AtomicInteger emptyFullScans = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean refuse = new java.util.concurrent.atomic.AtomicBoolean(true);
        InMemoryOutboxStore counting = new InMemoryOutboxStore() {
            @Override
            public synchronized List<OutboxEntry> fetchPending(int limit, Instant now) {
                List<OutboxEntry> rows = super.fetchPending(limit, now);
                if (rows.isEmpty()) {
                    emptyFullScans.incrementAndGet();
                }
                return rows;
            }
        };
        counting.append(List.of(store.find("A-0").orElseThrow(), store.find("A-1").orElseThrow(),
                                store.find("A-2").orElseThrow(), store.find("A-3").orElseThrow(),
                                store.find("A-4").orElseThrow()));
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(counting)
                                       .publisher((entry, topic) -> {
                                           published.add(entry.aggregateId() + entry.aggregateSequence());
                                           return entry.aggregateSequence() == 0 && refuse.get()
                                                  ? CompletableFuture.failedFuture(new IllegalStateException("down"))
                                                  : CompletableFuture.completedFuture("ok");
                                       })
                                       .topicResolver((type, annotated) -> Optional.of("topic"))
                                       .failurePolicy(BackoffFailurePolicy.builder().initialDelay(Duration.ofHours(1))
                                                                          .jitter(0).build())
                                       .pollInterval(Duration.ofMillis(20))
                                       .build();
        relay.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> counting.find("A-0").orElseThrow().attempts() == 1);
            int before = emptyFullScans.get();
            long start = System.nanoTime();
            await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30)).until(() -> true);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            // every 20 ms (poll interval) that would be ~150 scans; doubling from 40 ms: 20, 40, ..., 2,560 ms
            assertThat(emptyFullScans.get() - before).as("held-back full scans in %d ms", elapsedMillis)
                                                     .isLessThanOrEqualTo(12);
            assertThat(published).containsExactly("A0"); // nothing behind it moved

            // the retry comes due: a held-back scan (at most 30 s apart) finds it, and the rows behind it follow
            refuse.set(false);
            counting.dueNow("A-0");
            await().atMost(Duration.ofSeconds(30))
                   .untilAsserted(() -> assertThat(counting.count(OutboxStatus.SENT)).isEqualTo(5));
            assertThat(published).containsExactly("A0", "A0", "A1", "A2", "A3", "A4");
        } finally {
            relay.shutdown();
        }
    }

    /*
     * Rows held back behind a parked head at the start of the outbox (mass parking, then traffic goes on): full scans
     * start above them instead of reading them every time, the rows above flow in order, and the held-back
     * aggregate moves on once its head is retried (a complete scan still comes).
     */
    @Test
    void fullScansStartAboveAHeldBackPrefixAndTheHeldBackAggregateStillMovesOnInOrder() {
        List<OutboxEntry> lost = new ArrayList<>();
        for (long sequence = 0; sequence < 10; sequence++) { // positions 1..10; no topic for the head: parked
            lost.add(OutboxEntry.pending("L-" + sequence, Instant.now(), "Evt", "Lost", "L", sequence, "{}", "{}",
                                         "0", null));
        }
        store.append(lost);
        List<Long> scansAbove = new CopyOnWriteArrayList<>();
        InMemoryOutboxStore counting = new InMemoryOutboxStore() {
            @Override
            public synchronized List<OutboxEntry> fetchPending(int limit, Instant now, Set<Integer> segments,
                                                               long abovePosition) {
                scansAbove.add(abovePosition);
                return super.fetchPending(limit, now, segments, abovePosition);
            }
        };
        counting.append(lost);
        java.util.concurrent.atomic.AtomicBoolean lostHasATopic = new java.util.concurrent.atomic.AtomicBoolean();
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(counting)
                                       .publisher((entry, topic) -> {
                                           published.add(entry.aggregateId() + entry.aggregateSequence());
                                           return CompletableFuture.completedFuture("ok");
                                       })
                                       .topicResolver((type, annotated) -> type.equals("Lost") && !lostHasATopic.get()
                                                                           ? Optional.empty() : Optional.of("topic"))
                                       .pollInterval(Duration.ofMillis(20))
                                       .build();
        relay.start();
        try {
            await().atMost(Duration.ofSeconds(30))
                   .until(() -> counting.find("L-0").orElseThrow().status() == OutboxStatus.FAILED);
            // traffic goes on: one new aggregate at a time, each brings a full scan (its earlier events were
            // captured before @Outbox: a continuation cannot know that nothing precedes its first row)
            for (int i = 0; i < 20; i++) {
                String aggregate = "N" + i;
                counting.append(List.of(OutboxEntry.pending(aggregate + "-0", Instant.now(), "Evt", "Order",
                                                            aggregate, 3, "{}", "{}", "0", null),
                                        OutboxEntry.pending(aggregate + "-1", Instant.now(), "Evt", "Order",
                                                            aggregate, 4, "{}", "{}", "0", null)));
                relay.wakeUp();
                long sent = 2L * (i + 1);
                await().atMost(Duration.ofSeconds(30)).until(() -> counting.count(OutboxStatus.SENT) == sent);
            }
            assertThat(scansAbove).as("full scans started above the held-back rows (positions 1..10)")
                                  .anySatisfy(above -> assertThat(above).isGreaterThanOrEqualTo(10));
            assertThat(published).noneMatch(p -> p.startsWith("L") && !p.equals("L0"));
            for (int i = 0; i < 20; i++) {
                assertThat(published).containsSubsequence("N" + i + "3", "N" + i + "4");
            }

            // an operator retries the parked head (the operations ask the relay to rescan): it goes, and its
            // aggregate follows in order
            lostHasATopic.set(true);
            counting.unpark("L-0");
            relay.rescan();
            await().atMost(Duration.ofSeconds(60))
                   .untilAsserted(() -> assertThat(counting.count(OutboxStatus.SENT)).isEqualTo(50));
            assertThat(published.stream().filter(p -> p.startsWith("L")).toList())
                    .containsExactly("L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9");
        } finally {
            relay.shutdown();
        }
    }

    @Test
    void rowWithoutTopicIsParkedAndItsAggregateWaits() throws Exception {
        append("A", 0, 1);
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> CompletableFuture.completedFuture("ok"))
                                       .topicResolver((type, annotated) -> Optional.empty())
                                       .build();
        relay.relayPass();
        OutboxEntry entry = entry("A", 0);
        assertThat(entry.status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(entry.failureKind()).isEqualTo(FailureKind.NO_ROUTE);
        assertThat(entry.lastError()).contains("No topic").contains("Order");
        assertThat(store.fetchPending(10, Instant.now())).isEmpty();
        assertThat(status("A", 1)).isEqualTo(OutboxStatus.PENDING);
    }

    @Test
    void nonRetryableFailureParksAtOnceWhileOtherAggregatesFlow() throws Exception {
        append("A", 0, 1);
        append("B", 0);
        OutboxRelay relay = relay(new ClassifyingPublisher(entry -> entry.aggregateId().equals("A")
                ? CompletableFuture.failedFuture(new SecurityException("not authorized"))
                : CompletableFuture.completedFuture("ok")), Duration.ofSeconds(5));

        relay.relayPass();
        relay.relayPass();

        assertThat(entry("A", 0).status()).isEqualTo(OutboxStatus.FAILED);
        assertThat(entry("A", 0).failureKind()).isEqualTo(FailureKind.REFUSED);
        assertThat(entry("A", 0).attempts()).isEqualTo(1);
        assertThat(status("A", 1)).isEqualTo(OutboxStatus.PENDING);
        assertThat(status("B", 0)).isEqualTo(OutboxStatus.SENT);
    }

    @Test
    void retryableFailureParksAfterTheMaximumAttempts() throws Exception {
        append("A", 0);
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> CompletableFuture.failedFuture(
                                               new IllegalStateException("down")))
                                       .topicResolver((type, annotated) -> Optional.of("topic"))
                                       .failurePolicy(BackoffFailurePolicy.builder().initialDelay(Duration.ZERO)
                                                                          .maxAttempts(3).build())
                                       .build();
        relay.relayPass();
        relay.relayPass();
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.PENDING);
        relay.relayPass();
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.FAILED);
        assertThat(entry("A", 0).attempts()).isEqualTo(3);
    }

    /**
     * A producer closed under the relay (by the client, or fenced) fails every send until it is opened again: the
     * relay opens it again for the next row instead of counting attempts against the closed one until rows park.
     */
    @Test
    void aProducerClosedUnderTheRelayIsOpenedAgainAndNoRowParks() {
        append("A", 0, 1, 2, 3, 4, 5);
        java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger closings = new java.util.concurrent.atomic.AtomicInteger();
        OutboxPublisher closingTransport = new OutboxPublisher() {
            @Override
            public CompletableFuture<Void> prepare(String destination) {
                opened.incrementAndGet();
                open.set(true);
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
                if (entry.aggregateSequence() % 2 == 1 && closings.get() < 3 && open.get()) {
                    closings.incrementAndGet();
                    open.set(false); // the client closed the producer under the relay
                }
                if (!open.get()) {
                    return CompletableFuture.failedFuture(new IllegalStateException("producer already closed"));
                }
                published.add(entry.aggregateId() + entry.aggregateSequence());
                return CompletableFuture.completedFuture("ok");
            }

            @Override
            public FailureKind classify(Throwable failure) {
                return FailureKind.UNAVAILABLE;
            }
        };
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher(closingTransport)
                                       .topicResolver((type, annotated) -> Optional.of("topic"))
                                       .pollInterval(Duration.ofMillis(20))
                                       .failurePolicy(BackoffFailurePolicy.builder().initialDelay(Duration.ofMillis(10))
                                                                          .maxDelay(Duration.ofMillis(20))
                                                                          .maxAttempts(1).build())
                                       .build();
        relay.start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> store.count(OutboxStatus.SENT) == 6);
        } finally {
            relay.shutdown();
        }
        assertThat(store.count(OutboxStatus.FAILED)).isZero();
        assertThat(published).containsExactly("A0", "A1", "A2", "A3", "A4", "A5");
        assertThat(opened.get()).isEqualTo(4); // once, and again after each of the three closings
    }

    @Test
    void discardOutcomeLetsLaterRowsOfTheAggregateFlow() throws Exception {
        append("A", 0, 1);
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher(new ClassifyingPublisher(entry -> entry.aggregateSequence() == 0
                                               ? CompletableFuture.failedFuture(new SecurityException("no"))
                                               : CompletableFuture.completedFuture("ok")))
                                       .topicResolver((type, annotated) -> Optional.of("topic"))
                                       .failurePolicy(BackoffFailurePolicy.builder()
                                                                          .outcome(FailureKind.REFUSED,
                                                                                   OutboxStore.Outcome.DISCARD)
                                                                          .build())
                                       .build();
        relay.relayPass();
        relay.relayPass();
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.DISCARDED);
        assertThat(status("A", 1)).isEqualTo(OutboxStatus.SENT);
    }

    @Test
    void unacknowledgedWithinAckTimeoutIsATimeoutFailure() throws Exception {
        append("A", 0);
        OutboxRelay relay = relay((entry, topic) -> new CompletableFuture<>(), Duration.ofMillis(200));
        relay.relayPass();
        assertThat(entry("A", 0).status()).isEqualTo(OutboxStatus.PENDING);
        assertThat(entry("A", 0).failureKind()).isEqualTo(FailureKind.TIMEOUT);
        assertThat(entry("A", 0).lastError()).contains("ack timeout");
    }

    @Test
    void publisherThrowingSynchronouslyIsAFailedAttempt() throws Exception {
        append("A", 0);
        OutboxRelay relay = relay((entry, topic) -> {
            throw new IllegalArgumentException("boom");
        }, Duration.ofSeconds(1));
        relay.relayPass();
        assertThat(entry("A", 0).lastError()).contains("boom");
    }

    @Test
    void runningRelayPublishesWhenWokenUp() {
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> {
                                           published.add(topic + ":" + entry.aggregateId());
                                           return CompletableFuture.completedFuture("ok");
                                       })
                                       .topicResolver((type, annotated) -> Optional.of("t"))
                                       .pollInterval(Duration.ofMinutes(10))
                                       .build();
        relay.start();
        try {
            append("A", 0);
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(5)).until(() -> store.count(OutboxStatus.SENT) == 1);
            assertThat(published).containsExactly("t:A");
        } finally {
            relay.shutdown();
        }
        assertThat(relay.isRunning()).isFalse();
    }

    /**
     * The topic mapping changed while rows were pending: rows keep the topic resolved when they were captured, so one
     * aggregate's events never split across topics; rows without one (captured by an older version) are resolved now.
     */
    @Test
    void rowsGoToTheTopicResolvedAtCaptureWhateverTheMappingSaysNow() {
        List<String> destinations = new CopyOnWriteArrayList<>();
        store.append(List.of(row("A", 0).withTopic("orders-v1"), row("A", 1).withTopic("orders-v1"), row("B", 0)));
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> {
                                           destinations.add(entry.aggregateId() + entry.aggregateSequence() + "@"
                                                                    + topic);
                                           return CompletableFuture.completedFuture("ok");
                                       })
                                       .topicResolver((type, annotated) -> Optional.of("orders-v2"))
                                       .build();
        relay.start();
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> store.count(OutboxStatus.SENT) == 3);
            assertThat(destinations).containsExactlyInAnyOrder("A0@orders-v1", "A1@orders-v1", "B0@orders-v2");
        } finally {
            relay.shutdown();
        }
    }

    @Test
    void rowThatCommittedLateIsNeverOvertakenByTheNextRowOfItsAggregate() {
        OutboxRelay relay = readingAheadRelay(1); // every read is "full": the relay keeps reading ahead
        relay.start();
        try {
            store.appendAt(1, row("B", 0));
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(5)).until(() -> store.count(OutboxStatus.SENT) == 1);
            store.appendAt(51, row("B", 1));
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(5)).until(() -> store.count(OutboxStatus.SENT) == 2);
            // C0 got position 50 before B1 did, but committed after B1 was relayed; C1 commits after it
            store.appendAt(50, row("C", 0));
            store.appendAt(52, row("C", 1));
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(5)).until(() -> store.count(OutboxStatus.SENT) == 4);
            assertThat(published).containsExactly("B0", "B1", "C0", "C1");
        } finally {
            relay.shutdown();
        }
    }

    @Test
    void readingAheadTakesDirectSuccessorsAndLeavesOthersForAFullScan() {
        OutboxRelay relay = readingAheadRelay(2);
        append("A", 0, 1, 2, 3, 4);
        append("D", 7); // an aggregate whose earlier events were captured before it had @Outbox: a hole is fine
        append("A", 5, 6);
        relay.start();
        try {
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(5)).until(() -> store.count(OutboxStatus.SENT) == 8);
            assertThat(published).containsSubsequence("A0", "A1", "A2", "A3", "A4", "A5", "A6").contains("D7");
        } finally {
            relay.shutdown();
        }
    }

    @Test
    void readsAgainWhileAtMostABatchIsQueuedOrInFlightSoThatTwoBatchesAwaitTheBroker() {
        for (int i = 0; i < 20; i++) {
            append("K" + i, 0); // 20 aggregates, one row each: every row may be in flight at once
        }
        List<CompletableFuture<Object>> acks = new CopyOnWriteArrayList<>();
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> {
                                           CompletableFuture<Object> ack = new CompletableFuture<>();
                                           acks.add(ack);
                                           return ack;
                                       })
                                       .topicResolver((type, annotated) -> Optional.of("t"))
                                       .batchSize(4)
                                       .pollInterval(Duration.ofMinutes(10))
                                       .build();
        relay.start();
        try {
            relay.wakeUp();
            // 4 in flight after the first read is at most a batch: it reads again; 8 are more than a batch
            await().atMost(Duration.ofSeconds(5)).until(() -> acks.size() >= 8);
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> acks.size() == 8);
            assertThat(store.count(OutboxStatus.SENT)).isZero();

            await().atMost(Duration.ofSeconds(5)).until(() -> { // acknowledged, the rest is read and sent
                acks.forEach(ack -> ack.complete("ok"));
                return store.count(OutboxStatus.SENT) == 20;
            });
            assertThat(acks).hasSize(20);
        } finally {
            relay.shutdown();
        }
    }

    /** A relay that records what it publishes and scans in full only when its rules say so (no timed scans). */
    private OutboxRelay readingAheadRelay(int batchSize) {
        return OutboxRelay.builder()
                          .store(store)
                          .publisher((entry, topic) -> {
                              published.add(entry.aggregateId() + entry.aggregateSequence());
                              return CompletableFuture.completedFuture("ok");
                          })
                          .topicResolver((type, annotated) -> Optional.of("t"))
                          .batchSize(batchSize)
                          .pollInterval(Duration.ofMinutes(10))
                          .build();
    }

    private static OutboxEntry row(String aggregateId, long sequence) {
        return OutboxEntry.pending(aggregateId + "-" + sequence, Instant.now(), "Evt", "Order", aggregateId,
                                   sequence, "{}", "{}", "0", null);
    }

    @Test
    void rowAcknowledgedButNotRecordedIsNeverSentAgainAndIsParked() {
        InMemoryOutboxStore corrupt = new InMemoryOutboxStore() {
            @Override
            public synchronized Set<String> markSent(Collection<String> ids, Instant sentAt) {
                return Set.copyOf(ids); // like an index that says PENDING for a row the table has as SENT
            }
        };
        corrupt.append(List.of(row("A", 0)));
        Map<String, Integer> sends = new ConcurrentHashMap<>();
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(corrupt)
                                       .publisher((entry, topic) -> {
                                           sends.merge(entry.id(), 1, Integer::sum);
                                           return CompletableFuture.completedFuture("ok");
                                       })
                                       .topicResolver((type, annotated) -> Optional.of("t"))
                                       .pollInterval(Duration.ofMillis(20))
                                       .build();
        relay.start();
        try {
            await().atMost(Duration.ofSeconds(10))
                   .until(() -> corrupt.find("A-0").orElseThrow().status() == OutboxStatus.FAILED);
            OutboxEntry parked = corrupt.find("A-0").orElseThrow();
            assertThat(parked.failureKind()).isEqualTo(FailureKind.NOT_RECORDED);
            assertThat(parked.lastError()).contains("acknowledged");
            assertThat(relay.notRecordedCount()).isEqualTo(1);
        } finally {
            relay.shutdown();
        }
        assertThat(sends).containsExactly(Map.entry("A-0", 1));
    }

    @Test
    void sendRefusedAtOnceIsAFailureEvenBeforeItsCallbacksRan() throws Exception {
        append("A", 0, 1);
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> {
                                           published.add(entry.aggregateId() + entry.aggregateSequence());
                                           return new LaggingFailure(new IllegalStateException("refused"));
                                       })
                                       .topicResolver((type, annotated) -> Optional.of("t"))
                                       .ackTimeout(Duration.ofSeconds(5))
                                       .build();
        relay.relayPass();
        assertThat(published).containsExactly("A0"); // A1 is never sent after a refused A0
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.PENDING);
        assertThat(entry("A", 0).attempts()).isEqualTo(1);
        assertThat(entry("A", 0).lastError()).contains("refused");
    }

    /**
     * A future already completed exceptionally whose dependent actions run later, on another thread: as when the
     * transport's thread completed it and has not yet reached the callbacks registered on it.
     */
    private static final class LaggingFailure extends CompletableFuture<Object> {
        private final Throwable error;

        private LaggingFailure(Throwable error) {
            this.error = error;
            completeExceptionally(error);
        }

        @Override
        public CompletableFuture<Object> whenComplete(
                java.util.function.BiConsumer<? super Object, ? super Throwable> action) {
            CompletableFuture.delayedExecutor(300, java.util.concurrent.TimeUnit.MILLISECONDS)
                             .execute(() -> action.accept(null, error));
            return this;
        }
    }

    @Test
    void failurePolicyThatFailsParksTheRowInsteadOfLosingIt() throws Exception {
        append("A", 0);
        OutboxRelay relay = OutboxRelay.builder()
                                       .store(store)
                                       .publisher((entry, topic) -> CompletableFuture.failedFuture(
                                               new IllegalStateException("down")))
                                       .topicResolver((type, annotated) -> Optional.of("t"))
                                       .failurePolicy((entry, kind, attempts) -> {
                                           throw new IllegalArgumentException("buggy policy");
                                       })
                                       .build();
        relay.relayPass();
        assertThat(status("A", 0)).isEqualTo(OutboxStatus.FAILED);
        assertThat(entry("A", 0).lastError()).contains("down");
    }

    @Test
    void ackTimeoutMustExceedThePublishersSendTimeout() {
        OutboxPublisher withSendTimeout = new OutboxPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
                return CompletableFuture.completedFuture("ok");
            }

            @Override
            public Optional<Duration> sendTimeout() {
                return Optional.of(Duration.ofSeconds(30));
            }
        };
        assertThatThrownBy(() -> OutboxRelay.builder().store(store).publisher(withSendTimeout)
                                            .topicResolver((type, annotated) -> Optional.of("t"))
                                            .ackTimeout(Duration.ofSeconds(30)).build())
                .isInstanceOf(AxonConfigurationException.class)
                .hasMessageContaining("ackTimeout (PT30S) must be longer than the publisher's send timeout (PT30S)");
        assertThat(OutboxRelay.builder().store(store).publisher(withSendTimeout)
                              .topicResolver((type, annotated) -> Optional.of("t"))
                              .ackTimeout(Duration.ofSeconds(31)).build()).isNotNull();
    }

    @Test
    void builderRejectsMissingParts() {
        assertThatThrownBy(() -> OutboxRelay.builder().build()).isInstanceOf(AxonConfigurationException.class)
                                                               .hasMessageContaining("OutboxStore");
        assertThatThrownBy(() -> OutboxRelay.builder().batchSize(0)).isInstanceOf(AxonConfigurationException.class);
    }

    /** A relay over a publisher that declares that a failed send fails every later one, so it may pipeline. */
    private OutboxRelay relay(OutboxPublisher publisher, Duration ackTimeout) {
        return OutboxRelay.builder()
                          .store(store)
                          .publisher(pipelining(publisher))
                          .topicResolver((type, annotated) -> Optional.of("topic"))
                          .ackTimeout(ackTimeout)
                          .build();
    }

    private void append(String aggregateId, long... sequences) {
        List<OutboxEntry> entries = new ArrayList<>();
        for (long sequence : sequences) {
            entries.add(OutboxEntry.pending(aggregateId + "-" + sequence, Instant.now(), "Evt", "Order", aggregateId,
                                            sequence, "{}", "{}", "0", null));
        }
        store.append(entries);
    }

    private OutboxEntry entry(String aggregateId, long sequence) {
        return store.find(aggregateId + "-" + sequence).orElseThrow();
    }

    private static OutboxPublisher pipelining(OutboxPublisher publisher) {
        return new OutboxPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
                return publisher.publish(entry, destination);
            }

            @Override
            public FailureKind classify(Throwable failure) {
                return publisher.classify(failure);
            }

            @Override
            public boolean failsLaterSendsAfterAFailure() {
                return true;
            }
        };
    }

    /** Publishes through {@code send}; classifies a {@link SecurityException} as {@link FailureKind#REFUSED}. */
    private record ClassifyingPublisher(Function<OutboxEntry, CompletableFuture<?>> send) implements OutboxPublisher {
        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            return send.apply(entry);
        }

        @Override
        public FailureKind classify(Throwable failure) {
            return failure instanceof SecurityException ? FailureKind.REFUSED : FailureKind.TRANSIENT;
        }
    }

    private OutboxStatus status(String aggregateId, long sequence) {
        return entry(aggregateId, sequence).status();
    }
}
