package io.github.pulsaroutbox.receiving.inbox;

import java.time.Instant;

/**
 * The record of the events a processing group has handled, written in the transaction of the handler's effects:
 * {@link #firstHandling} is true exactly once per (processing group, event id) among committed transactions.
 */
public interface Inbox {

    /**
     * Records that {@code processingGroup} handles event {@code messageId} now, in the caller's transaction. Returns
     * whether this is the first time (no committed record exists): if it is not, the caller must skip the event.
     */
    boolean firstHandling(String processingGroup, String messageId, Instant at);

    /** Removes at most {@code batchSize} records of events handled before {@code before}; how many it removed. */
    int purge(Instant before, int batchSize);
}
