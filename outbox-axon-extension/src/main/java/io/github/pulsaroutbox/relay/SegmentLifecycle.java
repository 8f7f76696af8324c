package io.github.pulsaroutbox.relay;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Which segments this node's relay may send, with segment claims: a segment is <em>resolving</em> (claimed, or a send
 * of it had an unknown outcome: the broker is asked what it stored before it sends again), <em>active</em> (resolved;
 * its rows are fetched and sent while its claim is valid locally), or <em>closing</em> (lost or surplus: its queued
 * rows are dropped, and once none of its rows is in flight its producers are closed and a surplus claim released).
 * <p>
 * Guarantees: no row of a segment is sent unless the segment is active and its claim valid ({@link #mayStillSend});
 * a segment whose claim lapses locally has its producers closed at once, before another node can claim it
 * ({@link #maintain}), also one being drained to be released; a segment is resolved only when none of its rows is in the
 * working set. Without claims every
 * segment is always sendable. Owned by the relay thread.
 */
final class SegmentLifecycle {

    private static final Logger logger = LoggerFactory.getLogger(SegmentLifecycle.class);
    /** The longest wait before held topics are tried again. */
    private static final long MAX_HELD_BACKOFF_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

    /** What the lifecycle needs of the relay's working set. */
    interface WorkingSet {

        /** Drops the queued (not yet sent) rows of the segment: they are fetched again once it sends. */
        void dropQueuedOf(int segment);

        /** Whether no row of the segment is in the working set (queued, in flight or being recorded). */
        boolean idle(int segment);
    }

    private final SegmentClaims claims;
    private final int segmentCount;
    private final Set<Integer> allSegments;
    private final ProducerSessions sessions;
    private final SegmentResolver resolver;
    private final FetchPlanner planner;
    private final long retryNanos;
    private final LongSupplier nanoTime;
    private final WorkingSet rows;

    /** Owned segments whose rows may be sent (claims mode only). */
    private final Set<Integer> active = new HashSet<>();
    /** Owned segments to be resolved before their rows are sent. */
    private final Set<Integer> resolving = new HashSet<>();
    /** Per resolving segment, when to try again after a failed resolution. */
    private final Map<Integer, Long> resolveAfter = new HashMap<>();
    /** Segments lost or being released: their producers are closed (and claims released) once they are idle. */
    private final Set<Integer> closing = new HashSet<>();
    /** Per active segment with held topics: when to try them again, and how often that failed in a row. */
    private final Map<Integer, long[]> heldRetry = new HashMap<>();

    @SuppressWarnings("java:S107") // the relay's collaborators, wired once by the relay
    SegmentLifecycle(SegmentClaims claims, int segmentCount, Set<Integer> allSegments, ProducerSessions sessions,
                     SegmentResolver resolver, FetchPlanner planner, Duration retryInterval, LongSupplier nanoTime,
                     WorkingSet rows) {
        this.claims = claims;
        this.segmentCount = segmentCount;
        this.allSegments = allSegments;
        this.sessions = sessions;
        this.resolver = resolver;
        this.planner = planner;
        this.retryNanos = retryInterval.toNanos();
        this.nanoTime = nanoTime;
        this.rows = rows;
    }

    /** Whether rows of {@code segment} may be sent now: owned, resolved, and its claim recently extended. */
    boolean mayStillSend(int segment) {
        return claims == null || (active.contains(segment) && claims.isValid(segment));
    }

    /**
     * Whether a fetched row must stay out of the working set: its topic is held in its segment (the broker could not
     * be asked what it stored of it), while the segment's other topics are sent.
     */
    boolean heldBack(int segment, io.github.pulsaroutbox.OutboxEntry entry) {
        return claims != null && resolver.holds(segment, entry);
    }

    /** The segments whose rows are fetched: every one without claims, else the active ones with a valid claim. */
    Set<Integer> sendableSegments() {
        if (claims == null) {
            return allSegments;
        }
        Set<Integer> sendable = new HashSet<>(active);
        sendable.removeIf(segment -> !claims.isValid(segment));
        return sendable;
    }

    /**
     * Claim work and segment transitions (claims mode): a round of claims when due; lost and surplus segments
     * stop sending and, once idle, have their producers closed (and surplus claims released); gained segments
     * and segments with a send of unknown outcome are resolved once idle.
     */
    void maintain() {
        if (claims == null) {
            return;
        }
        closeLapsed(); // first: the round below fails while the database is unreachable
        if (claims.roundDue()) {
            SegmentClaims.Changes changes = claims.round();
            changes.lost().forEach(this::stop);
            changes.gained().forEach(segment -> {
                closing.remove(segment); // lost and claimed again: its producers are reopened by the resolution
                startResolving(segment);
            });
            claims.surplus().forEach(this::stop);
        }
        // also after a round that failed half-way: owned segments are resolved, others stop
        for (int segment = 0; segment < segmentCount; segment++) {
            boolean owned = claims.owns(segment) && !claims.isReleasing(segment);
            boolean tracked = active.contains(segment) || resolving.contains(segment);
            if (owned && !tracked && !closing.contains(segment)) {
                startResolving(segment);
            } else if (!owned && tracked) {
                stop(segment);
            }
        }
        for (Iterator<Integer> it = closing.iterator(); it.hasNext(); ) {
            int segment = it.next();
            if (rows.idle(segment)) {
                it.remove();
                sessions.closeSegment(segment);
                if (claims.owns(segment)) {
                    claims.release(segment);
                }
            }
        }
        long now = nanoTime.getAsLong();
        List<Integer> due = new ArrayList<>();
        for (Integer segment : resolving) {
            Long after = resolveAfter.get(segment);
            if (rows.idle(segment) && claims.isValid(segment) && (after == null || now - after >= 0)) {
                due.add(segment);
            }
        }
        resolver.resolveAll(due, this::resolved);
        for (Integer segment : new ArrayList<>(heldRetry.keySet())) {
            long[] retry = heldRetry.get(segment);
            if (active.contains(segment) && claims.isValid(segment) && now - retry[0] >= 0) {
                resolveHeld(segment, retry);
            }
        }
    }

    /** Tries the held topics of an active segment again (none of their rows is in the working set). */
    private void resolveHeld(int segment, long[] retry) {
        switch (resolver.resolveHeld(segment)) {
            case RESOLVED -> {
                heldRetry.remove(segment);
                planner.rescanFromStart();
            }
            case HELD, FAILED -> {
                retry[1]++;
                retry[0] = nanoTime.getAsLong() + Math.min(retryNanos << Math.min(retry[1], 5), MAX_HELD_BACKOFF_NANOS);
            }
            default -> {
                // WAITING: asked again at a later step; LAPSED: the claim is dealt with by closeLapsed
            }
        }
    }

    /**
     * Stops sending a segment's rows until it is resolved: a segment just claimed, or one with a send whose
     * outcome is unknown (its later sends on the same producer must wait until the broker says what it stored).
     */
    void startResolving(int segment) {
        if (claims != null && claims.owns(segment) && !closing.contains(segment)) {
            active.remove(segment);
            resolving.add(segment);
            rows.dropQueuedOf(segment);
        }
    }

    private void resolved(int segment, SegmentResolver.Result result) {
        switch (result) {
            case FAILED -> resolveAfter.put(segment, nanoTime.getAsLong() + retryNanos);
            case RESOLVED, HELD -> {
                resolving.remove(segment);
                resolveAfter.remove(segment);
                active.add(segment);
                planner.rescanFromStart();
                if (resolver.holdsTopics(segment)) { // its other topics flow meanwhile
                    heldRetry.put(segment, new long[] {nanoTime.getAsLong() + retryNanos, 0});
                } else {
                    heldRetry.remove(segment);
                }
            }
            default -> {
                // WAITING: asked again at a later step; LAPSED: resolved again once the claim is extended
            }
        }
    }

    /**
     * Closes at once the producers of the segments whose claim lapsed locally (no successful round for half the
     * claim timeout, e.g. the database is unreachable while the broker is not): another node may claim them soon,
     * and its producers need the names this node's hold. That includes a segment waiting to be resolved whose rows
     * cannot leave the working set (their outcomes cannot be recorded without the database). Rows in flight there
     * fail (their outcome is found out by a resolution); the segment is resolved again if its claim comes back.
     */
    private void closeLapsed() {
        for (int segment = 0; segment < segmentCount; segment++) {
            boolean open = active.contains(segment) || resolver.started(segment) || sessions.mayHoldProducers(segment);
            if (open && claims.lapsed(segment)) {
                logger.info("Outbox relay: the claim of segment {} lapsed (no claim round succeeded in time); "
                                    + "closing its producers", segment);
                if (!closing.contains(segment)) {
                    active.remove(segment);
                    resolving.add(segment); // resolved again before it sends, once its claim is extended
                }
                resolver.abandon(segment);
                heldRetry.remove(segment);
                rows.dropQueuedOf(segment);
                sessions.closeSegment(segment);
            }
        }
    }

    /** Stops sending a segment's rows (lost or released): queued ones are dropped, in-flight ones finish. */
    private void stop(int segment) {
        active.remove(segment);
        resolving.remove(segment);
        resolver.abandon(segment);
        resolveAfter.remove(segment);
        heldRetry.remove(segment);
        closing.add(segment);
        rows.dropQueuedOf(segment);
    }
}
