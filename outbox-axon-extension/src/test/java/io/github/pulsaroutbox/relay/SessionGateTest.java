package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import org.axonframework.eventhandling.tokenstore.inmemory.InMemoryTokenStore;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session gate with real producer sessions and aggregate queues (one segment, with sequence ids), against a fake
 * publisher whose session openings the test answers, on a fake clock.
 */
class SessionGateTest {

    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

    private final AtomicLong now = new AtomicLong(1_000);
    private final FakePublisher publisher = new FakePublisher();
    private final ProducerSessions sessions = new ProducerSessions(publisher, true, ACK_TIMEOUT, POLL_INTERVAL,
                                                                   new TransportWatch(), now::get, () -> {
    });
    private final AggregateQueues queues = new AggregateQueues(1, false, key -> {
    });
    private final SegmentClaims claims = SegmentClaims.builder().tokenStore(new InMemoryTokenStore()).segmentCount(1)
                                                      .processorName("outbox").build();
    private final List<Failed> failed = new ArrayList<>();
    private final Set<Integer> stopped = new HashSet<>();
    private final SessionGate gate = new SessionGate(sessions, queues, claims, true, new SessionGate.Rows() {
        @Override
        public void fail(RelayRow row, Attempt attempt) {
            failed.add(new Failed(row, attempt));
        }

        @Override
        public boolean mayStillSend(int segment) {
            return !stopped.contains(segment);
        }
    }, 3);

    private record Failed(RelayRow row, Attempt attempt) {
    }

    /** A prepared row of its own aggregate, in flight, bound for {@code topic}. */
    private RelayRow inFlight(String id, String topic) {
        RelayRow row = new RelayRow(OutboxEntry.pending(id, Instant.EPOCH, "Evt", "Order", "agg-" + id, 0, "{}",
                                                        "{}", "0", null), 1);
        row.topic = topic;
        queues.remember(row);
        queues.enterInFlight(row.entry.aggregateKey(), row);
        return row;
    }

    private ProducerSessions.Opening opening(String topic) {
        return sessions.settled(sessions.key(topic, 0));
    }

    @Nested
    class WhileTheSessionOpens {

        @Test
        void aRowWaitsOutOfTheInFlightCountWhileItsAggregateWaitsWithIt() {
            RelayRow row = inFlight("A", "t");

            assertThat(gate.open(row)).isFalse();

            assertThat(publisher.opened).containsExactly("t/0");
            assertThat(row.waiting).isTrue();
            assertThat(queues.waitingCount()).isEqualTo(1);
            assertThat(queues.inFlightCount()).isZero();
            assertThat(queues.admits(row.entry.aggregateKey())).isFalse();
            assertThat(gate.admit()).isEmpty();
            assertThat(failed).isEmpty();
        }

        /* A topic whose lookup hangs holds a bounded number of rows in memory: the intake leaves the others out. */
        @Test
        void atMostMaxWaitingRowsWaitPerSession() {
            assertThat(gate.crowded("t", 0)).isFalse();
            gate.open(inFlight("A", "t"));
            gate.open(inFlight("B", "t"));
            assertThat(gate.crowded("t", 0)).isFalse();
            gate.open(inFlight("C", "t"));

            assertThat(gate.crowded("t", 0)).isTrue();
            assertThat(gate.crowded("other", 0)).isFalse();
            publisher.session("t").complete(OutboxPublisher.Session.NOTHING_STORED);
            gate.admit();
            assertThat(gate.crowded("t", 0)).isFalse();
        }

        @Test
        void rowsOfTheSessionWaitInOrderAndAreAdmittedOnceItOpens() {
            RelayRow a = inFlight("A", "t");
            RelayRow b = inFlight("B", "t");
            assertThat(gate.open(a)).isFalse();
            assertThat(gate.open(b)).isFalse();
            publisher.session("t").complete(OutboxPublisher.Session.NOTHING_STORED);
            RelayRow c = inFlight("C", "t");
            assertThat(gate.open(c)).as("behind the rows already waiting").isFalse();

            assertThat(gate.admit()).containsExactly(a, b, c);

            assertThat(publisher.opened).containsExactly("t/0");
            assertThat(List.of(a.waiting, b.waiting, c.waiting)).containsOnly(false);
            assertThat(queues.waitingCount()).isZero();
            assertThat(queues.inFlightCount()).isEqualTo(3);
            assertThat(gate.admit()).isEmpty();
            assertThat(failed).isEmpty();
        }

