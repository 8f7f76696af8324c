package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.function.Supplier;

/**
 * Takes due pending rows into the relay's working set: reads them as the {@link FetchPlanner} plans (full scans,
 * continuations, reading further while everything read is held back) from the segments that may send, and queues
 * the ones not in the working set already, not held back in memory (their aggregate blocked by a failure being
 * recorded or a row waiting for its session) and, from a continuation, only direct successors of their aggregate's
 * last row and first events of aggregates ({@link FetchPlanner#takes}); never a row whose topic is held in its
 * segment (its resolution failed: the segment's other topics flow).
 * A row the broker acknowledged before that the store did not record SENT is never queued again
 * ({@link NotRecordedRows}), and is parked once it was read as pending often enough.
 */
final class RowIntake {

    private final FetchPlanner planner;
    private final AggregateQueues queues;
    private final Supplier<Set<Integer>> sendableSegments;
    private final NotRecordedRows notRecorded;
    private final int segmentCount;
    private final RowFailures failures;
    /** Whether a row of a segment is held back with its topic (see {@link SegmentLifecycle#heldBack}). */
    private final BiPredicate<Integer, OutboxEntry> heldBack;

    RowIntake(FetchPlanner planner, AggregateQueues queues, Supplier<Set<Integer>> sendableSegments,
              NotRecordedRows notRecorded, int segmentCount, RowFailures failures,
              BiPredicate<Integer, OutboxEntry> heldBack) {
        this.planner = planner;
        this.queues = queues;
        this.sendableSegments = sendableSegments;
        this.notRecorded = notRecorded;
        this.segmentCount = segmentCount;
        this.failures = failures;
        this.heldBack = heldBack;
    }

    /** Reads and queues due pending rows; returns how many were queued by the last read. */
    int fetch() {
        int skipAhead = 0;
        Map<String, Boolean> sighted = new HashMap<>(); // a row read again by the same fetch is one sighting
        while (true) {
            FetchPlanner.Read read = planner.read(skipAhead, queues.size(), sendableSegments.get());
            int added = 0;
            int deferred = 0;
            for (OutboxEntry entry : read.rows()) {
                if (queues.holds(entry.id()) || !queues.admits(entry.aggregateKey())
                        || (notRecorded.size() > 0 && sighted.computeIfAbsent(entry.id(),
                                                                               id -> acknowledgedBefore(entry)))) {
                    continue;
                }
                RelayRow row = new RelayRow(entry, segmentCount);
                if (heldBack.test(row.segment, entry)) { // its topic is held in its segment: it stays out, and a
                    planner.forget(entry.aggregateKey()); // continuation must not take its successors either
                    continue;
                }
                if (!planner.takes(entry, read.full())) {
                    deferred++;
                    continue;
                }
                queues.queue(row);
                added++;
            }
            int next = planner.next(read, added, deferred, skipAhead);
            if (next == FetchPlanner.DONE) {
                return added;
            }
            skipAhead = next; // FULL_SCAN_NOW (0): the continuation could take nothing; else read further
        }
    }

    /**
     * Whether the broker acknowledged this row before and the store did not record it SENT: it is never sent
     * again, and parked once it was read as pending {@value NotRecordedRows#SIGHTINGS} times.
     */
    private boolean acknowledgedBefore(OutboxEntry entry) {
        NotRecordedRows.Sighting sighting = notRecorded.sighted(entry);
        if (sighting == NotRecordedRows.Sighting.PARK) {
            RelayRow row = new RelayRow(entry, segmentCount);
            queues.remember(row);
            failures.fail(row, new Attempt(FailureKind.NOT_RECORDED, "The broker acknowledged this row, but "
                    + "recording it SENT changed nothing, and it is still read as pending: it is not sent again. "
                    + "Check the row (and the table's indexes); discard it if it was delivered"));
        }
        return sighting != NotRecordedRows.Sighting.SEND;
    }
}
