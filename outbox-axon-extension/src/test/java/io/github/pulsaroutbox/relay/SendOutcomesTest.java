package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Settling the answers to sends, with real pending acks and queues, a fake publisher and a fake clock. */
class SendOutcomesTest {

    private static final Instant NOW = Instant.parse("2024-05-01T10:00:00Z");
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);
    private static final int SEGMENTS = 4;

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Map<String, CompletableFuture<Object>> answers = new HashMap<>();
    private final Map<String, RuntimeException> refusals = new HashMap<>();
    private final OutboxPublisher publisher = new OutboxPublisher() {
        @Override
        public CompletableFuture<?> publish(OutboxEntry entry, String destination) {
            RuntimeException refusal = refusals.get(entry.id());
            if (refusal != null) {
                return CompletableFuture.failedFuture(refusal);
            }
            return answers.computeIfAbsent(entry.id(), id -> new CompletableFuture<>());
        }

        @Override
        public FailureKind classify(Throwable failure) {
            return failure instanceof KindedFailure kinded ? kinded.kind : FailureKind.TRANSIENT;
        }
    };
    private final TransportWatch transport = new TransportWatch();
    private final List<String> published = new ArrayList<>();
    private final Map<String, Attempt> failed = new LinkedHashMap<>();
    private final List<String> acknowledged = new ArrayList<>();
    private AggregateQueues queues = new AggregateQueues(SEGMENTS, false, key -> { });

    private SendOutcomes outcomes() {
        PendingAcks acks = new PendingAcks(publisher, false, ACK_TIMEOUT, nanos::get, () -> { });
        OutboxMetrics metrics = new OutboxMetrics() {
            @Override
            public void published(OutboxEntry entry, Instant acknowledgedAt) {
                published.add(entry.id() + "@" + acknowledgedAt);
            }
        };
        return new SendOutcomes(publisher, acks, queues, (row, attempt) -> failed.put(row.entry.id(), attempt),
                                row -> acknowledged.add(row.entry.id()), ACK_TIMEOUT, Clock.fixed(NOW, ZoneOffset.UTC),
                                nanos::get, transport, metrics);
    }

    /** A row of the aggregate, in the working set and in flight. */
    private RelayRow inFlight(String aggregateId, long sequence) {
        RelayRow row = new RelayRow(OutboxEntry.pending(aggregateId + sequence, NOW, "Evt", "Order", aggregateId,
                                                        sequence, "{}", "{}", "1", null), SEGMENTS);
        row.topic = "orders";
        queues.remember(row);
        queues.enterInFlight(row.entry.aggregateKey(), row);
        return row;
    }

    @Nested
    class Acknowledged {

        @Test
        void isRecordedCountedAndFreesItsAggregate() {
            SendOutcomes outcomes = outcomes();
            RelayRow row = inFlight("A", 0);
            outcomes.send(row);
            outcomes.collect();
            assertThat(acknowledged).isEmpty(); // no answer yet

            answers.get("A0").complete("ok");
            outcomes.collect();

            assertThat(acknowledged).containsExactly("A0");
            assertThat(failed).isEmpty();
            assertThat(row.done).isTrue();
            assertThat(queues.inFlightCount()).isZero();
            assertThat(queues.holds("A0")).isTrue(); // until recorded
            assertThat(published).containsExactly("A0@" + NOW);
            assertThat(transport.snapshot().lastAcknowledged()).isEqualTo(NOW);
        }

        @Test
        void afterItsTimeoutItIsNotSettledAgain() {
            SendOutcomes outcomes = outcomes();
            outcomes.send(inFlight("A", 0));
            nanos.addAndGet(ACK_TIMEOUT.toNanos());
            outcomes.collect();

            answers.get("A0").complete("late");
            outcomes.collect();

            assertThat(acknowledged).isEmpty();
            assertThat(failed).containsOnlyKeys("A0");
        }
    }

    @Nested
    class Failed {

        @Test
        void isFailedAsThePublisherClassifiesIt() {
            SendOutcomes outcomes = outcomes();
            outcomes.send(inFlight("A", 0));

            answers.get("A0").completeExceptionally(new KindedFailure(FailureKind.REFUSED, "too big"));
            outcomes.collect();

            assertThat(failed.get("A0")).isEqualTo(new Attempt(FailureKind.REFUSED, "KindedFailure: too big"));
            assertThat(acknowledged).isEmpty();
            assertThat(queues.inFlightCount()).isZero();
        }

        @Test
        void aRefusalAtOnceIsFailedWithoutWaiting() {
            SendOutcomes outcomes = outcomes();
            refusals.put("A0", new KindedFailure(FailureKind.MESSAGE_TOO_LARGE, "no"));

            outcomes.send(inFlight("A", 0));

            assertThat(failed.get("A0").kind()).isEqualTo(FailureKind.MESSAGE_TOO_LARGE);
        }

        @Test
        void notAcknowledgedWithinTheAckTimeoutIsATimeout() {
            SendOutcomes outcomes = outcomes();
            outcomes.send(inFlight("A", 0));
            nanos.addAndGet(ACK_TIMEOUT.toNanos() - 1);
            outcomes.collect();
            assertThat(failed).isEmpty();

            nanos.addAndGet(1);
            outcomes.collect();

            assertThat(failed.get("A0").kind()).isEqualTo(FailureKind.TIMEOUT);
            assertThat(failed.get("A0").error()).contains("ack timeout of PT30S");
        }

        @Test
        void voidsTheRowsOfItsAggregateSentAfterItWhichStayPending() {
            queues = new AggregateQueues(SEGMENTS, true, key -> { }); // pipelined: several in flight per aggregate
            SendOutcomes outcomes = outcomes();
            RelayRow first = inFlight("A", 0);
            RelayRow second = inFlight("A", 1);
            RelayRow other = inFlight("B", 0);
            outcomes.send(first);
            outcomes.send(second);
            outcomes.send(other);

            answers.get("A0").completeExceptionally(new IllegalStateException("broker said no"));
            answers.get("A1").complete("ok");
            answers.get("B0").complete("ok");
            outcomes.collect();

            assertThat(failed).containsOnlyKeys("A0");
            assertThat(acknowledged).containsExactly("B0");
            assertThat(second.voided).isTrue();
            assertThat(queues.holds("A1")).isFalse(); // left the working set: fetched again after A0
            assertThat(queues.inFlightCount()).isZero();
        }
    }
}
