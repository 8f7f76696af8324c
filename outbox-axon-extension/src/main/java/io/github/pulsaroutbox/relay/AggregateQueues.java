package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * The relay's working set, per aggregate: the rows fetched and not yet recorded ({@link #holds}, counted per segment),
 * each aggregate's queued rows (in fetch order) and rows in flight (in send order), which aggregates are ready to send,
 * and which are blocked.
 * <p>
 * Guarantees: an aggregate's rows are handed out in the order they were queued, and at most one is in flight at a time
 * unless sends are pipelined per key (the transport fails every later send of a failed one); an aggregate with a
 * failure not yet recorded, or with a row waiting for its producer session, is blocked: none of its rows is queued or
 * handed out until that is over ({@link #admits}). Owned by the relay thread.
 */
final class AggregateQueues {

    private final boolean pipelinePerKey;
    /** Told of every aggregate whose queued rows are dropped (they must be read again by a full scan). */
    private final Consumer<String> onDropped;
    private final Map<String, ArrayDeque<RelayRow>> queued = new HashMap<>();
    private final Map<String, ArrayDeque<RelayRow>> inFlight = new HashMap<>();
    private final Set<String> ready = new LinkedHashSet<>();
    /** Rows in the working set (fetched and not yet recorded), with their segment. */
    private final Map<String, Integer> known = new HashMap<>();
    /** Per segment, how many rows of it are in the working set. */
    private final int[] busy;
    /** Aggregates with a failure being recorded or a row in flight after one: nothing of them is queued. */
    private final Set<String> blockedKeys = new HashSet<>();
    /** Per aggregate, failures not yet committed: its later rows must not be fetched before they are. */
    private final Map<String, Integer> unrecordedFailures = new HashMap<>();
    /** Aggregates with a row waiting for its session: their later rows are not queued meanwhile. */
    private final Set<String> waitingKeys = new HashSet<>();
    private int queuedCount;
    private int inFlightCount;
    /**
     * Rows waiting for a session: kept out of {@code inFlightCount} (and the fetch limits), so that a topic whose
     * lookup hangs does not use up the working set of the topics that flow.
     */
    private int waitingCount;

    AggregateQueues(int segmentCount, boolean pipelinePerKey, Consumer<String> onDropped) {
        this.busy = new int[segmentCount];
        this.pipelinePerKey = pipelinePerKey;
        this.onDropped = onDropped;
    }

    /** Whether the row is in the working set. */
    boolean holds(String rowId) {
        return known.containsKey(rowId);
    }

    /** Rows in the working set. */
    int size() {
        return known.size();
    }

    void remember(RelayRow row) {
        if (known.put(row.entry.id(), row.segment) == null) {
            busy[row.segment]++;
        }
    }

    /** The row leaves the working set. */
    void forget(String rowId) {
        Integer segment = known.remove(rowId);
        if (segment != null) {
            busy[segment]--;
        }
    }

    /** Whether no row of the segment is in the working set. */
    boolean idle(int segment) {
        return busy[segment] == 0;
    }

    /** Whether rows of the aggregate may be queued: no failure of it being recorded, none waiting for a session. */
    boolean admits(String key) {
        return !blockedKeys.contains(key) && !waitingKeys.contains(key);
    }

    /** Whether the aggregate is blocked by a failure. */
    boolean blocked(String key) {
        return blockedKeys.contains(key);
    }

    /** Queues a fetched row behind the aggregate's queued rows. */
    void queue(RelayRow row) {
        String key = row.entry.aggregateKey();
        remember(row);
        queued.computeIfAbsent(key, k -> new ArrayDeque<>()).add(row);
        queuedCount++;
        if (!inFlight.containsKey(key) || pipelinePerKey) {
            ready.add(key);
        }
    }

    /**
     * Hands out the next row of every ready aggregate (all its queued rows when pipelined), while fewer than
     * {@code maxInFlight} are in flight. An aggregate whose next row's segment may not send is dropped (its rows are
     * fetched again later). {@code handOut} readies and sends the row; it may block the aggregate (the row failed).
     */
    void dispatch(int maxInFlight, IntPredicate maySend, BiConsumer<String, RelayRow> handOut) {
        Iterator<String> keys = ready.iterator();
        while (keys.hasNext() && inFlightCount < maxInFlight) {
            String key = keys.next();
            keys.remove();
            ArrayDeque<RelayRow> rows = queued.get(key);
            if (rows != null && !rows.isEmpty() && !maySend.test(rows.peek().segment)) {
                dropQueued(key); // segment lost, released, or its claim not extended in time: fetched again later
                continue;
            }
            // stops when the row handed out blocked its aggregate: it failed, or it waits for its session
            while (rows != null && !rows.isEmpty() && inFlightCount < maxInFlight && admits(key)) {
                RelayRow row = rows.poll();
                queuedCount--;
                handOut.accept(key, row);
                if (!pipelinePerKey) {
                    break;
                }
            }
            if (rows != null && rows.isEmpty()) {
                queued.remove(key);
            } else if (rows != null && pipelinePerKey && admits(key)) {
                ready.add(key); // stopped by maxInFlight: continue later
            }
        }
    }

    /** The row is being sent: its aggregate waits for it. */
    void enterInFlight(String key, RelayRow row) {
        inFlight.computeIfAbsent(key, k -> new ArrayDeque<>()).add(row);
        inFlightCount++;
    }

    /** Takes a row out of its aggregate's in-flight rows (if it is there). */
    void leaveInFlight(RelayRow row) {
        String key = row.entry.aggregateKey();
        ArrayDeque<RelayRow> rows = inFlight.get(key);
        if (rows != null && rows.remove(row)) {
            inFlightCount--;
            if (rows.isEmpty()) {
                inFlight.remove(key);
            }
        }
    }

    /** The row failed: the aggregate's rows sent after it are voided (acknowledged or not, they must not count). */
    void voidLaterThan(RelayRow row) {
        ArrayDeque<RelayRow> rows = inFlight.get(row.entry.aggregateKey());
        if (rows == null) {
            return;
        }
        boolean after = false;
        for (RelayRow other : rows) {
            if (after) {
                other.voided = true;
            }
            after |= other == row;
        }
    }

    /** The aggregate's row was acknowledged: its next queued row may go (unless they are pipelined anyway). */
    void acknowledged(String key) {
        if (!pipelinePerKey && queued.containsKey(key)) {
            ready.add(key);
        }
    }

    /** The row waits for its producer session: out of the in-flight count, its aggregate blocked meanwhile. */
    void startWaiting(RelayRow row) {
        row.waiting = true;
        inFlightCount--; // still in inFlight: its aggregate waits with it
        waitingCount++;
        String key = row.entry.aggregateKey();
        waitingKeys.add(key);
        dropQueued(key); // its later rows are read again once it is sent: they hold no working set meanwhile
    }

    void stopWaiting(RelayRow row) {
        if (row.waiting) {
            row.waiting = false;
            inFlightCount++;
            waitingCount--;
            waitingKeys.remove(row.entry.aggregateKey());
        }
    }

    /** A row of the aggregate failed: it is blocked until the failure is recorded, its queued rows dropped. */
    void failed(String key) {
        unrecordedFailures.merge(key, 1, Integer::sum);
        blockedKeys.add(key);
        dropQueued(key);
    }

    /** A failure of the entry's aggregate was recorded or dropped. */
    void failureSettled(OutboxEntry entry) {
        unrecordedFailures.computeIfPresent(entry.aggregateKey(), (key, count) -> count > 1 ? count - 1 : null);
    }

    /** Aggregates with nothing in flight and every failure recorded may be fetched again. */
    void releaseBlockedKeys() {
        blockedKeys.removeIf(key -> !inFlight.containsKey(key) && !unrecordedFailures.containsKey(key));
    }

    /** Drops the aggregate's queued rows: they leave the working set and are fetched again. */
    void dropQueued(String key) {
        ArrayDeque<RelayRow> rows = queued.remove(key);
        ready.remove(key);
        onDropped.accept(key);
        if (rows != null) {
            queuedCount -= rows.size();
            rows.forEach(r -> forget(r.entry.id()));
        }
    }

    /** Drops the queued rows of aggregates whose next row belongs to the segment. */
    void dropQueuedOf(int segment) {
        for (String key : new ArrayList<>(queued.keySet())) {
            ArrayDeque<RelayRow> rows = queued.get(key);
            if (!rows.isEmpty() && rows.peek().segment == segment) {
                dropQueued(key);
            }
        }
    }

    /** Drops every queued row (after an error, or when the relay stops); rows in flight stay. */
    void dropAllQueued() {
        queued.keySet().forEach(onDropped); // their rows were dropped: reading ahead must not skip them
        queued.values().forEach(rows -> rows.forEach(r -> forget(r.entry.id())));
        queued.clear();
        ready.clear();
        queuedCount = 0;
    }

    int queuedCount() {
        return queuedCount;
    }

    int inFlightCount() {
        return inFlightCount;
    }

    int waitingCount() {
        return waitingCount;
    }

    int readyCount() {
        return ready.size();
    }

    /** Whether anything is in flight, waiting for a session, or queued and ready to go. */
    boolean busy() {
        return inFlightCount > 0 || waitingCount > 0 || (queuedCount > 0 && !ready.isEmpty());
    }
}
