package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.transaction.TransactionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Plans the relay's reads of pending rows, and owns what that takes: when the next full scan is due, where it starts,
 * the highest position seen, and the last sequence taken per aggregate.
 * <p>
 * A <em>full scan</em> ({@link OutboxStore#fetchPending}) reads due pending rows from the lowest position, leaving out
 * rows behind a parked or backing-off row of their aggregate: it finds rows that committed late and rows whose retry
 * is due. Between full scans, a <em>continuation</em> ({@link OutboxStore#fetchPendingAfter}) reads only rows above
 * the highest position seen, without any check of earlier rows; of those, a row is taken ({@link #takes}) only when it
 * directly follows (sequence + 1) the last row of its aggregate the relay took, or is the first event (sequence 0) of
 * an aggregate, so nothing can be missing before it. Any other row is left for the next full scan, which comes after at
 * most {@code pollInterval}, when the continuation is caught up or took a first event, or at once when the
 * continuation had nothing else to take.
 * <p>
 * While full scans find every due row held back (a broker outage, mass parking), they come less often and start
 * above the held-back prefix (see {@link #heldBackScanInterval} and {@link #markHeldBackPrefix}); order stays safe
 * because a partial scan never returns a row whose aggregate has a pending row with a lower sequence below its start.
 * Owned by the relay thread.
 */
final class FetchPlanner {

    private static final Logger logger = LoggerFactory.getLogger(FetchPlanner.class);
    /** How far (in batches) a full scan reads past rows held back in memory before it gives up until the next. */
    private static final int MAX_SKIP_AHEAD_BATCHES = 16;
    /** The longest interval between full scans while they find every due row held back. */
    static final int MAX_HELD_BACK_SCAN_SECONDS = 30;
    /** {@link #next}: the read is complete. */
    static final int DONE = -1;
    /** {@link #next}: scan in full now. */
    static final int FULL_SCAN_NOW = 0;
    private static final long NOTHING_LEFT_OUT = Long.MIN_VALUE;

    /** What one read returned, and how it was asked. */
    record Read(List<OutboxEntry> rows, boolean full, int limit) {
    }

    private static final Read NOTHING = new Read(List.of(), false, 0);

    private final OutboxStore store;
    private final TransactionManager transactionManager;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final int batchSize;
    private final long pollIntervalNanos;
    private final String relayName;

    private boolean lastFetchFull;
    private boolean fullScanDue = true;
    private long epochStartNanos;
    /**
     * How long after a full scan the next one is due: {@code pollInterval}, or longer while full scans find every
     * due row held back behind a parked or backing-off row of its aggregate (see {@link #heldBackScanInterval}).
     */
    private long fullScanIntervalNanos;
    /**
     * Full scans read only rows above this position while every due row below it is held back behind a parked or
     * backing-off row of its aggregate (the last complete scan found them so); {@code Long.MIN_VALUE}: from the
     * lowest position. Complete scans still come, at a backed-off interval (see {@link #markHeldBackPrefix}).
     */
    private long heldBackBelow = Long.MIN_VALUE;
    private Set<Integer> heldBackSegments = Set.of();
    private long completeScanIntervalNanos;
    private long completeScanDueNanos;
    /**
     * The lowest due position the last complete scan found left out (below its first row, or with none returned), or
     * {@link #NOTHING_LEFT_OUT}. Rows below a scan's first row are taken for held back only when the next complete scan
     * finds the same one left out: the lowest due row is read in a transaction of its own, after the scan, and a row
     * that committed in between looks the same (it would wait for a backed-off complete scan).
     */
    private long leftOut = NOTHING_LEFT_OUT;
    /** A complete scan is to confirm {@link #leftOut} at the next read. */
    private boolean confirmationDue;
    /** When the lowest due position was last read after a complete scan with rows. */
    private long lastPrefixCheckNanos;
    private long highWater = Long.MIN_VALUE;
    /** First events of aggregates that the current continuation took: a full scan follows, as for a new aggregate. */
    private int headsTaken;
    /** Per aggregate, the highest sequence the relay took (and did not see fail): continuations extend it. */
    private final Map<String, Long> lastSequence = new HashMap<>();

    FetchPlanner(OutboxStore store, TransactionManager transactionManager, Clock clock, LongSupplier nanoTime,
                 int batchSize, Duration pollInterval, String relayName) {
        this.store = store;
        this.transactionManager = transactionManager;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.batchSize = batchSize;
        this.pollIntervalNanos = pollInterval.toNanos();
        this.relayName = relayName;
        this.epochStartNanos = nanoTime.getAsLong();
        this.fullScanIntervalNanos = pollIntervalNanos;
        this.completeScanIntervalNanos = pollIntervalNanos;
        this.completeScanDueNanos = epochStartNanos;
        this.lastPrefixCheckNanos = epochStartNanos - pollIntervalNanos;
    }

    /** Whether the last read returned as many rows as it asked for (more are likely there). */
    boolean lastFetchFull() {
        return lastFetchFull;
    }

    /** Whether the next full scan is overdue (a read should come even if nothing signalled new rows). */
    boolean fullScanOverdue() {
        return confirmationDue || nanoTime.getAsLong() - epochStartNanos > fullScanIntervalNanos;
    }

    /**
     * Reads due pending rows of {@code segments}: a full scan when one is due or {@code skipAhead > 0}, else a
     * continuation.
     *
     * @param skipAhead      further rows a full scan reads, because the previous one read only rows already in the
     *                       working set or held back in memory: rows behind them are reached without waiting for those
     *                       to clear
     * @param workingSetSize rows the relay holds (a full scan reads past them)
     */
    Read read(int skipAhead, int workingSetSize, Set<Integer> segments) {
        boolean full = skipAhead > 0 || fullScanDue || fullScanOverdue();
        Instant now = clock.instant();
        int limit = full ? batchSize + workingSetSize + skipAhead : batchSize;
        long after = highWater;
        if (segments.isEmpty()) {
            lastFetchFull = false;
            return NOTHING;
        }
        boolean complete = full && (confirmationDue || heldBackBelow == Long.MIN_VALUE
                || !segments.equals(heldBackSegments)
                || nanoTime.getAsLong() - completeScanDueNanos >= 0);
        long above = complete ? Long.MIN_VALUE : heldBackBelow;
        List<OutboxEntry> rows = transactionManager.fetchInTransaction(
                () -> full ? store.fetchPending(limit, now, segments, above)
                           : store.fetchPendingAfter(after, limit, now, segments));
        if (complete) {
            confirmationDue = false;
            if (rows.isEmpty() && skipAhead == 0) {
                heldBackBelow = Long.MIN_VALUE;
                fullScanIntervalNanos = heldBackScanInterval(now, segments);
            } else {
                fullScanIntervalNanos = pollIntervalNanos;
                markHeldBackPrefix(rows, now, segments);
            }
        }
        if (full) {
            epochStartNanos = nanoTime.getAsLong();
            if (lastSequence.size() > 4 * batchSize + workingSetSize) {
                lastSequence.clear(); // bounded; aggregates are learnt again from full scans
            }
        }
        lastFetchFull = rows.size() >= limit;
        for (OutboxEntry entry : rows) {
            highWater = Math.max(highWater, entry.position());
        }
        return new Read(rows, full, limit);
    }

    /**
     * Whether the relay may take a row it read (not in its working set, nothing held back in memory): any row of a
     * full scan; of a continuation only the direct successor of the aggregate's last row taken, or the first event
     * (sequence 0) of an aggregate it has not taken a row of (no row of the aggregate can precede it). A row not taken
     * is deferred: its aggregate waits for a full scan.
     */
    boolean takes(OutboxEntry entry, boolean full) {
        String key = entry.aggregateKey();
        Long last = lastSequence.get(key);
        boolean head = last == null && entry.aggregateSequence() == 0; // an aggregate's first event: none before it
        if (!full && !head && (last == null || entry.aggregateSequence() != last + 1)) {
            lastSequence.remove(key);
            return false;
        }
        if (!full && head) {
            headsTaken++;
        }
        lastSequence.put(key, last == null ? entry.aggregateSequence() : Math.max(last, entry.aggregateSequence()));
        return true;
    }

    /**
     * What comes after a read of which {@code added} rows were taken and {@code deferred} left to a full scan:
     * {@link #DONE}, {@link #FULL_SCAN_NOW} (the continuation could take nothing), or how many rows a full scan should
     * read further because everything it read is held back.
     */
    int next(Read read, int added, int deferred, int skipAhead) {
        if (read == NOTHING) {
            return DONE;
        }
        boolean full = read.full();
        // a caught-up continuation asks for a full scan (late commits, due retries), except while full scans
        // find everything held back: they then come at their longer interval
        // so do new aggregates (a row deferred, or a first event taken), as they did before continuations took first
        // events: a full scan that returns rows brings the normal interval back
        fullScanDue = !full && (deferred > 0 || headsTaken > 0
                || (read.rows().size() < read.limit() && fullScanIntervalNanos <= pollIntervalNanos));
        headsTaken = 0;
        if (!full && deferred > 0 && added == 0) {
            return FULL_SCAN_NOW;
        }
        if (full && added == 0 && lastFetchFull && skipAhead < MAX_SKIP_AHEAD_BATCHES * batchSize) {
            return Math.max(batchSize, skipAhead * 4);
        }
        return DONE;
    }

    /** The aggregate's rows were dropped or failed: a continuation must not take its later rows. */
    void forget(String aggregateKey) {
        lastSequence.remove(aggregateKey);
    }

    /** The next full scan starts from the lowest position (the working set changed in a way it must see). */
    void rescanFromStart() {
        fullScanDue = true;
        heldBackBelow = Long.MIN_VALUE;
        completeScanIntervalNanos = pollIntervalNanos;
    }

    /**
     * After a full scan that returned nothing: when due pending rows exist all the same, every one of them waits
     * behind a parked or backing-off row of its aggregate (a broker outage, mass parking), and scanning them again
     * every {@code pollInterval} would only read them again. The next full scan then comes after twice the last
     * interval (at most {@value #MAX_HELD_BACK_SCAN_SECONDS} s), or when the earliest retry is due if that is
     * sooner, once a second complete scan found the same ({@link #leftOutAgain}). Continuations (new rows) go on
     * every pass; new aggregates and this relay's own successful retries bring the full scans back at once. An empty
     * outbox keeps the normal interval: that scan reads one index entry, and it is what finds rows that committed
     * late below the highest position seen.
     */
    private long heldBackScanInterval(Instant now, Set<Integer> segments) {
        long lowest = lowestDuePosition(now, segments);
        if (lowest == Long.MAX_VALUE) {
            leftOut = NOTHING_LEFT_OUT;
            return pollIntervalNanos; // nothing due at all: the outbox is empty (of due rows), not held back
        }
        if (!leftOutAgain(lowest)) {
            return pollIntervalNanos; // maybe a row that committed after the scan: the next complete scan tells
        }
        if (fullScanIntervalNanos <= pollIntervalNanos) {
            logger.debug("Outbox relay '{}': every due row waits behind a parked or backing-off row of its "
                                + "aggregate; scanning for them less often (at most every {} s) until one moves",
                        relayName, MAX_HELD_BACK_SCAN_SECONDS);
        }
        return backedOff(fullScanIntervalNanos, now, segments);
    }

    /**
     * Twice {@code current} (at least twice {@code pollInterval}, at most {@value #MAX_HELD_BACK_SCAN_SECONDS} s),
     * or sooner when the earliest retry in these segments is due, but never below {@code pollInterval}.
     */
    private long backedOff(long current, Instant now, Set<Integer> segments) {
        long normal = pollIntervalNanos;
        long longest = Math.max(normal, TimeUnit.SECONDS.toNanos(MAX_HELD_BACK_SCAN_SECONDS));
        long next = Math.min(Math.max(current * 2, normal * 2), longest);
        Optional<Instant> retry = transactionManager.fetchInTransaction(() -> store.nextRetryAt(segments));
        if (retry.isPresent()) {
            next = Math.min(next, Math.max(0, Duration.between(now, retry.get()).toNanos()));
        }
        return Math.max(next, normal);
    }

    /**
     * After a complete scan that returned rows: when due pending rows lie below the first of them, every one of
     * those is held back behind a parked or backing-off row of its aggregate (the scan would have returned it
     * otherwise; confirmed by a second complete scan, see {@link #leftOutAgain}), and the next full scans start above
     * them instead of reading them again each time (with 100,000 such rows a PostgreSQL scan reads about 500,000
     * buffers). While the last look found nothing held back, it looks again at most every {@code pollInterval}.
     * Complete scans, which see them again, come after twice the last interval (at most
     * {@value #MAX_HELD_BACK_SCAN_SECONDS} s), or when the earliest retry is due if that is sooner; a change of the
     * owned segments, a resolution or an error brings one at once. Order stays safe: a partial scan never returns a
     * row whose aggregate has a pending row with a lower sequence below its start
     * ({@link OutboxStore#fetchPending(int, Instant, Set, long)}).
     */
    private void markHeldBackPrefix(List<OutboxEntry> rows, Instant now, Set<Integer> segments) {
        long first = rows.stream().mapToLong(OutboxEntry::position).min().orElse(Long.MAX_VALUE);
        if (!rows.isEmpty() && heldBackBelow == Long.MIN_VALUE && leftOut == NOTHING_LEFT_OUT
                && nanoTime.getAsLong() - lastPrefixCheckNanos < pollIntervalNanos) {
            return; // nothing was held back when last looked: looked again at most every poll interval
        }
        lastPrefixCheckNanos = nanoTime.getAsLong();
        long lowest = rows.isEmpty() ? Long.MAX_VALUE : lowestDuePosition(now, segments);
        if (lowest >= first) {
            heldBackBelow = Long.MIN_VALUE; // nothing held back below the scan's first row
            completeScanIntervalNanos = pollIntervalNanos;
            leftOut = NOTHING_LEFT_OUT;
            return;
        }
        if (!leftOutAgain(lowest)) {
            heldBackBelow = Long.MIN_VALUE; // maybe a row that committed after the scan: the next complete scan tells
            return;
        }
        heldBackBelow = first - 1;
        heldBackSegments = segments;
        completeScanIntervalNanos = backedOff(completeScanIntervalNanos, now, segments);
        completeScanDueNanos = nanoTime.getAsLong() + completeScanIntervalNanos;
    }

    /**
     * Whether the previous complete scan left out the same lowest due row as this one: it is held back. Else it is
     * remembered, and the next read is a complete scan that tells: a row that committed after this scan's snapshot
     * (read committed: the lowest due row is read by a statement of its own) is returned by it.
     */
    private boolean leftOutAgain(long lowest) {
        if (leftOut == lowest) {
            return true;
        }
        leftOut = lowest;
        confirmationDue = true;
        return false;
    }

    /**
     * The position of the lowest due pending row in these segments, held back or not ({@code Long.MAX_VALUE}
     * when there is none): one index entry.
     */
    private long lowestDuePosition(Instant now, Set<Integer> segments) {
        List<OutboxEntry> lowest = transactionManager.fetchInTransaction(
                () -> store.fetchPendingAfter(Long.MIN_VALUE, 1, now, segments));
        return lowest.isEmpty() ? Long.MAX_VALUE : lowest.get(0).position();
    }
}
