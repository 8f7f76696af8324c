package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.store.OutboxStore;
import io.github.pulsaroutbox.store.OutboxStore.Failure;
import io.github.pulsaroutbox.store.OutboxStore.Outcome;
import org.axonframework.common.transaction.TransactionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Records the outcomes of the relay's sends: acknowledged rows SENT, failed ones with the {@link FailurePolicy}'s
 * decision (retry, park, discard), each recording in one transaction on a recorder thread of its own while the relay
 * thread goes on sending. Owns the outcomes not yet recorded, the sequence ids still to clear with them, and the
 * recordings in progress.
 * <p>
 * Guarantees: a recording with failures or cleared ids is fenced by the claims of its segments in the database
 * ({@link FencedWrites#write}); one of SENT rows alone commits only while every claim of its segments is valid locally
 * ({@link FencedWrites#recordSent}). Outcomes of segments this node no longer owns are left out (the new owner finds
 * them out by resolving the segment), except that the sequence id of a row refused by the broker is cleared first.
 * A recording that fails is handed back whole, ahead of newer outcomes, and retried. Rows stay in the relay's working
 * set (so no fetch sends them again), and an aggregate with a failure stays blocked, until their recording committed:
 * the {@link WorkingSet} is told when.
 */
final class OutcomeRecorder {

    private static final Logger logger = LoggerFactory.getLogger(OutcomeRecorder.class);
    /** Acknowledged rows are recorded at least this often while others are still in flight. */
    private static final long FLUSH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /**
     * Recordings that may run at once, each in its own transaction on disjoint rows. Measured with the benchmark, a
     * second one gained nothing on this project's 2-core machine.
     */
    private static final int RECORDERS = 1;

    /** What the relay's working set is told about the rows a recording covered. */
    interface WorkingSet {

        /** The row's outcome is recorded (or left to another node): it leaves the working set. */
        void forget(String rowId);

        /** A failure of the entry's aggregate was recorded or dropped. */
        void failureSettled(OutboxEntry entry);

        /** Aggregates whose failures are all recorded may be fetched again. */
        void releaseBlockedKeys();
    }

    /** A recording that finished: what it covered, and its error if it failed. */
    private record Recorded(List<RelayRow> rows, Map<OutboxEntry, Attempt> failedRows, List<Failure> failures,
                            Set<String> notRecorded, Map<String, Long> cleared, Throwable error) {
    }

    private final OutboxStore store;
    private final TransactionManager transactionManager;
    private final FencedWrites writes;
    private final SegmentClaims claims;
    private final FailurePolicy failurePolicy;
    private final Clock clock;
    private final LongSupplier nanoTime;
    private final int segmentCount;
    private final int batchSize;
    private final String relayName;
    private final OutboxMetrics metrics;
    private final TransportWatch transport;
    private final NotRecordedRows notRecorded;
    private final RelayThreads threads;
    private final WorkingSet workingSet;
    /** Wakes the relay thread when a recording finished. */
    private final Runnable signal;

    private final List<RelayRow> acknowledged = new ArrayList<>();
    private final Map<OutboxEntry, Attempt> failed = new LinkedHashMap<>();
    /** Rows whose send failed before reaching the broker, with the sequence id to clear with their recording. */
    private final Map<String, Long> notStoredSequences = new HashMap<>();
    private final Queue<Recorded> recorded = new ConcurrentLinkedQueue<>();
    private int recordings;
    private long lastFlushNanos;
    private ExecutorService recorderThread;

    @SuppressWarnings("java:S107") // the relay's collaborators, wired once by the relay
    OutcomeRecorder(OutboxStore store, TransactionManager transactionManager, FencedWrites writes,
                    SegmentClaims claims, FailurePolicy failurePolicy, Clock clock, LongSupplier nanoTime,
                    int segmentCount, int batchSize, String relayName, OutboxMetrics metrics,
                    TransportWatch transport, NotRecordedRows notRecorded, RelayThreads threads,
                    WorkingSet workingSet, Runnable signal) {
        this.store = store;
        this.transactionManager = transactionManager;
        this.writes = writes;
        this.claims = claims;
        this.failurePolicy = failurePolicy;
        this.clock = clock;
        this.nanoTime = nanoTime;
        this.segmentCount = segmentCount;
        this.batchSize = batchSize;
        this.relayName = relayName;
        this.metrics = metrics;
        this.transport = transport;
        this.notRecorded = notRecorded;
        this.threads = threads;
        this.workingSet = workingSet;
        this.signal = signal;
        this.lastFlushNanos = nanoTime.getAsLong();
    }

    /** The broker acknowledged the row: it is recorded SENT with the next recording. */
    void acknowledged(RelayRow row) {
        acknowledged.add(row);
    }

    /** The row failed: it is recorded with the failure policy's decision with the next recording. */
    void failed(OutboxEntry entry, Attempt attempt) {
        failed.put(entry, attempt);
    }

    /**
     * The row's send never reached the broker and clearing its sequence id failed: the id is cleared with the
     * recording of its failure, and a resolution before that does not take it for stored.
     */
    void clearLater(String rowId, long sequence) {
        notStoredSequences.put(rowId, sequence);
    }

    /** Whether this sequence id of the row is known never to have reached the broker (it waits to be cleared). */
    boolean neverStored(String rowId, long sequence) {
        return Long.valueOf(sequence).equals(notStoredSequences.get(rowId));
    }

    /** Outcomes not yet handed to a recording. */
    int acknowledgedCount() {
        return acknowledged.size();
    }

    int failedCount() {
        return failed.size();
    }

    /** Whether every outcome is recorded (nothing waiting, no recording running). */
    boolean idle() {
        return recordings == 0 && acknowledged.isEmpty() && failed.isEmpty();
    }

    /**
     * Whether a recording should start: half a batch waits, or something waits and nothing is in flight or the
     * flush interval passed.
     */
    boolean shouldFlush(int inFlight) {
        int unrecorded = acknowledged.size() + failed.size();
        return unrecorded > 0 && (unrecorded >= batchSize / 2 || inFlight == 0
                || nanoTime.getAsLong() - lastFlushNanos > FLUSH_INTERVAL_NANOS);
    }

    /**
     * Hands what waits to a recorder thread, unless {@value #RECORDERS} recordings run already; with nothing to
     * record, releases the aggregates whose failures are all recorded.
     */
    void flush() {
        lastFlushNanos = nanoTime.getAsLong();
        if (recordings >= RECORDERS) {
            return;
        }
        if (acknowledged.isEmpty() && failed.isEmpty()) {
            workingSet.releaseBlockedKeys();
            return;
        }
        if (claims != null) {
            dropUnowned();
        }
        List<RelayRow> rows = new ArrayList<>(acknowledged);
        Map<OutboxEntry, Attempt> failedRows = new LinkedHashMap<>(failed);
        Set<Integer> segments = claims == null ? Set.of() : segmentsOf(rows, failedRows.keySet());
        long fence = claims == null ? Long.MAX_VALUE : fenceOf(segments);
        Map<String, Long> clear = new HashMap<>();
        failedRows.keySet().forEach(entry -> {
            Long sequence = notStoredSequences.remove(entry.id());
            if (sequence != null) {
                clear.put(entry.id(), sequence);
            }
        });
        List<String> sentIds = new ArrayList<>(rows.size());
        rows.forEach(r -> sentIds.add(r.entry.id()));
        Instant failedAt = clock.instant();
        List<Failure> failures = new ArrayList<>(failedRows.size());
        failedRows.forEach((entry, attempt) -> failures.add(decide(entry, attempt, failedAt)));
        acknowledged.clear();
        failed.clear();
        recordings++;
        recorder().execute(() -> {
            Throwable error = null;
            Set<String> notMarked = ConcurrentHashMap.newKeySet();
            try {
                Supplier<Set<String>> recording = () -> {
                    Set<String> left = store.markSent(sentIds, clock.instant());
                    store.recordFailures(failures);
                    if (!clear.isEmpty()) {
                        store.clearSequences(clear);
                    }
                    if (fence != Long.MAX_VALUE && nanoTime.getAsLong() - fence >= 0) {
                        throw new IllegalStateException("The claim of a segment lapsed before its outcomes were "
                                                                + "recorded: not recording them");
                    }
                    return left;
                };
                // SENT alone is true whoever owns the segment now; failures and cleared ids change what a new
                // owner relies on (attempts, parking, the row's sequence id): fenced by the claims
                notMarked.addAll(failures.isEmpty() && clear.isEmpty() ? writes.recordSent(recording)
                                                                       : writes.write(segments, recording));
            } catch (Throwable e) {
                error = e;
            }
            recorded.add(new Recorded(rows, failedRows, failures, notMarked, clear, error));
            signal.run();
        });
    }

    /**
     * Applies the finished recordings: their rows leave the working set. A failed recording is handed back (ahead
     * of newer outcomes) and its error thrown: the relay backs off and records it again.
     */
    void applyFinished() {
        Recorded done;
        while ((done = recorded.poll()) != null) {
            recordings--;
            if (done.error() != null) {
                notStoredSequences.putAll(done.cleared());
                acknowledged.addAll(0, done.rows());
                Map<OutboxEntry, Attempt> retry = new LinkedHashMap<>(done.failedRows());
                retry.putAll(failed);
                failed.clear();
                failed.putAll(retry);
                throw new IllegalStateException("Recording the outcome of " + done.rows().size()
                        + " acknowledged and " + done.failures().size() + " failed row(s) failed; retrying",
                                                done.error());
            }
            done.rows().forEach(r -> workingSet.forget(r.entry.id()));
            done.failures().forEach(f -> workingSet.forget(f.id()));
            done.failedRows().keySet().forEach(workingSet::failureSettled);
            done.failures().stream().filter(f -> f.kind() == FailureKind.NOT_RECORDED)
                .forEach(f -> notRecorded.parked(f.id()));
            workingSet.releaseBlockedKeys();
            report(done);
        }
    }

    private void report(Recorded done) {
        done.failures().forEach(f -> metrics.failed(f.kind(), f.outcome()));
        done.failures().stream().filter(f -> f.outcome() == Outcome.PARK)
            .forEach(f -> transport.parked(f.kind()));
        if (!done.failures().isEmpty()) {
            Failure first = done.failures().get(0);
            logger.warn("Outbox relay: {} row(s) not acknowledged; first: row {} {} ({}) -> {}",
                        done.failures().size(), first.id(), first.kind(), first.error(), first.outcome());
        }
        if (!done.notRecorded().isEmpty()) {
            logger.warn("Outbox relay: {} row(s) acknowledged by the broker were not recorded SENT (no longer "
                                + "pending where the update looked); they are not sent again and will be "
                                + "parked as NOT_RECORDED: {}", done.notRecorded().size(), done.notRecorded());
            metrics.notRecorded(done.notRecorded().size());
            notRecorded.acknowledgedButNotRecorded(done.notRecorded());
        }
    }

    /** Stops the recorder thread after its current recording. */
    void close() {
        if (recorderThread != null) {
            recorderThread.shutdown();
        }
    }

    /**
     * Leaves out of the next recording the rows of segments this node no longer owns: the broker's answer to
     * their sends is for the new owner to find out (it resolves the segment), not for this node to record.
     */
    private void dropUnowned() {
        // a refused (never stored) row of a lost segment: its id is cleared first, unfenced but only if it is
        // still the one this node gave it, and before this node's producers of the segment close (the new owner
        // resolves only after that), so that the new owner does not take it for stored
        Map<String, Long> refused = new HashMap<>();
        failed.forEach((entry, attempt) -> {
            boolean unowned = !claims.owns(OutboxSegments.of(entry.aggregateId(), segmentCount));
            if (unowned && entry.brokerSequence() != OutboxEntry.NO_SEQUENCE
                    && (!attempt.kind().mayHaveBeenStored() || notStoredSequences.containsKey(entry.id()))) {
                refused.put(entry.id(), entry.brokerSequence());
            }
        });
        if (!refused.isEmpty()) {
            transactionManager.executeInTransaction(() -> store.clearSequences(refused));
            refused.keySet().forEach(notStoredSequences::remove);
        }
        acknowledged.removeIf(row -> {
            boolean unowned = !claims.owns(row.segment);
            if (unowned) {
                workingSet.forget(row.entry.id());
            }
            return unowned;
        });
        failed.keySet().removeIf(entry -> {
            boolean unowned = !claims.owns(OutboxSegments.of(entry.aggregateId(), segmentCount));
            if (unowned) {
                workingSet.forget(entry.id());
                workingSet.failureSettled(entry);
            }
            return unowned;
        });
        workingSet.releaseBlockedKeys();
    }

    /** The segments of the rows a recording writes. */
    private Set<Integer> segmentsOf(List<RelayRow> rows, Set<OutboxEntry> failedRows) {
        Set<Integer> segments = new HashSet<>();
        rows.forEach(row -> segments.add(row.segment));
        failedRows.forEach(entry -> segments.add(OutboxSegments.of(entry.aggregateId(), segmentCount)));
        return segments;
    }

    /** The earliest moment a claim of these segments lapses locally: the recording must commit before. */
    private long fenceOf(Set<Integer> segments) {
        long fence = Long.MAX_VALUE;
        long now = nanoTime.getAsLong();
        for (Integer segment : segments) {
            long until = claims.validUntilNanos(segment);
            fence = fence == Long.MAX_VALUE || until - fence < 0 ? until : fence;
        }
        return fence == Long.MAX_VALUE ? now + Long.MAX_VALUE / 2 : fence;
    }

    /** The failure policy's decision; a policy that fails or decides nothing parks the row (nothing is lost). */
    Failure decide(OutboxEntry entry, Attempt attempt, Instant at) {
        FailurePolicy.Decision decision;
        try {
            decision = failurePolicy.decide(entry, attempt.kind(), entry.attempts() + 1);
        } catch (RuntimeException e) {
            logger.error("Outbox relay '{}': the failure policy failed for row {}; parking it", relayName,
                         entry.id(), e);
            decision = null;
        }
        if (decision == null || decision.outcome() == null
                || (decision.outcome() == Outcome.RETRY && decision.delay() == null)) {
            return new Failure(entry.id(), attempt.kind(), attempt.error(), Outcome.PARK, at, at);
        }
        Duration delay = decision.delay() == null ? Duration.ZERO : decision.delay();
        return new Failure(entry.id(), attempt.kind(), attempt.error(), decision.outcome(), at.plus(delay), at);
    }

    private ExecutorService recorder() {
        if (recorderThread == null) {
            recorderThread = threads.pool(RECORDERS, relayName, "-recorder");
        }
        return recorderThread;
    }
}
