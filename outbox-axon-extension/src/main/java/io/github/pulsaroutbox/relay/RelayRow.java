package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;
import io.github.pulsaroutbox.OutboxSegments;

/**
 * A fetched row on its way through the relay: what was read, and what the stages learnt about it (the upcast entry
 * sent, its topic, its broker sequence id and session, its deadline and outcome). Owned by the relay thread; only the
 * outcome fields are written by the transport's threads.
 */
final class RelayRow {

    final OutboxEntry entry;
    final int segment;
    OutboxEntry sent;
    String topic;
    long sequence = OutboxEntry.NO_SEQUENCE;
    /** The session its sequence id was assigned in (the partition stored with the id is that session's). */
    OutboxPublisher.Session session;
    long deadlineNanos;
    volatile Throwable error;
    /** Handled (acknowledged, failed, timed out or retracted); read by the sender thread too. */
    volatile boolean done;
    /** Sent after a failure of its aggregate: whatever the broker answers, it stays pending. */
    boolean voided;
    /** Waiting for its producer session to open (in flight, not counted as sent). */
    boolean waiting;
    /** The send failed before the transport returned: the broker never saw it. */
    volatile boolean notStored;

    RelayRow(OutboxEntry entry, int segmentCount) {
        this.entry = entry;
        // the stored segment (the one the store's reads filter on); only an entry never stored gets one computed
        this.segment = entry.segment() != OutboxEntry.NO_SEGMENT ? entry.segment()
                : OutboxSegments.of(entry.aggregateId(), segmentCount);
        this.sent = entry;
    }
}