        @Test
        void onceOpenTheSessionLetsRowsThroughAtOnce() {
            RelayRow a = inFlight("A", "t");
            gate.open(a);
            OutboxPublisher.Session session = new Stored(41);
            publisher.session("t").complete(session);
            gate.admit();

            assertThat(gate.open(a)).isTrue();
            assertThat(gate.open(inFlight("B", "t"))).isTrue();

            assertThat(sessions.get("t", 0)).isSameAs(session);
            assertThat(publisher.opened).containsExactly("t/0");
        }

        @Test
        void laterSequenceIdsOfTheSegmentAreAboveWhatTheSessionFoundStored() {
            claims.initialize();
            claims.round();
            RelayRow a = inFlight("A", "t");
            gate.open(a);
            publisher.session("t").complete(new Stored(41));

            assertThat(gate.admit()).containsExactly(a);
            assertThat(gate.open(a)).isTrue();

            claims.reserve(Map.of(0, 1));
            assertThat(claims.nextSequence(0)).isEqualTo(42);
        }

        @Test
        void itsDeadlineIsTheAckDeadlineOfTheOpeningsRowsWaitFor() {
            assertThat(gate.earliestDeadline(77)).isEqualTo(77);
            long started = now.get();
            gate.open(inFlight("A", "t"));

            assertThat(gate.earliestDeadline(Long.MAX_VALUE)).isEqualTo(started + ACK_TIMEOUT.toNanos());
            assertThat(gate.earliestDeadline(77)).isEqualTo(77);
        }
    }

    @Nested
    class WhenTheSessionCannotBeOpened {

        @Test
        void theWaitingRowsFailOnceEachWithTheOpeningsFailure() {
            RelayRow a = inFlight("A", "t");
            RelayRow b = inFlight("B", "t");
            gate.open(a);
            gate.open(b);
            publisher.session("t").completeExceptionally(new KindedFailure(FailureKind.UNAVAILABLE, "down"));

            assertThat(gate.admit()).isEmpty();

            Attempt failure = opening("t").failure;
            assertThat(failure).isEqualTo(new Attempt(FailureKind.UNAVAILABLE, "KindedFailure: down"));
            assertThat(failed).containsExactly(new Failed(a, failure), new Failed(b, failure));
            assertThat(queues.waitingCount()).isZero();
            assertThat(queues.inFlightCount()).isZero();
            assertThat(gate.admit()).isEmpty();
            assertThat(failed).hasSize(2);
        }

        @Test
        void laterRowsFailAtOnceUntilTheOpeningMayBeTriedAgain() {
            gate.open(inFlight("A", "t"));
            publisher.session("t").completeExceptionally(new KindedFailure(FailureKind.UNAVAILABLE, "down"));
            gate.admit();
            RelayRow b = inFlight("B", "t");

            assertThat(gate.open(b)).isFalse();
            assertThat(failed).last().isEqualTo(new Failed(b, opening("t").failure));
            assertThat(queues.inFlightCount()).isZero();
            assertThat(publisher.opened).hasSize(1);

            now.addAndGet(POLL_INTERVAL.toNanos());
            RelayRow c = inFlight("C", "t");
            assertThat(gate.open(c)).isFalse();
            assertThat(c.waiting).as("waits for the new opening").isTrue();
            assertThat(publisher.opened).containsExactly("t/0", "t/0");
            assertThat(failed).hasSize(2);
        }

        @Test
        void aRefusedSessionIsAskedAgainByTheNextRowAtOnce() {
            gate.open(inFlight("A", "t"));
            publisher.session("t").completeExceptionally(new KindedFailure(FailureKind.UNKNOWN_TOPIC, "no t"));
            gate.admit();
            assertThat(failed).extracting(f -> f.attempt().kind()).containsExactly(FailureKind.UNKNOWN_TOPIC);

            RelayRow b = inFlight("B", "t");
            assertThat(gate.open(b)).isFalse();

            assertThat(b.waiting).isTrue();
            assertThat(publisher.opened).containsExactly("t/0", "t/0");
            assertThat(failed).hasSize(1);
        }

