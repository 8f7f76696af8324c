package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The relay's producer sessions, against a fake publisher whose openings the test answers, on a fake clock. */
class ProducerSessionsTest {

    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

    private final AtomicLong now = new AtomicLong(1_000);
    private final AtomicInteger signals = new AtomicInteger();
    private final TransportWatch transport = new TransportWatch();
    private final FakePublisher publisher = new FakePublisher();

    /** Sessions with sequence ids (per topic and segment); {@code t0} is the key of topic t, segment 0. */
    private final ProducerSessions sessions = sessions(true);
    private final String t0 = sessions.key("t", 0);

    private ProducerSessions sessions(boolean sequenced) {
        return new ProducerSessions(publisher, sequenced, ACK_TIMEOUT, POLL_INTERVAL, transport, now::get,
                                    signals::incrementAndGet);
    }

    /** The opening of topic t's session for segment 0, which the publisher failed with {@code kind}, settled now. */
    private ProducerSessions.Opening failedOpening(FailureKind kind) {
        ProducerSessions.Opening opening = sessions.opening("t", 0);
        publisher.lastSession().completeExceptionally(new KindedFailure(kind, "not now"));
        assertThat(sessions.settled(t0)).isSameAs(opening);
        return opening;
    }

    private static final OutboxPublisher.Session SESSION = new Stored(7);

    private record Stored(long highestStored) implements OutboxPublisher.Session {
        @Override
        public long lastStored(String key) {
            return highestStored;
        }
    }

    @Nested
    class Opening {

        @Test
        void anOpeningIsUnderWayWithoutBlockingUntilThePublisherAnswersAndIsNotStartedTwice() {
            ProducerSessions.Opening opening = sessions.opening("t", 0);

            assertThat(opening.underWay()).isTrue();
            assertThat(sessions.opening("t", 0)).isSameAs(opening);
            assertThat(publisher.asked).containsExactly("open t/0");
            assertThat(signals).hasValue(0);
        }

        @Test
        void aCompletedOpeningWakesTheRelayAndGivesItsSessionUntilItIsLost() {
            ProducerSessions.Opening opening = sessions.opening("t", 0);

            publisher.lastSession().complete(SESSION);

            assertThat(signals).hasValue(1);
            assertThat(opening.underWay()).isFalse();
            assertThat(sessions.settled(t0).failure).isNull();
            assertThat(sessions.sessionFor(opening)).isSameAs(SESSION);
            sessions.opened(t0, "t", SESSION);
            assertThat(sessions.get("t", 0)).isSameAs(SESSION);
            assertThat(sessions.isOpen(t0)).isTrue();

            sessions.lost("t", 0); // its producer is gone: the next row opens it again

            assertThat(sessions.get("t", 0)).isNull();
            assertThat(sessions.opening("t", 0).underWay()).isTrue();
            assertThat(publisher.asked).containsExactly("open t/0", "open t/0");
        }

        @Test
        void anOpeningIsListedForHealthFromItsFirstAttemptUntilItsSessionOpens() {
            ProducerSessions.Opening first = sessions.opening("t", 0);
            java.time.Instant since = transport.snapshot().openingSince().get("t");
            assertThat(since).isNotNull();

            publisher.lastSession().completeExceptionally(new KindedFailure(FailureKind.UNAVAILABLE, "refused"));
            sessions.settled(t0);
            first.reported = true;
            now.addAndGet(first.retryAfterNanos - now.get());
            sessions.opening("t", 0); // tried again: still the first attempt's start
            assertThat(transport.snapshot().openingSince()).containsEntry("t", since);

            sessions.opened(t0, "t", SESSION);
            assertThat(transport.snapshot().openingSince()).isEmpty();
        }

        @Test
        void anOpeningRefusedOrDroppedWithItsSegmentNoLongerWaitsForTheBroker() {
            sessions.opening("t", 0);
            publisher.lastSession().completeExceptionally(new KindedFailure(FailureKind.UNKNOWN_TOPIC, "no t"));
            sessions.settled(t0);
            assertThat(transport.snapshot().openingSince()).as("refused: parked, not waiting").isEmpty();

            sessions.opening("u", 1); // no answer yet
            sessions.opening("v", 2);
            assertThat(transport.snapshot().openingSince()).containsOnlyKeys("u", "v");
            sessions.closeSegment(1); // its claim was lost, or the relay released it
            assertThat(transport.snapshot().openingSince()).containsOnlyKeys("v");
        }

        @Test
        void withoutSequenceIdsOneProducerPerTopicIsOnlyPrepared() {
            ProducerSessions unsequenced = sessions(false);
            assertThat(unsequenced.key("t", 0)).isEqualTo(unsequenced.key("t", 5));

            ProducerSessions.Opening opening = unsequenced.opening("t", 3);
            publisher.prepares.get(0).complete(null);

            assertThat(publisher.asked).containsExactly("prepare t");
            assertThat(unsequenced.sessionFor(opening)).isSameAs(OutboxPublisher.Session.NOTHING_STORED);
        }

