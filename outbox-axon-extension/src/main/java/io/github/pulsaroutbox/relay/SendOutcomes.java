package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.metrics.OutboxMetrics;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Sends rows ({@link PendingAcks}) and settles what became of each send, on the relay thread: an acknowledgement is
 * handed to the recorder (and counted as the transport working), a failure, a refusal or a send not acknowledged
 * within the ack timeout is failed ({@link RowFailures}).
 * <p>
 * Guarantees: each send is settled once (a row already {@link RelayRow#done} is skipped) and leaves its aggregate's
 * rows in flight; a failure voids the aggregate's rows sent after the failed one, and a voided row, whatever its
 * answer, is neither recorded nor failed: it leaves the working set and stays pending, to be fetched again after the
 * failed row.
 */
final class SendOutcomes {

    private final OutboxPublisher publisher;
    private final PendingAcks acks;
    private final AggregateQueues queues;
    private final BiConsumer<RelayRow, Attempt> fail;
    private final Consumer<RelayRow> acknowledged;
    private final Duration ackTimeout;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final TransportWatch transport;
    private final OutboxMetrics metrics;

    /**
     * @param publisher    classifies the transport's errors
     * @param fail         fails a row whose send failed
     * @param acknowledged records a row the broker acknowledged
     */
    SendOutcomes(OutboxPublisher publisher, PendingAcks acks, AggregateQueues queues, BiConsumer<RelayRow, Attempt> fail,
                 Consumer<RelayRow> acknowledged, Duration ackTimeout, Clock clock, LongSupplier nanoTime,
                 TransportWatch transport, OutboxMetrics metrics) {
        this.publisher = publisher;
        this.acks = acks;
        this.queues = queues;
        this.fail = fail;
        this.acknowledged = acknowledged;
        this.ackTimeout = ackTimeout;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.transport = transport;
        this.metrics = metrics;
    }

    /** Sends the row; a refusal at once is settled now (no later row of the aggregate is sent). */
    void send(RelayRow row) {
        Attempt refused = acks.send(row);
        if (refused != null) {
            complete(row, refused);
        }
    }

    /** Settles the answers that arrived, then the sends that have timed out. */
    void collect() {
        RelayRow row;
        while ((row = acks.nextArrived()) != null) {
            complete(row, Attempt.of(row.error, publisher));
        }
        long now = nanoTime.getAsLong();
        while ((row = acks.nextTimedOut(now)) != null) {
            complete(row, new Attempt(FailureKind.TIMEOUT, "Not acknowledged within the relay's ack timeout of "
                    + ackTimeout));
        }
    }

    private void complete(RelayRow row, Attempt failure) {
        if (row.done) {
            return; // timed out before: already handled
        }
        row.done = true;
        String key = row.entry.aggregateKey();
        if (failure != null) {
            queues.voidLaterThan(row); // sent after the failed row: acknowledged or not, they must not count
        }
        queues.leaveInFlight(row);
        if (row.voided) {
            queues.forget(row.entry.id()); // sent after a failure of its aggregate: stays pending, fetched again
            return;
        }
        if (failure != null) {
            fail.accept(row, failure);
            return;
        }
        acknowledged.accept(row);
        Instant now = clock.instant();
        transport.acknowledged(now);
        metrics.published(row.sent, now);
        queues.acknowledged(key);
    }
}
