package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** The relay's sends awaiting an answer, against a fake publisher whose acks the test completes, on a fake clock. */
class PendingAcksTest {

    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);
    private static final long TIMEOUT = ACK_TIMEOUT.toNanos();

    private final AtomicLong now = new AtomicLong(500);
    private final AtomicInteger signals = new AtomicInteger();
    private final FakePublisher publisher = new FakePublisher();

    private PendingAcks acks(boolean sequenced) {
        return new PendingAcks(publisher, sequenced, ACK_TIMEOUT, now::get, signals::incrementAndGet);
    }

    private static RelayRow row(String id) {
        RelayRow row = new RelayRow(OutboxEntry.pending(id, Instant.EPOCH, "Evt", "Order", "agg-" + id, 0, "{}",
                                                        "{}", "1", null), 1);
        row.topic = "orders";
        return row;
    }

    @Nested
    class Sending {

        @Test
        void withoutSequenceIdsSendsTheUpcastEntryToItsTopic() {
            RelayRow row = row("A");
            row.sent = row.entry.upcastTo("Evt", "{\"v\":2}", "2");

            assertThat(acks(false).send(row)).isNull();

            assertThat(publisher.sends).containsExactly("A@2 -> orders");
        }

        @Test
        void withSequenceIdsSendsTheUpcastEntryThroughTheSegmentWithTheRowsSequenceId() {
            RelayRow row = row("A");
            row.sent = row.entry.upcastTo("Evt", "{\"v\":2}", "2");
            row.sequence = 42;

            assertThat(acks(true).send(row)).isNull();

            assertThat(publisher.sends).containsExactly("A@2 -> orders #0/42");
        }

        @Test
        void aSendAwaitingItsAnswerIsNeitherArrivedNorTimedOutBeforeItsDeadline() {
            PendingAcks acks = acks(false);
            acks.send(row("A"));

            assertThat(acks.nextArrived()).isNull();
            assertThat(acks.nextTimedOut(now.get() + TIMEOUT - 1)).isNull();
            assertThat(signals).hasValue(0);
        }
    }

    @Nested
    class Arrivals {

        @Test
        void anAcknowledgementWakesTheRelayAndArrivesOnce() {
            PendingAcks acks = acks(false);
            RelayRow row = row("A");
            acks.send(row);

            publisher.ack("A").complete("ok");

            assertThat(signals).hasValue(1);
            assertThat(acks.nextArrived()).isSameAs(row);
            assertThat(row.error).isNull();
            assertThat(acks.nextArrived()).isNull();
        }

        @Test
        void aFailedSendArrivesWithItsError() {
            PendingAcks acks = acks(false);
            RelayRow row = row("A");
            acks.send(row);
            IllegalStateException failure = new IllegalStateException("connection lost");

            publisher.ack("A").completeExceptionally(failure);

            assertThat(acks.nextArrived()).isSameAs(row);
            assertThat(row.error).isSameAs(failure);
            assertThat(row.notStored).as("only a refusal before publish returned tells that").isFalse();
            assertThat(publisher.askedNeverSent).isEmpty();
        }

        @Test
        void answersArriveInTheOrderTheyCameFromAnyThread() {
            PendingAcks acks = acks(false);
            RelayRow a = row("A");
            RelayRow b = row("B");
            acks.send(a);
            acks.send(b);

            CompletableFuture.runAsync(() -> publisher.ack("B").complete("ok")).join();
            publisher.ack("A").complete("ok");

            assertThat(acks.nextArrived()).isSameAs(b);
            assertThat(acks.nextArrived()).isSameAs(a);
            assertThat(acks.nextArrived()).isNull();
            assertThat(signals).hasValue(2);
        }
    }

    @Nested
    class TimeOuts {

        @Test
        void anAnswerArrivingAfterTheTimeOutWasHandledIsNotReported() {
            PendingAcks acks = acks(false);
            RelayRow row = row("A");
            acks.send(row);
            acks.nextTimedOut(Long.MAX_VALUE).done = true;

            publisher.ack("A").complete("late");

            assertThat(acks.nextArrived()).isNull();
        }

        @Test
        void aSendWithoutAnswerTimesOutOnceAtItsDeadline() {
            PendingAcks acks = acks(false);
            RelayRow row = row("A");
            long sentAt = now.get();
            acks.send(row);

            assertThat(acks.nextTimedOut(sentAt + TIMEOUT - 1)).isNull();
            assertThat(acks.nextTimedOut(sentAt + TIMEOUT)).isSameAs(row);
            assertThat(acks.nextTimedOut(Long.MAX_VALUE)).isNull();
        }

        @Test
        void sendsTimeOutInSendOrderEachAtItsOwnDeadline() {
            PendingAcks acks = acks(false);
            RelayRow a = row("A");
            RelayRow b = row("B");
            long first = now.get();
            acks.send(a);
            now.addAndGet(1_000);
            acks.send(b);

            assertThat(acks.nextTimedOut(first + TIMEOUT)).isSameAs(a);
            assertThat(acks.nextTimedOut(first + TIMEOUT)).isNull();
            assertThat(acks.nextTimedOut(first + 1_000 + TIMEOUT)).isSameAs(b);
        }

        @Test
        void aHandledRowIsNeverReportedAsTimedOut() {
            PendingAcks acks = acks(false);
            RelayRow a = row("A");
            RelayRow b = row("B");
            RelayRow c = row("C");
            acks.send(a);
            acks.send(b);
            acks.send(c);
            publisher.ack("A").complete("ok");
            acks.nextArrived().done = true;
            b.done = true; // handled otherwise, e.g. retracted

            assertThat(acks.nextTimedOut(Long.MAX_VALUE)).isSameAs(c);
            assertThat(acks.nextTimedOut(Long.MAX_VALUE)).isNull();
        }
    }

    @Nested
    class RefusedAtOnce {

        @Test
        void aSendFailedBeforePublishReturnedIsAnsweredBySendClassifiedByThePublisher() {
            publisher.answer = entry -> CompletableFuture.failedFuture(new KindedFailure(FailureKind.REFUSED, "no"));

            Attempt refused = acks(false).send(row("A"));

            assertThat(refused).isEqualTo(new Attempt(FailureKind.REFUSED, "KindedFailure: no"));
        }

        @Test
        void aPublisherThatThrowsRefusesTheSendAtOnce() {
            publisher.answer = entry -> {
                throw new KindedFailure(FailureKind.UNAVAILABLE, "producer closed");
            };

            Attempt refused = acks(true).send(row("A"));

            assertThat(refused).isEqualTo(new Attempt(FailureKind.UNAVAILABLE, "KindedFailure: producer closed"));
        }

        @Test
        void whetherTheBrokerNeverSawItIsAskedOfThePublisherWithTheUnwrappedCause() {
            KindedFailure cause = new KindedFailure(FailureKind.MESSAGE_TOO_LARGE, "too big");
            publisher.answer = entry -> CompletableFuture.failedFuture(cause).thenApply(Function.identity());
            publisher.neverSent = failure -> failure == cause;
            RelayRow row = row("A");

            Attempt refused = acks(false).send(row);

            assertThat(row.notStored).isTrue();
            assertThat(publisher.askedNeverSent).containsExactly(cause);
            assertThat(refused).isEqualTo(new Attempt(FailureKind.MESSAGE_TOO_LARGE, "KindedFailure: too big"));
        }

        @Test
        void aRefusalThePublisherCannotVouchForMayHaveBeenStored() {
            publisher.answer = entry -> CompletableFuture.failedFuture(new IllegalStateException("unknown"));
            RelayRow row = row("A");

            assertThat(acks(false).send(row)).isNotNull();

            assertThat(row.notStored).isFalse();
        }

        @Test
        void aRefusedRowOnceHandledIsNotReportedAsTimedOut() {
            publisher.answer = entry -> CompletableFuture.failedFuture(new IllegalStateException("refused"));
            PendingAcks acks = acks(false);
            RelayRow row = row("A");

            assertThat(acks.send(row)).isNotNull();
            row.done = true;

            assertThat(acks.nextTimedOut(Long.MAX_VALUE)).isNull();
        }

        @Test
        void aRefusedRowOnceHandledIsNotReportedAgainAsArrived() {
            publisher.answer = entry -> CompletableFuture.failedFuture(new IllegalStateException("refused"));
            PendingAcks acks = acks(false);
            RelayRow row = row("A");

            assertThat(acks.send(row)).isNotNull();
            row.done = true;

            assertThat(acks.nextArrived()).isNull();
        }
    }

    @Nested
    class NextDeadline {

        @Test
        void isOneAckTimeoutFromNowWhenNoSendAwaitsAnAnswer() {
            assertThat(acks(false).nextDeadline()).isEqualTo(now.get() + TIMEOUT);
        }

        @Test
        void isTheDeadlineOfTheOldestSendAwaitingItsAnswer() {
            PendingAcks acks = acks(false);
            long first = now.get();
            acks.send(row("A"));
            now.addAndGet(1_000);
            acks.send(row("B"));
            now.addAndGet(1_000);

            assertThat(acks.nextDeadline()).isEqualTo(first + TIMEOUT);
            acks.nextTimedOut(first + TIMEOUT);
            assertThat(acks.nextDeadline()).isEqualTo(first + 1_000 + TIMEOUT);
        }

        @Test
        void aHandledSendNoLongerCountsOnceTheTimeOutsWereCollected() {
            PendingAcks acks = acks(false);
            long first = now.get();
            acks.send(row("A"));
            now.addAndGet(1_000);
            acks.send(row("B"));
            publisher.ack("A").complete("ok");
            acks.nextArrived().done = true;

            assertThat(acks.nextTimedOut(now.get())).isNull();

            assertThat(acks.nextDeadline()).isEqualTo(first + 1_000 + TIMEOUT);
        }
    }

    /** A publisher whose acks stay open until the test completes them (or that answers as {@link #answer} says). */
    private static final class FakePublisher implements OutboxPublisher {
        final List<String> sends = new ArrayList<>();
        final Map<String, CompletableFuture<Object>> acks = new HashMap<>();
        final List<Throwable> askedNeverSent = new ArrayList<>();
        Function<OutboxEntry, CompletableFuture<?>> answer = entry -> {
            CompletableFuture<Object> ack = new CompletableFuture<>();
            acks.put(entry.id(), ack);
            return ack;
        };
        Predicate<Throwable> neverSent = failure -> false;

        CompletableFuture<Object> ack(String id) {
            return acks.get(id);
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            sends.add(entry.id() + "@" + entry.version() + " -> " + destination);
            return answer.apply(entry);
        }

        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination, int segment, long sequenceId) {
            sends.add(entry.id() + "@" + entry.version() + " -> " + destination + " #" + segment + "/" + sequenceId);
            return answer.apply(entry);
        }

        @Override
        public boolean neverSent(Throwable failure) {
            askedNeverSent.add(failure);
            return neverSent.test(failure);
        }

        @Override
        public FailureKind classify(Throwable failure) {
            return failure instanceof KindedFailure kinded ? kinded.kind : FailureKind.TRANSIENT;
        }
    }
}
