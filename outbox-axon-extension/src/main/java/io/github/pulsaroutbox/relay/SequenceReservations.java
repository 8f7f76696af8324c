package io.github.pulsaroutbox.relay;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The broker sequence ids of the segments this node owns: per segment the next id to give and the highest one
 * reserved in the segment's token. A segment claimed continues above its token's reservation (ids up to it may have
 * been used by an earlier owner); ids are reserved in blocks of {@value #BLOCK}, so a token is written once per block.
 * Guarantees: ids given for a segment only grow, across restarts and takeovers, as long as every id given was
 * reserved in the token first ({@link #toReserve} before {@link #next}).
 */
final class SequenceReservations {

    /** Sequence ids reserved per token write. */
    static final long BLOCK = 10_000;

    private static final class Ids {
        private long reserved;
        private long next;

        private Ids(long reserved) {
            this.reserved = reserved;
            this.next = reserved + 1;
        }
    }

    private final Map<Integer, Ids> segments = new ConcurrentHashMap<>();

    /** The segment was claimed; its token holds {@code reservedInToken}. */
    void start(int segment, long reservedInToken) {
        segments.put(segment, new Ids(reservedInToken));
    }

    /** The segment is no longer owned. */
    void forget(int segment) {
        segments.remove(segment);
    }

    /** Makes every later id of {@code segment} higher than {@code stored} (what the broker holds already). */
    void raise(int segment, long stored) {
        Ids ids = segments.get(segment);
        if (ids != null && stored >= ids.next) {
            ids.next = stored + 1;
        }
    }

    /**
     * The reservations to write (per segment, ascending) so that {@code needed} more ids can be given per segment;
     * empty when the current reservations suffice. Call {@link #reserved} once they are written.
     */
    Map<Integer, Long> toReserve(Map<Integer, Integer> needed) {
        Map<Integer, Long> writes = new TreeMap<>();
        needed.forEach((segment, count) -> {
            Ids ids = segments.get(segment);
            if (ids != null && ids.next + count - 1 > ids.reserved) {
                writes.put(segment, ids.next + count - 1 + BLOCK);
            }
        });
        return writes;
    }

    /** These reservations are written to the segments' tokens. */
    void reserved(Map<Integer, Long> written) {
        written.forEach((segment, reserved) -> {
            Ids ids = segments.get(segment);
            if (ids != null) {
                ids.reserved = reserved;
            }
        });
    }

    /** The next id of {@code segment}; it must have been reserved. */
    long next(int segment) {
        Ids ids = segments.get(segment);
        if (ids == null || ids.next > ids.reserved) {
            throw new IllegalStateException("No sequence id reserved for segment " + segment);
        }
        return ids.next++;
    }
}
