package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.OutboxStore;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Gives prepared rows their broker sequence ids before they are sent (segment claims and a transport with sequence
 * ids): each row gets the next id of its segment, reserved in the segment's token ({@link SegmentClaims#reserve}) and
 * persisted with the partition its key routes to, in one transaction fenced by the segments' claims
 * ({@link FencedWrites#write}), on a sequencer thread while the relay thread goes on collecting and recording. A
 * re-send after a crash reuses the id, and the broker drops the copy.
 * <p>
 * Guarantees: rows are sent ({@link Rows#send}) only after their ids committed, in id order per segment (an
 * assignment is sent once it and every earlier one are done, whichever commits first); a row whose segment may no
 * longer be sent, whose aggregate failed meanwhile, that is no longer pending, or whose session was opened again since
 * (its partition was stored for the old one) is retracted instead ({@link Rows#retract}), and its segment resolved
 * before it sends again. At most {@value #ASSIGNERS} assignments run at once; rows prepared meanwhile wait for the
 * next. Owns the rows waiting for ids and the assignments in progress.
 */
final class Sequencer {

    /** Assignments that may run at once. */
    private static final int ASSIGNERS = 2;

    /** What the sequencer needs of the relay's dispatch. */
    interface Rows {

        /** Whether the row may still be sent (not done, its aggregate not failed, its segment sendable). */
        boolean stillSendable(RelayRow row);

        /** Whether the row's producer session is open (else it waits for it, or failed). */
        boolean sessionOpen(RelayRow row);

        /** The row is not sent after all: it leaves the working set and is fetched again later. */
        void retract(RelayRow row);

        /** Sends the row, its id committed. */
        void send(RelayRow row);
    }

    /** Rows given sequence ids that are being persisted (before any of them is sent), and the outcome. */
    private record Assignment(List<RelayRow> rows, CompletableFuture<Set<String>> result) {
    }

    private final OutboxStore store;
    private final FencedWrites writes;
    private final SegmentClaims claims;
    private final ProducerSessions sessions;
    private final String relayName;
    private final RelayThreads threads;
    private final Rows rows;
    /** Wakes the relay thread when an assignment finished. */
    private final Runnable signal;
    /** Prepared rows waiting while {@value #ASSIGNERS} assignments run. */
    private final List<RelayRow> waiting = new ArrayList<>();
    /** Assignments being persisted, in id order. */
    private final ArrayDeque<Assignment> assigning = new ArrayDeque<>();
    private ExecutorService sequencerThreads;

    Sequencer(OutboxStore store, FencedWrites writes, SegmentClaims claims, ProducerSessions sessions,
              String relayName, RelayThreads threads, Rows rows, Runnable signal) {
        this.store = store;
        this.writes = writes;
        this.claims = claims;
        this.sessions = sessions;
        this.relayName = relayName;
        this.threads = threads;
        this.rows = rows;
        this.signal = signal;
    }

    /** Prepared rows to be given ids and sent, in order. */
    void add(List<RelayRow> prepared) {
        waiting.addAll(prepared);
        assignNext();
    }

    /**
     * Sends the rows of the finished assignments, oldest first (one waits for every earlier one), then starts the
     * next assignment. A failed assignment retracts its rows and its error is thrown.
     */
    void sendFinished() {
        while (!assigning.isEmpty() && assigning.peek().result().isDone()) {
            Assignment done = assigning.poll();
            Set<String> notAssigned;
            try {
                notAssigned = done.result().join();
            } catch (RuntimeException e) {
                done.rows().forEach(rows::retract);
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                throw cause instanceof RuntimeException runtime ? runtime
                        : new IllegalStateException("Persisting broker sequence ids failed", cause);
            }
            for (RelayRow row : done.rows()) {
                if (notAssigned.contains(row.entry.id()) || !rows.stillSendable(row)
                        || row.session != sessions.get(row.topic, row.segment)) {
                    rows.retract(row); // no longer pending, the claim lapsed, or an earlier row of its aggregate
                                       // failed (or a send of its segment had an unknown outcome) meanwhile, or its
                                       // session was opened again (its partition was stored for the old one)
                } else {
                    rows.send(row);
                }
            }
        }
        assignNext();
    }

    /**
     * Stops the sequencer threads after their current assignment. Returns whether none is still running (waiting up
     * to {@code timeout}): until then the segments' claims must not be released, or a new owner could resolve a
     * segment before those ids are committed.
     */
    boolean close(Duration timeout) {
        if (sequencerThreads == null) {
            return true;
        }
        sequencerThreads.shutdown();
        try {
            if (sequencerThreads.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return sequencerThreads.isTerminated();
    }

    /**
     * Gives the rows waiting for ids their ids and starts persisting them, unless {@value #ASSIGNERS} assignments
     * are in progress. Rows that may no longer be sent are retracted.
     */
    private void assignNext() {
        if (assigning.size() >= ASSIGNERS || waiting.isEmpty()) {
            return;
        }
        List<RelayRow> taken = new ArrayList<>(waiting);
        waiting.clear();
        Map<Integer, Integer> needed = new HashMap<>();
        List<RelayRow> ready = new ArrayList<>(taken.size());
        for (RelayRow row : taken) {
            if (!rows.stillSendable(row)) {
                rows.retract(row);
            } else if (rows.sessionOpen(row)) { // else failed (e.g. unknown topic), or waits for its session
                ready.add(row);
                needed.merge(row.segment, 1, Integer::sum);
            }
        }
        if (ready.isEmpty()) {
            return;
        }
        Map<String, Long> sequences = new LinkedHashMap<>();
        Map<String, Integer> partitions = new HashMap<>();
        try {
            claims.reserve(needed);
            for (RelayRow row : ready) {
                row.sequence = claims.nextSequence(row.segment);
                sequences.put(row.entry.id(), row.sequence);
                row.session = sessions.get(row.topic, row.segment);
                partitions.put(row.entry.id(), row.session.partitionOf(row.entry.aggregateId()));
            }
        } catch (RuntimeException e) {
            ready.forEach(rows::retract); // ids may be taken: their segments are resolved first
            throw e;
        }
        CompletableFuture<Set<String>> result = new CompletableFuture<>();
        assigning.add(new Assignment(ready, result));
        Set<Integer> segments = Set.copyOf(needed.keySet());
        Runnable persist = () -> {
            try {
                result.complete(writes.write(segments, () -> store.assignSequences(sequences, partitions)));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
            signal.run();
        };
        try {
            threads().execute(persist);
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
    }

    private ExecutorService threads() {
        if (sequencerThreads == null) {
            sequencerThreads = threads.pool(ASSIGNERS, relayName, "-sequencer");
        }
        return sequencerThreads;
    }
}
