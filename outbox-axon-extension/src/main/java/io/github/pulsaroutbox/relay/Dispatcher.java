package io.github.pulsaroutbox.relay;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;

/**
 * Hands out the rows to send: the next row of every aggregate that may send ({@link AggregateQueues#dispatch}), up to
 * {@code maxInFlight} unacknowledged, each readied first ({@link RowPreparation}: a row that cannot be readied fails)
 * and counted in flight. Without sequence ids each row is transmitted at once; with them the rows of one dispatch go to
 * the sequencer together, and dispatches are paced ({@link #due()}) so that one transaction persists the ids of many
 * rows, not one per acknowledgement.
 * <p>
 * Guarantees: a row is handed out only while its segment may send, and at most {@code maxInFlight} rows are in flight;
 * with sequence ids a ready row waits at most {@value #DELAY_MILLIS} ms for others to be sent with (see
 * {@link #waitUntil}). Owned by the relay thread.
 */
final class Dispatcher {

    /** With sequence ids: rows are dispatched at once when this many aggregates are ready. */
    static final int GROUP = 64;
    /** With sequence ids: the longest a ready row waits for others to be sent with (one transaction for all). */
    static final long DELAY_MILLIS = 2;
    private static final long DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(DELAY_MILLIS);

    private final AggregateQueues queues;
    private final RowPreparation preparation;
    private final BiConsumer<RelayRow, Attempt> fail;
    private final IntPredicate maySend;
    private final Consumer<List<RelayRow>> toSequence;
    private final Consumer<RelayRow> transmit;
    private final boolean sequenced;
    private final int maxInFlight;
    private final LongSupplier nanoTime;
    /** When the last dispatch began (on {@code nanoTime}). */
    private long lastDispatchNanos;

    /**
     * @param fail       fails a row that could not be readied
     * @param maySend    whether rows of a segment may still be sent
     * @param toSequence with sequence ids: takes the rows of a dispatch, to be given ids and sent together
     * @param transmit   without sequence ids: sends a readied row (once its producer session is open)
     */
    Dispatcher(AggregateQueues queues, RowPreparation preparation, BiConsumer<RelayRow, Attempt> fail,
               IntPredicate maySend, Consumer<List<RelayRow>> toSequence, Consumer<RelayRow> transmit,
               boolean sequenced, int maxInFlight, LongSupplier nanoTime) {
        this.queues = queues;
        this.preparation = preparation;
        this.fail = fail;
        this.maySend = maySend;
        this.toSequence = toSequence;
        this.transmit = transmit;
        this.sequenced = sequenced;
        this.maxInFlight = maxInFlight;
        this.nanoTime = nanoTime;
        this.lastDispatchNanos = nanoTime.getAsLong();
    }

    /**
     * Whether to dispatch now: always without sequence ids; with them once {@value #GROUP} aggregates are ready,
     * nothing is in flight, or {@value #DELAY_MILLIS} ms passed since the last dispatch (with room in flight).
     */
    boolean due() {
        int inFlight = queues.inFlightCount();
        return !sequenced || queues.readyCount() >= GROUP || inFlight == 0
                || (inFlight < maxInFlight && nanoTime.getAsLong() - lastDispatchNanos >= DELAY_NANOS);
    }

    /** Hands out the next row of every aggregate that may send, up to {@code maxInFlight} unacknowledged rows. */
    void dispatch() {
        lastDispatchNanos = nanoTime.getAsLong();
        List<RelayRow> outgoing = new ArrayList<>();
        queues.dispatch(maxInFlight, maySend, (key, row) -> {
            if (prepare(key, row)) {
                if (sequenced) {
                    outgoing.add(row); // sent together once their sequence ids are persisted
                } else {
                    transmit.accept(row);
                }
            }
        });
        if (!outgoing.isEmpty()) {
            toSequence.accept(outgoing);
        }
    }

    /**
     * The latest a step may wait for a signal, given it would wait {@code until}: with sequence ids, ready rows and
     * room in flight, no later than when their dispatch is due.
     */
    long waitUntil(long until) {
        if (sequenced && queues.readyCount() > 0 && queues.inFlightCount() < maxInFlight) {
            return Math.min(until, lastDispatchNanos + DELAY_NANOS);
        }
        return until;
    }

    /**
     * Readies a row for sending: upcasts it and resolves its topic (a failure there fails the row), and counts it
     * in flight. Returns whether it is to be sent.
     */
    private boolean prepare(String key, RelayRow row) {
        Attempt failure = preparation.prepare(row);
        if (failure != null) {
            fail.accept(row, failure);
            return false;
        }
        queues.enterInFlight(key, row);
        return true;
    }
}
