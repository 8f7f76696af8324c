package io.github.pulsaroutbox.tailing;

/**
 * The broker sequence ids of one producer session (a processor segment and a topic) of the tailing mode. An event in
 * stream order gets {@code position × 1024 + sibling}: a batch re-sent after a crash carries the ids it had, and the
 * broker drops what it stored already. An event that comes late, or whose earlier send was refused outright (it never
 * reached the broker), gets an id above everything the session's producer stored or used, so that the broker never
 * drops it as a copy (at least once for such events). Ids only grow in call order, as the broker requires.
 */
final class TopicSequence {

    /** Room for late commits and upcast siblings between two positions: ids are {@code position * SPREAD}. */
    static final long SPREAD = 1024;

    private final long highestStored;
    private long lastUsed = -1;

    /** @param highestStored the highest id the broker stored under the session's producer name ({@code -1}: none) */
    TopicSequence(long highestStored) {
        this.highestStored = highestStored;
    }

    /** The id of the event the cursor is at; {@code refusedBefore}: an earlier send of it was refused outright. */
    long idFor(StreamCursor cursor, boolean refusedBefore) {
        return cursor.late() || refusedBefore ? fresh() : at(cursor.position(), cursor.sibling());
    }

    /** An id above everything stored or used. */
    long fresh() {
        lastUsed = Math.max(lastUsed, highestStored) + 1;
        return lastUsed;
    }

    /**
     * The id of an event in stream order at {@code position} (the {@code sibling}-th of several events read from one
     * stored entry, 0 otherwise). At or below what the broker stored, it is a re-send of a stored message (stream
     * order), sent unchanged for the broker to drop; above that but not above an id this session used already (after a
     * late commit's fresh id), a fresh id.
     */
    long at(long position, int sibling) {
        long id = position * SPREAD + sibling;
        if (id <= highestStored) {
            return id;
        }
        if (id <= lastUsed) {
            return fresh();
        }
        lastUsed = id;
        return id;
    }
}