        @Test
        void anOpeningThatThrowsFailsInsteadOfThrowing() {
            publisher.throwOnOpen = new KindedFailure(FailureKind.UNAVAILABLE, "closed");

            ProducerSessions.Opening opening = sessions.opening("t", 0);

            assertThat(opening.failure).isEqualTo(new Attempt(FailureKind.UNAVAILABLE, "KindedFailure: closed"));
        }

        @Test
        void aFailureWrappedByADependentFutureIsClassifiedByItsCause() {
            ProducerSessions unsequenced = sessions(false);
            unsequenced.opening("t", 0);

            publisher.prepares.get(0).completeExceptionally(new KindedFailure(FailureKind.UNKNOWN_TOPIC, "no t"));

            assertThat(unsequenced.settled("t").failure)
                    .isEqualTo(new Attempt(FailureKind.UNKNOWN_TOPIC, "KindedFailure: no t"));
        }
    }

    @Nested
    class FailedOpenings {

        @Test
        void aFailureIsKeptUntilARowWasToldOfItAndItsBackoffPassed() {
            ProducerSessions.Opening opening = failedOpening(FailureKind.UNAVAILABLE);
            now.addAndGet(POLL_INTERVAL.toNanos());
            assertThat(sessions.opening("t", 0)).as("no row was told of it yet").isSameAs(opening);
            assertThat(opening.failure.kind()).isEqualTo(FailureKind.UNAVAILABLE);

            opening.reported = true;
            ProducerSessions.Opening retried = sessions.opening("t", 0);
            assertThat(retried).isNotSameAs(opening);
            assertThat(retried.underWay()).isTrue();
            assertThat(retried.failures).isEqualTo(1);
            assertThat(publisher.asked).hasSize(2);
        }

        @Test
        void theBackoffDoublesWithEachFailureInARowUpTo30Seconds() {
            List<Long> backoffs = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                ProducerSessions.Opening opening = failedOpening(FailureKind.TRANSIENT);
                backoffs.add(Duration.ofNanos(opening.retryAfterNanos - now.get()).toSeconds());
                opening.reported = true;
                now.set(opening.retryAfterNanos - 1);
                assertThat(sessions.opening("t", 0)).as("backing off").isSameAs(opening);
                now.incrementAndGet();
            }
            assertThat(backoffs).containsExactly(1L, 2L, 4L, 8L, 16L, 30L, 30L);
        }

        @Test
        void aRefusalIsAskedAgainByTheNextRowAtOnce() {
            ProducerSessions.Opening opening = failedOpening(FailureKind.UNKNOWN_TOPIC);
            opening.reported = true;

            ProducerSessions.Opening retried = sessions.opening("t", 0);

            assertThat(retried).isNotSameAs(opening);
            assertThat(retried.underWay()).isTrue();
            assertThat(publisher.asked).hasSize(2);
        }

        @Test
        void anOpeningWithoutAnswerFailsWithTimeoutAfterTheAckTimeoutAndStaysFailed() {
            ProducerSessions.Opening opening = sessions.opening("t", 0);

            now.addAndGet(ACK_TIMEOUT.toNanos() - 1);
            assertThat(sessions.settled(t0).underWay()).isTrue();

            now.incrementAndGet();
            assertThat(sessions.settled(t0).failure.kind()).isEqualTo(FailureKind.TIMEOUT);
            assertThat(opening.failure.error()).contains("ack timeout");
            assertThat(opening.underWay()).isFalse();
            assertThat(transport.snapshot().unavailableDestinations().get("t")).startsWith("TIMEOUT: ");

            publisher.lastSession().complete(SESSION); // too late: the failure holds until it is tried again
            assertThat(sessions.opening("t", 0)).isSameAs(opening);
            assertThat(opening.failure.kind()).isEqualTo(FailureKind.TIMEOUT);
        }

