package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.OutboxEntry;

/**
 * Brings a row to the schema version it is published at, right before the relay sends it. A failure (any runtime
 * exception) parks the row as {@link io.github.pulsaroutbox.FailureKind#UPCAST_FAILED}; later rows of
 * its aggregate wait behind it.
 */
@FunctionalInterface
public interface EntryUpcaster {

    /** Publishes every row as it was captured. */
    EntryUpcaster NONE = entry -> entry;

    /**
     * @param entry the row as stored
     * @return the row to publish: the same instance when nothing changes
     */
    OutboxEntry upcast(OutboxEntry entry);
}
