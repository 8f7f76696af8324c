package io.github.pulsaroutbox.relay;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongSupplier;

/**
 * The segment claims this node holds, as {@link SegmentClaims} sees them locally: per owned segment until when (on the
 * relay's monotonic clock) it may send the segment's rows, which owned segments are being drained to be released, and
 * a published snapshot of the owned segments for other threads.
 * <p>
 * Guarantees: a segment is {@linkplain #isValid valid} only while it is owned, not being released, and its validity
 * has not passed; {@link #extend} only ever moves a validity later, so a late extension (the claim-keeping thread)
 * never shortens one set by a round. The snapshot ({@link #view()}) changes only when {@link #publish()} is called.
 * The owned segments and their validity may be read and extended from any thread; everything else is the relay
 * thread's.
 */
final class OwnedClaims {

    /** The monotonic clock of claim validity. */
    private final LongSupplier nanoTime;
    /** Ascending by segment; read by the claim-keeping thread too. */
    private final Map<Integer, Claim> owned = new ConcurrentSkipListMap<>();
    private final Set<Integer> releasing = new TreeSet<>();
    private volatile Set<Integer> view = Set.of();

    OwnedClaims(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** The owned segments as last {@linkplain #publish() published} (safe from any thread). */
    Set<Integer> view() {
        return view;
    }

    /** Publishes the owned segments as they are now to {@link #view()}. */
    void publish() {
        view = Set.copyOf(owned.keySet());
    }

    /** The owned segments, ascending (a live view). */
    Set<Integer> segments() {
        return owned.keySet();
    }

    int size() {
        return owned.size();
    }

    boolean isEmpty() {
        return owned.isEmpty();
    }

    /** The segment was claimed: it may be sent until {@code validUntilNanos}. */
    void add(int segment, long validUntilNanos) {
        Claim claim = new Claim();
        claim.validUntilNanos = validUntilNanos;
        owned.put(segment, claim);
    }

    /** The segment is no longer owned (nor being released); returns whether it was owned. */
    boolean remove(int segment) {
        releasing.remove(segment);
        return owned.remove(segment) != null;
    }

    /** Every owned claim was extended: each may be sent until {@code validUntilNanos}. */
    void validUntil(long validUntilNanos) {
        owned.forEach((segment, claim) -> claim.validUntilNanos = validUntilNanos);
    }

    /** The claims of {@code segments} were extended: those still owned may be sent until then, if that is later. */
    void extend(Collection<Integer> segments, long validUntilNanos) {
        for (Integer segment : segments) {
            Claim claim = owned.get(segment);
            if (claim != null && validUntilNanos - claim.validUntilNanos > 0) {
                claim.validUntilNanos = validUntilNanos;
            }
        }
    }

    /** Whether {@code segment} is owned, not being released, and its claim was extended recently enough. */
    boolean isValid(int segment) {
        Claim claim = owned.get(segment);
        return claim != null && !releasing.contains(segment) && nanoTime.getAsLong() - claim.validUntilNanos < 0;
    }

    /** Whether {@code segment} is owned and its validity passed, whether or not it is being released. */
    boolean lapsed(int segment) {
        Claim claim = owned.get(segment);
        return claim != null && nanoTime.getAsLong() - claim.validUntilNanos >= 0;
    }

    /** Until when {@code segment} may be sent; now if it is not owned. */
    long validUntilNanos(int segment) {
        Claim claim = owned.get(segment);
        return claim == null ? nanoTime.getAsLong() : claim.validUntilNanos;
    }

    boolean isReleasing(int segment) {
        return releasing.contains(segment);
    }

    boolean owns(int segment) {
        return owned.containsKey(segment);
    }

    /** The owned segments that are {@linkplain #isValid valid} now. */
    Set<Integer> valid() {
        Set<Integer> valid = new HashSet<>();
        owned.keySet().forEach(segment -> {
            if (isValid(segment)) {
                valid.add(segment);
            }
        });
        return valid;
    }

    /**
     * Marks the owned segments above {@code share} as being released, the highest first, keeping those marked before;
     * returns every segment being released.
     */
    Set<Integer> surplus(int share) {
        Set<Integer> surplus = new TreeSet<>(releasing);
        List<Integer> mine = new ArrayList<>(owned.keySet());
        for (int i = mine.size() - 1; i >= 0 && mine.size() - surplus.size() > share; i--) {
            surplus.add(mine.get(i));
        }
        releasing.addAll(surplus);
        return surplus;
    }

    /** A claim this node holds: until when it may send the segment's rows. */
    private static final class Claim {
        private volatile long validUntilNanos;
    }
}
