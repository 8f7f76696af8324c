package io.github.pulsaroutbox.relay;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongSupplier;

/**
 * The relay's sends awaiting the broker's answer: hands rows to the {@link OutboxPublisher}, and gives back, on the
 * relay thread, the answers that arrived (on the transport's threads) and the sends whose ack timeout passed.
 * <p>
 * Guarantees: every row sent is answered to the relay thread, as arrived ({@link #nextArrived}, with its error if it
 * failed), as timed out ({@link #nextTimedOut}) or as refused at once by {@link #send}, and once the relay thread
 * handled it ({@link RelayRow#done}, set by the caller) it is never reported again: an answer arriving after a time-out,
 * or the callback of a send refused at once, is skipped. Each arrival wakes the relay thread.
 */
final class PendingAcks {

    private final OutboxPublisher publisher;
    private final boolean sequenced;
    private final long ackTimeoutNanos;
    private final LongSupplier nanoTime;
    private final Runnable signal;
    /** Rows sent and not yet handled, in send order (= deadline order). */
    private final ArrayDeque<RelayRow> sendOrder = new ArrayDeque<>();
    /** Rows whose answer arrived, filled by the transport's threads. */
    private final Queue<RelayRow> arrived = new ConcurrentLinkedQueue<>();

    PendingAcks(OutboxPublisher publisher, boolean sequenced, Duration ackTimeout, LongSupplier nanoTime,
                Runnable signal) {
        this.publisher = publisher;
        this.sequenced = sequenced;
        this.ackTimeoutNanos = ackTimeout.toNanos();
        this.nanoTime = nanoTime;
        this.signal = signal;
    }

    /**
     * Sends the row (with its sequence id when sequenced). Returns the failure if the transport refused it at once
     * (then {@link RelayRow#notStored} says whether the broker never saw it), else {@code null}: the answer comes
     * later.
     */
    Attempt send(RelayRow row) {
        CompletableFuture<?> ack;
        try {
            ack = sequenced ? publisher.publish(row.sent, row.topic, row.segment, row.sequence)
                            : publisher.publish(row.sent, row.topic);
        } catch (Throwable e) {
            ack = CompletableFuture.failedFuture(e);
        }
        row.deadlineNanos = nanoTime.getAsLong() + ackTimeoutNanos;
        sendOrder.add(row);
        ack.whenComplete((result, error) -> {
            row.error = error;
            arrived.add(row);
            signal.run();
        });
        if (!ack.isCompletedExceptionally()) {
            return null;
        }
        // refused at once. The error comes from the future itself: the callback above may not have run yet on the
        // thread that completed it. Failed before the transport returned with a cause the transport says never
        // leaves the client: the broker never saw it
        Throwable error = ack.handle((result, e) -> e).join();
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        row.notStored = publisher.neverSent(cause);
        return Attempt.of(cause, publisher);
    }

    /**
     * The next row whose answer arrived (its {@link RelayRow#error} set if it failed) and that was not handled yet, or
     * {@code null}.
     */
    RelayRow nextArrived() {
        RelayRow row;
        do {
            row = arrived.poll();
        } while (row != null && row.done);
        return row;
    }

    /** The next row, not yet handled, whose ack deadline passed by {@code now}, or {@code null}. */
    RelayRow nextTimedOut(long now) {
        while (!sendOrder.isEmpty() && (sendOrder.peek().done || sendOrder.peek().deadlineNanos <= now)) {
            RelayRow head = sendOrder.poll();
            if (!head.done) {
                return head;
            }
        }
        return null;
    }

    /** The deadline of the oldest send awaiting its answer, or one ack timeout from now when there is none. */
    long nextDeadline() {
        while (!sendOrder.isEmpty() && sendOrder.peek().done) {
            sendOrder.poll(); // handled already: its deadline no longer matters
        }
        RelayRow oldest = sendOrder.peek();
        return oldest == null ? nanoTime.getAsLong() + ackTimeoutNanos : oldest.deadlineNanos;
    }
}