        @ParameterizedTest
        @EnumSource(value = FailureKind.class, names = {"TRANSIENT", "UNAVAILABLE", "NOT_FOUND", "NOT_AUTHORIZED"})
        void aFailureThatMayPassIsToldToTheTransportWatchUntilTheSessionOpens(FailureKind kind) {
            ProducerSessions.Opening opening = failedOpening(kind);

            assertThat(transport.snapshot().unavailableDestinations())
                    .containsExactly(java.util.Map.entry("t", kind + ": KindedFailure: not now"));

            opening.reported = true;
            now.addAndGet(POLL_INTERVAL.toNanos());
            sessions.opening("t", 0);
            publisher.lastSession().complete(SESSION);
            sessions.opened(t0, "t", SESSION);
            assertThat(transport.snapshot().unavailableDestinations()).isEmpty();
        }
    }

    @Nested
    class ClosingASegment {

        @Test
        void closesThePublishersSegmentAndForgetsOnlyThatSegmentsSessions() {
            sessions.opened(sessions.key("t", 1), "t", SESSION);
            sessions.opened(sessions.key("u", 1), "u", SESSION);
            sessions.opened(sessions.key("t", 11), "t", SESSION);

            sessions.closeSegment(1);

            assertThat(publisher.closed).containsExactly(1);
            assertThat(sessions.get("t", 1)).isNull();
            assertThat(sessions.get("u", 1)).isNull();
            assertThat(sessions.get("t", 11)).isSameAs(SESSION);
        }

        @Test
        void forgetsItsOpeningsSoThatTheNextRowOpensANewSessionAtOnce() {
            ProducerSessions.Opening underWay = sessions.opening("t", 2);
            ProducerSessions.Opening failed = sessions.opening("u", 2);
            publisher.lastSession().completeExceptionally(new KindedFailure(FailureKind.UNAVAILABLE, "down"));
            failed.reported = true;

            sessions.closeSegment(2);

            assertThat(sessions.settled(sessions.key("t", 2))).isNull();
            assertThat(sessions.opening("t", 2)).isNotSameAs(underWay);
            assertThat(sessions.opening("u", 2)).isNotSameAs(failed); // no backoff for the new owner's session
            assertThat(publisher.asked).containsExactly("open t/2", "open u/2", "open t/2", "open u/2");
        }
    }

    @Nested
    class SessionFor {

        @ParameterizedTest
        @EnumSource(value = FailureKind.class, names = {"UNKNOWN_TOPIC", "REFUSED"})
        void aTopicThatRefusesProducersGivesNoSession(FailureKind kind) {
            ProducerSessions.Opening opening = failedOpening(kind);

            assertThat(sessions.sessionFor(opening)).isNull();
            assertThat(opening.reported).isTrue();
            assertThat(transport.snapshot().unavailableDestinations()).as("a refusal parks rows instead").isEmpty();
        }

        @ParameterizedTest
        @EnumSource(value = FailureKind.class,
                names = {"TRANSIENT", "TIMEOUT", "UNAVAILABLE", "NOT_AUTHORIZED", "NOT_FOUND"})
        void aFailureThatMayPassIsThrownSoThatTheResolutionIsRetried(FailureKind kind) {
            ProducerSessions.Opening opening = failedOpening(kind);

            assertThatThrownBy(() -> sessions.sessionFor(opening)).isInstanceOf(IllegalStateException.class)
                                                                 .hasMessage("KindedFailure: not now");
            assertThat(opening.reported).isTrue();
        }
    }

    @Nested
    class EarliestDeadline {

        @Test
        void isTheEarliestAckDeadlineOfTheOpeningsUnderWayUnderTheKeys() {
            long first = now.get();
            sessions.opening("t", 0);
            now.addAndGet(5_000);
            sessions.opening("t", 1);
            List<String> keys = List.of(sessions.key("t", 1), t0, sessions.key("t", 9));

            assertThat(sessions.earliestDeadline(keys, Long.MAX_VALUE)).isEqualTo(first + ACK_TIMEOUT.toNanos());
            assertThat(sessions.earliestDeadline(keys, first)).isEqualTo(first);

            publisher.sessions.get(0).completeExceptionally(new KindedFailure(FailureKind.UNAVAILABLE, "down"));
            sessions.settled(t0);
            assertThat(sessions.earliestDeadline(keys, Long.MAX_VALUE))
                    .as("a failed opening has no deadline").isEqualTo(first + 5_000 + ACK_TIMEOUT.toNanos());
        }
    }

    /** A publisher whose session openings and preparations stay under way until the test completes them. */
    private static final class FakePublisher implements OutboxPublisher {
        final List<String> asked = new ArrayList<>();
        final List<CompletableFuture<Session>> sessions = new ArrayList<>();
        final List<CompletableFuture<Void>> prepares = new ArrayList<>();
        final List<Integer> closed = new ArrayList<>();
        RuntimeException throwOnOpen;

        CompletableFuture<Session> lastSession() {
            return sessions.get(sessions.size() - 1);
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            throw new UnsupportedOperationException("no sends here");
        }

        @Override
        public CompletableFuture<Session> openSession(String destination, int segment) {
            asked.add("open " + destination + "/" + segment);
            if (throwOnOpen != null) {
                throw throwOnOpen;
            }
            CompletableFuture<Session> session = new CompletableFuture<>();
            sessions.add(session);
            return session;
        }

        @Override
        public CompletableFuture<Void> prepare(String destination) {
            asked.add("prepare " + destination);
            CompletableFuture<Void> prepared = new CompletableFuture<>();
            prepares.add(prepared);
            return prepared;
        }

        @Override
        public void closeSegment(int segment) {
            closed.add(segment);
        }

        @Override
        public FailureKind classify(Throwable failure) {
            return failure instanceof KindedFailure kinded ? kinded.kind : FailureKind.TRANSIENT;
        }
    }
}