        @Test
        void anOpeningThatFailsAtOnceFailsTheRowAtOnceAndARefusalIsAskedAgainByTheNextRow() {
            publisher.failAtOnce = new KindedFailure(FailureKind.UNKNOWN_TOPIC, "no t");
            RelayRow a = inFlight("A", "t");

            assertThat(gate.open(a)).isFalse();
            assertThat(failed).containsExactly(new Failed(a, opening("t").failure));
            assertThat(a.waiting).isFalse();
            assertThat(queues.inFlightCount()).isZero();

            publisher.failAtOnce = null;
            assertThat(gate.open(inFlight("B", "t"))).isFalse();
            assertThat(publisher.opened).containsExactly("t/0", "t/0");
            assertThat(failed).hasSize(1);
        }

        @Test
        void rowsWaitingForAnOpeningWithoutAnswerFailWithTimeoutAfterTheAckTimeout() {
            RelayRow a = inFlight("A", "t");
            gate.open(a);
            now.addAndGet(ACK_TIMEOUT.toNanos() - 1);
            assertThat(gate.admit()).isEmpty();
            assertThat(failed).isEmpty();

            now.incrementAndGet();
            assertThat(gate.admit()).isEmpty();

            assertThat(failed).singleElement().satisfies(f -> {
                assertThat(f.row()).isSameAs(a);
                assertThat(f.attempt().kind()).isEqualTo(FailureKind.TIMEOUT);
            });
        }

        @Test
        void rowsOfASegmentThatStoppedMeanwhileAreLetThroughToBeRetracted() {
            RelayRow a = inFlight("A", "t");
            gate.open(a);
            stopped.add(0);
            publisher.session("t").completeExceptionally(new KindedFailure(FailureKind.UNAVAILABLE, "down"));

            assertThat(gate.admit()).containsExactly(a);
            assertThat(failed).isEmpty();
        }

        @Test
        void rowsWhoseOpeningWasForgottenWithItsSegmentAreLetThrough() {
            RelayRow a = inFlight("A", "t");
            gate.open(a);

            sessions.closeSegment(0);

            assertThat(gate.admit()).containsExactly(a);
            assertThat(failed).isEmpty();
        }
    }

    @Nested
    class DroppingAll {

        @Test
        void takesEveryWaitingRowOutOfFlightAndForgetsIt() {
            RelayRow a = inFlight("A", "t");
            RelayRow b = inFlight("B", "u");
            gate.open(a);
            gate.open(b);

            assertThat(gate.dropAll()).containsExactly(a, b);

            assertThat(a.waiting).isFalse();
            assertThat(queues.waitingCount()).isZero();
            assertThat(queues.inFlightCount()).isZero();
            assertThat(queues.admits(a.entry.aggregateKey())).isTrue();
            publisher.session("t").complete(OutboxPublisher.Session.NOTHING_STORED);
            publisher.session("u").completeExceptionally(new KindedFailure(FailureKind.UNAVAILABLE, "down"));
            assertThat(gate.admit()).isEmpty();
            assertThat(failed).isEmpty();
            assertThat(gate.dropAll()).isEmpty();
        }
    }

    /** A session under whose name the broker stored ids up to {@code highestStored}. */
    private record Stored(long highestStored) implements OutboxPublisher.Session {
        @Override
        public long lastStored(String key) {
            return highestStored;
        }
    }

    /** A publisher with sequence ids whose session openings stay under way until the test answers them. */
    private static final class FakePublisher implements OutboxPublisher {
        final List<String> opened = new ArrayList<>();
        final Map<String, CompletableFuture<Session>> sessions = new HashMap<>();
        RuntimeException failAtOnce;

        CompletableFuture<Session> session(String topic) {
            return sessions.get(topic);
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new UnsupportedOperationException("no sends here");
        }

        @Override
        public boolean supportsSequenceIds() {
            return true;
        }

        @Override
        public CompletableFuture<Session> openSession(String destination, int segment) {
            opened.add(destination + "/" + segment);
            if (failAtOnce != null) {
                return CompletableFuture.failedFuture(failAtOnce);
            }
            CompletableFuture<Session> session = new CompletableFuture<>();
            sessions.put(destination, session);
            return session;
        }

        @Override
        public FailureKind classify(Throwable failure) {
            return failure instanceof KindedFailure kinded ? kinded.kind : FailureKind.TRANSIENT;
        }
    }
}
