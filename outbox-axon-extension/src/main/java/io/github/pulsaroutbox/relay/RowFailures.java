package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.store.OutboxStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Map;
import java.util.Set;

/**
 * Handles a row that failed (refused, timed out, not prepared, its session not opened): it is handed to the
 * {@link OutcomeRecorder} (recorded with the failure policy's decision) and its aggregate blocked with its queued rows
 * dropped, so that none overtakes it.
 * <p>
 * With sequence ids, what the failure says about the broker decides what happens to the row's id: a send that may
 * have been stored (time-out, connection lost) makes its segment resolve before it sends again; a send refused or
 * never sent has its id cleared at once (fenced by the segment's claim), or, if the database fails, with the
 * failure's recording, its segment resolved meanwhile, because a later id of the segment may be stored and a
 * resolution would take it for stored. A failure saying the producer is gone drops the row's session (the next row
 * opens it again); a failure that may pass is reported to the {@link TransportWatch}.
 */
final class RowFailures {

    private static final Logger logger = LoggerFactory.getLogger(RowFailures.class);

    private final OutboxStore store;
    private final FencedWrites writes;
    private final boolean sequenced;
    private final Clock clock;
    private final TransportWatch transport;
    private final ProducerSessions sessions;
    private final SegmentLifecycle lifecycle;
    private final OutcomeRecorder recorder;
    private final FetchPlanner planner;
    private final AggregateQueues queues;

    @SuppressWarnings("java:S107") // the relay's collaborators, wired once by the pipeline
    RowFailures(OutboxStore store, FencedWrites writes, boolean sequenced, Clock clock, TransportWatch transport,
                ProducerSessions sessions, SegmentLifecycle lifecycle, OutcomeRecorder recorder, FetchPlanner planner,
                AggregateQueues queues) {
        this.store = store;
        this.writes = writes;
        this.sequenced = sequenced;
        this.clock = clock;
        this.transport = transport;
        this.sessions = sessions;
        this.lifecycle = lifecycle;
        this.recorder = recorder;
        this.planner = planner;
        this.queues = queues;
    }

    /** The row failed with this attempt (it is out of flight already). */
    void fail(RelayRow row, Attempt attempt) {
        row.done = true;
        String key = row.entry.aggregateKey();
        if (attempt.kind().isRetryable()) { // the broker or a topic is unavailable (refusals are parked instead)
            transport.failed(attempt.kind(), attempt.error(), clock.instant());
        }
        OutboxEntry entry = row.entry;
        if (attempt.kind() == FailureKind.UNAVAILABLE && row.topic != null) {
            // the connection or the producer itself is gone (closed under the relay, fenced): the next row of its
            // topic opens the session again instead of failing against a producer that no longer sends
            sessions.lost(row.topic, row.segment);
        }
        if (sequenced && row.sequence != OutboxEntry.NO_SEQUENCE) {
            if (attempt.kind().mayHaveBeenStored() && !row.notStored) {
                lifecycle.startResolving(row.segment); // later sends of the segment wait until the broker says
            } else {
                clearSequence(row);
            }
            entry = entry.withBrokerSequence(row.sequence);
        }
        planner.forget(key);
        recorder.failed(entry, attempt);
        queues.failed(key);
    }

    /**
     * The row was refused, or never sent: later ids of its segment may be stored, so a resolution would take it for
     * stored; its id is cleared now, or (database trouble) kept known and cleared with the failure's recording, and
     * the segment resolved meanwhile.
     */
    private void clearSequence(RelayRow row) {
        Map<String, Long> clear = Map.of(row.entry.id(), row.sequence);
        try {
            writes.write(Set.of(row.segment), () -> {
                store.clearSequences(clear);
                return null;
            });
        } catch (RuntimeException e) {
            logger.warn("Outbox relay: clearing the sequence id of refused row {} failed; resolving its segment "
                                + "instead", row.entry.id(), e);
            recorder.clearLater(row.entry.id(), row.sequence);
            lifecycle.startResolving(row.segment);
        }
    }
}
